"""Exact in-memory search against Chroma's HNSW on the real seed index."""

from __future__ import annotations

import numpy as np
import pytest

from rag.nearest import InMemoryIndex, searchable
from rag.pipeline import Pipeline
from rag.retrieve import DenseRetriever

QUESTIONS = (
    "Var hölls Socialchefsdagarna 2023?",
    "Vilket ledningssystem implementerades i kommunen?",
    "How are social services funded?",
)


def test_in_memory_search_finds_what_chroma_finds(seeded_pipeline: Pipeline) -> None:
    """Same ids in the same order, same cosines, for chunks and sentence units alike."""
    stores = [seeded_pipeline.store, seeded_pipeline._sentence_store()]
    for store in stores:
        assert store is not None
        index = searchable(store, max_in_memory=100_000)
        assert isinstance(index, InMemoryIndex)
        for question in QUESTIONS:
            vector = seeded_pipeline.embedder.encode_query(question)
            exact, hnsw = index.nearest(vector, 20), store.nearest(vector, 20)
            assert [i for i, _ in exact] == [i for i, _ in hnsw]
            assert np.allclose([s for _, s in exact], [s for _, s in hnsw], atol=1e-5)


def test_a_collection_over_the_limit_stays_with_chroma(seeded_pipeline: Pipeline) -> None:
    store = seeded_pipeline.store
    assert searchable(store, max_in_memory=store.count() - 1) is store
    assert isinstance(searchable(store, max_in_memory=store.count()), InMemoryIndex)


def test_dense_ranking_is_the_same_either_way(seeded_pipeline: Pipeline) -> None:
    p = seeded_pipeline
    units = p._sentence_store()
    assert units is not None
    chunks = {chunk.id: chunk for chunk in p.indexed_chunks}
    in_memory = DenseRetriever(
        p.store, p.embedder, searchable(units, 10**6), chunks, searchable(p.store, 10**6)
    )
    with_chroma = DenseRetriever(p.store, p.embedder, units, chunks)
    for question in QUESTIONS:
        assert [x.chunk.id for x in in_memory.search(question, 20)] == [
            x.chunk.id for x in with_chroma.search(question, 20)
        ]


@pytest.mark.parametrize("k", [0, 1, 3, 10])
def test_k_nearest_of_a_small_index(k: int) -> None:
    vectors = np.array([[1, 0], [0.6, 0.8], [0, 1], [-1, 0]], np.float32) * 3  # unnormalised
    index = InMemoryIndex(["east", "north-east", "north", "west"], vectors)
    hits = index.nearest(np.array([2.0, 0.0]), k)
    assert [i for i, _ in hits] == ["east", "north-east", "north", "west"][:k]
    assert [round(s, 6) for _, s in hits] == [1.0, 0.6, 0.0, -1.0][:k]


def test_an_empty_index_finds_nothing() -> None:
    assert InMemoryIndex([], np.zeros((0, 384), np.float32)).nearest(np.ones(384), 5) == []
