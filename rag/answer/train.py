"""`rag train`: fit the answer model, choose its composition by cross-validation.

The composition (abstention threshold, quote choice) is chosen by leave-one-article-out
cross-validation; the model and its card are written. Each training question is
retrieved as users' questions are; every candidate sentence is labelled by whether it
overlaps a gold quote. The selector and abstainer are fitted deterministically (fixed
seeds, no early stopping), so the same data, code and library versions give the same
model.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from itertools import product
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.answer.features import (
    ArticleKey,
    Candidate,
    SentenceIndex,
    candidate_features,
    view_question,
)
from rag.answer.relevance import RELEVANCE_FILE, RelevanceCalibration
from rag.answer.selector import (
    ITEM_FEATURE_DIRECTIONS,
    ITEM_FEATURES,
    LABEL_OVERLAP,
    AnswerModel,
    Composition,
    QuestionMemory,
    Scored,
    Span,
    answer_chances,
    article_digest,
    candidates_for,
    compose,
    gold_share,
    item_features,
    part_matrices,
    part_vectors,
    same_sentences,
    with_memory,
)
from rag.config import DEFAULT_ANSWER_MODEL
from rag.evaluation.metrics import (
    EvalItem,
    GoldSpan,
    gold_spans,
    load_questions,
    overlaps,
    span_overlaps,
)
from rag.types import Passage, Turn

if TYPE_CHECKING:
    from rag.pipeline import Pipeline

TRAINING_SET = Path("train/questions.jsonl")
TRAINING_CONVERSATIONS = Path("train/conversations.jsonl")  # follow-ups, read made standalone
FALSE_REFUSALS = 0.05  # the abstention threshold keeps cross-validated false refusals below
# Quotes grow to the neighbours the selector rates while answers stay, on average, under
# five of the articles' sentences (99 characters each), as the LLM's answers do.
MAX_MEAN_ANSWER_CHARS = 450
# A summary or list answer may quote whole paragraphs up to seven of those sentences.
BROAD_PARAGRAPH_CHARS = (0, 700)
_SELECTOR = {
    "max_iter": 300,
    "learning_rate": 0.05,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 20,
    "l2_regularization": 1.0,
    "max_features": 0.5,  # each split sees half the features: the members differ
    "early_stopping": False,
}
SELECTOR_MEMBERS = 3  # the selector averages this many boosted models (seeds 0, 1, 2)
QUESTION_FOLDS = 5  # random folds of questions: new questions about the training articles
_ABSTAINER = {
    "max_iter": 200,
    "learning_rate": 0.05,
    "max_leaf_nodes": 7,
    "min_samples_leaf": 20,
    "early_stopping": False,
    "random_state": 0,
}


Fragment = tuple[np.ndarray, list[np.ndarray], list[np.ndarray | None]]


@dataclass
class Example:
    """One training question, retrieved and scored into candidate features."""

    item: EvalItem
    scored: Scored  # probabilities filled in per fold
    labels: np.ndarray  # per candidate: overlap share with a gold quote
    spans: list[GoldSpan]
    article: ArticleKey | None
    passages: list[Any]
    parts: list[np.ndarray]  # the matrix read against each part of a two-part question
    # A follow-up's own words read alone (matrix, parts, the parts' vectors), as the chat
    # reads them beside the standalone query; None for a question that stands alone.
    fragment: Fragment | None = None
    part_vectors: list[np.ndarray | None] = field(default_factory=list)  # each part's e5 vector


def build_examples(
    pipeline: Pipeline,
    items: Sequence[EvalItem],
    index: SentenceIndex,
    file_texts: dict[str, str],
    on_progress: Callable[[int, int], None] | None = None,
) -> list[Example]:
    """Retrieve each question and label its candidate sentences."""
    examples = []
    embed = pipeline.question_vector
    for n, item in enumerate(items, start=1):
        query, passages = read_as_chat(item, pipeline)
        own = pipeline.restore_typed(item.question)
        view = view_question(query, index.weights, embed(query), own, embed(own))
        candidates = candidates_for(index, view, passages)
        matrix = candidate_features(view, candidates, index)
        parts = part_matrices(query, candidates, index, embed)
        vectors = part_vectors(query, embed) if parts else []
        fragment = _fragment(own, query, passages, candidates, pipeline)
        spans = [s for group in gold_spans(item, file_texts) for s in group]
        gold = _span_tuples(spans)
        labels = np.asarray([gold_share(gold, c.sentence) for c in candidates], dtype=np.float32)
        article = next(
            (c.sentence.article for c, y in zip(candidates, labels, strict=True) if y > 0),
            _gold_article(spans, index) or (candidates[0].sentence.article if candidates else None),
        )
        scored = Scored(view, candidates, matrix, np.zeros(len(candidates)), 0.0)
        examples.append(
            Example(item, scored, labels, spans, article, passages, parts, fragment, vectors)
        )
        if on_progress is not None:
            on_progress(n, len(items))
    return examples


def _fragment(
    own: str,
    query: str,
    passages: Sequence[Passage],
    candidates: Sequence[Candidate],
    pipeline: Pipeline,
) -> Fragment | None:
    """A follow-up's own words as the answerer reads them beside `query` (else None)."""
    if own == query or not candidates:
        return None
    index = pipeline.sentence_index
    view = view_question(own, index.weights, pipeline.question_vector(own))
    if not same_sentences(candidates_for(index, view, passages), candidates):
        return None
    matrix = candidate_features(view, candidates, index)
    parts = part_matrices(own, candidates, index, pipeline.question_vector)
    return matrix, parts, part_vectors(own, pipeline.question_vector) if parts else []


