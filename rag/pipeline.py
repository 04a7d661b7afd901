"""The one place that wires settings to components: ingest and ask."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, replace
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from rag.answer.about import ArticleKey, LeadFirst, article_leads
from rag.answer.features import SentenceIndex
from rag.answer.generate import LlmAnswerer, final_answer, relay
from rag.answer.llm import ChatBackend, make_chat_model
from rag.answer.pickled import positive_chance
from rag.answer.relevance import RELEVANCE_FILE, RelevanceCalibration
from rag.answer.selector import AnswerModel, LearnedAnswerer
from rag.answer.smalltalk import is_small_talk, small_talk_reply
from rag.answer.verify import Verifier
from rag.config import RetrievalMode, Settings
from rag.errors import LlmError, RagError
from rag.index.embed import RagEmbeddings, make_embedder
from rag.index.generations import Generation, Pointer, ProgressCallback, build_generation
from rag.index.lexical_cache import LexicalCache, LexicalData
from rag.index.nearest import NearestIds, searchable
from rag.index.store import ChromaStore, HnswParams, make_client
from rag.index.texts import TextStore
from rag.ingest.articles import ArticleIndex, age_warning
from rag.ingest.chunk import ChunkSizing, chunk_documents, sentence_units
from rag.ingest.documents import load_documents, seeds_lookup
from rag.logs import log_event, question_fields
from rag.pii import MASK, mask_identity_numbers
from rag.retrieve.carry import UNSURE_CARRY, CarryModel, carry_features
from rag.retrieve.followup import (
    MAX_TURNS,
    WordWeight,
    carried_query,
    last_query,
    missing_referent,
    standalone_query,
)
from rag.retrieve.glossary import searched_text
from rag.retrieve.lexical import looks_english, unshouted
from rag.retrieve.retrievers import DenseRetriever, HybridRetriever, Retriever
from rag.types import (
    Answer,
    Article,
    AskEvent,
    Chunk,
    DocumentInfo,
    IngestReport,
    Passage,
    Searched,
    SourceFile,
    TextDelta,
    Turn,
)
from rag.validate import clean_question

if TYPE_CHECKING:
    from chromadb.api import ClientAPI


NO_REFERENT_NOTICE = (
    "Frågan syftar med ”{word}” på något som inget tidigare i samtalet nämner: skriv vem "
    "eller vad du menar, eller ställ frågan efter den fråga den bygger på."
)
SWEDISH_SOURCES_NOTICE = "The sources are in Swedish: the answer quotes them as written."
TRUNCATED_NOTICE = (
    "Frågan var lång: sökningen på betydelse läste bara dess början. Korta frågan om svaret "
    "inte träffar."
)


class LiveIndex:
    """Everything read from one index generation, built on first use and dropped together.

    The pipeline swaps the whole object when the index pointer names another generation,
    so nothing of an older generation can be served with a newer one.
    """

    def __init__(self, pipeline: Pipeline, generation: Generation) -> None:
        self.generation = generation
        self._pipeline = pipeline
        self.settings = pipeline.settings

    @cached_property
    def store(self) -> ChromaStore:
        """The generation's chunks, opened for querying with the configured embedder."""
        p = self._pipeline
        return ChromaStore.open(p.client, self.generation.chunks, p.embedder.identity)

    @cached_property
    def sentence_store(self) -> ChromaStore | None:
        """The sentence units' index when enabled and built (an older index has none)."""
        if not self.settings.sentence_vectors:
            return None
        p = self._pipeline
        try:
            return ChromaStore.open(p.client, self.generation.sentences, p.embedder.identity)
        except RagError:
            return None

    def _searchable(self, store: ChromaStore | None) -> NearestIds | None:
        """What answers `store`'s searches: an in-memory copy when small (rag.index.nearest)."""
        return None if store is None else searchable(store, self.settings.exact_search_max_vectors)

    @cached_property
    def lexical(self) -> LexicalData:
        """Chunks, BM25, word weights and names: from the lexical cache, else built (and saved)."""
        store = self.store
        if self.settings.lexical_cache:
            return self._pipeline.lexical_files.get(store.fingerprint(), store.chunks)
        return LexicalData.build(store.chunks())

    @cached_property
    def leads(self) -> dict[ArticleKey, Chunk]:
        """Each indexed article's opening chunk."""
        return article_leads(self.lexical.chunks)

    @cached_property
    def retriever(self) -> Retriever:
        """The retriever of the configured mode."""
        return self.retriever_for(self.settings.retrieval_mode)

    def retriever_for(self, mode: RetrievalMode) -> Retriever:
        """A new retriever of one mode: dense, lexical (BM25) or hybrid (both fused)."""
        retriever: Retriever
        if mode == "lexical":
            retriever = self.lexical.bm25
        elif mode == "dense":
            retriever = self._dense_retriever()
        else:
            retriever = HybridRetriever(
                self._dense_retriever(), self.lexical.bm25, parts=self.settings.search_parts
            )
        if self.settings.about_lead_first:
            retriever = LeadFirst(retriever, self.leads)
        return retriever

    def _dense_retriever(self) -> DenseRetriever:
        """Chunks held in memory (read once anyway); small collections searched in memory."""
        return DenseRetriever(
            self.store,
            self._pipeline.embedder,
            self._searchable(self.sentence_store),
            {chunk.id: chunk for chunk in self.lexical.chunks},
            self._searchable(self.store),
        )

    @cached_property
    def sentence_index(self) -> SentenceIndex:
        """The articles' sentences with their roles and e5 vectors, for the answer model."""
        chunk_ids, chunk_matrix = self.store.vectors()
        sentence_vectors: dict[tuple[str, int, int], np.ndarray] = {}
        if self.sentence_store is not None:
            ids, matrix = self.sentence_store.vectors()
            for unit, vector in zip(self.sentence_store.get(ids), matrix, strict=True):
                sentence_vectors[(unit.source, unit.start, unit.end)] = vector
        return SentenceIndex(
            self.lexical.chunks,
            sentence_vectors,
            dict(zip(chunk_ids, chunk_matrix, strict=True)),
            self.lexical.weights,
        )

    @cached_property
    def answerer(self) -> LearnedAnswerer:
        """The extractive answerer: the trained answer model over this generation's sentences."""
        return LearnedAnswerer(
            self.sentence_index, self._pipeline.answer_model, self._pipeline.question_vector
        )

    @cached_property
    def articles(self) -> ArticleIndex:
        """The indexed articles, from the texts stored with this generation."""
        s = self.settings
        stored = TextStore(s.data_dir, s.collection).lookup(self.generation.chunks)
        # an index from before texts were stored reads the seeds folder
        source_of = stored or seeds_lookup(s.seeds_dir, s.max_file_bytes)
        return ArticleIndex(source_of, self.lexical.chunks)

    @cached_property
    def verifier(self) -> Verifier:
        """The check of an LLM answer's sentences against the passages they cite."""
        index = self.sentence_index
        return Verifier(
            self.answerer.coverage,
            self._pipeline.embedder,
            known=index.weights.known,
            stored=index.sentence_vectors,
            article=lambda chunk: [s.text for s in index.article((chunk.source, chunk.title))],
        )

    @cached_property
    def generator(self) -> LlmAnswerer | None:
        """The LLM answerer (verifying, with the extractive one as fallback), if an LLM is set."""
        chat = self._pipeline.chat
        if chat is None:
            return None
        return LlmAnswerer(chat, self.verifier, self.answerer)


