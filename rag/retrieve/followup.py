"""Follow-up stage: a question plus the conversation so far -> a standalone search query.

With an LLM the model rewrites the question, in Swedish: the sources are Swedish, and
the bundled e5 ranks Swedish passages for an English question far worse (held-out MRR
0.654 in English against 0.894 for the same questions asked in Swedish). An English
question is therefore translated even when it opens a conversation. Without an LLM (or
when it fails) a deterministic rule puts the previous question's content words in front
of a question that leans on it: one with a pronoun and few content words, one that
opens with "och"/"men"/"and", or one with at most one content word.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.answer.llm import ChatBackend
from rag.answer.prompts import rewrite_messages
from rag.errors import LlmError
from rag.retrieve.lexical import PRONOUNS, STOPWORDS, looks_english, terms
from rag.types import Turn

_WORD = re.compile(r"\w+", re.UNICODE)
# Pronouns, and the words that point back the way they do in a follow-up ("då", "samma").
_REFERRING = PRONOUNS | frozenset("dit då sådan sådant samma its them his her that those".split())
_CONTINUES = frozenset("och men än också även samt and but what how about".split())
MAX_CONTEXT_WORDS = 8  # content words carried over from earlier questions
MAX_QUERY_CHARS = 300
MAX_TURNS = 6  # earlier turns a follow-up may lean on


def needs_context(question: str) -> bool:
    """Whether `question` cannot be searched on its own words."""
    words = [w.lower() for w in _WORD.findall(question)]
    content = terms(question)
    if not words or len(content) <= 1:
        return True
    if words[0] in _CONTINUES and len(content) <= 3:
        return True
    return any(w in _REFERRING for w in words) and len(content) <= 3


def rule_query(question: str, history: Sequence[Turn]) -> str:
    """The standalone query by the deterministic rule (see the module docstring).

    Only the last MAX_TURNS turns count: a conversation of any length costs the same.
    """
    query = ""
    for asked in [*(t.question for t in history[-MAX_TURNS:]), question]:
        query = _carry(query, asked) if query else asked
    return query


def _carry(previous: str, question: str) -> str:
    """`question`, with `previous`'s content words in front when it leans on them."""
    if not needs_context(question):
        return question
    own = {w.lower() for w in _WORD.findall(question)}
    carried = [
        w
        for w in dict.fromkeys(_WORD.findall(previous))
        if w.lower() not in STOPWORDS and w.lower() not in own and len(w) > 1
    ]
    return " ".join([*carried[-MAX_CONTEXT_WORDS:], question])


def standalone_query(
    question: str, history: Sequence[Turn], chat: ChatBackend | None
) -> tuple[str, LlmError | None]:
    """The query to search for `question` after `history`, and the LLM's failure if any.

    With no history a Swedish question is searched as it is; an English one is
    translated when an LLM is configured. An LLM rewrite that fails or is empty falls
    back to the rule; the error is returned so the caller can skip the LLM for the
    answer too.
    """
    if chat is None or not (history or looks_english(question)):
        return rule_query(question, history), None
    try:
        reply = chat.complete(rewrite_messages(question, history))
    except LlmError as exc:
        return rule_query(question, history), exc
    line = next((ln.strip().strip("\"'«»”") for ln in reply.splitlines() if ln.strip()), "")
    return (line[:MAX_QUERY_CHARS] if line else rule_query(question, history)), None