def read_as_chat(item: EvalItem, pipeline: Pipeline) -> tuple[str, list[Passage]]:
    """The query a training question is searched as, and its passages, as the chat does.

    Each turn is read as users' questions are (å, ä, ö put back); a follow-up is made
    standalone without an LLM, its earlier turns by the rule, so training does not
    depend on any earlier answer, nor on the answer model it builds (the follow-up
    model alone picks the reading).
    """
    restore = pipeline.restore_typed
    history = [Turn(restore(q)) for q in item.history]
    query, passages, _ = pipeline.retrieve(restore(item.question), history, weigh_answers=False)
    return query, passages


def _span_tuples(spans: Sequence[GoldSpan]) -> tuple[Span, ...]:
    """Gold spans as the memory keeps them: (source, start, end)."""
    return tuple((s.source, s.start, s.end) for s in spans)


def _gold_article(spans: Sequence[GoldSpan], index: SentenceIndex) -> ArticleKey | None:
    for span in spans:
        for sentence in index.sentences.values():
            if sentence.source == span.source and sentence.start <= span.start < sentence.end:
                return sentence.article
    return None


def fit_selector(examples: Sequence[Example]) -> Any:
    """The sentence classifier, fitted on every candidate of `examples`.

    The mean of SELECTOR_MEMBERS boosted models that each split on a random half of the
    features: steadier than one model when the training data changes a little.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier, VotingClassifier

    rows = [e for e in examples if len(e.labels)]
    x = np.vstack([e.scored.matrix for e in rows])
    y = np.concatenate([e.labels for e in rows]) >= LABEL_OVERLAP
    members = [
        (f"seed{seed}", HistGradientBoostingClassifier(**_SELECTOR, random_state=seed))
        for seed in range(SELECTOR_MEMBERS)
    ]
    return VotingClassifier(members, voting="soft").fit(x, y)


def fit_abstainer(items: np.ndarray, answerable: np.ndarray) -> Any:
    """The question-level classifier: whether the passages answer the question."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    monotone = [ITEM_FEATURE_DIRECTIONS[name] for name in ITEM_FEATURES]
    model = HistGradientBoostingClassifier(**_ABSTAINER, monotonic_cst=monotone)
    return model.fit(items, answerable)


