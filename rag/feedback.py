"""Feedback stage: thumbs up/down on answers with an optional comment, in a local SQLite file.

One row per rated answer; rating again or adding a comment updates that row. Maintainers
read it with `rag feedback` (or any SQLite tool: table `feedback`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from rag.errors import CommentError, FeedbackError
from rag.pii import mask_identity_numbers
from rag.records import answer_record
from rag.types import Answer

Rating = Literal["up", "down"]
MAX_COMMENT_CHARS = 2000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,        -- ISO 8601, UTC
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL,   -- JSON: the citations of `rag ask --json`
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT NOT NULL DEFAULT ''
)
"""


@dataclass(frozen=True)
class Feedback:
    """One stored rating of an answer."""

    id: int
    time: str
    question: str
    answer: str
    citations: str  # JSON list of {n, source, title, section, quote, start, end}
    rating: Rating
    comment: str

    @property
    def sources(self) -> list[str]:
        """The cited files, one per citation, as "[n] source"."""
        return [f"[{c['n']}] {c['source']}" for c in json.loads(self.citations)]


class FeedbackStore:
    """The feedback table in one SQLite file, created on first write."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.path)) as db, db:
                db.execute(_SCHEMA)
                yield db
        except (OSError, sqlite3.Error) as exc:
            raise FeedbackError(
                f"Cannot use the feedback file {self.path} ({exc}); check that RAG_DATA_DIR "
                "is writable, or move a damaged file aside."
            ) from exc

    def rate(self, answer: Answer, rating: Rating, row: int | None = None) -> int:
        """Store a rating of `answer` (or change the rating of `row`); returns the row id."""
        with self._db() as db:
            if row is not None:
                db.execute("UPDATE feedback SET rating = ? WHERE id = ?", (rating, row))
                return row
            citations = json.dumps(answer_record(answer)["citations"], ensure_ascii=False)
            now = datetime.now(UTC).isoformat(timespec="seconds")
            cursor = db.execute(
                "INSERT INTO feedback (time, question, answer, citations, rating) "
                "VALUES (?, ?, ?, ?, ?)",
                (now, answer.question, answer.text, citations, rating),
            )
            return int(cursor.lastrowid or 0)

    def comment(self, row: int, comment: str) -> None:
        """Set the comment of a stored rating, identity numbers masked.

        Raises:
            CommentError: the comment is longer than MAX_COMMENT_CHARS (nothing is stored).

        """
        if len(comment) > MAX_COMMENT_CHARS:
            raise CommentError(
                f"Kommentaren är för lång ({len(comment)} tecken). Korta den till högst "
                f"{MAX_COMMENT_CHARS} tecken."
            )
        masked = mask_identity_numbers(comment.strip()).text
        with self._db() as db:
            db.execute("UPDATE feedback SET comment = ? WHERE id = ?", (masked, row))

    def all(self) -> list[Feedback]:
        """Every stored rating, newest first."""
        if not self.path.exists():
            return []
        with self._db() as db:
            rows = db.execute(
                "SELECT id, time, question, answer, citations, rating, comment "
                "FROM feedback ORDER BY id DESC"
            ).fetchall()
        return [Feedback(*row) for row in rows]
