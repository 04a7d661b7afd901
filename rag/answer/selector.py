"""Learned extractive answers: a trained model picks the sentences to quote, or abstains.

Every sentence of the retrieved passages is a candidate (`rag.answer.features`).
Gradient-boosted classifiers (scikit-learn's HistGradientBoostingClassifier: no new
dependency, handles missing features natively, deterministic; the mean of three) give
each the probability that it holds the answer; four of their features say how the
training questions closest to the question were answered (`QuestionMemory`), for the
articles the model was trained on. A second, smaller one gives the probability that the
question is answered by the passages at all, from the best candidates' probabilities and
the retrieval evidence (is the asked kind of value there, are the question's rare words
and names there); below the threshold chosen by cross-validation the answer abstains. A
question that asks two things at once (`rag.retrieve.parts`) is also read per part: each
sentence's probability is the mean of the whole question's and the parts' mean, so the
second part's sentence is not outranked by sentences that hold only the first. Otherwise
the answer quotes the best sentences (at most 3; for a summary or list question as many
as cross-validation picks), each with the sentence after it while both fit
`window_chars` (and the one before when it opens with a pronoun), grown to the
neighbouring sentences the selector also rates (`grow_relative` of the best) while the
quote fits `grow_chars`, in source order per article, each cited. A summary or list
question's quote takes its whole paragraph (a point as its author made it, a speaker's
whole turn) while that fits `paragraph_chars`.

Bylines, captions and signatures are quoted only when the question asks who wrote,
filmed or photographed, who took part, or how to get in touch.

Train with `rag train` (see `rag.answer.train`); the model card is
`rag/answer/model/MODEL_CARD.md`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from rag.answer.about import ABOUT
from rag.answer.features import (
    FEATURE_COLUMN,
    FEATURES,
    ArticleKey,
    Candidate,
    QuestionView,
    Sentence,
    SentenceIndex,
    asks_credits,
    candidate_features,
    opens_with_pronoun,
    view_question,
    weighted_coverage,
)
from rag.answer.pickled import load_model, positive_chance, save_model
from rag.answer.roles import CREDIT_ROLES
from rag.config import DEFAULT_ANSWER_MODEL
from rag.errors import RagError
from rag.retrieve.followup import asks_for_more
from rag.retrieve.parts import question_parts
from rag.types import Answer, Citation, Passage

MODEL_FORMAT = 1
NO_ANSWER = (
    "Jag hittar inget i källorna som besvarar frågan. Formulera gärna om frågan, "
    "eller fråga om något som artiklarna tar upp."
)
# Below this chance for its best sentence an answer is shown with UNSURE_NOTICE: out of
# fold, fewer than half of such answers held the key facts (a quarter for questions on the
# training articles, 42 % for new articles), against 80 % and 65 % above it.
UNSURE_BELOW = 0.10
UNSURE_NOTICE = (
    "Osäkert svar: inget stycke i källorna verkar besvara frågan tydligt. Citaten nedan är "
    "det närmaste som hittades; läs dem innan du använder svaret."
)
UNSURE_NOTICE_EN = (
    "Uncertain answer: no passage of the sources seems to answer the question clearly. The "
    "quotes below are the closest found; read them before you rely on the answer."
)
# The abstainer's features, each with its monotone direction: +1 where more evidence can
# only make an answer more likely (so a question far from the training data, with weak
# evidence everywhere, is not answered by extrapolation), 0 where no direction holds.
ITEM_FEATURE_DIRECTIONS: dict[str, int] = {
    "p1": 1,
    "p2": 0,
    "p_top3": 1,
    "dense_best": 1,
    "cos_best": 1,
    "cov_best": 1,
    "rare_best": 1,
    "cov_paragraph_top": 1,
    "asks_value": 0,
    "holds_top": 1,
    "english": 0,
    "q_terms": 0,
    "cov_chunk_best": 1,
    "names_top": 1,
    # the best candidate probability among the sentences holding the asked kind of value
    # (1 when none is asked), and among those naming a person for a who-question: a near
    # miss's best sentence often holds another kind of value than the one asked for
    "p_holds": 1,
    "p_who": 1,
    # the training questions closest in meaning (QuestionMemory): their weighted vote, the
    # closest one's similarity, the closest unanswerable and the closest answerable one's
    "memory_vote": 0,
    "memory_nearest": 0,
    "memory_unanswerable": 0,
    "memory_answerable": 0,
    # the same, the questions compared by their vectors blended with the user's own words
    # (QuestionView.asked_vector): a follow-up's standalone query leads with the
    # conversation's words, its own words say what is asked ("vad heter personen?")
    "asked_vote": 0,
    "asked_nearest": 0,
    "asked_unanswerable": 0,
    "asked_answerable": 0,
}
ITEM_FEATURES = tuple(ITEM_FEATURE_DIRECTIONS)
MEMORY_NEIGHBOURS = 10  # training questions a question's memory vote reads
MEMORY_SHARPNESS = 20.0  # vote weight exp(sharpness * (similarity - the closest one's))
# The selector's memory features of a sentence, from the training questions closest to the
# question (QuestionMemory.sentence_features): their weighted vote for the sentence (it
# overlaps their gold quote), the closest such question's similarity, and the same two for
# the sentence's article (their gold quote is in it). NaN for an article the memory was
# not learned on, so a new article's sentences are judged on their own features.
MEMORY_FEATURES = (
    "memory_gold_vote",
    "memory_gold_nearest",
    "memory_article_nearest",
    "memory_article_vote",
)
SELECTOR_FEATURES = (*FEATURES, *MEMORY_FEATURES)
LABEL_OVERLAP = 0.5  # a sentence answers when this share of it (or of the quote) is gold
Span = tuple[str, int, int]  # (source, start, end) of a gold quote


class AnswerModelError(RagError):
    """The answer model file is missing, damaged or made for other code."""


@dataclass(frozen=True)
class Composition:
    """How the selector's probabilities become an answer (chosen by cross-validation)."""

    answerable_threshold: float = 0.5  # abstain below this probability of an answer
    relative: float = 0.5  # further quotes need this share of the best sentence's probability
    floor: float = 0.1  # and at least this probability
    max_quotes: int = 3
    broad_quotes: int = 3  # a summary or list question ("Sammanfatta …", "Vilka …") quotes up to
    broad_relative: float = 0.5  # this many, each with this share of the best probability
    window_chars: int = 400  # a quote takes the following sentence while both fit
    grow_relative: float = 0.1  # and neighbours with this share of the best probability
    grow_chars: int = 600  # while the quote fits this
    lead_chars: int = 400  # "Vad handlar … om?" opens with the article's lead, this long
    paragraph_chars: int = 0  # a summary or list question's quote takes its whole paragraph
    # while the paragraph fits this (0: never)


