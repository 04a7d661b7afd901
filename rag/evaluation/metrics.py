"""Evaluate stage: a question set -> per-item scores -> metrics. Deterministic, no LLM judge.

A retrieved passage is relevant when its span overlaps a gold quote's span in the
gold file. Metrics follow sentence-transformers' retrieval evaluation (Hit@k,
MRR@10, nDCG@10) plus answer checks: key facts, citation precision and recall,
numbers the cited passages do not contain, and refusals.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args

from rag.errors import RagError
from rag.retrieve.lexical import looks_english
from rag.types import Answer, Chunk, Citation, Passage

T = TypeVar("T")
Kind = Literal["fact", "multi", "summary", "unanswerable"]
KINDS: tuple[str, ...] = get_args(Kind)
FIELDS = ("id", "question", "answer", "must_contain", "gold_file", "gold_quotes", "kind")
MAX_HISTORY = 6  # earlier questions an item may carry (optional field "history")
RANK_DEPTH = 10
HIT_KS = (1, 3, 5, 10)
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_MARKER = re.compile(r"\[\d+\]")


class EvalSetError(RagError):
    """A question set does not follow the schema."""


@dataclass(frozen=True)
class EvalItem:
    """One question of an eval set."""

    id: str
    question: str
    answer: str
    must_contain: tuple[str, ...]
    gold_files: tuple[str, ...]
    gold_quotes: tuple[str, ...]
    kind: Kind
    history: tuple[str, ...] = ()  # earlier user questions of a conversation, oldest first
    # What a follow-up is about (alternatives, lowercase): its standalone query names one.
    subject: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        """False for questions the corpus does not answer."""
        return self.kind != "unanswerable"

    @property
    def language(self) -> str:
        """'en' or 'sv', from the question's function words."""
        return "en" if looks_english(self.question) else "sv"


@dataclass(frozen=True)
class GoldSpan:
    """Where a gold quote occurs: (start, end) char offsets into a source file."""

    source: str
    start: int
    end: int


@dataclass(frozen=True)
class ItemScores:
    """Every per-item measurement; metrics are means over these."""

    id: str
    kind: str
    language: str
    answerable: bool
    abstained: bool
    first_relevant_rank: int | None  # 1-based rank of the first relevant passage in the top 10
    ndcg10: float
    fact_recall_context: float
    fact_recall_answer: float
    citation_precision: float | None  # None when nothing was cited
    citation_recall: float | None
    unsupported_numbers: tuple[str, ...]
    latency_ms: float
    subject_named: float | None = None  # 1.0 when the searched query names the item's subject
    uncertain: bool = False  # answered with the notice that no quoted sentence likely answers

    def hit(self, k: int) -> float:
        """1.0 when a relevant passage is in the top k."""
        return float(self.first_relevant_rank is not None and self.first_relevant_rank <= k)

    @property
    def reciprocal_rank(self) -> float:
        """1/rank of the first relevant passage (0 when none in the top 10)."""
        return 1.0 / self.first_relevant_rank if self.first_relevant_rank else 0.0

    @property
    def correct_refusal(self) -> float:
        """1.0 when the system abstained exactly when it should have."""
        return float(self.abstained != self.answerable)


def load_questions(path: Path) -> list[EvalItem]:
    """Read a JSONL question set.

    Raises:
        EvalSetError: a line is not valid JSON or does not follow the schema.

    """
    if not path.is_file():
        raise EvalSetError(f"Question set {path} not found: pass --questions FILE.")
    items = read_jsonl(path, _item, f"Fields: {', '.join(FIELDS)}.")
    if len({item.id for item in items}) != len(items):
        raise EvalSetError(f"{path}: ids must be unique.")
    return items


def read_jsonl(path: Path, parse: Callable[[dict[str, Any]], T], hint: str = "") -> list[T]:
    """Each non-empty line of a JSONL file, parsed.

    Raises:
        EvalSetError: a line is not JSON or `parse` refuses it; the message names the line.

    """
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(parse(json.loads(line)))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise EvalSetError(f"{path}:{number}: {exc}. {hint}".rstrip()) from exc
    return items


