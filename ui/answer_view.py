"""Chat presentation for LLM answers: fallback notice, searched query, conversation turns.

Helpers for `ui/app.py`, kept apart so the chat layout can change without them.
Everything returned is escaped: notices and reasons are shown literally.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from rag.types import Answer, Turn
from ui.render import escape_markdown

Message = dict[str, Any]
VIEW_CSS = """
.sokfraga { font-size: 0.9em; color: var(--body-text-color); margin: 0 0 0.5em 0; }
"""
_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()<>#|~$&!])")
_SOURCE_LINK = re.compile(r"\[\\\[(\d+)\\\]\]\(#k\d+-\d+\)")  # "[\[1\]](#k2-1)", see render._link


def notice_markdown(answer: Answer) -> str:
    """The fallback notice as a Markdown block quote above the answer ("" when none)."""
    return f"> ⚠️ {escape_markdown(answer.notice)}\n\n" if answer.notice else ""


def searched_html(query: str) -> str:
    """The query retrieval searched for, shown above the sources."""
    return f'<p class="sokfraga">Sökte efter: <q>{html.escape(query)}</q></p>' if query else ""


def content_text(content: Any) -> str:
    """The text of a chat message's content: a string, or Gradio's list of text parts.

    Anything else (components, files, other parts) gives no text.
    """
    if isinstance(content, list):
        parts = [p for p in content if isinstance(p, dict) and p.get("type") == "text"]
        return " ".join(str(p.get("text", "")) for p in parts)
    return content if isinstance(content, str) else ""


def _plain(content: Any) -> str:
    """Text of a chat message's content, unescaped."""
    return _ESCAPED.sub(r"\1", _SOURCE_LINK.sub(r"[\1]", content_text(content)))


def conversation_turns(
    history: list[Message], answers: Mapping[int, Answer] | None = None
) -> list[Turn]:
    """Earlier questions with their answers, for follow-up questions.

    Where the chat still holds the Answer shown at a message (`answers`, by message
    index), the turn also carries the query it searched.
    """
    answers = answers or {}
    turns: list[Turn] = []
    for index, message in enumerate(history):
        text = _plain(message.get("content", ""))
        if message.get("role") == "user":
            turns.append(Turn(text))
        elif turns and not turns[-1].answer:
            shown = answers.get(index)
            if shown is not None:  # its own words, not as the chat renders them
                text, searched = shown.text, shown.searched_query
            else:
                searched = ""
            turns[-1] = Turn(turns[-1].question, text, searched)
    return turns
