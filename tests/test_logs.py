"""Structured logs: JSON lines, rotating, no question text unless opted in, never a secret."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import MINI, make_settings
from rag.feedback import FeedbackStore
from rag.logs import LOGGER, MAX_BYTES, log_event, setup_logging
from rag.pii import MASK
from rag.pipeline import Pipeline

RAG = str(Path(sys.executable).with_name("rag"))
NUMBER = "19121212-1212"
QUESTION = f"Vad kostade nyckelfri hemtjänst? Jag har personnummer {NUMBER}"


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """Logging set up into tmp_path/logs, removed after the test."""
    setup_logging(make_settings(MINI, tmp_path))
    yield tmp_path / "logs" / "rag.log"
    for handler in list(LOGGER.handlers):
        LOGGER.removeHandler(handler)
        handler.close()


def _events(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_ask_is_logged_without_the_question(indexed_mini: Pipeline, log_file: Path) -> None:
    indexed_mini.ask(QUESTION)
    text = log_file.read_text(encoding="utf-8")
    (event,) = _events(log_file)
    assert event["event"] == "ask" and event["level"] == "INFO"
    assert event["masked"] == 1 and event["mode"] == "extractive"
    assert isinstance(event["question_chars"], int) and "question" not in event
    assert "nyckelfri" not in text and "1212" not in text.replace(str(event["question_sha256"]), "")


def test_question_text_is_logged_masked_when_opted_in(
    indexed_mini: Pipeline, log_file: Path
) -> None:
    settings = indexed_mini.settings.model_copy(update={"log_questions": True})
    Pipeline(settings, embedder=indexed_mini.embedder).ask(QUESTION)
    (event,) = _events(log_file)
    assert event["question"] == QUESTION.replace(NUMBER, MASK)


def test_feedback_stores_the_masked_question(indexed_mini: Pipeline, tmp_path: Path) -> None:
    answer = indexed_mini.ask(QUESTION)
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    row = store.rate(answer, "down")
    store.comment(row, "Fel svar")
    raw = (tmp_path / "feedback.sqlite3").read_bytes()
    assert NUMBER.encode() not in raw and b"121212" not in raw
    assert all(MASK in row.question for row in store.all())


def test_log_rotates(log_file: Path) -> None:
    for _ in range(4000):
        log_event("ingest", detail="x" * 600)
    assert log_file.with_name("rag.log.1").exists()
    assert log_file.stat().st_size <= MAX_BYTES


def test_api_key_never_reaches_logs_output_or_json(indexed_mini: Pipeline, tmp_path: Path) -> None:
    secret = "sk-hemlig-nyckel-4711"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")} | {
        "RAG_DATA_DIR": str(indexed_mini.settings.data_dir),
        "RAG_LLM_PROVIDER": "openai",
        "RAG_LLM_BASE_URL": "http://127.0.0.1:9/v1",  # nothing listens: the LLM is down
        "RAG_LLM_MODEL": "fake-model",
        "RAG_LLM_API_KEY": secret,
        "RAG_LLM_TIMEOUT_S": "2",
        "RAG_LLM_MAX_RETRIES": "0",
        "RAG_LOG_QUESTIONS": "true",
    }
    result = subprocess.run(
        [RAG, "ask", "--json", QUESTION],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["mode"] == "extractive"  # LLM down: the extractive answer instead
    assert "Språkmodellen" in record["notice"]
    assert "personnummer" in record["notice"]
    log = (indexed_mini.settings.data_dir / "logs" / "rag.log").read_text(encoding="utf-8")
    for output in (result.stdout, result.stderr, log):
        assert secret not in output and NUMBER not in output
