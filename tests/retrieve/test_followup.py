from __future__ import annotations

import pytest

from rag.pipeline import Pipeline
from rag.retrieve.followup import asks_for_more, missing_referent, needs_context, rule_query
from rag.retrieve.lexical import TermWeights, terms
from rag.types import Answer, Searched, Turn

HUSET = "003_7b0b9db67c0573bb.txt"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Hur många invånare har den?", True),
        ("Och i Umeå?", True),
        ("Vem är hon?", True),
        ("What about them?", True),
        ("gav hon nåt konkret exempel på vad verksamheter gör", True),  # pronoun, many words
        ("och vad menar kommunen med sin vision om barns rättigheter", True),  # continues
        ("finns det någon forskning om tidiga insatser i kommunerna", False),  # "det" is dummy
        ("Var hölls Socialchefsdagarna 2023?", False),
        ("Vad är Huset i Nordmalings kommun?", False),
        ("Hur många medlemmar deltog i FSS workshop om äldreomsorgslag?", False),
    ],
)
def test_needs_context(question: str, expected: bool) -> None:
    assert needs_context(question) is expected


def test_a_switch_of_language_with_few_words_leans_on_the_last_turn() -> None:
    history = [Turn("Vad är Rådet för styrning med kunskap?")]
    assert needs_context("who is going to review how the council works?", history)
    assert not needs_context("who is going to review how the council works?")
    long_switch = "Which agencies sent their director generals to the panel in Östersund 2017?"
    assert not needs_context(long_switch.replace("their ", ""), history)


def test_rule_builds_on_the_query_the_last_turn_searched() -> None:
    history = [Turn("Vem ledde det?", searched="Huset Nordmalings kommun Vem ledde det?")]
    query = rule_query("och när började de?", history)
    assert query.startswith("Huset Nordmalings kommun ledde")
    assert query.endswith("och när började de?")


def test_rule_carries_a_name_whole_with_its_function_words() -> None:
    history = [Turn("Vad är Rådet för styrning med kunskap?")]
    query = rule_query("and who leads it?", history)
    assert query == "Rådet för styrning med kunskap and who leads it?"


def test_a_long_chain_carries_the_words_the_corpus_knows_and_hyphenated_names_whole() -> None:
    weights = TermWeights([terms("Monica Persson ordförande FSS"), terms("GD-panelen 2017"), ["x"]])
    searched = "Monica Persson's chair letter after the 2022 conference she got re-elected?"
    query = rule_query(
        "so how long?", [Turn("she got re-elected?", searched=searched)], weights.rarity
    )
    assert query.startswith("Monica Persson")  # not crowded out by eight unknown words
    assert weights.rarity("elected") == 0 < weights.rarity("persson") == weights.idf("persson")
    query = rule_query("och vem ledde den?", [Turn("Vilka satt i GD-panelen 2017?")])
    assert "GD-panelen 2017 och vem" in query


@pytest.mark.parametrize(
    ("question", "word"),
    [
        ("vad tyckte hon om tillit?", "hon"),
        ("What did he say?", "he"),
        ("Vilka samarbetar där?", "där"),
        ("Vem är Anna?", ""),
        ("Vad gör kommunen där jag bor för unga?", ""),
    ],
)
def test_a_first_question_naming_no_one_is_noticed(question: str, word: str) -> None:
    assert missing_referent(question) == word


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


def test_a_first_question_with_a_pronoun_gets_a_notice(seeded_pipeline: Pipeline) -> None:
    answer = seeded_pipeline.ask("vad tyckte hon om tillit?")
    assert "”hon”" in answer.notice
    followed = seeded_pipeline.ask(
        "vad tyckte hon om tillit?", history=[Turn("Vem är Anna Burston?")]
    )
    assert "”hon”" not in followed.notice


def test_a_follow_up_is_answered_on_both_readings(seeded_pipeline: Pipeline) -> None:
    """The answer quotes the article the conversation is about and asks for the question's
    own point: the quote names the 30 employees, not the title the context words match."""
    first = seeded_pipeline.ask("Vad är Huset i Nordmalings kommun?")
    answer = seeded_pipeline.ask("hur många jobbade på IFO då", history=[Turn.of(first)])
    assert "Nordmaling" in answer.searched_query
    assert not answer.abstained
    assert "30 anställda" in answer.text


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("berätta mer", True),
        ("Kan du berätta mer om det?", True),
        ("tell me more", True),
        ("what else did they say?", True),
        ("mer?", True),
        ("Hur många fler chefer anställdes?", False),
        ("vad menar hon med mer tillit?", False),
    ],
)
def test_asks_for_more(question: str, expected: bool) -> None:
    assert asks_for_more(question) is expected


def test_asked_for_more_the_answer_quotes_what_the_last_one_did_not(
    seeded_pipeline: Pipeline,
) -> None:
    first = seeded_pipeline.ask("Vad är Huset i Nordmaling?")
    more = seeded_pipeline.ask("berätta mer", history=[Turn.of(first)])
    assert not more.abstained and more.citations
    assert all(c.quote not in first.text for c in more.citations)
    assert {c.passage.chunk.source for c in more.citations} == {HUSET}


def test_a_pronoun_after_a_who_question_carries_the_person_the_answer_named() -> None:
    who = Turn(
        "vem ledde samtalet i panelen 2021?",
        "Samtalsledare Petra West Stenkvist (Malmö), FSS riksstyrelse. [1]",
        "vem ledde samtalet i panelen 2021?",
    )
    query = rule_query("vad har hon för titel?", [who])
    assert query.startswith("Petra West Stenkvist") and query.endswith("vad har hon för titel?")
    # no pronoun, or a last turn that did not ask who: only the last query's words
    assert "Petra" not in rule_query("och vem skrev texten?", [who])
    what = Turn("vad sa panelen 2021?", who.answer, "vad sa panelen 2021?")
    assert "Petra" not in rule_query("vad tyckte hon?", [what])
    # the pronoun may be the person the last query named: the answer's first name is not carried
    named = Turn(
        "per sandberg, vem ska betala?",
        "Enligt Anna Burston och Per Sandberg betalar ingen. [1]",
        "per sandberg, vem ska betala?",
    )
    query = rule_query("since when has he said so?", [named])
    assert "Anna" not in query and query.startswith("per sandberg")
