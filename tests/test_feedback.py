from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from rag.errors import FeedbackError
from rag.feedback import FeedbackStore
from rag.types import Answer, Chunk, Citation, Passage

RAG = str(Path(sys.executable).with_name("rag"))


def _answer(question: str = "Var hölls dagarna?") -> Answer:
    text = "Dagarna hölls i Karlstad."
    chunk = Chunk("c1", "003_x.txt", "Huset", "Frågor", 10, 10 + len(text), text, text)
    passage = Passage(chunk, rank=1, score=0.9)
    citation = Citation(1, passage, text, 10, 10 + len(text))
    return Answer(question, f"{text} [1]", False, (citation,), (passage,))


def test_rating_then_comment_updates_one_row(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "data" / "feedback.sqlite3")
    assert store.all() == []
    row = store.rate(_answer(), "up")
    assert store.rate(_answer(), "down", row) == row  # changing one's mind keeps the row
    store.comment(row, "  Saknar datum.  ")
    other = store.rate(_answer("Annan fråga?"), "up")
    newest, first = store.all()
    assert (newest.id, first.id) == (other, row)
    assert (first.question, first.rating, first.comment) == (
        "Var hölls dagarna?",
        "down",
        "Saknar datum.",
    )
    assert first.answer == "Dagarna hölls i Karlstad. [1]"
    assert first.time.endswith("+00:00")
    assert json.loads(first.citations)[0]["quote"] == "Dagarna hölls i Karlstad."
    assert first.sources == ["[1] 003_x.txt"]
    with sqlite3.connect(store.path) as db:  # plain SQLite, readable by any tool
        assert db.execute("SELECT count(*) FROM feedback").fetchone() == (2,)


def test_unwritable_place_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(FeedbackError, match="RAG_DATA_DIR"):
        FeedbackStore(blocker / "feedback.sqlite3").rate(_answer(), "up")


def test_cli_shows_feedback_newest_first(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    row = store.rate(_answer(), "down")
    store.comment(row, "Fel källa")
    store.rate(_answer("Andra frågan?"), "up")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env["RAG_DATA_DIR"] = str(tmp_path)

    def run(*args: str) -> str:
        result = subprocess.run(
            [RAG, "feedback", *args], capture_output=True, text=True, env=env, cwd=tmp_path,
            timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return result.stdout

    rows = [json.loads(line) for line in run("--json").splitlines()]
    assert [r["question"] for r in rows] == ["Andra frågan?", "Var hölls dagarna?"]
    assert rows[1]["rating"] == "down" and rows[1]["comment"] == "Fel källa"
    assert rows[1]["citations"][0]["source"] == "003_x.txt"
    text = run("--limit", "1")
    assert "Andra frågan?" in text and "Var hölls dagarna?" not in text
