from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import pytest

from rag.evaluation.metrics import (
    EvalItem,
    EvalSetError,
    GoldSpan,
    aggregate,
    gold_spans,
    load_questions,
    names_subject,
    score_item,
    unsupported_numbers,
)
from rag.evaluation.report import _sign_flip_p
from rag.types import Answer, Chunk, Citation, Passage

FILE = "Inledning. Exempelby har 7500 invånare. Boendet har tolv platser. Slut."


def _chunk(start: int, end: int, source: str = "a.txt") -> Chunk:
    return Chunk(f"c{start}", source, "Titel", "", start, end, FILE[start:end], FILE[start:end])


def _item(kind: str = "fact", quotes: tuple[str, ...] = ("7500 invånare",)) -> EvalItem:
    return EvalItem(
        id="x1",
        question="Hur många invånare har Exempelby?",
        answer="7500",
        must_contain=("7500",) if quotes else (),
        gold_files=("a.txt",) if quotes else (),
        gold_quotes=quotes,
        kind=kind,  # type: ignore[arg-type]
    )


def _answer(text: str, cited: list[Chunk], abstained: bool = False) -> Answer:
    passages = [Passage(c, i + 1, 0.9) for i, c in enumerate(cited)]
    citations = tuple(
        Citation(i + 1, p, p.chunk.text, p.chunk.start, p.chunk.end) for i, p in enumerate(passages)
    )
    return Answer("q", text, abstained, citations, tuple(passages))


def test_ranking_metrics_from_the_first_relevant_passage() -> None:
    spans = gold_spans(_item(), {"a.txt": FILE})
    irrelevant, relevant = _chunk(0, 11), _chunk(12, 39)
    ranking = [Passage(irrelevant, 1, 0.9), Passage(relevant, 2, 0.8)]
    scores = score_item(_item(), ranking, _answer("7500 [1]", [relevant]), spans, 1, 5.0)
    assert scores.first_relevant_rank == 2
    assert (scores.hit(1), scores.hit(3)) == (0.0, 1.0)
    assert scores.reciprocal_rank == 0.5
    assert scores.ndcg10 == pytest.approx(1 / 1.5849625, rel=1e-6)
    assert scores.fact_recall_answer == 1.0
    assert (scores.citation_precision, scores.citation_recall) == (1.0, 1.0)


def test_citation_precision_counts_cited_passages_without_gold() -> None:
    spans = gold_spans(_item(), {"a.txt": FILE})
    relevant, other = _chunk(12, 39), _chunk(40, 66)
    answer = _answer("7500 [1] tolv [2]", [relevant, other])
    scores = score_item(_item(), [], answer, spans, 1, 1.0)
    assert scores.citation_precision == 0.5
    assert scores.first_relevant_rank is None and scores.ndcg10 == 0.0


def test_numbers_must_occur_in_cited_passages() -> None:
    cited = [_chunk(12, 39)]
    assert unsupported_numbers(_answer("Exempelby har 7500 invånare [1]", cited)) == ()
    assert unsupported_numbers(_answer("Exempelby har 8000 invånare [1]", cited)) == ("8000",)


def test_refusals_are_scored_against_answerability() -> None:
    unanswerable = score_item(_item("unanswerable", ()), [], _answer("", [], True), [], 0, 1.0)
    wrong_refusal = score_item(
        _item(), [], _answer("", [], True), gold_spans(_item(), {"a.txt": FILE}), 1, 1.0
    )
    metrics = aggregate([unanswerable, wrong_refusal])
    assert metrics["refusal_recall"] == 1.0
    assert metrics["false_refusal_rate"] == 1.0


def test_gold_quote_must_be_verbatim() -> None:
    with pytest.raises(EvalSetError, match="not found verbatim"):
        gold_spans(_item(quotes=("7 500 invånare",)), {"a.txt": FILE})
    assert gold_spans(_item(), {"a.txt": FILE}) == [[GoldSpan("a.txt", 25, 38)]]


def test_question_set_schema_errors_name_the_line(tmp_path: Path) -> None:
    good: dict[str, object] = {
        "id": "a", "question": "?", "answer": "-", "must_contain": [],
        "gold_file": None, "gold_quotes": [], "kind": "unanswerable",
    }  # fmt: skip
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(good | {"kind": "trivia"}) + "\n")
    with pytest.raises(EvalSetError, match=r"q.jsonl:2: kind must be one of"):
        load_questions(path)
    path.write_text(json.dumps({k: v for k, v in good.items() if k != "kind"}) + "\n")
    with pytest.raises(EvalSetError, match=r"q.jsonl:1: 'kind'"):
        load_questions(path)


def test_sign_flip_test_separates_signal_from_noise() -> None:
    rng = random.Random(1)
    assert _sign_flip_p([0.0] * 20, 1000, rng) == 1.0
    assert _sign_flip_p([1.0] * 20, 2000, rng) < 0.01
    assert _sign_flip_p([1.0, -1.0] * 10, 2000, rng) > 0.5


def test_an_item_may_carry_the_earlier_questions_of_its_conversation(tmp_path: Path) -> None:
    base: dict[str, object] = {
        "id": "a", "question": "och förra året?", "answer": "-", "must_contain": [],
        "gold_file": None, "gold_quotes": [], "kind": "unanswerable",
    }  # fmt: skip
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps(base | {"history": ["Vem leder FSS?"]}) + "\n")
    assert load_questions(path)[0].history == ("Vem leder FSS?",)
    path.write_text(json.dumps(base | {"history": "Vem leder FSS?"}) + "\n")
    with pytest.raises(EvalSetError, match=r"q.jsonl:1: history must be a list"):
        load_questions(path)
    path.write_text(json.dumps(base | {"subject": "fss"}) + "\n")
    with pytest.raises(EvalSetError, match=r"q.jsonl:1: subject must be a list"):
        load_questions(path)


def test_a_follow_up_is_scored_on_whether_its_searched_query_names_the_subject() -> None:
    item = replace(_item(), history=("Vad gör Huset i Nordmaling?",), subject=("nordmaling",))
    relevant = _chunk(12, 38)
    named = replace(_answer("7500 [1]", [relevant]), searched_query="Huset Nordmalings invånare")
    lost = replace(named, searched_query="hur många invånare")
    spans = gold_spans(item, {"a.txt": FILE})
    scores = [score_item(item, [], a, spans, 1, 1.0) for a in (named, lost)]
    assert [s.subject_named for s in scores] == [1.0, 0.0]
    assert aggregate(scores)["subject_named"] == 0.5
    assert score_item(_item(), [], named, spans, 1, 1.0).subject_named is None
    assert names_subject("utredningen fönster möjligheter när", ["fönster av möjligheter"])
    assert not names_subject("utredningen fönster när", ["fönster av möjligheter"])


def test_answers_marked_uncertain_are_counted_with_their_facts() -> None:
    spans = gold_spans(_item(), {"a.txt": FILE})
    relevant, other = _chunk(12, 39), _chunk(40, 66)
    right = _answer("7500 [1]", [relevant])
    wrong = replace(_answer("tolv [1]", [other]), uncertain=True)
    refused = replace(_answer("", [], True), uncertain=False)
    scores = [score_item(_item(), [], a, spans, 1, 1.0) for a in (right, wrong, refused)]
    metrics = aggregate(scores)
    assert metrics["uncertain_answers"] == 1.0
    assert metrics["facts_when_uncertain"] == 0.0
    marked_right = score_item(_item(), [], replace(right, uncertain=True), spans, 1, 1.0)
    assert aggregate([marked_right])["facts_when_uncertain"] == 1.0
