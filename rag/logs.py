"""Logging: JSON lines in a rotating file, without question text unless opted in.

Events go to the `rag` logger as `log_event("ask", mode=..., ...)`; `setup_logging` (called by
the entry points) writes them to `data_dir/logs/rag.log`, one JSON object per line. Questions
are logged as their length and a hash; with RAG_LOG_QUESTIONS=true the (masked) text too.
Secrets are never passed to the logger.
"""

from __future__ import annotations

import hashlib
import json
import logging
from logging.handlers import RotatingFileHandler
from typing import Any

from rag.config import Settings

LOGGER = logging.getLogger("rag")
LOGGER.addHandler(logging.NullHandler())  # silent until an entry point calls setup_logging
MAX_BYTES = 2_000_000
BACKUPS = 5


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, event and the record's `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "event": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup_logging(settings: Settings) -> None:
    """Send the `rag` logger to the rotating JSON-lines file of `settings` (idempotent)."""
    for handler in list(LOGGER.handlers):
        if isinstance(handler, RotatingFileHandler):
            LOGGER.removeHandler(handler)
            handler.close()
    settings.log_path.parent.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(
        settings.log_path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(JsonFormatter())
    LOGGER.addHandler(handler)
    LOGGER.setLevel(settings.log_level)
    LOGGER.propagate = False


def log_event(event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one structured event; `fields` must hold no secrets."""
    LOGGER.log(level, event, extra={"fields": fields})


def question_fields(question: str, with_text: bool) -> dict[str, Any]:
    """How a (masked) question is logged: length and hash, and the text only when opted in."""
    fields: dict[str, Any] = {
        "question_chars": len(question),
        "question_sha256": hashlib.sha256(question.encode("utf-8", "replace")).hexdigest()[:16],
    }
    if with_text:  # RAG_LOG_QUESTIONS
        fields["question"] = question
    return fields
