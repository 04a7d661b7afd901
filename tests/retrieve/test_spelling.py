from __future__ import annotations

import pytest

from rag.retrieve.lexical import terms
from rag.retrieve.spelling import Spelling

ARTICLE = (
    "Anna Burston berättade om hembesök i Nordmaling. Socialchefsdagarna hölls i Göteborg "
    "med ett panelsamtal om samtalsledare och tillsyn. IVO har en tipsfunktion."
)


@pytest.fixture(scope="module")
def spelling() -> Spelling:
    return Spelling([ARTICLE], terms(ARTICLE))  # with wordfreq's Swedish and English words


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("hur gick hembtsök till", "hur gick hembesök till"),
        ("vad sa Socialchefsdgrana", "vad sa Socialchefsdagarna"),  # two edits in a long word
        ("Vad sa Anna Burstn?", "Vad sa Anna Burston?"),  # the user's capital kept
        ("hur går tilsyn till", "hur går tillsyn till"),
        ("var hölls Socialchefsdgarna", "var hölls Socialchefsdagarna"),
        ("how was the elderlly care", "how was the elderly care"),  # the glossary's word
    ],
)
def test_misspelt_words_are_read_as_the_articles_word(
    spelling: Spelling, typed: str, meant: str
) -> None:
    assert spelling.correct(typed) == meant


@pytest.mark.parametrize(
    "question",
    [
        "vad sa de i panelsamtalet",  # another form of the articles' word
        "hur fungerar tipsfunktionen hos ivo",  # same stem
        "vad är en tipsruta",  # a compound of two words ("tips", "ruta")
        "what did they say about trust",  # English words in common use
        "vilka kunde vara med",  # Swedish words in common use
        "hur många år 2023",  # short words and numbers
        "vad gör Xqzvbn",  # nothing of the articles is near
    ],
)
def test_real_words_and_unknown_names_stay_as_typed(spelling: Spelling, question: str) -> None:
    assert spelling.correct(question) == question
