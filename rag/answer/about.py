"""Questions about a whole article ("Vad handlar artikeln om Huset om?"): its lead answers.

An article's lead, its first chunk, says what the article is about. For such a
question the retriever ranks the lead of the best-matching article first, and the
answerer quotes its opening sentences.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace

from rag.retrieve.retrievers import Retriever
from rag.types import Chunk, Passage

# "Vad handlar … om?", "Vad går … ut på?", "What is … about?"
ABOUT = re.compile(
    r"\b(handlar\b.*\bom\s*\?*$|vad går\b.*\but på|what (is|was)\b.*\babout\s*\?*$)", re.I
)

ArticleKey = tuple[str, str]  # (source file, article title)


def article_leads(chunks: Iterable[Chunk]) -> dict[ArticleKey, Chunk]:
    """Each article's first chunk, by (source file, title)."""
    leads: dict[ArticleKey, Chunk] = {}
    for chunk in sorted(chunks, key=lambda c: c.start):
        leads.setdefault((chunk.source, chunk.title), chunk)
    return leads


class LeadFirst:
    """A retriever that ranks the top article's lead first for a question about an article."""

    def __init__(self, inner: Retriever, leads: Mapping[ArticleKey, Chunk]) -> None:
        self._inner = inner
        self._leads = leads

    def search(self, question: str, k: int) -> list[Passage]:
        """The inner retriever's passages; for "what is it about", the lead moved to rank 1."""
        passages = self._inner.search(question, k)
        if not passages or not ABOUT.search(question):
            return passages
        top = passages[0]
        lead = self._leads.get((top.chunk.source, top.chunk.title))
        if lead is None or lead.id == top.chunk.id:
            return passages
        found = next((p for p in passages if p.chunk.id == lead.id), None)
        first = found or Passage(lead, rank=1, score=top.score)
        rest = [p for p in passages if p.chunk.id != lead.id][: k - 1]
        return [replace(p, rank=rank) for rank, p in enumerate([first, *rest], start=1)]
