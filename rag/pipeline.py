"""The one place that wires settings to components: ingest and ask."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import cached_property
from typing import TYPE_CHECKING

from rag.answer import AnswerPolicy, ExtractiveAnswerer
from rag.chunk import ChunkSizing, chunk_documents
from rag.config import Settings
from rag.embed import RagEmbeddings, make_embedder
from rag.errors import RagError
from rag.index import sync_index
from rag.ingest import load_documents
from rag.lexical import TermWeights, terms
from rag.retrieve import DenseRetriever, HybridRetriever, LexicalRetriever, Retriever
from rag.store import ChromaStore, HnswParams, make_client
from rag.types import Answer, Chunk, IngestReport, Passage

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

ProgressCallback = Callable[[int, int], None]


class Pipeline:
    """Ingest the seeds into the index, and answer questions from it."""

    def __init__(self, settings: Settings, embedder: RagEmbeddings | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._store: ChromaStore | None = None
        self._retriever: Retriever | None = None
        self._answerer: ExtractiveAnswerer | None = None
        self._chunks: list[Chunk] | None = None  # every indexed chunk, read once per ingest
        self._chunk_terms: list[list[str]] | None = None  # terms() of each chunk's embed_text

    @cached_property
    def embedder(self) -> RagEmbeddings:
        """The configured embedder, loaded on first use."""
        if self._embedder is None:
            s = self.settings
            self._embedder = make_embedder(
                s.embedding_backend,
                s.embedding_model,
                s.embedding_threads,
                s.query_cache_size,
                s.embedding_query_threads,
            )
        return self._embedder

    @cached_property
    def _client(self) -> ClientAPI:
        s = self.settings
        return make_client(s.chroma_path, s.chroma_host, s.chroma_port)

    def ingest(self, on_progress: ProgressCallback | None = None) -> IngestReport:
        """Bring the index in line with the seeds folder, embedding only new text."""
        began = time.perf_counter()
        s = self.settings
        sources, documents, skipped = load_documents(s.seeds_dir)
        sizing = ChunkSizing(max_tokens=s.chunk_max_tokens, min_tokens=s.chunk_min_tokens)
        chunks = chunk_documents(sources, documents, self.embedder.count_tokens, sizing)
        hnsw = HnswParams(s.hnsw_construction_ef, s.hnsw_search_ef, s.hnsw_m)
        store, rebuilt = ChromaStore.for_ingest(
            self._client, s.collection, self.embedder.identity, hnsw
        )
        result = sync_index(store, self.embedder, chunks, s.embedding_batch_size, on_progress)
        if result.added or result.deleted or rebuilt or self._store is None:
            # The lexical index and word weights are rebuilt on the next question.
            self._store, self._retriever, self._answerer = store, None, None
            self._chunks, self._chunk_terms = None, None
        return IngestReport(
            files=len(sources),
            chunks=store.count(),
            added=result.added,
            deleted=result.deleted,
            unchanged=result.unchanged,
            skipped_files=tuple(skipped),
            rebuilt=rebuilt,
            seconds=time.perf_counter() - began,
        )

    @property
    def store(self) -> ChromaStore:
        """The index, opened for querying with the configured embedder."""
        if self._store is None:
            s = self.settings
            self._store = ChromaStore.open(self._client, s.collection, self.embedder.identity)
        return self._store

    def is_indexed(self) -> bool:
        """Whether an index built by the configured embedder holds any chunk."""
        try:
            return self.store.count() > 0
        except RagError:
            return False

    @property
    def indexed_chunks(self) -> list[Chunk]:
        """Every chunk in the index, read from the store once (until the next ingest)."""
        if self._chunks is None:
            self._chunks = list(self.store.chunks())
        return self._chunks

    @property
    def _indexed_terms(self) -> list[list[str]]:
        """Stems of every indexed chunk, computed once for BM25 and the word weights alike."""
        if self._chunk_terms is None:
            self._chunk_terms = [terms(chunk.embed_text) for chunk in self.indexed_chunks]
        return self._chunk_terms

    @property
    def retriever(self) -> Retriever:
        """The retriever for the configured mode; the lexical index is built once per ingest."""
        if self._retriever is None:
            mode = self.settings.retrieval_mode
            dense = DenseRetriever(self.store, self.embedder)
            if mode == "dense":
                self._retriever = dense
            else:
                lexical = LexicalRetriever(self.indexed_chunks, self._indexed_terms)
                self._retriever = lexical if mode == "lexical" else HybridRetriever(dense, lexical)
        return self._retriever

    @property
    def answerer(self) -> ExtractiveAnswerer:
        """The extractive answerer, with word weights from the indexed chunks."""
        if self._answerer is None:
            weights = TermWeights(self._indexed_terms)
            policy = AnswerPolicy(min_score=self.settings.min_score)
            self._answerer = ExtractiveAnswerer(weights, policy)
        return self._answerer

    def warm_up(self) -> None:
        """Load the index, the lexical index, the word weights and the model before users ask."""
        _ = self.retriever, self.answerer
        self.embedder.encode(["uppvärmning"], query=True)

    def search(self, question: str, k: int | None = None) -> list[Passage]:
        """The k best passages for `question` (settings' top_k by default)."""
        return self.retriever.search(question, k or self.settings.top_k)

    def answer_from(self, question: str, passages: Sequence[Passage]) -> Answer:
        """Answer `question` from already retrieved passages."""
        return self.answerer.answer(question, passages)

    def ask(self, question: str, top_k: int | None = None) -> Answer:
        """Retrieve passages for `question` and answer from them, with timings."""
        began = time.perf_counter()
        passages = self.search(question, top_k)
        retrieved = time.perf_counter()
        answer = self.answer_from(question, passages)
        done = time.perf_counter()
        timings = {
            "retrieve": (retrieved - began) * 1000,
            "answer": (done - retrieved) * 1000,
            "total": (done - began) * 1000,
        }
        return replace(answer, timings_ms={k: round(v, 2) for k, v in timings.items()})
