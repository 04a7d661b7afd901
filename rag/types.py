"""Typed data objects flowing through the stages: ingest, chunk, store, retrieve, answer."""

from __future__ import annotations

import bisect
import calendar
from dataclasses import dataclass, field
from datetime import date
from typing import Literal


@dataclass(frozen=True)
class Span:
    """A titled region of a source file.

    `start`/`end` are character offsets into the decoded source file text, so
    `file_text[start:end]` is the region itself.
    """

    title: str
    start: int
    end: int


SourceKind = Literal["text", "markdown", "pdf", "docx", "html"]


@dataclass(frozen=True)
class SourceMeta:
    """What a file says about itself: from HTML/PDF/DOCX metadata, front matter or a sidecar."""

    title: str = ""
    date: str = ""  # as given, e.g. "2019-10-02"
    url: str = ""  # the original's address, e.g. a web page's canonical URL
    author: str = ""


@dataclass(frozen=True)
class SourceFile:
    """One file of the corpus: the text extracted from it, with a hash of its exact bytes.

    Every offset elsewhere points into `text` (a plain-text file's own text; for PDF,
    DOCX and HTML the text extracted at ingest and stored with the index generation).
    """

    name: str  # file name relative to the seeds folder, e.g. "003_7b0b9db67c0573bb.txt"
    text: str
    sha256: str
    kind: SourceKind = "text"
    pages: tuple[int, ...] = ()  # start offset of each page in `text` (PDF; page 1 at 0)
    headings: tuple[int, ...] = ()  # start offsets of the lines the format marks as headings
    meta: SourceMeta = field(default_factory=SourceMeta)
    ocr: bool = False  # the text was read from page images (no text layer)

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding char offset `offset` (None for a format without pages)."""
        if not self.pages:
            return None
        return bisect.bisect_right(self.pages, offset) or 1


@dataclass(frozen=True)
class Document:
    """One article found in a source file.

    `sections` are the article's headed regions in order; text before the first
    heading belongs to a section titled "" (the article's lead).
    """

    source: str
    title: str
    start: int  # (start, end) char offsets of the whole article in the source file
    end: int
    sections: tuple[Span, ...]
    position: int  # 0-based index of the article within its file


@dataclass(frozen=True)
class Chunk:
    """A passage of an article, sized for the embedding model.

    `text == source_file_text[start:end]`; `embed_text` adds the
    "article title › section" context that the embedder sees.
    """

    id: str
    source: str
    title: str
    section: str
    start: int
    end: int
    text: str
    embed_text: str


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its rank (1-based) and the retriever's score (higher is better).

    `dense_score` is the cosine similarity to the question when the dense leg saw the
    chunk (None for lexical-only hits); abstention relies on it, not on fused scores.
    """

    chunk: Chunk
    rank: int
    score: float
    dense_score: float | None = None


@dataclass(frozen=True)
class Citation:
    """A numbered source of an answer, with the exact quoted span.

    `quote == source_file_text[start:end]`, so the UI can highlight it.
    """

    n: int
    passage: Passage
    quote: str
    start: int
    end: int
    page: int | None = None  # 1-based page of `start` in a paged source (PDF)


@dataclass(frozen=True)
class FlaggedSentence:
    """A sentence of an answer that its cited passages do not support."""

    start: int  # (start, end) char offsets into Answer.text
    end: int
    reason: str  # Swedish, for the reader, e.g. "talet 42 finns inte i källan"


@dataclass(frozen=True)
class ArticleDate:
    """A date as an article gives it, to the day, month or year."""

    text: str  # as written in the article, e.g. "2 oktober 2022" or "Socialchefsdagarna 2023"
    year: int
    month: int | None = None
    day: int | None = None

    @property
    def earliest(self) -> date:
        """The first day the date can mean."""
        return date(self.year, self.month or 1, self.day or 1)

    @property
    def latest(self) -> date:
        """The last day the date can mean."""
        month = self.month or 12
        return date(self.year, month, self.day or calendar.monthrange(self.year, month)[1])

    @property
    def iso(self) -> str:
        """ISO 8601 at the date's precision: "2022-10-02", "2024-04" or "2023"."""
        return self.earliest.isoformat()[: 10 if self.day else 7 if self.month else 4]


@dataclass(frozen=True)
class Article:
    """An indexed article with its full text, for reading a citation in its context."""

    document: Document
    text: str  # source_file_text[document.start:document.end]
    date: ArticleDate | None
    file: SourceFile | None = None  # the indexed file it is part of (pages, URL, kind)

    def page_span(self, start: int, end: int) -> tuple[int, int, int] | None:
        """(first page, start, end): the article's text on the pages holding [start, end).

        None when its file has no pages. Offsets are file offsets, clipped to the article.
        """
        if self.file is None or not self.file.pages:
            return None
        pages = self.file.pages
        first = self.file.page_at(start) or 1
        last = self.file.page_at(max(start, end - 1)) or first
        span_end = pages[last] if last < len(pages) else self.document.end
        return (
            first,
            max(pages[first - 1], self.document.start),
            min(span_end, self.document.end),
        )

    def section_at(self, offset: int) -> str:
        """The title of the section holding file offset `offset` ("" for the lead).

        Past a section's end (a closing line after the last one) it is still the last
        section begun, not the lead.
        """
        begun = [s for s in self.document.sections if s.start <= offset]
        holding = [s for s in begun if offset < s.end]
        return (holding or begun)[-1].title if begun else ""


@dataclass(frozen=True)
class ArticleInfo:
    """An article an answer rests on: where it is, its date, and the citations quoting it."""

    source: str
    title: str
    start: int  # (start, end) char offsets of the article in the source file
    end: int
    date: ArticleDate | None
    citations: tuple[int, ...]  # numbers n of the citations that quote this article
    url: str = ""  # the original's address, when the file gives one
    ocr: bool = False  # its text was read from scanned pages (OCR)


@dataclass(frozen=True)
class Answer:
    """The result of asking a question.

    `mode` says who wrote `text`: quotes ("extractive") or a language model ("llm").
    `notice` is set when the LLM failed and the answer fell back to quotes;
    `searched_query` is what retrieval searched for (the question made standalone).
    """

    question: str
    text: str  # contains citation markers such as "[1]"
    abstained: bool
    citations: tuple[Citation, ...]
    passages: tuple[Passage, ...]
    timings_ms: dict[str, float] = field(default_factory=dict)
    articles: tuple[ArticleInfo, ...] = ()  # the cited articles, in order of first citation
    age_warning: str = ""  # Swedish note when a cited article may predate the current law
    mode: Literal["extractive", "llm"] = "extractive"
    notice: str = ""
    searched_query: str = ""
    flagged: tuple[FlaggedSentence, ...] = ()
    query_truncated: bool = False  # the question was longer than one embedding reads
    uncertain: bool = False  # quotes no sentence of which likely answers (`notice` says so)

    @property
    def unsupported_sentences(self) -> int:
        """How many sentences of the answer the cited passages do not support."""
        return len(self.flagged)


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a conversation, for making follow-up questions standalone.

    Besides the words, a turn carries the query it searched (the question made
    standalone), which the next follow-up builds on.
    """

    question: str
    answer: str = ""
    searched: str = ""

    @classmethod
    def of(cls, answer: Answer) -> Turn:
        """The turn an answer closes, with the query it searched."""
        return cls(answer.question, answer.text, answer.searched_query)


@dataclass(frozen=True)
class Searched:
    """Streamed first: the query that was searched and the passages found."""

    query: str
    passages: tuple[Passage, ...]


@dataclass(frozen=True)
class TextDelta:
    """Streamed while an LLM writes: the next piece of the unverified answer text."""

    text: str


AskEvent = Searched | TextDelta | Answer  # what Pipeline.ask_stream yields; the Answer comes last


@dataclass(frozen=True)
class DocumentInfo:
    """One indexed file, as the document list shows it."""

    name: str  # file name relative to the seeds folder
    kind: SourceKind
    title: str  # its first article's title
    articles: int
    chunks: int
    pages: int | None  # PDF pages; None for formats without pages
    date: str | None  # ISO date at its precision, from metadata or the first article's text
    url: str
    indexed: str  # when this text was first indexed, ISO 8601 UTC ("" for older indexes)


@dataclass(frozen=True)
class IngestReport:
    """What one ingest run changed in the index."""

    files: int
    chunks: int  # chunks in the index after the run
    added: int
    deleted: int
    unchanged: int
    skipped_files: tuple[str, ...]  # "name: reason" for files that could not be read
    rebuilt: bool  # True when the index was rebuilt for a different embedder
    seconds: float
    sentences: int = 0  # sentence units in the index after the run (0 when disabled)
    sentences_added: int = 0
    notes: tuple[str, ...] = ()  # "name: note" for files indexed with a remark
