"""The verification benchmark: planted errors change one sentence the way they claim to."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np

from rag.answer.prompts import answer_messages
from rag.answer.verify import SUPPORT_FEATURES
from rag.evaluation.verification import (
    FAITHFUL,
    HELD_PART,
    MAX_FALSE_ALARMS,
    SupportRows,
    VerifyItem,
    VerifyOutcome,
    build_benchmark,
    fit_support_model,
    item_record,
    judge,
    load_benchmark,
    plant_errors,
    rates,
)
from rag.pipeline import Pipeline
from rag.types import Chunk, Passage

TEXT_1 = "Nätverket startade i Lund 2019. Tre kommuner deltar: Lund, Malmö och Ystad."
TEXT_2 = "Kaffe serveras i foajén. Anmälan görs på webben."
ANSWER = "Nätverket startade 2019 i Lund [1]. Tre kommuner är med: Lund, Malmö och Ystad [1]."


def _item() -> VerifyItem:
    chunks = [
        Chunk("c1", "a.txt", "Nätverket", "", 0, len(TEXT_1), TEXT_1, TEXT_1),
        Chunk("c2", "b.txt", "Praktiskt", "", 0, len(TEXT_2), TEXT_2, TEXT_2),
    ]
    passages = tuple(Passage(c, n, 0.0) for n, c in enumerate(chunks, start=1))
    return VerifyItem("v1", "När startade nätverket?", ANSWER, passages)


def test_each_planted_copy_changes_one_sentence_of_the_answer() -> None:
    copies = plant_errors(_item(), ["Umeå", "Kiruna"])
    kinds = {c.kind for c in copies}
    assert {"number", "number_word", "name", "negation", "outside", "wrong_passage"} == kinds
    for copy in copies:
        assert copy.planted in copy.answer and copy.planted not in ANSWER
        changed = [s for s in copy.answer.split("].") if s + "]." not in ANSWER + "]."]
        assert len(changed) >= 1
    by_kind = {c.kind: c for c in copies}
    assert not re.search(r"\b2019\b", by_kind["number"].planted)
    assert "Tre" not in by_kind["number_word"].planted
    assert "Umeå" in by_kind["name"].planted or "Kiruna" in by_kind["name"].planted
    assert "inte" in by_kind["negation"].planted
    assert "[2]" in by_kind["wrong_passage"].planted
    assert copies == plant_errors(_item(), ["Umeå", "Kiruna"])  # deterministic


def test_benchmark_items_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "v.jsonl"
    items = [_item(), *plant_errors(_item(), ["Umeå"])]
    path.write_text("".join(json.dumps(item_record(i)) + "\n" for i in items))
    assert load_benchmark(path) == items


def test_rates_count_false_alarms_and_caught_errors() -> None:
    def outcome(kind: str, flagged: int, caught: bool) -> VerifyOutcome:
        return VerifyOutcome("x", kind, "train", "sv", flagged, False, caught, ())

    figures = rates(
        [outcome(FAITHFUL, 0, False), outcome(FAITHFUL, 1, False), outcome("number", 1, True)]
    )
    assert figures["faithful_with_a_flag"] == 0.5
    assert figures["planted_caught"] == 1.0 and figures["caught:number"] == 1.0


def test_a_benchmark_built_from_recorded_prompts_is_scored(
    seeded_pipeline: Pipeline, tmp_path: Path
) -> None:
    """Recorded prompt -> written answer -> benchmark items -> the real verifier's verdicts."""
    question = "Hur många anställda fanns på IFO i Nordmaling?"
    passages = seeded_pipeline.search(question)
    messages = answer_messages(question, passages)
    key = hashlib.sha1(str(messages[-1].content).encode()).hexdigest()
    record = {"key": key, "messages": [{"role": m.type, "content": m.content} for m in messages]}
    n = next(i for i, p in enumerate(passages, start=1) if "30 anställda" in p.chunk.text)
    answer = f"Det fanns 30 anställda på IFO i Nordmaling [{n}]."
    prompts, answers = tmp_path / "prompts.jsonl", tmp_path / "answers.json"
    line = json.dumps(record, ensure_ascii=False) + "\n"
    prompts.write_text(line * 2, encoding="utf-8")  # the same prompt recorded twice
    answers.write_text(json.dumps({key: answer}, ensure_ascii=False), encoding="utf-8")
    items = build_benchmark(
        prompts, answers, seeded_pipeline.search, seeded_pipeline.indexed_chunks
    )
    kinds = {i.kind: i for i in items}
    assert kinds["faithful"].answer == answer and "number" in kinds
    assert sum(i.kind == "faithful" for i in items) == 1  # one answer per prompt
    assert {i.part for i in items} == {"train"}  # the first of every three trains
    again = build_benchmark(
        prompts, answers, seeded_pipeline.search, seeded_pipeline.indexed_chunks, part=HELD_PART
    )
    assert {i.part for i in again} == {HELD_PART} == {"fresh"}  # what --part fresh scores
    verify = seeded_pipeline.verifier.verify
    assert judge(kinds["faithful"], verify).flagged == 0
    assert judge(kinds["number"], verify).caught


def test_the_support_model_keeps_false_alarms_within_each_languages_budget() -> None:
    """Faithful claims (0) and unsupported ones (1) that overlap: the thresholds hold the
    out-of-fold false alarms to the budget and still catch the clearly unsupported."""
    rng = np.random.default_rng(0)
    rows = SupportRows([], [], [], {"sv": 100, "en": 100})
    for n in range(400):
        label, language = n % 2, ("sv", "en")[n // 2 % 2]
        values = dict.fromkeys(SUPPORT_FEATURES, 0.0)
        values["coverage"] = float(rng.normal(0.2 if label else 0.8, 0.15))
        values["english"] = float(language == "en")
        rows.features.append(values)
        rows.labels.append(label)
        rows.groups.append(f"{language}:a{n // 4}")
    model, figures = fit_support_model(rows)
    for language in ("sv", "en"):
        assert figures[f"cv_faithful_flagged:{language}"] <= MAX_FALSE_ALARMS[language]
        assert figures[f"cv_unsupported_caught:{language}"] > 0.8
    assert model.flags({**dict.fromkeys(SUPPORT_FEATURES, 0.0), "coverage": -0.2})
    assert not model.flags({**dict.fromkeys(SUPPORT_FEATURES, 0.0), "coverage": 1.0})


def test_a_language_without_planted_kind_shows_a_dash_in_the_table() -> None:
    from rag.evaluation.report import metrics_table

    table = metrics_table({"sv": {"a": 1.0, "caught:name": 0.5}, "en": {"a": 0.25}})
    assert "| caught:name | 0.500 | – |" in table and "| a | 1.000 | 0.250 |" in table