class Pipeline:
    """Ingest the seeds into the index, and answer questions from it."""

    def __init__(self, settings: Settings, embedder: RagEmbeddings | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._live: LiveIndex | None = None

    @cached_property
    def embedder(self) -> RagEmbeddings:
        """The configured embedder, loaded on first use."""
        if self._embedder is not None:
            return self._embedder
        return make_embedder(self.settings)

    @cached_property
    def answer_model(self) -> AnswerModel:
        """The trained answer model (`rag train` rebuilds it)."""
        return AnswerModel.load(self.settings.answer_model)

    @cached_property
    def relevance(self) -> RelevanceCalibration | None:
        """How often a passage at a given e5 cosine holds the answer (written by `rag train`)."""
        return RelevanceCalibration.load(self.settings.answer_model.parent / RELEVANCE_FILE)

    def passage_chance(self, passage: Passage) -> float | None:
        """The chance that `passage` holds the answer; None when it cannot be told."""
        return self.relevance.chance(passage.dense_score) if self.relevance else None

    @cached_property
    def _pointer(self) -> Pointer:
        return Pointer(self.settings.data_dir, self.settings.collection)

    @cached_property
    def client(self) -> ClientAPI:
        """The Chroma client (embedded, or the configured server)."""
        s = self.settings
        return make_client(s.chroma_path, s.chroma_host, s.chroma_port, s.chroma_timeout_s)

    @property
    def live(self) -> LiveIndex:
        """What is read from the generation the index pointer names, swapped when it moves."""
        current = self._pointer.current()
        live = self._live
        if live is None or live.generation != current:
            live = self._live = LiveIndex(self, current)
        return live

    @property
    def lexical_files(self) -> LexicalCache:
        """The lexical cache folder of this collection."""
        return LexicalCache(self.settings.data_dir / "lexical" / self.settings.collection)

    def ingest(
        self,
        on_progress: ProgressCallback | None = None,
        on_reading: ProgressCallback | None = None,
    ) -> IngestReport:
        """Build a new index generation from the seeds folder and switch readers to it.

        Also prepares the generation's lexical data for every reader (`rag.index.lexical_cache`,
        when `settings.lexical_cache` is on).
        Unchanged text keeps its vectors (only new text is embedded); a build that fails or
        is killed leaves the previous index answering (see `rag.index.generations`).
        """
        began = time.perf_counter()
        s = self.settings
        corpus, documents = load_documents(s.seeds_dir, s.max_file_bytes, on_reading)
        sources = corpus.sources
        sizing = ChunkSizing(max_tokens=s.chunk_max_tokens, min_tokens=s.chunk_min_tokens)
        chunks = chunk_documents(sources, documents, self.embedder.count_tokens, sizing)
        units = sentence_units(chunks) if s.sentence_vectors else None
        built = build_generation(
            self.client,
            s.data_dir,
            s.collection,
            self.embedder,
            (chunks, units),
            s.embedding_batch_size,
            on_progress,
            HnswParams(s.hnsw_construction_ef, s.hnsw_search_ef, s.hnsw_m),
            sources,
        )
        live = self.live
        if self.settings.lexical_cache:  # readers starting after this load it, not build it
            _ = live.lexical
            self.lexical_files.keep_only(live.store.fingerprint())
        sentences = built.sentences
        report = IngestReport(
            files=len(sources),
            chunks=built.chunk_count,
            added=built.chunks.added,
            deleted=built.chunks.deleted,
            unchanged=built.chunks.unchanged,
            skipped_files=tuple(corpus.skipped),
            rebuilt=built.rebuilt,
            seconds=time.perf_counter() - began,
            sentences=built.sentence_count,
            sentences_added=sentences.added if sentences else 0,
            notes=tuple(corpus.notes),
        )
        log_event("ingest", generation=built.generation.number, **asdict(report))
        return report

    @property
    def store(self) -> ChromaStore:
        """The live index generation, opened for querying with the configured embedder."""
        return self.live.store

    def is_indexed(self) -> bool:
        """Whether an index built by the configured embedder holds any chunk."""
        try:
            return self.store.count() > 0
        except RagError:
            return False

    @property
    def indexed_chunks(self) -> list[Chunk]:
        """Every chunk in the index, in file order (BM25 breaks ties the same way everywhere)."""
        return self.live.lexical.chunks

    @property
    def retriever(self) -> Retriever:
        """The retriever for the configured mode; the lexical index is built once per ingest."""
        return self.live.retriever

    def retriever_for(self, mode: RetrievalMode) -> Retriever:
        """A new retriever of one mode: dense, lexical (BM25) or hybrid (both fused)."""
        return self.live.retriever_for(mode)

    @property
    def sentence_index(self) -> SentenceIndex:
        """The live generation's sentences, roles and vectors."""
        return self.live.sentence_index

    @property
    def answerer(self) -> LearnedAnswerer:
        """The extractive answerer of the live generation."""
        return self.live.answerer

    @property
    def articles(self) -> ArticleIndex:
        """The indexed articles, read from the seeds folder on demand (until the next ingest)."""
        return self.live.articles

    def source_file(self, name: str) -> SourceFile | None:
        """The indexed file `name` with its text as indexed (None when unknown or changed)."""
        return self.articles.source(name)

    def documents(self) -> list[DocumentInfo]:
        """The indexed files with their title, kind, date, pages, chunks and indexing time."""
        live = self.live
        stored = TextStore(self.settings.data_dir, self.settings.collection)
        entries = stored.entries(live.generation.chunks) or {}
        return live.articles.documents({name: when for name, (_, when) in entries.items()})

    def original_pdf(self, sha256: str) -> bytes | None:
        """The indexed PDF with content hash `sha256`, as the seeds folder holds it now."""
        return self.articles.original_pdf(sha256, self.settings.seeds_dir)

    def article_at(self, source: str, offset: int) -> Article | None:
        """The indexed article of file `source` that holds char offset `offset`, if any."""
        return self.articles.article_at(source, offset)

    def question_vector(self, question: str) -> np.ndarray | None:
        """The question's e5 vector as the dense leg embeds it (cached); None in lexical mode."""
        if self.settings.retrieval_mode == "lexical":
            return None
        return self.embedder.encode_query(searched_text(question))

    def restore_typed(self, question: str) -> str:
        """`question` as meant: lowercase if typed in capitals, å, ä, ö and spelling put right.

        `unshouted` reads "VAD ÄR HUSET?" as "vad är huset?"; `rag.retrieve.accents` reads
        "manga" as "många"; `rag.retrieve.spelling` reads "hembtsök" as the articles'
        "hembesök".
        """
        lexical = self.live.lexical
        return lexical.spelling.correct(lexical.accents.restore(unshouted(question)))

    def warm_up(self) -> None:
        """Load the index, the lexical index, the word weights and the models before users ask."""
        _ = self.retriever, self.answerer, self.carry_model
        self.embedder.encode(["uppvärmning"], query=True)
        selector = self.answerer.model.selector  # compiles the tree walk (or reads numba's cache)
        positive_chance(selector, np.zeros((1, selector.n_features_in_)))

    def search(self, question: str, k: int | None = None) -> list[Passage]:
        """The k best passages for `question` (settings' top_k by default)."""
        return self.retriever.search(question, k or self.settings.top_k)

    @cached_property
    def chat(self) -> ChatBackend | None:
        """The configured chat model, or None when answers are extractive."""
        return make_chat_model(self.settings)

    @property
    def verifier(self) -> Verifier:
        """The citation check of LLM answers, over this generation's word weights."""
        return self.live.verifier

    @property
    def generator(self) -> LlmAnswerer | None:
        """The LLM answerer (verifying, with the extractive one as fallback), if an LLM is set."""
        return self.live.generator

    def answer_stream(
        self, question: str, passages: Sequence[Passage], searched: str = "", said: str = ""
    ) -> Iterator[TextDelta | Answer]:
        """Answer from retrieved passages: the LLM's deltas then its verified Answer, or quotes.

        `searched` is the standalone query of a follow-up; the quoting answerer matches it
        and, asked for more, does not repeat what the last answer `said`.
        """
        if self.generator is None:
            answer = self.answerer.answer(question, passages, searched, said)
            yield replace(answer, question=question)
        else:
            yield from self.generator.stream(question, passages, searched)

    def answer_from(
        self, question: str, passages: Sequence[Passage], searched: str = "", said: str = ""
    ) -> Answer:
        """Answer `question` from already retrieved passages, with the cited articles' dates.

        `searched` is the query the passages were found with; equal to the question (or
        empty) when it was not a follow-up. `said` is the conversation's last answer.
        """
        answer = final_answer(self.answer_stream(question, passages, searched, said))
        return self._with_articles(replace(answer, searched_query=searched or question))

    def retrieve(
        self,
        question: str,
        history: Sequence[Turn] = (),
        k: int | None = None,
        weigh_answers: bool = True,
    ) -> tuple[str, list[Passage], LlmError | None]:
        """The standalone query of `question` after `history` and its k best passages.

        Third comes the LLM's failure when its rewrite fell back to the rule. Without
        `weigh_answers` a follow-up's reading is chosen by the follow-up model alone (as
        training reads it, which must not depend on the answer model it builds).
        """
        history = history[-MAX_TURNS:]
        weight = self.live.lexical.weights.rarity
        query, failure = standalone_query(question, history, self.chat, weight)
        by_rule = self.chat is None or failure is not None
        if history and by_rule and self.settings.retrieval_mode == "hybrid":
            return (*self._follow_up(question, history, weight, k, weigh_answers), failure)
        return query, self.search(query, k), failure

    def _follow_up(
        self,
        question: str,
        history: Sequence[Turn],
        weight: WordWeight,
        k: int | None,
        weigh_answers: bool,
    ) -> tuple[str, list[Passage]]:
        """A follow-up searched alone or with the conversation's words, as the models pick.

        Both readings are searched, and the last turn's query (its passages are cached);
        `rag.retrieve.carry` decides from the words and what each reading finds. A
        follow-up it is unsure to read alone is still carried when the answer model finds
        an answer likelier with the conversation's words ("since what year has he been
        saying that?" alone finds nothing).
        """
        carried = carried_query(question, history, weight)
        alone = self.search(question, k)
        if carried == question:
            return question, alone
        with_context = self.search(carried, k)
        last = self.search(last_query(history, weight), k)
        features = carry_features(question, history, weight, alone, with_context, last)
        chance = self.carry_model.chance(features)
        if chance >= self.carry_model.threshold:
            return carried, with_context
        if weigh_answers and chance >= UNSURE_CARRY:
            top = self.settings.top_k
            answers = self.answerer.answerable
            if answers(question, with_context[:top], carried) > answers(question, alone[:top]):
                return carried, with_context
        return question, alone

    @cached_property
    def carry_model(self) -> CarryModel:
        """The learned choice between a follow-up's two readings (`rag train --only carry`)."""
        return CarryModel.load()

    def _with_articles(self, answer: Answer) -> Answer:
        """`answer` with its citations' pages, the cited articles, their dates, the age warning."""
        index = self.articles
        citations = tuple(
            replace(c, page=index.page_at(c.passage.chunk.source, c.start))
            for c in answer.citations
        )
        articles = index.cited(citations)
        return replace(
            answer, citations=citations, articles=articles, age_warning=age_warning(articles)
        )

    def ask_stream(
        self, question: str, history: Sequence[Turn] = (), top_k: int | None = None
    ) -> Iterator[AskEvent]:
        """Make the question standalone, retrieve, answer; stream events, the Answer last.

        Yields `Searched` (the query and passages), then `TextDelta`s while an LLM writes,
        then the final `Answer` with `searched_query` and timings. Identity numbers in the
        question or the history are masked first: nothing downstream ever sees them. A
        Swedish question typed without å, ä, ö is read with them, a misspelt word as the
        articles' word it most likely means (`restore_typed`).

        Raises:
            QuestionError: the question is empty or longer than RAG_MAX_QUESTION_CHARS.

        """
        began = time.perf_counter()
        masked = mask_identity_numbers(clean_question(question, self.settings.max_question_chars))
        question = self.restore_typed(masked.text)
        articles = self.articles.every_article
        reply = small_talk_reply(masked.text, articles) or small_talk_reply(question, articles)
        if reply is not None:  # a greeting, thanks, "which articles are there?": no search
            yield Searched(question, ())
            timings_ms = {"total": round((time.perf_counter() - began) * 1000, 2)}
            fields = question_fields(question, self.settings.log_questions)
            log_event(
                "ask", **fields, mode="small_talk", masked=masked.count, timings_ms=timings_ms
            )
            yield Answer(question, reply, False, (), (), timings_ms, searched_query=question)
            return
        # "ok tack" between questions carries nothing; a follow-up leans on the last few turns
        asking = [t for t in history if not is_small_talk(t.question)][-MAX_TURNS:]
        history = [
            replace(
                t,
                question=self.restore_typed(mask_identity_numbers(t.question).text),
                searched=self.restore_typed(mask_identity_numbers(t.searched).text),
            )
            for t in asking
        ]
        # The mask is our insertion, not the user's words: it is not searched for.
        asked = " ".join(question.replace(MASK, " ").split()) or question
        query, passages, failure = self.retrieve(asked, history, top_k)
        yield Searched(query, tuple(passages))
        retrieved = time.perf_counter()
        searched = query if query != question else ""  # a follow-up made standalone, or unmasked
        if failure is not None and self.generator is not None:  # the LLM is down: don't wait twice
            events: Iterator[TextDelta | Answer] = iter(
                [self.generator.quoted(question, passages, searched, str(failure))]
            )
        else:
            said = history[-1].answer if history else ""
            events = self.answer_stream(question, passages, searched, said)
        answer = yield from relay(events)
        done = time.perf_counter()
        timings = {
            "retrieve": (retrieved - began) * 1000,
            "answer": (done - retrieved) * 1000,
            "total": (done - began) * 1000,
        }
        timings_ms = {k: round(v, 2) for k, v in timings.items()}
        truncated = self._query_truncated(query)
        referent = "" if history else missing_referent(question)
        quoted_swedish = (
            answer.mode == "extractive" and answer.citations and looks_english(question)
        )
        notices = (
            masked.notice,
            NO_REFERENT_NOTICE.format(word=referent) if referent else "",
            SWEDISH_SOURCES_NOTICE if quoted_swedish else "",
            TRUNCATED_NOTICE if truncated else "",
            answer.notice,
        )
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
        searched = searched_text(query)
        return self.embedder.fit_query(searched) != searched

    def ask(self, question: str, top_k: int | None = None, history: Sequence[Turn] = ()) -> Answer:
        """Retrieve passages for `question` (after `history`) and answer from them, with timings."""
        return final_answer(self.ask_stream(question, history, top_k))

    def conversation(self, questions: Sequence[str]) -> list[Turn]:
        """The turns a chat holds after asking `questions` in order, as the chat answers them."""
        turns: list[Turn] = []
        for question in questions:
            turns.append(Turn.of(self.ask(question, history=turns)))
        return turns
