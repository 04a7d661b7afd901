"""Nearest-neighbour search in memory, for collections small enough that it beats HNSW.

One matrix product over every stored vector is exact, and below about 20,000 vectors
of 384 dimensions it is faster than a Chroma query (0.05 ms for 700 vectors and 0.35 ms
for 10,000 against 1-3 ms; 1.3 ms at 20,000; 7.7 ms at 100,000, where HNSW wins). Chroma
stays the store: the vectors are read from it once per index generation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np


class NearestIds(Protocol):
    """Anything that finds the ids nearest to a vector, with their cosines."""

    def nearest(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The k nearest ids, nearest first, with cosine similarities."""


class StoredVectors(NearestIds, Protocol):
    """A searchable store that can also hand over every id with its vector."""

    def count(self) -> int:
        """Number of stored vectors."""

    def vectors(self) -> tuple[list[str], np.ndarray]:
        """Every stored id and its (n, dim) vector, in one order."""


class InMemoryIndex:
    """Exact cosine search over L2-normalised vectors held in one array."""

    def __init__(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        self._ids = list(ids)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True) if len(ids) else 1.0
        self._vectors = np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), np.float32)

    def nearest(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The k nearest ids by cosine, nearest first (ties in store order)."""
        k = min(k, len(self._ids))
        if k <= 0:
            return []
        query = np.asarray(vector, np.float32)
        scores = self._vectors @ (query / max(float(np.linalg.norm(query)), 1e-12))
        top = np.sort(np.argpartition(-scores, k - 1)[:k]) if k < len(scores) else np.arange(k)
        order = top[np.argsort(-scores[top], kind="stable")]
        return [(self._ids[i], float(scores[i])) for i in order]


def searchable(store: StoredVectors, max_in_memory: int) -> NearestIds:
    """`store` itself, or an in-memory copy of its vectors when it holds at most `max_in_memory`."""
    if store.count() > max_in_memory:
        return store
    ids, vectors = store.vectors()
    return InMemoryIndex(ids, vectors)