def _with_probs(
    example: Example, selector: Any, recall: Callable[[np.ndarray | None], np.ndarray]
) -> Example:
    """The example with the selector's probabilities; `recall` reads the memory for a vector.

    The whole question (and a follow-up's own words) read the memory with the question's
    vector, each part of a two-part question with its own, as the answerer does.
    """
    s = example.scored
    memory = recall(s.question.vector)
    readings = [
        with_memory(s.matrix, example.parts, memory, [recall(v) for v in example.part_vectors])
    ]
    if example.fragment is not None:  # a follow-up: the mean of its two readings
        matrix, parts, vectors = example.fragment
        readings.append(with_memory(matrix, parts, memory, [recall(v) for v in vectors]))
    probs = np.mean(answer_chances(selector, readings), axis=0)
    return replace(example, scored=replace(s, probs=probs))


class MemoryReading:
    """The selector's memory features of training questions, read as new questions would.

    A question never reads its own question fold, nor what cross-validation holds out.
    Every other question is also read as one about a new article: its article's
    questions are masked and its sentences get no memory features, so the selector
    learns to judge a sentence the memory knows nothing about.
    """

    def __init__(
        self,
        examples: Sequence[Example],
        memory: QuestionMemory,
        article_fold: dict[int, int],
        question_fold: dict[int, int],
    ) -> None:
        """`memory` holds `examples`' questions in their order."""
        self.memory = memory
        self._row = {id(e.item): i for i, e in enumerate(examples)}
        self._articles = np.asarray([article_fold[id(e.item)] for e in examples])
        self._questions = np.asarray([question_fold[id(e.item)] for e in examples])

    def recall(
        self,
        example: Example,
        held: np.ndarray,
        held_articles: set[ArticleKey | None],
        training: bool,
    ) -> Callable[[np.ndarray | None], np.ndarray]:
        """Reads the memory for the example's candidates, with `held` questions masked.

        `held_articles` are unknown to the memory; a training row also masks its own
        question fold, or (every other question) its own article.
        """
        i = self._row[id(example.item)]
        allowed, unknown = ~held, set(held_articles)
        if training and i % 2:
            allowed &= self._articles != self._articles[i]
            unknown.add(example.article)
        elif training:
            allowed &= self._questions != self._questions[i]
        candidates = example.scored.candidates

        def read(vector: np.ndarray | None) -> np.ndarray:
            return self.memory.sentence_features(
                vector, candidates, lambda article: article not in unknown, allowed
            )

        return read

    def training_row(
        self, example: Example, held: np.ndarray, held_articles: set[ArticleKey | None]
    ) -> Example:
        """The example with its memory features appended, as the selector is fitted on it."""
        s = example.scored
        memory = self.recall(example, held, held_articles, training=True)(s.question.vector)
        return replace(example, scored=replace(s, matrix=np.hstack([s.matrix, memory])))


def cross_validate(
    by_article: Sequence[Example],
    by_question: Sequence[Example],
    folds: tuple[dict[int, int], dict[int, int]],
    memory: QuestionMemory,
) -> tuple[Any, float, np.ndarray, np.ndarray]:
    """The abstainer, its threshold, and out-of-fold chances of an answer.

    Every question is read three times: as a new question about a known article
    (selector probabilities and question memory from the other question folds:
    `by_question`), as one about a new article (from the other articles: `by_article`), so
    the abstainer learns when the memory has nothing close, and with no memory (a question
    answered from a new or changed document). The threshold keeps FALSE_REFUSALS in all.

    Returns:
        the abstainer fitted on the three readings, the threshold, the known-article and the
        new-article chances (in `by_article`'s order, which is `by_question`'s).

    """
    article_fold, question_fold = folds
    known, answerable = _item_matrix(by_question, memory, question_fold)
    new, _ = _item_matrix(by_article, memory, article_fold)
    unknown, _ = _item_matrix(by_article, memory, article_fold, read=False)
    rows = np.vstack([known, new, unknown])
    labels = np.concatenate([answerable, answerable, answerable])
    groups = np.tile([question_fold[id(e.item)] for e in by_question], 3)
    chances = np.zeros(len(rows))
    for g in sorted(set(groups)):
        abstainer = fit_abstainer(rows[groups != g], labels[groups != g])
        chances[groups == g] = abstainer.predict_proba(rows[groups == g])[:, 1]
    n = len(answerable)
    threshold = min(_refusal_threshold(chances[k * n : (k + 1) * n], answerable) for k in range(3))
    return fit_abstainer(rows, labels), threshold, chances[:n], chances[n : 2 * n]


