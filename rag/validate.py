"""Input checks: one cleaning of a typed question, shared by the CLI, the UI and the pipeline."""

from __future__ import annotations

import re

from rag.errors import QuestionError

EMPTY = "Skriv en fråga."
# Control characters except tab and newline; lone surrogates (invalid Unicode from a paste).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u2028\u2029\ufeff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean_question(text: str, max_chars: int) -> str:
    """The question without control characters or invalid Unicode, stripped.

    Raises:
        QuestionError: it is empty, or longer than `max_chars` (RAG_MAX_QUESTION_CHARS).

    """
    if len(text) > 4 * max_chars:  # far too long: refuse before any work on it
        raise QuestionError(_too_long(len(text), max_chars))
    text = _SURROGATE.sub("\ufffd", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text).strip()
    if not text:
        raise QuestionError(EMPTY)
    if len(text) > max_chars:
        raise QuestionError(_too_long(len(text), max_chars))
    return text


def _too_long(length: int, max_chars: int) -> str:
    return (
        f"Frågan är för lång ({length} tecken). Korta den till högst {max_chars} tecken "
        "(RAG_MAX_QUESTION_CHARS)."
    )
