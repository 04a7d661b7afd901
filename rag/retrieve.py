"""Retrieve stage: question -> ranked Passages."""

from __future__ import annotations

from rag.embed import RagEmbeddings
from rag.store import VectorStore
from rag.types import Passage


class DenseRetriever:
    """Nearest chunks by cosine similarity of e5 query and passage embeddings."""

    def __init__(self, store: VectorStore, embedder: RagEmbeddings) -> None:
        self._store = store
        self._embedder = embedder

    def search(self, question: str, k: int) -> list[Passage]:
        """The k best passages for `question`, best first."""
        vector = self._embedder.encode_query(question)
        hits = self._store.search(vector, k)
        return [
            Passage(chunk=chunk, rank=rank, score=score)
            for rank, (chunk, score) in enumerate(hits, start=1)
        ]