def _refusal_threshold(chances: np.ndarray, answerable: np.ndarray) -> float:
    """The highest threshold that refuses at most FALSE_REFUSALS of the answerable."""
    ranked = np.sort(chances[answerable])
    return float(ranked[int(FALSE_REFUSALS * len(ranked))]) - 1e-6 if len(ranked) else 0.5


def with_chances(examples: Sequence[Example], chances: np.ndarray) -> list[Example]:
    """The examples with these chances of an answer."""
    return [
        replace(e, scored=replace(e.scored, answerable=float(p)))
        for e, p in zip(examples, chances, strict=True)
    ]


def question_memory(examples: Sequence[Example], index: SentenceIndex) -> QuestionMemory:
    """The training questions' vectors and answerability (empty without vectors)."""
    vectors = [v for e in examples if (v := e.scored.question.vector) is not None]
    if not vectors or len(vectors) < len(examples):
        return QuestionMemory.empty()
    articles = {e.article for e in examples if e.article is not None}
    answered = [e.item.answerable and bool(e.spans) for e in examples]
    asked = [v for e in examples if (v := e.scored.question.asked_vector) is not None]
    return QuestionMemory(
        np.vstack(vectors).astype(np.float16),
        np.asarray([e.item.answerable for e in examples]),
        {a: article_digest(index, a) for a in articles},
        tuple(_span_tuples(e.spans) if a else () for e, a in zip(examples, answered, strict=True)),
        tuple(e.article if a else None for e, a in zip(examples, answered, strict=True)),
        np.vstack(asked).astype(np.float16),
    )


def question_folds(examples: Sequence[Example]) -> dict[int, int]:
    """Each example's random question fold (by `id` of its item), the same every run."""
    draw = np.random.default_rng(0).integers(QUESTION_FOLDS, size=len(examples))
    return {id(e.item): int(f) for e, f in zip(examples, draw, strict=True)}


def out_of_fold_selector(
    examples: Sequence[Example], fold: dict[int, int], reading: MemoryReading, by_article: bool
) -> list[Example]:
    """Each example with probabilities from a selector fitted without its fold.

    With `by_article` folds, the held-out article is also unknown to the memory.
    """
    result: dict[int, Example] = {}
    for g in sorted(set(fold.values())):
        held = np.asarray([fold[id(e.item)] == g for e in examples])
        unknown = {e.article for e, h in zip(examples, held, strict=True) if h and by_article}
        rows = [
            reading.training_row(e, held, unknown)
            for e, h in zip(examples, held, strict=True)
            if not h
        ]
        selector = fit_selector(rows)
        for e, h in zip(examples, held, strict=True):
            if h:
                recall = reading.recall(e, held, unknown, training=False)
                result[id(e)] = _with_probs(e, selector, recall)
    return [result[id(e)] for e in examples]


