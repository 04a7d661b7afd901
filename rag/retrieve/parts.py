"""Questions that ask two things at once, split into their parts.

"Vilken befattning har Olivia Wigzell, och vilket råd leder hon?" is searched and
answered as a whole and per part, so the second part gets its own passage and quote.
"""

from __future__ import annotations

import re

from rag.retrieve.lexical import QUESTION_WORDS, terms

# Where a question joins a second question or a parallel phrase: "…, och vilket råd leder
# hon", "…i panelsamtalet 2021 och om föreskrifter i GD-panelen", "A respektive B".
_JOIN = re.compile(
    rf",?\s+(?:och|samt|and)\s+(?=(?:{'|'.join(QUESTION_WORDS)}|om|för|i|about|in)\b)"
    r"|\s+respektive\s+",
    re.IGNORECASE,
)


def question_parts(question: str) -> list[str]:
    """The sub-questions of a question that asks two things at once (else the question)."""
    parts = [part for part in _JOIN.split(question) if terms(part)]
    return parts if len(parts) > 1 else [question]