def _item(raw: dict[str, Any]) -> EvalItem:
    if raw["kind"] not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    history = raw.get("history", [])
    if not isinstance(history, list) or len(history) > MAX_HISTORY:
        raise ValueError(f"history must be a list of at most {MAX_HISTORY} earlier questions")
    subject = raw.get("subject", [])
    if not isinstance(subject, list):
        raise ValueError("subject must be a list of alternatives")
    gold = raw["gold_file"]
    files = () if gold is None else (gold,) if isinstance(gold, str) else tuple(gold)
    return EvalItem(
        id=str(raw["id"]),
        question=str(raw["question"]),
        answer=str(raw["answer"]),
        must_contain=tuple(str(f).lower() for f in raw["must_contain"]),
        gold_files=tuple(str(f) for f in files),
        gold_quotes=tuple(str(q) for q in raw["gold_quotes"]),
        kind=raw["kind"],
        history=tuple(str(q) for q in history),
        subject=tuple(str(w).lower() for w in subject),
    )


def gold_spans(item: EvalItem, file_texts: dict[str, str]) -> list[list[GoldSpan]]:
    """Every occurrence of each gold quote in the gold files, one group per quote.

    Raises:
        EvalSetError: a gold file is missing or a quote occurs in none of them.

    """
    groups = []
    for quote in item.gold_quotes:
        found = []
        for name in item.gold_files:
            if name not in file_texts:
                raise EvalSetError(f"{item.id}: gold file {name} is not in the corpus.")
            text = file_texts[name]
            found += [
                GoldSpan(name, m.start(), m.start() + len(quote))
                for m in re.finditer(re.escape(quote), text)
            ]
        if not found:
            raise EvalSetError(f"{item.id}: gold quote not found verbatim: {quote[:60]!r}")
        groups.append(found)
    return groups


def overlaps(chunk: Chunk, spans: Iterable[GoldSpan]) -> bool:
    """Whether a chunk's span overlaps any gold span."""
    return span_overlaps(chunk.source, chunk.start, chunk.end, spans)


def span_overlaps(source: str, start: int, end: int, spans: Iterable[GoldSpan]) -> bool:
    """Whether `source[start:end]` overlaps any gold span."""
    return any(s.source == source and s.start < end and start < s.end for s in spans)


def relevant_in_index(chunks: Iterable[Chunk], quote_spans: Sequence[Sequence[GoldSpan]]) -> int:
    """How many indexed chunks overlap a gold span (nDCG's ideal ranking holds them all)."""
    spans = [span for group in quote_spans for span in group]
    return sum(overlaps(chunk, spans) for chunk in chunks)


def score_ranking(
    item: EvalItem,
    ranking: Sequence[Passage],
    quote_spans: Sequence[Sequence[GoldSpan]],
    relevant_in_index: int,
) -> ItemScores:
    """Score a ranking alone: the retrieval fields, as if the system had abstained."""
    spans = [span for group in quote_spans for span in group]
    relevance = [overlaps(p.chunk, spans) for p in ranking[:RANK_DEPTH]]
    context = " ".join(p.chunk.text for p in ranking[:RANK_DEPTH]).lower()
    return ItemScores(
        id=item.id,
        kind=item.kind,
        language=item.language,
        answerable=item.answerable,
        abstained=True,
        first_relevant_rank=next((i + 1 for i, rel in enumerate(relevance) if rel), None),
        ndcg10=_ndcg(relevance, relevant_in_index),
        fact_recall_context=_fact_recall(item.must_contain, context),
        fact_recall_answer=0.0,
        citation_precision=None,
        citation_recall=None,
        unsupported_numbers=(),
        latency_ms=0.0,
    )


def score_item(
    item: EvalItem,
    ranking: Sequence[Passage],
    answer: Answer,
    quote_spans: Sequence[Sequence[GoldSpan]],
    relevant_in_index: int,
    latency_ms: float,
) -> ItemScores:
    """Score one answered question.

    Args:
        item: the question with its gold data.
        ranking: the top passages retrieved (up to 10), best first.
        answer: the answer given (from the top-k of `ranking`).
        quote_spans: the gold spans of `item`, one group per gold quote.
        relevant_in_index: how many indexed chunks overlap a gold span (for nDCG's ideal).
        latency_ms: time to retrieve and answer.

    """
    spans = [span for group in quote_spans for span in group]
    cited = [c.passage.chunk for c in cited_in_text(answer)]
    return replace(
        score_ranking(item, ranking, quote_spans, relevant_in_index),
        abstained=answer.abstained,
        fact_recall_answer=_fact_recall(item.must_contain, answer.text.lower()),
        citation_precision=(
            sum(overlaps(c, spans) for c in cited) / len(cited) if cited and spans else None
        ),
        citation_recall=(
            sum(any(overlaps(c, group) for c in cited) for group in quote_spans) / len(quote_spans)
            if quote_spans
            else None
        ),
        unsupported_numbers=unsupported_numbers(answer),
        latency_ms=latency_ms,
        subject_named=(
            float(names_subject(answer.searched_query, item.subject)) if item.subject else None
        ),
        uncertain=answer.uncertain,
    )


