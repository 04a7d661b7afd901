"""Extractive answering on hand-made passages: quote windows and across-article questions."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rag.answer.about import article_leads
from rag.answer.evidence import Names
from rag.answer.extractive import AnswerPolicy, ExtractiveAnswerer, _joins_subjects, focus_of
from rag.retrieve.lexical import TermWeights, terms
from rag.types import Answer, Chunk, Passage

TEXT = (
    "Anna Berg är ny socialchef i Umeå kommun sedan i våras. "
    "Hon har tidigare arbetat tolv år som enhetschef inom äldreomsorgen i Luleå. "
    "Kommunen har omkring 130000 invånare och växer."
)


def _passage(text: str = TEXT) -> Passage:
    chunk = Chunk("c1", "a.txt", "Ny chef", "", 100, 100 + len(text), text, text)
    return Passage(chunk, rank=1, score=1.0, dense_score=0.9)


def _answerer(**policy: object) -> ExtractiveAnswerer:
    weights = TermWeights([terms(sentence) for sentence in TEXT.split(". ")])
    return ExtractiveAnswerer(weights, AnswerPolicy(max_sentences=1, **policy))  # type: ignore[arg-type]


def test_a_quote_opening_with_a_pronoun_starts_with_who_it_means() -> None:
    question = "Hur länge har hon varit enhetschef inom äldreomsorgen?"
    answer = _answerer().answer(question, [_passage()])
    assert not answer.abstained
    quote = answer.citations[0].quote
    assert quote.startswith("Anna Berg är ny socialchef")
    assert "tolv år som enhetschef" in quote
    citation = answer.citations[0]
    assert TEXT[citation.start - 100 : citation.end - 100] == quote


def test_without_antecedent_the_quote_starts_at_the_matching_sentence() -> None:
    answer = _answerer(antecedent=False).answer(
        "Hur länge har hon varit enhetschef inom äldreomsorgen?", [_passage()]
    )
    assert answer.citations[0].quote.startswith("Hon har tidigare arbetat")


def test_a_long_antecedent_is_not_quoted() -> None:
    long_first = "Anna Berg " + "och många andra kolleger " * 20 + "är nya i kommunen. "
    text = long_first + "Hon har tidigare arbetat tolv år som enhetschef inom äldreomsorgen."
    question = "Hur länge var hon enhetschef inom äldreomsorgen?"
    answer = _answerer().answer(question, [_passage(text)])
    assert answer.citations[0].quote.startswith("Hon har tidigare arbetat")


@pytest.mark.parametrize(
    ("question", "joins"),
    [
        ("Vad sa Anna Berg och Per Sandberg om budgeten?", True),
        ("What did the panel and the minister say?", True),
        ("Vilka två områden pekar rapporten ut?", True),
        ("När och var hölls Socialchefsdagarna 2023?", False),
        ("När och hur startade projektet?", False),
        ("When and where was the conference held?", False),
        ("Var hölls Socialchefsdagarna 2023?", False),
    ],
)
def test_question_words_joined_by_and_are_one_subject(question: str, joins: bool) -> None:
    assert _joins_subjects(question) is joins


@pytest.mark.parametrize(
    "question",
    [
        "I vilket sammanhang nämns uttrycket ekonomiskt bistånd?",
        "In what context is the expression economic assistance used?",
    ],
)
def test_words_about_wording_are_not_content_words(question: str) -> None:
    stems = terms(question)
    assert not {"sammanhang", "uttryck", "context", "expression"} & set(stems)
    assert stems  # the subject itself remains


def test_a_quote_that_only_repeats_the_question_is_no_answer() -> None:
    byline = "Monica Persson, ordförande i FSS sedan dess."
    answerer = _answerer()
    question = "Vem efterträdde Monica Persson som ordförande i FSS?"
    assert answerer.answer(question, [_passage(byline)]).abstained
    assert not _answerer(says_more=False).answer(question, [_passage(byline)]).abstained


PANEL = (
    "Samtalsledare var Petra West Stenkvist från riksstyrelsen. "
    "Lokalen var full redan före start och stämningen var god. "
    "Panelsamtal om framtidens socialtjänst hölls på Socialchefsdagarna i Malmö i november."
)


@pytest.mark.parametrize(("focus_weight", "named"), [(2.0, True), (1.0, False)])
def test_the_noun_a_question_asks_about_weighs_more(focus_weight: float, named: bool) -> None:
    chunk = Chunk("c1", "a.txt", "Panel", "", 0, len(PANEL), PANEL, PANEL)
    weights = TermWeights([terms(sentence) for sentence in PANEL.split(". ")])
    policy = AnswerPolicy(focus_weight=focus_weight)
    question = "Vem var samtalsledare för panelsamtalet om framtidens socialtjänst i Malmö?"
    answer = ExtractiveAnswerer(weights, policy).answer(
        question, [Passage(chunk, rank=1, score=1.0, dense_score=0.9)]
    )
    assert ("Petra West Stenkvist" in answer.text) is named


@pytest.mark.parametrize(
    ("question", "focus"),
    [
        ("Vem var samtalsledare för panelsamtalet?", "samtalsled"),
        ("Vilket material från Socialstyrelsen hämtas oftast?", "material"),
        ("Vilka två personer håller i träffarna?", "person"),
        ("Which agency will investigate the council?", "agency"),
        ("Vad heter utredningen?", None),
    ],
)
def test_focus_of_a_question(question: str, focus: str | None) -> None:
    assert focus_of(question) == focus


@pytest.mark.parametrize(
    ("question", "spare_names", "answered"),
    [
        # Of four or five names, the article mentions three: one may be spared, not two.
        ("Vad sa Anna Berg i Umeå om Kiruna och Gällivare?", 1, False),
        ("Vad sa Anna Berg i Umeå om äldreomsorgen i Kiruna?", 1, True),
        ("Vad sa Anna Berg i Umeå om äldreomsorgen i Kiruna?", 0, False),
        # Two names: both must be mentioned.
        ("Vad sa Anna Lind om äldreomsorgen?", 1, False),
    ],
)
def test_one_name_of_three_or_more_may_be_unmentioned(
    question: str, spare_names: int, answered: bool
) -> None:
    chunk = _passage().chunk
    names = Names([chunk], [terms(chunk.embed_text)])
    weights = TermWeights([terms(sentence) for sentence in TEXT.split(". ")])
    policy = AnswerPolicy(max_sentences=1, spare_names=spare_names)
    answer = ExtractiveAnswerer(weights, policy, names, article_leads([chunk])).answer(
        question, [_passage()]
    )
    assert answer.abstained is not answered


NEW_CHIEF = "Anna Berg är ny socialchef i Umeå kommun sedan i våras."
SEARCH = "Umeå kommun har sökt en ny socialchef länge och fick många sökande till tjänsten."


def _answer_from_passages(question: str, texts: list[str], policy: AnswerPolicy) -> Answer:
    """`question` answered from one passage per text, in that rank order, 500 chars apart."""
    chunks = [
        Chunk(f"c{n}", "a.txt", "Ny chef", "", 500 * n, 500 * n + len(text), text, text)
        for n, text in enumerate(texts, start=1)
    ]
    weights = TermWeights([*(terms(text) for text in texts), terms(TEXT)])
    passages = [Passage(c, rank=n, score=1.0, dense_score=0.9) for n, c in enumerate(chunks, 1)]
    return ExtractiveAnswerer(weights, policy).answer(question, passages)


@pytest.mark.parametrize(("min_gain", "cited"), [(0.1, 1), (0.0, 2)])
def test_once_answered_a_further_passage_must_add_to_the_answer(
    min_gain: float, cited: int
) -> None:
    policy = AnswerPolicy(narrow_min_gain=min_gain)
    answer = _answer_from_passages("Vem är ny socialchef i Umeå?", [NEW_CHIEF, SEARCH], policy)
    assert answer.citations[0].quote == NEW_CHIEF
    assert len({c.passage.chunk.id for c in answer.citations}) == cited


@pytest.mark.parametrize(
    ("question", "cited"),
    [("Vem är ny socialchef i Umeå?", 1), ("Sammanfatta vem som är ny socialchef i Umeå.", 2)],
)
def test_a_summary_may_draw_on_passages_a_narrow_question_may_not(
    question: str, cited: int
) -> None:
    policy = AnswerPolicy(min_gain=0.0, narrow_min_gain=1.0)
    answer = _answer_from_passages(question, [NEW_CHIEF, SEARCH], policy)
    assert len({c.passage.chunk.id for c in answer.citations}) == cited


@pytest.mark.parametrize(
    ("question", "value_alone", "cited"),
    [
        ("Hur många invånare har kommunen?", True, 1),
        ("Hur många invånare har kommunen?", False, 2),
        ("Hur många invånare har kommunerna Umeå och Luleå?", True, 2),
    ],
)
def test_once_the_value_asked_for_is_quoted_other_passages_are_not(
    question: str, value_alone: bool, cited: int
) -> None:
    texts = [
        "Umeå kommun har omkring 130000 invånare och växer varje år.",
        "Luleå kommun har omkring 80000 invånare och växer också.",
    ]
    policy = AnswerPolicy(value_alone=value_alone, narrow_min_gain=0.0)
    answer = _answer_from_passages(question, texts, policy)
    assert "130000" in answer.citations[0].quote
    assert len(answer.citations) == cited


@pytest.mark.parametrize(("name_weight", "opening"), [(1.0, "Hälsningar"), (0.3, "Budgeten")])
def test_names_weigh_less_than_what_is_asked_about_them(name_weight: float, opening: str) -> None:
    text = (
        "Budgeten för äldreomsorgen ökar med tio procent nästa år, skriver hon.\n\n"
        "Hälsningar Anna Berg, socialchef i Umeå kommun."
    )
    passage = _passage(text)
    names = Names([passage.chunk], [terms(passage.chunk.embed_text)])
    weights = TermWeights([terms(sentence) for sentence in [*TEXT.split(". "), *text.split(". ")]])
    policy = AnswerPolicy(max_sentences=1, name_weight=name_weight, max_window_chars=0)
    answer = ExtractiveAnswerer(weights, policy, names).answer(
        "Vad tycker Anna Berg om budgeten?", [passage]
    )
    assert answer.citations[0].quote.startswith(opening)


@pytest.mark.parametrize(
    ("question", "answered"),
    [
        ("What does the blog post say about de-implementation?", True),
        ("What does the blog post say about housing allowance?", False),
    ],
)
def test_an_english_question_needs_the_swedish_words_of_its_terms(
    question: str, answered: bool
) -> None:
    """ "Blog post" names the kind of text, which the text itself does not write."""
    text = "Avimplementering handlar om att sluta med det som inte fungerar i socialtjänsten."
    passage = replace(_passage(text), dense_score=0.83)  # neither weak nor confident
    assert _answerer().answer(question, [passage]).abstained is not answered
