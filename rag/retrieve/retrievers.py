"""Retrieve stage: question -> ranked Passages (dense, lexical, or both fused).

The lexical leg is BM25 over Swedish stems without stopwords, with compounds
also indexed by their parts ("bostadsbidrag" -> "bostad", "bidrag"), so
"bidrag till bostaden" finds it. Fusion is reciprocal rank fusion, which needs
no score calibration between the legs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from itertools import chain
from typing import Protocol

import bm25s
import numpy as np

from rag.index.embed import RagEmbeddings
from rag.index.nearest import NearestIds
from rag.index.store import VectorStore
from rag.ingest.chunk import parent_id
from rag.retrieve.glossary import searched_text
from rag.retrieve.lexical import Decompounder, terms
from rag.retrieve.parts import question_parts
from rag.types import Chunk, Passage

PART_SLOT = 2  # a part's best passage goes right after the whole question's first two
RRF_K = 60  # reciprocal rank fusion constant (Cormack et al. 2009)
CHUNK_DEPTH = 50  # nearest chunks and sentences weighed when sentence units are indexed
SENTENCE_DEPTH = 300
# Searches that overlap within one question: BM25 while the question is embedded (ONNX
# Runtime and Chroma release the GIL), the sentence collection beside the chunk one.
# Pool tasks never wait on each other, so a full pool only queues.
SEARCHES = ThreadPoolExecutor(max_workers=4, thread_name_prefix="search")


class Retriever(Protocol):
    """Anything that ranks passages for a question."""

    def search(self, question: str, k: int) -> list[Passage]:
        """The k best passages for `question`, best first."""


class DenseRetriever:
    """Nearest chunks by cosine similarity of e5 query and passage embeddings.

    With a store of sentence units, a chunk scores its own cosine plus that of its
    best-matching sentence: a question about one fact matches the sentence holding it
    far better than the whole chunk around it. A chunk missing from either nearest
    list counts that list's lowest cosine (a bound: it ranked below all of them).

    `chunks`, every indexed chunk by id in index order (when the caller holds them
    anyway), lets a search read only ids and cosines from the store: reading the text and
    metadata of 300 sentence hits cost several times the search itself.

    `chunk_index` (default: the store) answers the chunk searches, e.g. an in-memory copy
    of a small collection's vectors (`rag.index.nearest`); `sentences` likewise.
    """

    def __init__(
        self,
        store: VectorStore,
        embedder: RagEmbeddings,
        sentences: NearestIds | None = None,
        chunks: Mapping[str, Chunk] | None = None,
        chunk_index: NearestIds | None = None,
    ) -> None:
        self._store = store
        self._chunk_index = chunk_index or store
        self._embedder = embedder
        self._sentences = sentences
        self._chunks = chunks
        # Index order (the caller's, e.g. file order): it breaks ties in ranking.
        self._position = {chunk_id: i for i, chunk_id in enumerate(chunks or {})}

    def search(self, question: str, k: int) -> list[Passage]:
        """The k best passages for `question`, best first; dense_score = chunk cosine."""
        vector = self._embedder.encode_query(searched_text(question))
        if self._sentences is None:
            hits = self._nearest(vector, k)
            return [
                Passage(chunk=chunk, rank=rank, score=score, dense_score=score)
                for rank, (chunk, score) in enumerate(hits, start=1)
            ]
        sentence_hits = SEARCHES.submit(self._sentences.nearest, vector, max(k, SENTENCE_DEPTH))
        hits = self._nearest(vector, max(k, CHUNK_DEPTH))
        by_id = {chunk.id: chunk for chunk, _ in hits}
        cosine = {chunk.id: score for chunk, score in hits}
        sentence: dict[str, float] = {}
        for unit_id, score in sentence_hits.result():
            parent = parent_id(unit_id)
            sentence[parent] = max(sentence.get(parent, score), score)
        missing = [i for i in sentence if i not in by_id]
        by_id.update((chunk.id, chunk) for chunk in self._get(missing))
        chunk_floor = min(cosine.values(), default=0.0)
        sentence_floor = min(sentence.values(), default=0.0)

        def combined(chunk_id: str) -> float:
            return cosine.get(chunk_id, chunk_floor) + sentence.get(chunk_id, sentence_floor)

        ranked = sorted(by_id, key=combined, reverse=True)[:k]
        return [
            Passage(
                chunk=by_id[i],
                rank=rank,
                score=combined(i),
                dense_score=cosine.get(i, chunk_floor),
            )
            for rank, i in enumerate(ranked, start=1)
        ]

    def _nearest(self, vector: np.ndarray, k: int) -> list[tuple[Chunk, float]]:
        """The k nearest chunks with cosines; with the chunks in memory, only ids are read."""
        if self._chunks is None:
            return self._store.search(vector, k)
        hits = self._chunk_index.nearest(vector, k)
        found = {chunk.id: chunk for chunk in self._get([i for i, _ in hits])}
        return [(found[i], score) for i, score in hits if i in found]

    def _get(self, ids: Sequence[str]) -> list[Chunk]:
        """The chunks with these ids in index order (unknown ones from the store after them)."""
        if self._chunks is None:
            return self._store.get(ids)
        known = sorted((i for i in ids if i in self._chunks), key=self._position.__getitem__)
        others = self._store.get([i for i in ids if i not in self._chunks])
        return [self._chunks[i] for i in known] + others


class LexicalRetriever:
    """BM25 over the stems (and compound parts) of every chunk, built once in memory.

    `stems[i]` are `terms(chunks[i].embed_text)`, computed once by the caller and shared.
    """

    def __init__(self, chunks: Sequence[Chunk], stems: Sequence[Sequence[str]]) -> None:
        self._chunks = list(chunks)
        self._decompounder = Decompounder(chain.from_iterable(stems))
        self._bm25 = bm25s.BM25()
        if self._chunks:
            self._bm25.index(self._decompounder.expand_all(stems), show_progress=False)

    def search(self, question: str, k: int) -> list[Passage]:
        """The k best passages by BM25; score = BM25 score (passages scoring 0 are left out)."""
        query = self._decompounder.expand(terms(searched_text(question)))
        if not query or not self._chunks:
            return []
        indices, scores = self._bm25.retrieve(
            [query], k=min(k, len(self._chunks)), show_progress=False
        )
        hits = [(int(i), float(s)) for i, s in zip(indices[0], scores[0], strict=True) if s > 0]
        return [
            Passage(chunk=self._chunks[i], rank=rank, score=score)
            for rank, (i, score) in enumerate(hits, start=1)
        ]


class HybridRetriever:
    """Dense and lexical rankings fused by reciprocal rank; keeps each passage's dense cosine.

    With `parts`, a question that asks two things ("Vem är X och vilken roll har hon?")
    also gets each part's best passage right after its own first ones: the part a
    question mentions second often ranks low as a whole. A part is ranked by its own
    words (lexical leg) fused with the whole question's dense ranking, so it costs no
    second embedding.
    """

    def __init__(
        self, dense: DenseRetriever, lexical: LexicalRetriever, depth: int = 20, parts: bool = False
    ) -> None:
        self._dense = dense
        self._lexical = lexical
        self._depth = depth
        self._parts = parts

    def search(self, question: str, k: int) -> list[Passage]:
        """The k best passages by fused rank; score = RRF score."""
        depth = max(self._depth, k)
        lexical = SEARCHES.submit(self._lexical.search, question, depth)  # while e5 embeds
        dense = self._dense.search(question, depth)
        whole = fuse([dense, lexical.result()], k)
        parts = question_parts(question) if self._parts else []
        if len(parts) < 2:
            return whole
        tops = [
            top for part in parts for top in fuse([dense, self._lexical.search(part, depth)], 1)
        ]
        merged = [*whole[:PART_SLOT], *tops, *whole[PART_SLOT:]]
        first: dict[str, Passage] = {}
        for passage in merged:
            first.setdefault(passage.chunk.id, passage)
        return [replace(p, rank=rank) for rank, p in enumerate(list(first.values())[:k], start=1)]


def fuse(rankings: Sequence[Sequence[Passage]], k: int) -> list[Passage]:
    """Reciprocal rank fusion of several rankings of the same chunks."""
    fused: dict[str, float] = {}
    chunks: dict[str, Chunk] = {}
    dense_scores: dict[str, float] = {}
    for ranking in rankings:
        for passage in ranking:
            chunk_id = passage.chunk.id
            fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (RRF_K + passage.rank)
            chunks[chunk_id] = passage.chunk
            if passage.dense_score is not None:
                dense_scores[chunk_id] = passage.dense_score
    best = sorted(fused, key=lambda chunk_id: -fused[chunk_id])[:k]
    return [
        Passage(chunks[i], rank, fused[i], dense_score=dense_scores.get(i))
        for rank, i in enumerate(best, start=1)
    ]