def names_subject(query: str, subject: Sequence[str]) -> bool:
    """Whether `query` holds one of the `subject` alternatives.

    An alternative is held when each of its words of three letters or more is, in any
    order: "fönster av möjligheter" in "…utredningen fönster möjligheter…".
    """
    text = query.lower()
    return any(
        all(w in text for w in words)
        for words in ([w for w in alt.split() if len(w) >= 3] or [alt] for alt in subject)
    )


def cited_in_text(answer: Answer) -> list[Citation]:
    """The citations whose marker the answer's text shows (not one a flag only offers)."""
    return [c for c in answer.citations if f"[{c.n}]" in answer.text]


def _ndcg(relevance: Sequence[bool], relevant_in_index: int) -> float:
    ideal = sum(1 / math.log2(i + 2) for i in range(min(relevant_in_index, RANK_DEPTH)))
    if ideal == 0:
        return 0.0
    return sum(1 / math.log2(i + 2) for i, rel in enumerate(relevance) if rel) / ideal


def _fact_recall(facts: Sequence[str], text: str) -> float:
    return sum(f in text for f in facts) / len(facts) if facts else 1.0


def unsupported_numbers(answer: Answer) -> tuple[str, ...]:
    """Numbers in the answer (citation markers aside) that no cited passage contains."""
    cited_text = " ".join(c.passage.chunk.text for c in cited_in_text(answer))
    numbers = _NUMBER.findall(_MARKER.sub(" ", answer.text))
    return tuple(n for n in numbers if n not in cited_text)


def aggregate(scores: Sequence[ItemScores]) -> dict[str, float]:
    """Mean metrics over items (answerable ones for retrieval and answer quality)."""
    answerable = [s for s in scores if s.answerable]
    unanswerable = [s for s in scores if not s.answerable]
    answered = [s for s in answerable if not s.abstained]
    metrics: dict[str, float] = {"items": float(len(scores))}
    for k in HIT_KS:
        metrics[f"hit@{k}"] = _mean(s.hit(k) for s in answerable)
    metrics["mrr@10"] = _mean(s.reciprocal_rank for s in answerable)
    metrics["ndcg@10"] = _mean(s.ndcg10 for s in answerable)
    metrics["fact_recall_context"] = _mean(s.fact_recall_context for s in answerable)
    metrics["fact_recall_answer"] = _mean(s.fact_recall_answer for s in answerable)
    metrics["citation_precision"] = _mean(
        s.citation_precision for s in answered if s.citation_precision is not None
    )
    metrics["citation_recall"] = _mean(
        s.citation_recall for s in answered if s.citation_recall is not None
    )
    metrics["answers_with_unsupported_numbers"] = float(
        sum(bool(s.unsupported_numbers) for s in scores)
    )
    metrics["subject_named"] = _mean(s.subject_named for s in scores if s.subject_named is not None)
    # Answers marked uncertain, and the key facts they held: the mark should fall on few
    # answers, and on the wrong ones.
    metrics["uncertain_answers"] = float(sum(s.uncertain and not s.abstained for s in scores))
    metrics["facts_when_uncertain"] = _mean(s.fact_recall_answer for s in answered if s.uncertain)
    metrics["refusal_recall"] = _mean(float(s.abstained) for s in unanswerable)
    metrics["false_refusal_rate"] = _mean(float(s.abstained) for s in answerable)
    latencies = sorted(s.latency_ms for s in scores)
    metrics["latency_p50_ms"] = statistics.median(latencies) if latencies else math.nan
    metrics["latency_p95_ms"] = percentile(latencies, 0.95)
    return metrics


def _mean(values: Iterable[float]) -> float:
    collected = list(values)
    return sum(collected) / len(collected) if collected else math.nan


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile `q` (0-1] of already sorted values; NaN when there are none."""
    if not sorted_values:
        return math.nan
    return sorted_values[min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))]
