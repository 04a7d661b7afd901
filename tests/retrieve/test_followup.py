from __future__ import annotations

import pytest

from rag.pipeline import Pipeline
from rag.retrieve.followup import needs_context, rule_query
from rag.types import Answer, Searched, Turn

HUSET = "003_7b0b9db67c0573bb.txt"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Hur många invånare har den?", True),
        ("Och i Umeå?", True),
        ("Vem är hon?", True),
        ("What about them?", True),
        ("Var hölls Socialchefsdagarna 2023?", False),
        ("Vad är Huset i Nordmalings kommun?", False),
        ("Hur många medlemmar deltog i FSS workshop om äldreomsorgslag?", False),
    ],
)
def test_needs_context(question: str, expected: bool) -> None:
    assert needs_context(question) is expected


def test_rule_carries_content_words_through_a_chain_of_follow_ups() -> None:
    history = [Turn("Vad är Huset i Nordmalings kommun?"), Turn("Vem ledde det?")]
    query = rule_query("Hur många invånare har den?", history)
    assert query.endswith("Hur många invånare har den?")
    assert {"Huset", "Nordmalings", "kommun"} <= set(query.split())
    assert rule_query("Var hölls Socialchefsdagarna 2023?", history) == (
        "Var hölls Socialchefsdagarna 2023?"
    )
    assert rule_query("Vem ledde det?", []) == "Vem ledde det?"


def test_follow_up_without_llm_retrieves_the_right_article(seeded_pipeline: Pipeline) -> None:
    question = "Hur många invånare har den?"
    assert seeded_pipeline.search(question)[0].chunk.source != HUSET  # precondition
    history = [Turn("Vad är Huset i Nordmalings kommun?")]
    searched, *_, answer = list(seeded_pipeline.ask_stream(question, history))
    assert isinstance(searched, Searched) and "Nordmalings" in searched.query
    assert isinstance(answer, Answer)
    assert searched.passages[0].chunk.source == HUSET
    assert answer.searched_query == searched.query and answer.question == question
    assert answer.mode == "extractive"
