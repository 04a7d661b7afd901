"""Typed data objects flowing through the stages: ingest, chunk, store, retrieve, answer."""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class SourceFile:
    """One file of the corpus, decoded, with a hash of its exact content."""

    name: str  # file name relative to the seeds folder, e.g. "003_7b0b9db67c0573bb.txt"
    text: str
    sha256: str


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


@dataclass(frozen=True)
class FlaggedSentence:
    """A sentence of an answer that its cited passages do not support."""

    start: int  # (start, end) char offsets into Answer.text
    end: int
    reason: str  # Swedish, for the reader, e.g. "talet 42 finns inte i källan"


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
    mode: Literal["extractive", "llm"] = "extractive"
    notice: str = ""
    searched_query: str = ""
    flagged: tuple[FlaggedSentence, ...] = ()

    @property
    def unsupported_sentences(self) -> int:
        """How many sentences of the answer the cited passages do not support."""
        return len(self.flagged)


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a conversation, for making follow-up questions standalone."""

    question: str
    answer: str = ""


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
