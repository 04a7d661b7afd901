"""Articles of the indexed corpus: full text for the source viewer, dates, pages, the age warning.

A file's text comes from the texts stored with the index generation (`rag.index.texts`);
an index built before texts were stored reads the file from the seeds folder instead. A
file whose text no longer matches its indexed chunks is left out.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

from rag.ingest.dates import find_date, given_date
from rag.ingest.documents import split_articles
from rag.types import Article, ArticleInfo, Chunk, Citation, DocumentInfo, SourceFile

NEW_ACT_START = date(2025, 7, 1)  # the new socialtjänstlag (SFS 2025:400) applies from here
NEW_ACT = "den nya socialtjänstlagen (SFS 2025:400), som gäller från 1 juli 2025"

SourceLookup = Callable[[str], SourceFile | None]  # indexed file name -> its text, if found


class ArticleIndex:
    """Looks up the article around a passage, reading each indexed file once."""

    def __init__(
        self, source_of: SourceLookup, chunks: Sequence[Chunk], today: date | None = None
    ) -> None:
        self._source_of = source_of
        self._today = today
        self._chunks: dict[str, list[Chunk]] = defaultdict(list)
        for chunk in chunks:
            self._chunks[chunk.source].append(chunk)
        self._files: dict[str, SourceFile | None] = {}
        self._articles: dict[str, list[Article]] = {}

    def source(self, name: str) -> SourceFile | None:
        """The indexed file `name` as it was indexed, or None (unknown, or changed since)."""
        if name not in self._files:
            file = self._source_of(name) if name in self._chunks else None
            if file is not None and any(
                file.text[c.start : c.end] != c.text for c in self._chunks[name]
            ):
                file = None  # changed since indexing: offsets no longer hold
            self._files[name] = file
        return self._files[name]

    def original_pdf(self, sha256: str, seeds_dir: Path) -> bytes | None:
        """The bytes of the indexed PDF with content hash `sha256`, read from `seeds_dir`.

        None unless such a PDF is indexed and its file is still exactly what was indexed.
        """
        file = next(
            (f for name in self._chunks if (f := self.source(name)) and f.sha256 == sha256), None
        )
        if file is None or file.kind != "pdf":
            return None
        seeds = seeds_dir.resolve()
        path = (seeds / file.name).resolve()
        try:
            content = path.read_bytes() if path.is_relative_to(seeds) else None
        except OSError:
            return None
        if content is None or hashlib.sha256(content).hexdigest() != sha256:
            return None
        return content

    def documents(self, indexed: Mapping[str, str]) -> list[DocumentInfo]:
        """Each indexed file as the document list shows it; `indexed`: name -> when indexed."""
        listed = []
        for name in sorted(self._chunks):
            file = self.source(name)
            articles = self.articles_of(name)
            first = articles[0] if articles else None
            listed.append(
                DocumentInfo(
                    name=name,
                    kind=file.kind if file else "text",
                    title=first.document.title if first else name,
                    articles=len(articles),
                    chunks=len(self._chunks[name]),
                    pages=len(file.pages) if file and file.pages else None,
                    date=first.date.iso if first and first.date else None,
                    url=file.meta.url if file else "",
                    indexed=indexed.get(name, ""),
                )
            )
        return listed

    def _load(self, name: str) -> list[Article]:
        file = self.source(name)
        if file is None:
            return []
        stated = given_date(file.meta.date)
        articles = []
        for doc in split_articles(file):
            text = file.text[doc.start : doc.end]
            articles.append(Article(doc, text, stated or find_date(text, self._today), file))
        return articles

    def articles_of(self, source: str) -> list[Article]:
        """The indexed articles of file `source`, in file order (none when it is unknown)."""
        if source not in self._articles:
            self._articles[source] = self._load(source)
        return self._articles[source]

    def every_article(self) -> list[Article]:
        """The indexed articles of every indexed file, files by name, each in file order."""
        return [a for name in sorted(self._chunks) for a in self.articles_of(name)]

    def article_at(self, source: str, offset: int) -> Article | None:
        """The indexed article of `source` holding file offset `offset`, if any."""
        return next(
            (a for a in self.articles_of(source) if a.document.start <= offset < a.document.end),
            None,
        )

    def page_at(self, source: str, offset: int) -> int | None:
        """The 1-based page of `source` holding `offset` (None for a file without pages)."""
        file = self.source(source)
        return file.page_at(offset) if file is not None else None

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
                file = article.file
                url, ocr = (file.meta.url, file.ocr) if file is not None else ("", False)
                info = ArticleInfo(
                    doc.source, doc.title, doc.start, doc.end, article.date, (), url, ocr
                )
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
