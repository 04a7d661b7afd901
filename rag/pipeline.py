"""The one place that wires settings to components: ingest and ask."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, replace
from functools import cached_property
from typing import TYPE_CHECKING

from rag.answer.about import ArticleKey, LeadFirst, article_leads
from rag.answer.extractive import AnswerPolicy, ExtractiveAnswerer
from rag.answer.generate import LlmAnswerer, final_answer
from rag.answer.llm import ChatBackend, make_chat_model
from rag.answer.verify import Verifier
from rag.config import RetrievalMode, Settings
from rag.errors import RagError
from rag.index.embed import RagEmbeddings, make_embedder
from rag.index.generations import Generation, Pointer, ProgressCallback, build_generation
from rag.index.lexical_cache import LexicalCache, LexicalData
from rag.index.nearest import NearestIds, searchable
from rag.index.store import ChromaStore, HnswParams, make_client
from rag.ingest.articles import ArticleIndex, age_warning
from rag.ingest.chunk import ChunkSizing, chunk_documents, sentence_units
from rag.ingest.documents import load_documents
from rag.logs import log_event, question_fields
from rag.pii import mask_identity_numbers
from rag.retrieve.followup import MAX_TURNS, standalone_query
from rag.retrieve.glossary import searched_text
from rag.retrieve.retrievers import (
    DenseRetriever,
    HybridRetriever,
    LexicalRetriever,
    Retriever,
)
from rag.types import (
    Answer,
    Article,
    AskEvent,
    Chunk,
    IngestReport,
    Passage,
    Searched,
    TextDelta,
    Turn,
)
from rag.validate import clean_question

if TYPE_CHECKING:
    from chromadb.api import ClientAPI


TRUNCATED_NOTICE = (
    "Frågan var lång: sökningen på betydelse läste bara dess början. Korta frågan om svaret "
    "inte träffar."
)


class Pipeline:
    """Ingest the seeds into the index, and answer questions from it."""

    def __init__(self, settings: Settings, embedder: RagEmbeddings | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._store: ChromaStore | None = None
        self._retriever: Retriever | None = None
        self._answerer: ExtractiveAnswerer | None = None
        self._generator: LlmAnswerer | None = None
        self._lexical_data: LexicalData | None = None  # read or built once per generation
        self._articles: ArticleIndex | None = None
        self._leads: dict[ArticleKey, Chunk] | None = None  # each article's opening chunk
        self._generation: Generation | None = None  # the index generation read from

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
                s.embedding_query_engine,
                s.model_cache_dir,
                s.embedding_passage_engine,
            )
        return self._embedder

    @cached_property
    def _pointer(self) -> Pointer:
        return Pointer(self.settings.data_dir, self.settings.collection)

    @cached_property
    def _client(self) -> ClientAPI:
        s = self.settings
        return make_client(s.chroma_path, s.chroma_host, s.chroma_port, s.chroma_timeout_s)

    def ingest(self, on_progress: ProgressCallback | None = None) -> IngestReport:
        """Build a new index generation from the seeds folder and switch readers to it.

        Also prepares the generation's lexical data for every reader (`rag.index.lexical_cache`,
        when `settings.lexical_cache` is on).
        Unchanged text keeps its vectors (only new text is embedded); a build that fails or
        is killed leaves the previous index answering (see `rag.index.generations`).
        """
        began = time.perf_counter()
        s = self.settings
        sources, documents, skipped = load_documents(s.seeds_dir, s.max_file_bytes)
        sizing = ChunkSizing(max_tokens=s.chunk_max_tokens, min_tokens=s.chunk_min_tokens)
        chunks = chunk_documents(sources, documents, self.embedder.count_tokens, sizing)
        units = sentence_units(chunks) if s.sentence_vectors else None
        built = build_generation(
            self._client,
            s.data_dir,
            s.collection,
            self.embedder,
            (chunks, units),
            s.embedding_batch_size,
            on_progress,
            HnswParams(s.hnsw_construction_ef, s.hnsw_search_ef, s.hnsw_m),
        )
        self._follow(built.generation)
        if self.settings.lexical_cache:  # readers starting after this load it, not build it
            _ = self._lexical
            self._lexical_files.keep_only(self.store.fingerprint())
        sentences = built.sentences
        report = IngestReport(
            files=len(sources),
            chunks=built.chunk_count,
            added=built.chunks.added,
            deleted=built.chunks.deleted,
            unchanged=built.chunks.unchanged,
            skipped_files=tuple(skipped),
            rebuilt=built.rebuilt,
            seconds=time.perf_counter() - began,
            sentences=built.sentence_count,
            sentences_added=sentences.added if sentences else 0,
        )
        log_event("ingest", generation=built.generation.number, **asdict(report))
        return report

    def _follow(self, live: Generation) -> None:
        """Read from generation `live` from now on, dropping what was read from another."""
        if live != self._generation:
            self._generation = live
            self._store, self._retriever, self._answerer, self._generator = None, None, None, None
            self._lexical_data, self._articles, self._leads = None, None, None

    def _follow_pointer(self) -> Generation:
        """Switch to the generation the index pointer names (after another process's ingest)."""
        self._follow(self._pointer.current())
        assert self._generation is not None
        return self._generation

    @property
    def store(self) -> ChromaStore:
        """The live index generation, opened for querying with the configured embedder."""
        live = self._follow_pointer()
        if self._store is None:
            self._store = ChromaStore.open(self._client, live.chunks, self.embedder.identity)
        return self._store

    def _sentence_store(self) -> ChromaStore | None:
        """The sentence units' index when enabled and built (an older index has none)."""
        if not self.settings.sentence_vectors:
            return None
        try:
            name = self._follow_pointer().sentences
            return ChromaStore.open(self._client, name, self.embedder.identity)
        except RagError:
            return None

    def _searchable(self, store: ChromaStore | None) -> NearestIds | None:
        """What answers `store`'s searches: an in-memory copy when small (rag.index.nearest)."""
        return None if store is None else searchable(store, self.settings.exact_search_max_vectors)

    def is_indexed(self) -> bool:
        """Whether an index built by the configured embedder holds any chunk."""
        try:
            return self.store.count() > 0
        except RagError:
            return False

    @property
    def _lexical(self) -> LexicalData:
        """Chunks, BM25, word weights and names of the live index, once per generation.

        Loaded from the lexical cache beside the index when it holds them
        (`rag.index.lexical_cache`); otherwise built from the store's chunks (and saved there).
        """
        store = self.store  # follows the pointer first: a new generation drops the old data
        if self._lexical_data is None:
            if self.settings.lexical_cache:
                self._lexical_data = self._lexical_files.get(store.fingerprint(), store.chunks)
            else:
                self._lexical_data = LexicalData.build(store.chunks())
        return self._lexical_data

    @property
    def _lexical_files(self) -> LexicalCache:
        return LexicalCache(self.settings.data_dir / "lexical" / self.settings.collection)

    @property
    def indexed_chunks(self) -> list[Chunk]:
        """Every chunk in the index, in file order (BM25 breaks ties the same way everywhere)."""
        return self._lexical.chunks

    @property
    def retriever(self) -> Retriever:
        """The retriever for the configured mode; the lexical index is built once per ingest."""
        self._follow_pointer()
        if self._retriever is None:
            self._retriever = self.retriever_for(self.settings.retrieval_mode)
        return self._retriever

    def retriever_for(self, mode: RetrievalMode) -> Retriever:
        """A new retriever of one mode: dense, lexical (BM25) or hybrid (both fused)."""
        retriever: Retriever
        if mode == "lexical":
            retriever = self._lexical_retriever()
        elif mode == "dense":
            retriever = self._dense_retriever()
        else:
            retriever = HybridRetriever(
                self._dense_retriever(), self._lexical_retriever(), parts=self.settings.search_parts
            )
        if self.settings.about_lead_first:
            retriever = LeadFirst(retriever, self._article_leads)
        return retriever

    @property
    def _article_leads(self) -> dict[ArticleKey, Chunk]:
        """Each indexed article's opening chunk, once per generation (answerer and retrievers)."""
        chunks = self.indexed_chunks  # follows the pointer first: a new generation drops them
        if self._leads is None:
            self._leads = article_leads(chunks)
        return self._leads

    def _lexical_retriever(self) -> LexicalRetriever:
        return self._lexical.bm25

    def _dense_retriever(self) -> DenseRetriever:
        """Chunks held in memory (read once anyway); small collections searched in memory."""
        return DenseRetriever(
            self.store,
            self.embedder,
            self._searchable(self._sentence_store()),
            {chunk.id: chunk for chunk in self.indexed_chunks},
            self._searchable(self.store),
        )

    @property
    def answerer(self) -> ExtractiveAnswerer:
        """The extractive answerer, with word weights from the indexed chunks."""
        if self._answerer is None:
            data = self._lexical
            policy = AnswerPolicy(min_score=self.settings.min_score)
            self._answerer = ExtractiveAnswerer(
                data.weights, policy, data.names, self._article_leads
            )
        return self._answerer

    @property
    def articles(self) -> ArticleIndex:
        """The indexed articles, read from the seeds folder on demand (until the next ingest)."""
        if self._articles is None:
            self._articles = ArticleIndex(self.settings.seeds_dir, self.indexed_chunks)
        return self._articles

    def article_at(self, source: str, offset: int) -> Article | None:
        """The indexed article of file `source` that holds char offset `offset`, if any."""
        return self.articles.article_at(source, offset)

    def warm_up(self) -> None:
        """Load the index, the lexical index, the word weights and the model before users ask."""
        _ = self.retriever, self.answerer
        self.embedder.encode(["uppvärmning"], query=True)

    def search(self, question: str, k: int | None = None) -> list[Passage]:
        """The k best passages for `question` (settings' top_k by default)."""
        return self.retriever.search(question, k or self.settings.top_k)

    @cached_property
    def chat(self) -> ChatBackend | None:
        """The configured chat model, or None when answers are extractive."""
        return make_chat_model(self.settings)

    @property
    def generator(self) -> LlmAnswerer | None:
        """The LLM answerer (verifying, with the extractive one as fallback), if an LLM is set."""
        if self.chat is not None and self._generator is None:
            verifier = Verifier(self.answerer.coverage, self.embedder)
            self._generator = LlmAnswerer(self.chat, verifier, self.answerer)
        return self._generator

    def answer_stream(
        self, question: str, passages: Sequence[Passage], searched: str = ""
    ) -> Iterator[TextDelta | Answer]:
        """Answer from retrieved passages: the LLM's deltas then its verified Answer, or quotes.

        `searched` is the standalone query of a follow-up; the quoting answerer matches it.
        """
        if self.generator is None:
            answer = self.answerer.answer(searched or question, passages)
            yield replace(answer, question=question)
        else:
            yield from self.generator.stream(question, passages, searched)

    def answer_from(self, question: str, passages: Sequence[Passage]) -> Answer:
        """Answer `question` from already retrieved passages, with the cited articles' dates."""
        return self._with_articles(final_answer(self.answer_stream(question, passages)))

    def _with_articles(self, answer: Answer) -> Answer:
        """`answer` with the articles it cites, their dates and the age warning."""
        articles = self.articles.cited(answer.citations)
        return replace(answer, articles=articles, age_warning=age_warning(articles))

    def ask_stream(
        self, question: str, history: Sequence[Turn] = (), top_k: int | None = None
    ) -> Iterator[AskEvent]:
        """Make the question standalone, retrieve, answer; stream events, the Answer last.

        Yields `Searched` (the query and passages), then `TextDelta`s while an LLM writes,
        then the final `Answer` with `searched_query` and timings. Identity numbers in the
        question or the history are masked first: nothing downstream ever sees them.

        Raises:
            QuestionError: the question is empty or longer than RAG_MAX_QUESTION_CHARS.

        """
        began = time.perf_counter()
        masked = mask_identity_numbers(clean_question(question, self.settings.max_question_chars))
        question = masked.text
        history = [
            replace(t, question=mask_identity_numbers(t.question).text)
            for t in history[-MAX_TURNS:]  # a follow-up leans on the last few turns only
        ]
        query, failure = standalone_query(question, history, self.chat)
        passages = self.search(query, top_k)
        yield Searched(query, tuple(passages))
        retrieved = time.perf_counter()
        searched = query if query != question else ""
        if failure is not None and self.generator is not None:  # the LLM is down: don't wait twice
            events: Iterator[TextDelta | Answer] = iter(
                [self.generator.quoted(question, passages, searched, str(failure))]
            )
        else:
            events = self.answer_stream(question, passages, searched)
        answer = None
        for event in events:
            if isinstance(event, Answer):
                answer = event
            else:
                yield event
        assert answer is not None  # answer_stream always ends with one
        done = time.perf_counter()
        timings = {
            "retrieve": (retrieved - began) * 1000,
            "answer": (done - retrieved) * 1000,
            "total": (done - began) * 1000,
        }
        timings_ms = {k: round(v, 2) for k, v in timings.items()}
        truncated = self._query_truncated(query)
        notices = (masked.notice, TRUNCATED_NOTICE if truncated else "", answer.notice)
        answer = replace(
            answer,
            searched_query=query,
            timings_ms=timings_ms,
            notice=" ".join(n for n in notices if n),
            query_truncated=truncated,
        )
        log_event(
            "ask",
            **question_fields(question, self.settings.log_questions),
            mode=answer.mode,
            abstained=answer.abstained,
            citations=len(answer.citations),
            passages=len(passages),
            masked=masked.count,
            timings_ms=timings_ms,
        )
        yield self._with_articles(answer)

    def _query_truncated(self, query: str) -> bool:
        """Whether the dense search read only the start of `query` (the model's window)."""
        if self.settings.retrieval_mode == "lexical" or len(query) < 500:
            return False
        return self.embedder.fit_query(searched_text(query)) != searched_text(query)

    def ask(self, question: str, top_k: int | None = None, history: Sequence[Turn] = ()) -> Answer:
        """Retrieve passages for `question` (after `history`) and answer from them, with timings."""
        return final_answer(self.ask_stream(question, history, top_k))
