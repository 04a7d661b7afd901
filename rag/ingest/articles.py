"""Articles of the indexed corpus: full text for the source viewer, dates, and the age warning.

Only files the index holds are read, by their indexed names, from the seeds folder; a file
whose text no longer matches its indexed chunks (edited since `rag ingest`) is left out.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

from rag.ingest.dates import find_date
from rag.ingest.documents import split_articles
from rag.types import Article, ArticleInfo, Chunk, Citation, SourceFile

NEW_ACT_START = date(2025, 7, 1)  # the new socialtjänstlag (SFS 2025:400) applies from here
NEW_ACT = "den nya socialtjänstlagen (SFS 2025:400), som gäller från 1 juli 2025"


class ArticleIndex:
    """Looks up the article around a passage, reading each indexed file once."""

    def __init__(self, seeds_dir: Path, chunks: Sequence[Chunk], today: date | None = None):
        self._seeds_dir = seeds_dir.resolve()
        self._today = today
        self._chunks: dict[str, list[Chunk]] = defaultdict(list)
        for chunk in chunks:
            self._chunks[chunk.source].append(chunk)
        self._articles: dict[str, list[Article]] = {}

    def _load(self, source: str) -> list[Article]:
        path = (self._seeds_dir / source).resolve()
        if source not in self._chunks or not path.is_relative_to(self._seeds_dir):
            return []
        try:
            raw = path.read_bytes()
        except OSError:
            return []
        text = raw.decode("utf-8-sig", errors="replace")
        if any(text[c.start : c.end] != c.text for c in self._chunks[source]):
            return []  # changed since indexing: offsets no longer hold
        file = SourceFile(source, text, hashlib.sha256(raw).hexdigest())
        return [
            Article(
                doc, text[doc.start : doc.end], find_date(text[doc.start : doc.end], self._today)
            )
            for doc in split_articles(file)
        ]

    def article_at(self, source: str, offset: int) -> Article | None:
        """The indexed article of `source` holding file offset `offset`, if any."""
        if source not in self._articles:
            self._articles[source] = self._load(source)
        return next(
            (a for a in self._articles[source] if a.document.start <= offset < a.document.end),
            None,
        )

    def cited(self, citations: Sequence[Citation]) -> tuple[ArticleInfo, ...]:
        """The articles the citations quote, in order of first citation.

        A citation whose article cannot be read (seeds moved or edited) still counts, as an
        undated article named after its chunk, so the age warning is never silently lost.
        """
        found: dict[tuple[str, str], ArticleInfo] = {}
        for c in citations:
            chunk = c.passage.chunk
            article = self.article_at(chunk.source, c.start)
            if article is None:
                info = ArticleInfo(chunk.source, chunk.title, chunk.start, chunk.end, None, ())
            else:
                doc = article.document
                info = ArticleInfo(doc.source, doc.title, doc.start, doc.end, article.date, ())
            key = (info.source, info.title)
            info = found.get(key, info)
            found[key] = replace(info, citations=(*info.citations, c.n))
        return tuple(found.values())


def age_warning(articles: Sequence[ArticleInfo]) -> str:
    """A Swedish note when an answer rests on articles that may predate the new law, else ""."""
    old = [a.date for a in articles if a.date and a.date.latest < NEW_ACT_START]
    unsure = sum(
        a.date is None or a.date.earliest < NEW_ACT_START <= a.date.latest for a in articles
    )
    if not old and not unsure:
        return ""
    parts = []
    if old:
        what = "en artikel" if len(old) == 1 else f"{len(old)} artiklar"
        years = _join(sorted({str(d.year) for d in old}))
        parts.append(f"Svaret bygger på {what} från {years}, före {NEW_ACT}.")
    if unsure:
        what = "En källartikel" if unsure == 1 else f"{unsure} källartiklar"
        tail = "." if old else f" och kan vara skriven före {NEW_ACT}."
        parts.append(f"{what} anger inget säkert datum{tail}")
    parts.append("Uppgifterna kan vara inaktuella; kontrollera mot gällande lag.")
    return " ".join(parts)


def _join(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} och {words[-1]}"
