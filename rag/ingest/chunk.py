"""Chunk stage: Documents -> Chunks, sentence-aware, sized in embedding-model tokens.

Sentences are packed into chunks of at most `max_tokens`; each chunk after the
first in a section repeats the previous chunk's last sentence (one sentence of
overlap) when that sentence is short. Sections smaller than `min_tokens` are
merged with the following section of the same article when both fit.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

from rag.ingest.sentences import MIN_SENTENCE_WORDS, sentence_spans
from rag.types import Chunk, Document, SourceFile, Span

TokenCounter = Callable[[str], int]
CONTEXT_SEPARATOR = " › "


@dataclass(frozen=True)
class ChunkSizing:
    """Chunk size bounds in model tokens."""

    max_tokens: int = 320
    min_tokens: int = 200


@dataclass(frozen=True)
class _Sentence:
    start: int  # (start, end) char offsets into the source file text
    end: int
    tokens: int
    section: str


def chunk_documents(
    sources: Sequence[SourceFile],
    documents: Sequence[Document],
    count_tokens: TokenCounter,
    sizing: ChunkSizing = ChunkSizing(),
) -> list[Chunk]:
    """Split every document into chunks, in corpus order."""
    texts = {source.name: source.text for source in sources}
    return [
        chunk
        for document in documents
        for chunk in chunk_document(texts[document.source], document, count_tokens, sizing)
    ]


def chunk_document(
    file_text: str, document: Document, count_tokens: TokenCounter, sizing: ChunkSizing
) -> Iterator[Chunk]:
    """Yield the chunks of one article; `file_text` is its whole source file."""
    for group in _section_groups(file_text, document.sections, count_tokens, sizing):
        for sentences in _pack(group, sizing):
            yield _make_chunk(file_text, document, sentences)


def _section_groups(
    file_text: str, sections: Sequence[Span], count_tokens: TokenCounter, sizing: ChunkSizing
) -> Iterator[list[_Sentence]]:
    """Sentences grouped by section, small sections merged into the next one."""
    pending: list[_Sentence] = []
    for section in sections:
        body = file_text[section.start : section.end]
        sentences = [
            piece
            for start, end in sentence_spans(body, section.start)
            for piece in _fit(file_text, start, end, section.title, count_tokens, sizing)
        ]
        total = sum(s.tokens for s in pending) + sum(s.tokens for s in sentences)
        if pending and total > sizing.max_tokens:
            yield pending
            pending = []
        pending.extend(sentences)
        if sum(s.tokens for s in pending) >= sizing.min_tokens:
            yield pending
            pending = []
    if pending:
        yield pending


def _fit(
    file_text: str,
    start: int,
    end: int,
    section: str,
    count_tokens: TokenCounter,
    sizing: ChunkSizing,
) -> Iterator[_Sentence]:
    """One sentence, or word-boundary pieces of it when it alone exceeds the chunk size."""
    tokens = count_tokens(file_text[start:end])
    if tokens <= sizing.max_tokens:
        yield _Sentence(start, end, tokens, section)
        return
    words = [
        (m.start() + start, m.end() + start) for m in re.finditer(r"\S+", file_text[start:end])
    ]
    per_piece = max(1, len(words) * sizing.max_tokens // (tokens + 1))
    for i in range(0, len(words), per_piece):
        piece = words[i : i + per_piece]
        piece_start, piece_end = piece[0][0], piece[-1][1]
        yield _Sentence(
            piece_start, piece_end, count_tokens(file_text[piece_start:piece_end]), section
        )


def _pack(sentences: list[_Sentence], sizing: ChunkSizing) -> Iterator[list[_Sentence]]:
    """Greedy packing with at most one sentence of overlap between neighbours."""
    current: list[_Sentence] = []
    tokens = 0
    for sentence in sentences:
        if current and tokens + sentence.tokens > sizing.max_tokens:
            yield current
            carry = current[-1]
            overlap = len(current) > 1 and carry.tokens + sentence.tokens <= sizing.max_tokens // 2
            current = [carry] if overlap else []
            tokens = carry.tokens if overlap else 0
        current.append(sentence)
        tokens += sentence.tokens
    if current:
        yield current


def _make_chunk(file_text: str, document: Document, sentences: list[_Sentence]) -> Chunk:
    start, end = sentences[0].start, sentences[-1].end
    text = file_text[start:end]
    section = " / ".join(dict.fromkeys(s.section for s in sentences if s.section))
    context = CONTEXT_SEPARATOR.join(part for part in (document.title, section) if part)
    embed_text = f"{context}\n{text}"
    return Chunk(
        id=chunk_id(document.source, start, end, embed_text),
        source=document.source,
        title=document.title,
        section=section,
        start=start,
        end=end,
        text=text,
        embed_text=embed_text,
    )


def chunk_id(source: str, start: int, end: int, embed_text: str) -> str:
    """Deterministic id from where a chunk comes from and what it says."""
    digest = hashlib.sha256(f"{source}\x00{start}\x00{end}\x00{embed_text}".encode())
    return digest.hexdigest()[:32]


UNIT_SEPARATOR = "#"  # sentence unit ids are "<chunk id>#<n>"


def sentence_units(chunks: Sequence[Chunk]) -> list[Chunk]:
    """Each prose sentence of each chunk as a small unit of its own, for fine-grained matching.

    A unit's id is its chunk's id, "#" and its number, so it changes exactly when the
    chunk does; its embed text is the article title and the sentence.
    """
    units: list[Chunk] = []
    for chunk in chunks:
        spans = sentence_spans(chunk.text, chunk.start)
        for n, (start, end) in enumerate(spans):
            text = chunk.text[start - chunk.start : end - chunk.start]
            if len(text.split()) < MIN_SENTENCE_WORDS:
                continue
            units.append(
                replace(
                    chunk,
                    id=f"{chunk.id}{UNIT_SEPARATOR}{n}",
                    start=start,
                    end=end,
                    text=text,
                    embed_text=f"{chunk.title}: {text}",
                )
            )
    return units


def parent_id(unit_id: str) -> str:
    """The id of the chunk a sentence unit belongs to."""
    return unit_id.split(UNIT_SEPARATOR, 1)[0]