def _item_matrix(
    examples: Sequence[Example], memory: QuestionMemory, fold: dict[int, int], read: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """The abstainer's rows; each question's memory holds only other folds' questions.

    `memory` holds `examples`' questions in their order.
    """
    groups = np.asarray([fold[id(e.item)] for e in examples])
    rows = [
        item_features(
            e.scored.question,
            e.scored.matrix,
            e.scored.probs,
            memory.item_features(e.scored.question, read, groups != groups[i]),
        )
        for i, e in enumerate(examples)
    ]
    return np.vstack(rows), np.asarray([e.item.answerable for e in examples])


def evaluate(
    examples: Sequence[Example], how: Composition, index: SentenceIndex
) -> dict[str, float]:
    """Facts in the answer, quote and passage precision, refusal recall, false refusals."""
    facts, quote_precision, chunk_precision = [], [], []
    refused_answerable, refused_unanswerable = [], []
    for e in examples:
        answer = compose(e.item.question, e.passages, e.scored, index, how)
        if not e.item.answerable:
            refused_unanswerable.append(answer.abstained)
            continue
        refused_answerable.append(answer.abstained)
        text = answer.text.lower()
        facts.append(sum(f in text for f in e.item.must_contain) / max(1, len(e.item.must_contain)))
        if answer.citations:
            cited = answer.citations
            quote_precision.append(
                np.mean(
                    [span_overlaps(c.passage.chunk.source, c.start, c.end, e.spans) for c in cited]
                )
            )
            chunk_precision.append(np.mean([overlaps(c.passage.chunk, e.spans) for c in cited]))
    return {
        "items": float(len(examples)),
        "facts_in_answer": float(np.mean(facts)) if facts else 0.0,
        "quote_precision": float(np.mean(quote_precision)) if quote_precision else 0.0,
        "citation_precision": float(np.mean(chunk_precision)) if chunk_precision else 0.0,
        "refusal_recall": float(np.mean(refused_unanswerable)) if refused_unanswerable else 0.0,
        "false_refusals": float(np.mean(refused_answerable)) if refused_answerable else 0.0,
    }


def choose_composition(examples: Sequence[Example], index: SentenceIndex) -> Composition:
    """The quote choices that serve users best on out-of-fold scores (no abstention).

    They maximise facts in the answer plus quote precision, for summary and list questions
    apart from the rest (their quotes may take whole paragraphs); quotes grow as far as
    answers stay under MAX_MEAN_ANSWER_CHARS on average. The abstention threshold is
    `cross_validate`'s.
    """
    broad = [e for e in examples if e.scored.question.broad]
    narrow = [e for e in examples if not e.scored.question.broad]

    def value(part: Sequence[Example], how: Composition) -> float:
        figures = evaluate(part, how, index)
        return figures["facts_in_answer"] + figures["quote_precision"]

    grid = product((0.4, 0.5, 0.6, 0.7), (0.05, 0.1, 0.2), (2, 3))
    how = max(
        (Composition(0.0, relative, floor, quotes) for relative, floor, quotes in grid),
        key=lambda how: value(narrow, how),
    )
    if broad:
        how = max(
            (
                replace(how, broad_quotes=q, broad_relative=relative, paragraph_chars=paragraph)
                for relative, q, paragraph in product(
                    (0.2, 0.3, 0.4, 0.5), (3, 4, 5), BROAD_PARAGRAPH_CHARS
                )
            ),
            key=lambda how: value(broad, how),
        )
    grown = [replace(how, grow_relative=share) for share in (0.05, 0.1, 0.2, 0.3)]
    short = [h for h in grown if _mean_length(examples, h, index) <= MAX_MEAN_ANSWER_CHARS]
    return max(short or [how], key=lambda how: value(examples, how))


def _mean_length(examples: Sequence[Example], how: Composition, index: SentenceIndex) -> float:
    """The mean length (characters) of the answers to the answerable questions."""
    texts = [
        compose(e.item.question, e.passages, e.scored, index, how).text
        for e in examples
        if e.item.answerable
    ]
    return float(np.mean([len(t) for t in texts])) if texts else 0.0


def train(
    pipeline: Pipeline,
    questions: Path = TRAINING_SET,
    out: Path = DEFAULT_ANSWER_MODEL,
    on_step: Callable[[str], None] = lambda _: None,
    conversations: Path | None = TRAINING_CONVERSATIONS,
) -> AnswerModel:
    """Build the answer model from the training set; write it and its card to `out`'s folder.

    `conversations` (if the file exists) adds follow-up questions, each with its history.
    """
    items = load_questions(questions)
    sources = [questions]
    if conversations is not None and conversations.is_file():
        items += load_questions(conversations)
        sources.append(conversations)
    index = pipeline.sentence_index
    file_texts = {
        name: file.text
        for name in {c.source for c in pipeline.indexed_chunks}
        if (file := pipeline.source_file(name)) is not None
    }
    on_step(f"retrieving {len(items)} training questions")
    examples = build_examples(pipeline, items, index, file_texts)
    on_step("cross-validating: one article left out at a time")
    fold, question_fold = _folds(examples), question_folds(examples)
    memory = question_memory(examples, index)
    reading = MemoryReading(examples, memory, fold, question_fold)
    probed = out_of_fold_selector(examples, fold, reading, by_article=True)
    on_step("cross-validating: new questions about the same articles")
    known = out_of_fold_selector(examples, question_fold, reading, by_article=False)
    abstainer, threshold, known_chances, new_chances = cross_validate(
        probed, known, (fold, question_fold), memory
    )
    out_of_fold = with_chances(probed, new_chances)
    how = replace(choose_composition(out_of_fold, index), answerable_threshold=round(threshold, 6))
    cv = evaluate(out_of_fold, how, index)
    cv_known = evaluate(with_chances(known, known_chances), how, index)
    for name, figures in (("leave-one-article-out", cv), ("new questions", cv_known)):
        on_step(f"{name}: {json.dumps({k: round(v, 3) for k, v in figures.items()})}")
    on_step("fitting on every question")
    nothing_held = np.zeros(len(examples), dtype=bool)
    selector = fit_selector([reading.training_row(e, nothing_held, set()) for e in examples])
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:16]
    model = AnswerModel(
        selector,
        abstainer,
        how,
        trained_on=digest,
        memory=memory,
        card={
            "cross_validation": cv,
            "known_articles": cv_known,
            "questions": len(items),
            "composition": asdict(how),
        },
    )
    model.save(out)
    relevance_table(examples).save(out.parent / RELEVANCE_FILE)
    _write_card(out.parent / "MODEL_CARD.md", model, sources)
    return model


