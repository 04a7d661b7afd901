from __future__ import annotations

import pytest

from rag.retrieve.accents import Accents, fold

ARTICLE = (
    "Rådet för styrning med kunskap består av nio myndigheter. Nätverket för första linjens "
    "socialtjänst startade under hösten 2023. Det är ett sätt att arbeta. Vi träffas två "
    "gånger per år på Teams. Malmö stad och Göteborg är med."
)


@pytest.fixture(scope="module")
def accents() -> Accents:
    return Accents([ARTICLE])  # with wordfreq's Swedish frequencies


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("hur manga myndigheter ingar i radet", "hur många myndigheter ingår i rådet"),
        ("nar startade natverket for forsta linjen", "när startade nätverket för första linjen"),
        ("Radet i Malmo", "Rådet i Malmö"),  # the user's capitals kept
        ("vilket ar startade det", "vilket år startade det"),  # the neighbour chooses
        ("vem ar med fran goteborg", "vem är med från göteborg"),  # "från": a function word
    ],
)
def test_words_typed_without_accents_are_read_as_the_corpus_writes_them(
    accents: Accents, typed: str, read: str
) -> None:
    assert accents.restore(typed) == read


@pytest.mark.parametrize(
    "question",
    [
        "vilka satt i panelen",  # "satt" is a Swedish word: not "sätt"
        "var ligger det",  # "var" is a function word of its own
        "När startade nätverket för forsta linjen?",  # typed with accents: left as typed
        "when did the network for the first line start at Teams",  # English: "at", "for" kept
    ],
)
def test_words_of_their_own_and_other_questions_are_left_alone(
    accents: Accents, question: str
) -> None:
    assert accents.restore(question) == question


def test_a_folded_word_is_read_as_its_commonest_form() -> None:
    accents = Accents([], {"ökade": 1e-5, "okade": 1e-9, "laget": 1e-5, "läget": 1e-5})
    assert accents.restore("okade laget") == "ökade laget"  # "laget" is as common as "läget"
    assert fold("Rådet för äldre") == "Radet for aldre"
