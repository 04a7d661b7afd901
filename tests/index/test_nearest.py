"""Exact in-memory search against Chroma's HNSW on the real seed index."""

from __future__ import annotations

import numpy as np
import pytest

from rag.index.nearest import InMemoryIndex, searchable
from rag.pipeline import Pipeline
from rag.retrieve.retrievers import DenseRetriever

QUESTIONS = (
    "Var hölls Socialchefsdagarna 2023?",
    "Vilket ledningssystem implementerades i kommunen?",
    "How are social services funded?",
)


class _BruteForce:
    """Exact cosine search written independently of `InMemoryIndex`, over the store's vectors."""

    def __init__(self, ids: list[str], vectors: np.ndarray) -> None:
        self._ids = ids
        self._unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def nearest(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        cosines = self._unit @ (vector / np.linalg.norm(vector))
        order = sorted(range(len(self._ids)), key=lambda i: (-cosines[i], i))[:k]
        return [(self._ids[i], float(cosines[i])) for i in order]


def test_in_memory_search_is_exact_and_agrees_with_chroma(seeded_pipeline: Pipeline) -> None:
    """The exact ids, order and cosines, for chunks and sentence units alike.

    Chroma's HNSW is approximate and its build is not deterministic (one CI run in five
    missed a sentence at rank 7), so against Chroma the test asks for the same cosine for
    every id both return, never a worse one at any rank, and at least 90 % of the exact top 20.
    """
    stores = [seeded_pipeline.store, seeded_pipeline.live.sentence_store]
    for store in stores:
        assert store is not None
        index = searchable(store, max_in_memory=100_000)
        assert isinstance(index, InMemoryIndex)
        ids, vectors = store.vectors()
        brute = _BruteForce(ids, vectors)
        for question in QUESTIONS:
            vector = seeded_pipeline.embedder.encode_query(question)
            everything = brute.nearest(vector, len(ids))
            exact, reference = index.nearest(vector, 20), everything[:20]
            assert [i for i, _ in exact] == [i for i, _ in reference]
            assert np.allclose([s for _, s in exact], [s for _, s in reference], atol=1e-5)
            hnsw = store.nearest(vector, 20)
            cosine = dict(everything)
            assert all(abs(cosine[i] - s) < 1e-5 for i, s in hnsw)
            assert all(e >= h - 1e-5 for (_, e), (_, h) in zip(exact, hnsw, strict=True))
            assert len({i for i, _ in exact} & {i for i, _ in hnsw}) >= 18


def test_a_collection_over_the_limit_stays_with_chroma(seeded_pipeline: Pipeline) -> None:
    store = seeded_pipeline.store
    assert searchable(store, max_in_memory=store.count() - 1) is store
    assert isinstance(searchable(store, max_in_memory=store.count()), InMemoryIndex)


def test_dense_ranking_is_the_same_either_way(seeded_pipeline: Pipeline) -> None:
    """In memory, the dense ranking is that of an exact search (Chroma's HNSW: see above)."""
    p = seeded_pipeline
    units = p.live.sentence_store
    assert units is not None
    chunks = {chunk.id: chunk for chunk in p.indexed_chunks}
    in_memory = DenseRetriever(
        p.store, p.embedder, searchable(units, 10**6), chunks, searchable(p.store, 10**6)
    )
    exact = DenseRetriever(
        p.store, p.embedder, _BruteForce(*units.vectors()), chunks, _BruteForce(*p.store.vectors())
    )
    with_chroma = DenseRetriever(p.store, p.embedder, units, chunks)
    for question in QUESTIONS:
        ranked = [x.chunk.id for x in in_memory.search(question, 20)]
        assert ranked == [x.chunk.id for x in exact.search(question, 20)]
        assert len(set(ranked) & {x.chunk.id for x in with_chroma.search(question, 20)}) >= 18


@pytest.mark.parametrize("k", [0, 1, 3, 10])
def test_k_nearest_of_a_small_index(k: int) -> None:
    vectors = np.array([[1, 0], [0.6, 0.8], [0, 1], [-1, 0]], np.float32) * 3  # unnormalised
    index = InMemoryIndex(["east", "north-east", "north", "west"], vectors)
    hits = index.nearest(np.array([2.0, 0.0]), k)
    assert [i for i, _ in hits] == ["east", "north-east", "north", "west"][:k]
    assert [round(s, 6) for _, s in hits] == [1.0, 0.6, 0.0, -1.0][:k]


def test_an_empty_index_finds_nothing() -> None:
    assert InMemoryIndex([], np.zeros((0, 384), np.float32)).nearest(np.ones(384), 5) == []