def relevance_table(examples: Sequence[Example]) -> RelevanceCalibration:
    """The chance that a retrieved passage overlaps a gold quote, by its e5 cosine.

    Passages of the answerable training questions, as users' questions retrieve them.
    """
    pairs = [
        (p.dense_score, overlaps(p.chunk, e.spans))
        for e in examples
        if e.item.answerable
        for p in e.passages
        if p.dense_score is not None
    ]
    return RelevanceCalibration.fit([c for c, _ in pairs], [r for _, r in pairs])


def _folds(examples: Sequence[Example]) -> dict[int, int]:
    """Each example's fold (by `id` of its item): the index of its article."""
    groups = sorted({e.article for e in examples if e.article is not None})
    return {id(e.item): groups.index(e.article) if e.article in groups else -1 for e in examples}


def _write_card(path: Path, model: AnswerModel, sources: Sequence[Path]) -> None:
    """Rewrite the figures block of the model card between its markers."""
    files = " and ".join(f"`{p}`" for p in sources)
    block = (
        "<!-- figures -->\n"
        f"Trained on {files} ({model.card['questions']} questions, digest "
        f"`{model.trained_on}`), scikit-learn {model.sklearn}.\n\n"
        "| cross-validated | new article (leave one out) | new questions (5 folds) |\n"
        "| --- | ---: | ---: |\n"
        + "".join(
            f"| {name} | {value:.3f} | {model.card['known_articles'][name]:.3f} |\n"
            for name, value in model.card["cross_validation"].items()
            if name != "items"
        )
        + "\nComposition chosen: "
        + ", ".join(f"{k}={v}" for k, v in model.card["composition"].items())
        + "\n<!-- /figures -->"
    )
    text = (
        path.read_text(encoding="utf-8") if path.exists() else "<!-- figures -->\n<!-- /figures -->"
    )
    path.write_text(
        re.sub(r"<!-- figures -->.*<!-- /figures -->", lambda _: block, text, flags=re.S),
        encoding="utf-8",
    )
