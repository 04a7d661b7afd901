"""The one place that wires settings to components: ingest and ask."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cached_property

from rag.answer import AnswerPolicy, ExtractiveAnswerer
from rag.chunk import ChunkSizing, chunk_documents
from rag.config import Settings
from rag.embed import RagEmbeddings, make_embedder
from rag.errors import RagError
from rag.index import sync_index
from rag.ingest import load_documents
from rag.lexical import TermWeights
from rag.retrieve import DenseRetriever
from rag.store import ChromaStore, make_client
from rag.types import Answer, IngestReport

ProgressCallback = Callable[[int, int], None]


class Pipeline:
    """Ingest the seeds into the index, and answer questions from it."""

    def __init__(self, settings: Settings, embedder: RagEmbeddings | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._store: ChromaStore | None = None
        self._answerer: ExtractiveAnswerer | None = None

    @cached_property
    def embedder(self) -> RagEmbeddings:
        """The configured embedder, loaded on first use."""
        if self._embedder is None:
            s = self.settings
            self._embedder = make_embedder(
                s.embedding_backend, s.embedding_model, s.embedding_threads
            )
        return self._embedder

    @cached_property
    def _client(self):  # type: ignore[no-untyped-def]  # chromadb's ClientAPI
        s = self.settings
        return make_client(s.chroma_path, s.chroma_host, s.chroma_port)

    def ingest(self, on_progress: ProgressCallback | None = None) -> IngestReport:
        """Bring the index in line with the seeds folder, embedding only new text."""
        began = time.perf_counter()
        s = self.settings
        sources, documents, skipped = load_documents(s.seeds_dir)
        sizing = ChunkSizing(max_tokens=s.chunk_max_tokens, min_tokens=s.chunk_min_tokens)
        chunks = chunk_documents(sources, documents, self.embedder.count_tokens, sizing)
        store, rebuilt = ChromaStore.for_ingest(self._client, s.collection, self.embedder.identity)
        result = sync_index(store, self.embedder, chunks, s.embedding_batch_size, on_progress)
        self._store, self._answerer = store, None
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
    def answerer(self) -> ExtractiveAnswerer:
        """The extractive answerer, with word weights from the indexed chunks."""
        if self._answerer is None:
            weights = TermWeights(chunk.embed_text for chunk in self.store.chunks())
            policy = AnswerPolicy(min_score=self.settings.min_score)
            self._answerer = ExtractiveAnswerer(weights, policy)
        return self._answerer

    def ask(self, question: str, top_k: int | None = None) -> Answer:
        """Retrieve passages for `question` and answer from them, with timings."""
        timings: dict[str, float] = {}
        began = time.perf_counter()
        retriever = DenseRetriever(self.store, self.embedder)
        answerer = self.answerer
        mark = time.perf_counter()
        passages = retriever.search(question, top_k or self.settings.top_k)
        timings["retrieve"] = (time.perf_counter() - mark) * 1000
        mark = time.perf_counter()
        answer = answerer.answer(question, passages)
        timings["answer"] = (time.perf_counter() - mark) * 1000
        timings["total"] = (time.perf_counter() - began) * 1000
        return Answer(
            question=answer.question,
            text=answer.text,
            abstained=answer.abstained,
            citations=answer.citations,
            passages=answer.passages,
            timings_ms={k: round(v, 2) for k, v in timings.items()},
        )
