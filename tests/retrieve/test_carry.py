"""The learned choice between a follow-up's own words and the conversation's."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from rag.evaluation.metrics import EvalItem
from rag.pipeline import Pipeline
from rag.retrieve.carry import (
    CARRY_FEATURES,
    CarryExample,
    CarryModel,
    CarryModelError,
    carry_features,
    first_hits,
    fit_carry,
    topic_changes,
)
from rag.retrieve.followup import needs_context
from rag.types import Chunk, Passage, Turn

HUSET = "003_7b0b9db67c0573bb.txt"
PANEL_2021 = "000_fbc066887050611f.txt"


def _passage(source: str, score: float) -> Passage:
    chunk = Chunk(f"{source}-0", source, "T", "", 0, 5, "text.", "text.")
    return Passage(chunk, rank=1, score=score)


def test_features_read_the_words_and_both_readings() -> None:
    history = [Turn("Vad är Huset i Nordmalings kommun?", searched="Huset Nordmalings kommun")]
    alone = [_passage("a.txt", 1 / 60), _passage("b.txt", 0.01)]
    carried = [_passage("h.txt", 2 / 60)]
    last = [_passage("h.txt", 2 / 60), _passage("a.txt", 0.01)]
    values = dict(
        zip(
            CARRY_FEATURES,
            carry_features("Hur många bor där?", history, lambda t: 2.0, alone, carried, last),
            strict=True,
        )
    )
    assert values["needs_context"] == 1.0 and values["points_back"] == 1.0
    assert values["alone_agreement"] == pytest.approx(1.0)
    assert values["carried_agreement"] == pytest.approx(2.0)
    assert values["same_first_article"] == 0.0 and values["last_first_article"] == 0.0
    assert values["shared_with_last"] == 1.0  # a.txt is among both top threes


def _example(context: float, alone_rank: int, carried_rank: int) -> CarryExample:
    features = [context] + [0.0] * (len(CARRY_FEATURES) - 1)
    features[5] = 1.0 + 3 * (1 - context)  # standalone questions have more content words
    return CarryExample(features, alone_rank, carried_rank)


def test_fitted_model_carries_what_the_data_says_and_survives_a_round_trip(
    tmp_path: Path,
) -> None:
    follow_ups = [_example(1.0, 3, 0)] * 20 + [_example(1.0, 0, 0)]
    changes = [_example(0.0, 0, 4)] * 5  # fewer: the two kinds weigh the same
    examples = [*follow_ups, *changes]
    model = fit_carry(follow_ups, changes)
    assert model.carries(follow_ups[0].features) and not model.carries(changes[0].features)
    assert first_hits(examples, model) == 1.0
    assert first_hits([_example(1.0, 0, 5)], None) == 0.0  # the rule carries and misses
    path = tmp_path / "carry.json"
    model.save(path)
    assert CarryModel.load(path) == model
    stale = json.loads(path.read_text()) | {"features": ["other"]}
    path.write_text(json.dumps(stale))
    with pytest.raises(CarryModelError, match="rag train --only carry"):
        CarryModel.load(path)
    with pytest.raises(CarryModelError, match="cannot be read"):
        CarryModel.load(tmp_path / "missing.json")


def test_a_question_both_readings_keep_on_the_last_turns_article_is_carried() -> None:
    model = fit_carry([_example(1.0, 3, 0)] * 20, [_example(0.0, 0, 4)] * 20)
    staying = _example(0.0, 0, 0).features
    assert not model.carries(staying)
    named = dict(zip(CARRY_FEATURES, staying, strict=True))
    named["same_first_article"] = named["last_first_article"] = 1.0
    assert model.carries(list(named.values())) and model.chance(list(named.values())) == 1.0
    assert model.chance(staying) < model.threshold  # the chance the answer model may overrule


def test_topic_changes_pair_questions_of_different_articles_the_same_way_each_time() -> None:
    items = [
        EvalItem(f"q{n}", f"Fråga {n}?", "", (), (f"{n % 3}.txt",), (), "fact") for n in range(9)
    ]
    items.append(replace(items[0], id="f", history=("Före?",)))  # a follow-up is no question
    changes = topic_changes(items, 5)
    assert changes == topic_changes(items, 5) and len(changes) == 5
    by_question = {i.question: i.gold_files[0] for i in items}
    for earlier, question, gold in changes:
        assert by_question[earlier] != gold == by_question[question]


def test_a_change_of_topic_is_searched_alone_and_a_follow_up_with_the_context(
    seeded_pipeline: Pipeline,
) -> None:
    history = [Turn("Vad är Huset i Nordmalings kommun?")]
    switch = "Vad säger IVO om brukarperspektivet?"
    assert needs_context(switch, history)  # the rule alone would carry Huset in front
    query, passages, _ = seeded_pipeline.retrieve(switch, history)
    assert query == switch and passages[0].chunk.source == PANEL_2021
    query, passages, _ = seeded_pipeline.retrieve("Hur många invånare har den?", history)
    assert "Nordmalings" in query and passages[0].chunk.source == HUSET


def test_a_follow_up_read_alone_is_carried_when_the_answer_model_finds_an_answer_only_so(
    seeded_pipeline: Pipeline,
) -> None:
    history = [Turn.of(seeded_pipeline.ask("per sandberg i panelen 2021, vem ska betala?"))]
    question = "since what year has he been saying that?"
    by_words, _, _ = seeded_pipeline.retrieve(question, history, weigh_answers=False)
    assert by_words == question  # the follow-up model reads it alone
    query, passages, _ = seeded_pipeline.retrieve(question, history)
    assert query.startswith("per sandberg")
    answer = seeded_pipeline.answer_from(question, passages[:5], query)
    assert "1999" in answer.text and not answer.abstained