def article_digest(index: SentenceIndex, article: tuple[str, str]) -> str:
    """A digest of an indexed article's sentences (empty when the index lacks it)."""
    sentences = index.article(article)
    text = "\n".join(s.text for s in sentences)
    return hashlib.sha256(text.encode()).hexdigest()[:16] if sentences else ""


@dataclass(frozen=True)
class QuestionMemory:
    """The training questions' e5 vectors and whether the corpus answers them.

    Users writing from the same articles ask much what the training writers asked: a
    question close to known near misses is likely one too (docs/decisions.md).
    """

    vectors: np.ndarray  # (questions, dim) float16, unit rows
    answerable: np.ndarray  # (questions,) bool
    # the articles it was learned on: (source, title) -> digest of their sentences' text;
    # a question answered from any other (new or changed) text reads no memory
    articles: dict[ArticleKey, str] = field(default_factory=dict)
    # each question's gold quotes and the article holding them (none when unanswerable)
    gold: tuple[tuple[Span, ...], ...] = ()
    gold_articles: tuple[ArticleKey | None, ...] = ()
    # each question's vector blended with its own words' (QuestionView.asked_vector), float16
    asked: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float16))

    @classmethod
    def empty(cls) -> QuestionMemory:
        """A memory of no questions: its features are NaN."""
        return cls(np.zeros((0, 0), np.float16), np.zeros(0, bool))

    def knows(self, index: SentenceIndex, article: tuple[str, str]) -> bool:
        """Whether `article` is one the memory was learned on, with the same text."""
        return self.articles.get(article) == article_digest(index, article)

    @cached_property
    def _rows(self) -> np.ndarray:
        """The vectors in float32, converted once (a float16 product is slow)."""
        return self.vectors.astype(np.float32)

    @cached_property
    def _asked_rows(self) -> np.ndarray:
        """The blended vectors in float32."""
        return self.asked.astype(np.float32)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the float16 vectors only, and of the blended ones those that differ."""
        differ = (
            np.flatnonzero((self.asked != self.vectors).any(axis=1))
            if self.asked.shape == self.vectors.shape
            else np.arange(len(self.asked))
        )
        return {
            "vectors": self.vectors,
            "answerable": self.answerable,
            "articles": self.articles,
            "gold": self.gold,
            "gold_articles": self.gold_articles,
            "asked": (differ, self.asked[differ], self.asked.shape),
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Rebuild the blended vectors: a question's own where they do not differ."""
        rows, differing, shape = state.pop("asked")
        vectors = state["vectors"]
        asked = vectors.copy() if tuple(shape) == vectors.shape else np.zeros(shape, np.float16)
        asked[rows] = differing
        self.__dict__.update(state, asked=asked)

    def _nearest(
        self, vector: np.ndarray, allowed: np.ndarray | None, asked: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The closest questions (allowed rows only), their similarities and vote weights.

        `asked` compares the blended vectors (`asked`) instead of the questions' own.
        """
        rows = self._asked_rows if asked else self._rows
        similarity = rows @ np.asarray(vector, dtype=np.float32)
        if allowed is not None:
            similarity = np.where(allowed, similarity, -1.0)
        nearest = np.argsort(-similarity, kind="stable")
        if allowed is not None:
            nearest = nearest[allowed[nearest]]
        nearest = nearest[:MEMORY_NEIGHBOURS]
        closest = similarity[nearest[0]] if len(nearest) else 0.0
        weights = np.exp(MEMORY_SHARPNESS * (similarity[nearest] - closest))
        return nearest, similarity, weights

    def features(
        self, vector: np.ndarray | None, allowed: np.ndarray | None = None, asked: bool = False
    ) -> np.ndarray:
        """The memory features of a question (NaN without a vector); `allowed` masks rows.

        `asked`: `vector` is a blended one (QuestionView.asked_vector), compared with the
        training questions' blended vectors.
        """
        if vector is None or not len(self.answerable) or (asked and not len(self.asked)):
            return np.full(4, np.nan, dtype=np.float32)
        nearest, similarity, weights = self._nearest(vector, allowed, asked)
        if not len(nearest):
            return np.full(4, np.nan, dtype=np.float32)
        vote = float(weights @ self.answerable[nearest]) / float(weights.sum())
        unanswerable = np.where(~self.answerable, similarity, -1.0).max()
        answerable = np.where(self.answerable, similarity, -1.0).max()
        return np.asarray(
            [vote, similarity[nearest[0]], unanswerable, answerable], dtype=np.float32
        )

    def item_features(
        self, question: QuestionView, read: bool = True, allowed: np.ndarray | None = None
    ) -> np.ndarray:
        """The abstainer's memory features: by the question's vector, then by its blended one.

        `read` False gives NaN (an article the memory was not learned on).
        """
        return np.concatenate(
            [
                self.features(question.vector if read else None, allowed),
                self.features(question.asked_vector if read else None, allowed, asked=True),
            ]
        )

    def sentence_features(
        self,
        vector: np.ndarray | None,
        candidates: Sequence[Candidate],
        known: Callable[[ArticleKey], bool],
        allowed: np.ndarray | None = None,
    ) -> np.ndarray:
        """The candidates' MEMORY_FEATURES: how the closest training questions were answered.

        `known` says whether the memory may speak for an article (learned on its text);
        its sentences get NaN otherwise. `allowed` masks rows, as in `features`.
        """
        found = np.full((len(candidates), len(MEMORY_FEATURES)), np.nan, dtype=np.float32)
        if vector is None or not len(self.gold) or not len(candidates):
            return found
        nearest, similarity, weights = self._nearest(vector, allowed)
        if not len(nearest):
            return found
        closeness, total = similarity[nearest], float(weights.sum())
        their_articles = [self.gold_articles[j] for j in nearest]
        for row, candidate in enumerate(candidates):
            sentence = candidate.sentence
            if not known(sentence.article):
                continue
            answered = np.asarray(
                [gold_share(self.gold[j], sentence) >= LABEL_OVERLAP for j in nearest]
            )
            same = np.asarray([article == sentence.article for article in their_articles])
            found[row] = (
                float(weights @ answered) / total,
                closeness[answered].max() if answered.any() else 0.0,
                closeness[same].max() if same.any() else 0.0,
                float(weights @ same) / total,
            )
        return found


def gold_share(spans: Sequence[Span], sentence: Sentence) -> float:
    """The largest share of the sentence (or of a shorter quote) that a gold quote covers."""
    best = 0.0
    for source, start, end in spans:
        if source == sentence.source:
            shared = min(end, sentence.end) - max(start, sentence.start)
            if shared > 0:
                shortest = min(sentence.end - sentence.start, end - start)
                best = max(best, shared / max(1, shortest))
    return best


@dataclass
class AnswerModel:
    """The trained selector and abstainer, with what they were trained for."""

    selector: Any  # classifier over SELECTOR_FEATURES: P(sentence holds the answer)
    abstainer: Any  # classifier over ITEM_FEATURES: P(the question is answered)
    composition: Composition = field(default_factory=Composition)
    memory: QuestionMemory = field(default_factory=QuestionMemory.empty)
    features: tuple[str, ...] = SELECTOR_FEATURES
    item_features: tuple[str, ...] = ITEM_FEATURES
    sklearn: str = field(default_factory=lambda: metadata.version("scikit-learn"))
    trained_on: str = ""  # digest of the training set
    card: dict[str, Any] = field(default_factory=dict)  # CV figures for the model card

    def save(self, path: Path = DEFAULT_ANSWER_MODEL) -> None:
        """Write the model (pickle) atomically."""
        save_model(self, path, MODEL_FORMAT)

    @classmethod
    def load(cls, path: Path = DEFAULT_ANSWER_MODEL) -> AnswerModel:
        """Read the model, checking it was trained for these features and this scikit-learn.

        Raises:
            AnswerModelError: missing, unreadable or stale; the message says how to rebuild it.

        """
        fix = "Rebuild it with `rag train` (a few minutes; it needs the seeds indexed)."
        model = load_model(path, AnswerModel, MODEL_FORMAT, AnswerModelError, "answer model", fix)
        if model.features != SELECTOR_FEATURES or model.item_features != ITEM_FEATURES:
            raise AnswerModelError(f"The answer model {path} was trained for other features. {fix}")
        if model.sklearn != metadata.version("scikit-learn"):
            raise AnswerModelError(
                f"The answer model {path} was trained with scikit-learn {model.sklearn}, "
                f"this is {metadata.version('scikit-learn')}. {fix}"
            )
        return model


def item_features(
    question: QuestionView, matrix: np.ndarray, probs: np.ndarray, memory: np.ndarray
) -> np.ndarray:
    """The abstainer's features for one question: its candidates' and its `memory` features."""
    if not len(probs):
        return np.concatenate([np.zeros(len(ITEM_FEATURES) - len(memory)), memory]).astype(
            np.float32
        )
    order = np.argsort(-probs, kind="stable")
    top = order[:5]

    def best(name: str, rows: np.ndarray | None = None, missing: float = 0.0) -> float:
        values = matrix[rows if rows is not None else slice(None), FEATURE_COLUMN[name]]
        finite = values[np.isfinite(values)]
        return float(finite.max()) if len(finite) else missing

    asks_value = question.asked is not None

    def best_chance(name: str) -> float:
        holders = np.nan_to_num(matrix[:, FEATURE_COLUMN[name]]) > 0
        return float(probs[holders].max()) if holders.any() else 0.0

    return np.asarray(
        [
            probs[order[0]],
            probs[order[1]] if len(order) > 1 else 0.0,
            float(np.sort(probs)[-3:].sum()),
            best("dense"),
            best("cos"),
            best("cov"),
            best("rare_share"),
            best("cov_paragraph", top),
            float(asks_value),
            best("holds", top) if asks_value else 1.0,
            float(question.english),
            float(len(question.terms)),
            best("cov_chunk"),
            best("names_share", top, missing=1.0),
            best_chance("holds") if asks_value else 1.0,
            best_chance("who_name") if question.who else 1.0,
            *memory,
        ],
        dtype=np.float32,
    )


def part_matrices(
    question: str,
    candidates: Sequence[Candidate],
    index: SentenceIndex,
    question_vector: Callable[[str], np.ndarray | None],
) -> list[np.ndarray]:
    """The candidates' features read against each part of a two-part question (else none)."""
    parts = question_parts(question)
    if len(parts) < 2 or not candidates:
        return []
    return [
        candidate_features(
            view_question(part, index.weights, question_vector(part)), candidates, index
        )
        for part in parts
    ]


def part_vectors(
    question: str, question_vector: Callable[[str], np.ndarray | None]
) -> list[np.ndarray | None]:
    """The e5 vector of each part of a two-part question (else none)."""
    parts = question_parts(question)
    return [question_vector(part) for part in parts] if len(parts) > 1 else []


def with_memory(
    matrix: np.ndarray,
    parts: Sequence[np.ndarray],
    memory: np.ndarray,
    part_memory: Sequence[np.ndarray],
) -> tuple[np.ndarray, list[np.ndarray]]:
    """A reading (matrix, parts) with the candidates' MEMORY_FEATURES appended.

    The whole question gets `memory`; each part its own (a part read as a question of its
    own, `part_memory` in the parts' order).
    """
    return np.hstack([matrix, memory]), [
        np.hstack([part, recalled]) for part, recalled in zip(parts, part_memory, strict=True)
    ]


def answer_chance(selector: Any, matrix: np.ndarray, parts: Sequence[np.ndarray]) -> np.ndarray:
    """Each candidate's probability of answering (the mean of whole and parts when parted)."""
    return answer_chances(selector, [(matrix, parts)])[0]


def answer_chances(
    selector: Any, readings: Sequence[tuple[np.ndarray, Sequence[np.ndarray]]]
) -> list[np.ndarray]:
    """`answer_chance` of several readings (matrix, parts), the selector run once over all.

    Each run walks every tree of the selector whatever the rows: one run instead of one per
    reading saves a follow-up (read two ways) about a third of its answering time.
    """
    blocks = [block for matrix, parts in readings for block in (matrix, *parts) if len(block)]
    flat = positive_chance(selector, np.vstack(blocks)) if blocks else np.zeros(0)
    chances, at = [], 0
    for matrix, parts in readings:
        n = len(matrix)
        block = flat[at : at + n * (1 + len(parts))].reshape(-1, n) if n else np.zeros((1, 0))
        at += n * (1 + len(parts))
        whole = block[0]
        chances.append(np.asarray((whole + block[1:].mean(axis=0)) / 2) if parts else whole)
    return chances


def candidates_for(
    index: SentenceIndex, question: QuestionView, passages: Sequence[Passage]
) -> list[Candidate]:
    """The passages' sentences that may answer.

    No byline, caption or signature, unless the question asks who (wrote, took part …)
    or how to get in touch.
    """
    candidates = index.candidates(passages)
    if asks_credits(question.text) or question.who:
        return candidates
    return [c for c in candidates if c.sentence.role not in CREDIT_ROLES]


class LearnedAnswerer:
    """Quotes the sentences the trained model picks, or abstains; see the module docstring."""

    def __init__(
        self,
        index: SentenceIndex,
        model: AnswerModel,
        question_vector: Callable[[str], np.ndarray | None],
    ) -> None:
        self.index = index
        self.model = model
        self._question_vector = question_vector
        self._known: dict[tuple[str, str], bool] = {}  # article -> whether the memory knows it
        self._recent: dict[tuple[str, str, tuple[Passage, ...]], Scored] = {}

    def coverage(self, question_terms: Sequence[str], text_terms: Sequence[str]) -> float:
        """Share of the question's word weight that `text_terms` hold (for the LLM check)."""
        weights = [self.index.weights.idf(t) for t in question_terms]
        return weighted_coverage(question_terms, weights, text_terms)

    def score(self, question: str, passages: Sequence[Passage]) -> Scored:
        """The candidates with their probabilities, and the probability of any answer."""
        read = self._read(question, passages)
        return replace(read, answerable=self._answerable(read))

    def _read(self, question: str, passages: Sequence[Passage]) -> Scored:
        """The candidates with their probabilities; `answerable` is left to the caller."""
        return self._readings([question], passages)[0]

    def _readings(self, questions: Sequence[str], passages: Sequence[Passage]) -> list[Scored]:
        """`_read` of each wording of a question, the selector run once over all.

        The memory is read with the last wording's vector (a follow-up's standalone query).
        """
        own = questions[0]  # the user's words: what is asked
        embedded = [self._question_vector(q) for q in questions]  # embedded once each
        views = [
            view_question(q, self.index.weights, vector, own, embedded[0])
            for q, vector in zip(questions, embedded, strict=True)
        ]
        recall = self.model.memory.sentence_features
        read: list[tuple[QuestionView, list[Candidate], np.ndarray, list[np.ndarray]]] = []
        recalled, memory = [], np.zeros((0, len(MEMORY_FEATURES)))
        for question, view in zip(questions, views, strict=True):
            candidates = candidates_for(self.index, view, passages)
            matrix = candidate_features(view, candidates, self.index)
            parts = part_matrices(question, candidates, self.index, self._question_vector)
            if not read or not same_sentences(read[-1][1], candidates):
                memory = recall(views[-1].vector, candidates, self._knows)
            vectors = part_vectors(question, self._question_vector) if parts else []
            part_memory = [recall(vector, candidates, self._knows) for vector in vectors]
            read.append((view, candidates, matrix, parts))
            recalled.append(with_memory(matrix, parts, memory, part_memory))
        chances = answer_chances(self.model.selector, recalled)
        return [
            Scored(view, candidates, matrix, probs, answerable=float("nan"))
            for (view, candidates, matrix, _), probs in zip(read, chances, strict=True)
        ]

    def _answerable(self, read: Scored) -> float:
        known = bool(read.candidates) and self._knows(
            read.candidates[int(np.argmax(read.probs))].sentence.article
        )
        memory = self.model.memory.item_features(read.question, known)
        item = item_features(read.question, read.matrix, read.probs, memory)
        return float(positive_chance(self.model.abstainer, item[None, :])[0])

    def _knows(self, article: tuple[str, str]) -> bool:
        """Whether the memory was learned on `article`'s text (digested once per article)."""
        if article not in self._known:
            self._known[article] = self.model.memory.knows(self.index, article)
        return self._known[article]

    def answer(
        self, question: str, passages: Sequence[Passage], standalone: str = "", said: str = ""
    ) -> Answer:
        """Compose an answer from the best-scored sentences, or abstain.

        A follow-up has two readings: its own words, which say what is asked, and the
        `standalone` query, which also names the subject. The sentences are ranked by the
        mean of the two readings' probabilities; whether to answer at all is decided on the
        standalone reading's evidence with those probabilities, since the fragment alone
        rarely looks answerable. Training reads follow-ups the same way. A follow-up asking
        for more ("berätta mer") quotes no sentence the last answer (`said`) quoted while
        others are likely enough.
        """
        scored = self._judged(question, passages, standalone)
        if said and asks_for_more(question):
            scored = unsaid(scored, said, self.model.composition.floor)
        return compose(question, passages, scored, self.index, self.model.composition)

    def answerable(self, question: str, passages: Sequence[Passage], standalone: str = "") -> float:
        """The chance of an answer that decides whether `answer` abstains, for the same input."""
        return self._judged(question, passages, standalone).answerable

    def _judged(self, question: str, passages: Sequence[Passage], standalone: str) -> Scored:
        """The ranked candidates and the chance of an answer; the last two inputs' are kept.

        A follow-up's readings are weighed before one is answered (`Pipeline.retrieve`),
        so the chosen reading is not scored twice.
        """
        standalone = "" if standalone == question else standalone
        key = (question, standalone, tuple(passages))
        if (known := self._recent.get(key)) is not None:
            return known
        read = self._readings([question, standalone] if standalone else [question], passages)
        scored = judged = read[0]  # judged: the reading whose evidence decides whether to answer
        if len(read) == 2:
            judged = read[1]
            if same_sentences(judged.candidates, scored.candidates):
                scored = judged = replace(judged, probs=(scored.probs + judged.probs) / 2)
        scored = replace(scored, answerable=self._answerable(judged))
        self._recent = {**dict(list(self._recent.items())[-1:]), key: scored}
        return scored


def unsaid(scored: Scored, said: str, floor: float) -> Scored:
    """`scored` without the chances of sentences `said` holds, if another reaches `floor`."""
    said = " ".join(said.split())  # as the chat shows it: its line breaks may differ
    new = np.asarray(
        [" ".join(c.sentence.text.split()) not in said for c in scored.candidates], dtype=bool
    )
    if not len(new) or not np.any(scored.probs[new] >= floor):
        return scored
    return replace(scored, probs=np.where(new, scored.probs, 0.0))


def same_sentences(one: Sequence[Candidate], other: Sequence[Candidate]) -> bool:
    """Whether two readings of a question score the same candidate sentences."""
    return [c.sentence for c in one] == [c.sentence for c in other]


@dataclass(frozen=True)
class Scored:
    """One question's candidates, their features and probabilities."""

    question: QuestionView
    candidates: list[Candidate]
    matrix: np.ndarray
    probs: np.ndarray
    answerable: float


def compose(
    question: str,
    passages: Sequence[Passage],
    scored: Scored,
    index: SentenceIndex,
    how: Composition,
) -> Answer:
    """The answer the composition rules make of scored candidates."""
    probs = scored.probs
    if not len(probs) or scored.answerable < how.answerable_threshold:
        return Answer(question, NO_ANSWER, True, (), tuple(passages))
    order = np.argsort(-probs, kind="stable")
    best = float(probs[order[0]])
    broad = scored.question.broad
    most, relative = (
        (how.broad_quotes, how.broad_relative) if broad else (how.max_quotes, how.relative)
    )
    chosen = [
        scored.candidates[i]
        for i in order[:most]
        if i == order[0] or probs[i] >= max(how.floor, relative * best)
    ]
    chance = {
        (c.sentence.source, c.sentence.start): float(p)
        for c, p in zip(scored.candidates, probs, strict=True)
    }
    quotes: list[tuple[Candidate, int, int]] = []
    if ABOUT.search(question):  # what an article is about: its lead says it first
        lead = _lead(scored.candidates[order[0]], index, how.lead_chars)
        if lead is not None:
            quotes.append(lead)
    for candidate in chosen:
        start, end = _quote_span(candidate, index, how.window_chars)
        start, end = _grown(candidate, index, (start, end), how, chance, best)
        if broad:
            start, end = _paragraph(candidate, index, (start, end), how.paragraph_chars)
        if any(
            c.sentence.source == candidate.sentence.source and s < end and start < e
            for c, s, e in quotes
        ):
            continue
        quotes.append((candidate, start, end))
    rank = {c.sentence.article: n for n, (c, _, _) in reversed(list(enumerate(quotes)))}
    quotes.sort(key=lambda q: (rank[q[0].sentence.article], q[1]))
    citations = []
    for n, (candidate, start, end) in enumerate(quotes, start=1):
        text = _file_text(candidate, start, end)
        citations.append(Citation(n, candidate.passage, text, start, end))
    listed = {p.chunk.id: p for p in passages}  # a quote's holder chunk is listed once
    citations = [replace(c, passage=listed.get(c.passage.chunk.id, c.passage)) for c in citations]
    shown = [*passages, *{c.passage: None for c in citations if c.passage not in passages}]
    body = " ".join(f"{c.quote} [{c.n}]" for c in citations)
    likely = best >= UNSURE_BELOW
    notice = "" if likely else UNSURE_NOTICE_EN if scored.question.english else UNSURE_NOTICE
    return Answer(
        question, body, False, tuple(citations), tuple(shown), notice=notice, uncertain=not likely
    )


def _lead(best: Candidate, index: SentenceIndex, limit: int) -> tuple[Candidate, int, int] | None:
    """The opening body sentences of the best candidate's article, up to `limit` characters."""
    body = [s for s in index.article(best.sentence.article) if s.role == "body"]
    if not body:
        return None
    first = body[0]
    holder = next(
        (c for c in index.chunks_of(first.source) if c.start <= first.start < c.end), None
    )
    if holder is None:
        return None
    end = first.end
    for sentence in body[1:]:
        if sentence.end - first.start > limit or sentence.end > holder.end:
            break
        end = sentence.end
    passage = best.passage
    if not (passage.chunk.start <= first.start and end <= passage.chunk.end):
        passage = Passage(holder, passage.rank, passage.score, passage.dense_score)
    return Candidate(first, passage), first.start, end


def _quote_span(candidate: Candidate, index: SentenceIndex, window: int) -> tuple[int, int]:
    """The sentence, with the one after it while both fit `window` characters.

    A sentence opening with a pronoun takes the one before it too. Neighbours join only
    within the cited passage, so the passage shows the whole quote.
    """
    sentence, chunk = candidate.sentence, candidate.passage.chunk
    start, end = sentence.start, sentence.end
    if not sentence.count:
        return start, end
    before = index.neighbour(sentence, -1)
    if (
        before is not None
        and before.role == "body"
        and opens_with_pronoun(sentence.text)
        and end - before.start <= window
        and chunk.start <= before.start
    ):
        start = before.start
    after = index.neighbour(sentence, 1)
    if (
        after is not None
        and after.role == "body"
        and after.end - start <= window
        and after.end <= chunk.end
    ):
        end = after.end
    return start, end


def _grown(
    candidate: Candidate,
    index: SentenceIndex,
    span: tuple[int, int],
    how: Composition,
    chance: dict[tuple[str, int], float],
    best: float,
) -> tuple[int, int]:
    """The quote's span grown, each way, by body sentences the selector rates too.

    A neighbour joins while its probability is at least `grow_relative` of the best
    sentence's and the quote fits `grow_chars` within the cited passage: the answer's
    sentence comes with the context the model finds relevant, not a fixed window.
    """
    start, end = span
    chunk = candidate.passage.chunk
    for step in (-1, 1):
        current = candidate.sentence
        while (sentence := index.neighbour(current, step)) is not None:
            current = sentence
            if start <= sentence.start and sentence.end <= end:
                continue  # already quoted: look one further
            joined = (sentence.start, end) if step < 0 else (start, sentence.end)
            if (
                sentence.role != "body"
                or sentence.start < chunk.start
                or sentence.end > chunk.end
                or joined[1] - joined[0] > how.grow_chars
                or chance.get((sentence.source, sentence.start), 0.0) < how.grow_relative * best
            ):
                break
            start, end = joined
    return start, end


def _paragraph(
    candidate: Candidate, index: SentenceIndex, span: tuple[int, int], limit: int
) -> tuple[int, int]:
    """The quote's span grown to the body sentences of its paragraph, if all fit `limit`.

    Only within the cited passage, so the passage shows the whole quote; the span stays
    as it is when the paragraph is longer.
    """
    start, end = span
    sentence, chunk = candidate.sentence, candidate.passage.chunk
    for step in (-1, 1):
        current = sentence
        while (
            (neighbour := index.neighbour(current, step)) is not None
            and neighbour.paragraph == sentence.paragraph
            and neighbour.role == "body"
            and chunk.start <= neighbour.start
            and neighbour.end <= chunk.end
        ):
            current = neighbour
            start, end = min(start, neighbour.start), max(end, neighbour.end)
    return (start, end) if end - start <= limit else span


def _file_text(candidate: Candidate, start: int, end: int) -> str:
    """file_text[start:end], from the cited passage that holds it."""
    chunk = candidate.passage.chunk
    return chunk.text[start - chunk.start : end - chunk.start]
