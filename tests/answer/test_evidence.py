from __future__ import annotations

import pytest

from rag.answer.evidence import (
    Asked,
    Names,
    asked_value,
    holds_value,
    name_after,
    names_named,
    only_pending,
)
from rag.retrieve.lexical import terms
from rag.types import Chunk


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Hur många invånare har Nordmaling?", Asked.COUNT),
        ("How many members took part?", Asked.COUNT),
        ("Vilket år började Per Sandberg i FSS?", Asked.YEAR),
        ("Vad tjänar Harry Lönnebacke i månaden?", Asked.MONEY),
        ("Vilken budget har Rådet för styrning med kunskap?", Asked.MONEY),
        ("What is the council's annual budget?", Asked.MONEY),
        ("How many million kronor has the state promised?", Asked.MONEY),
        ("Hur gammal är Olivia Wigzell?", Asked.AGE),
        ("How old is Olivia Wigzell?", Asked.AGE),
        ("Vad sa panelen om budgetläget i kommunerna?", None),
        ("Hur länge har SBU granskat socialtjänsten?", Asked.DURATION),
        ("Hur många år av erfarenhet har SBU?", Asked.DURATION),
        ("Hur stor andel av recepten är elektroniska?", Asked.SHARE),
        ("Var hölls Socialchefsdagarna 2023?", Asked.PLACE),
        ("Från vilka kommuner kom de intervjuade?", Asked.PLACE),
        ("Which city digitised its services?", Asked.PLACE),
        ("Varför behövs en ny lag?", None),
        ("vilken tid börjar nätverkets teamsmöten?", Asked.TIME),
        ("What time does the workshop start?", Asked.TIME),
        ("När grundades FSS?", Asked.DATE),
        ("When was Socialstyrelsen founded?", Asked.DATE),
        ("Vilka datum gällde för workshopen?", Asked.DATE),
        ("Where and on which dates will Socialchefsdagarna 2024 be held?", Asked.DATE),
        ("Vad hände när huset byggdes?", None),
        ("Vad heter utredningen som Anna Burston tar upp?", Asked.NAME),
        ("What is the name of the network?", Asked.NAME),
        ("Vad heter det på engelska?", Asked.NAME),
    ],
)
def test_asked_value_kind(question: str, kind: Asked | None) -> None:
    assert asked_value(question) is kind


@pytest.mark.parametrize(
    ("kind", "quote", "holds"),
    [
        (Asked.COUNT, "Tack! 19 medlemmar deltog i workshopen.", True),
        (Asked.COUNT, "Det kom omkring tusen medlemmar.", True),
        (Asked.COUNT, "99 procent av alla recept är elektroniska.", False),  # a share, not a count
        (Asked.COUNT, "Mötet hölls den 24 januari 2024 klockan 15.00.", False),  # dates and times
        (Asked.COUNT, "Ett mindre antal kommuner deltar.", False),
        (Asked.COUNT, "Rådet består av nio myndigheter.", False),  # counts something else
        (Asked.YEAR, "Sedan jag började i FSS 1999.", True),
        (Asked.AGE, "Olivia Wigzell, 58 år, är generaldirektör.", True),
        (Asked.AGE, "Hon är född 1966 i Stockholm.", True),
        (Asked.AGE, "Hon har arbetat tolv år som chef och leder nio myndigheter.", False),
        (Asked.MONEY, "Staten har utlovat 500 miljoner kronor.", True),
        (Asked.YEAR, "Det tog fyra månader.", False),
        (Asked.MONEY, "Kommunen betalade ut höga summor för försörjningsstöd.", False),
        (Asked.MONEY, "Avgiften är 2 500 kronor.", True),
        (Asked.DURATION, "Det tog exempelvis fyra månader att arbeta med rummet.", True),
        (Asked.DURATION, "De fick stöd av FoU.", False),
        (Asked.DURATION, "Omställningsmedel är utlovade till 2028.", True),  # until when
        (Asked.DURATION, "Omställningen började 2023.", False),
        (Asked.SHARE, "Doktoranden jobbar halvtid inom socialtjänsten.", True),
        (Asked.SHARE, "Cirka 7500 innevånare.", False),
        (Asked.SHARE, "Två tredjedelar av kommunerna svarade.", True),
        (Asked.SHARE, "Projektet tar fram digitala hjälpmedel för vården.", False),  # -del
        (Asked.TIME, "och alltid klockan 15.00–15.45 om inget annat anges.", True),
        (Asked.TIME, "Vi ses kl. 9 på måndag.", True),
        (Asked.TIME, "Träffarna hålls på Teams varannan månad.", False),
        (Asked.DATE, "Under hösten 2023 drog vi igång ett nätverk.", True),
        (Asked.DATE, "Vi träffas den 18 april klockan 16.15.", True),
        (Asked.DATE, "Utredningen har i grunden en bra utgångspunkt.", False),
        (Asked.NUMBER, "Satsningen kostade 1,2 miljoner kronor.", True),
        (Asked.NUMBER, "Hon blir chef från den 15 november 2023.", False),  # "hur mycket": no date
    ],
)
def test_quote_holds_the_asked_value(kind: Asked, quote: str, holds: bool) -> None:
    assert holds_value(kind, quote, "Hur många medlemmar, 2023?") is holds


def test_people_are_counted_under_other_names() -> None:
    question = "Ungefär hur många människor var där?"
    assert holds_value(Asked.COUNT, "Sorlet från omkring tusen personer.", question)
    assert holds_value(Asked.COUNT, "Sorlet från omkring tusen personer.", "Hur många besökare?")
    assert holds_value(Asked.COUNT, "Det fanns 30 anställda på IFO.", "Hur många jobbade där?")
    assert not holds_value(Asked.COUNT, "Kommunen har 7500 invånare.", "Hur många barn?")
    assert holds_value(Asked.COUNT, "Kommunen har 7500 invånare.", "Hur många bor i kommunen?")
    assert not holds_value(Asked.COUNT, "Kommunen har 12 chefer.", "Hur många bor i kommunen?")


@pytest.mark.parametrize(
    ("quote", "holds"),
    [
        ("Den 20 oktober kl. 16.00 håller FSS en digital workshop.", False),
        ("Vi kopplar upp oss klockan 16.00 och beräknas hålla på till 17.30.", True),
        ("och alltid klockan 15.00–15.45 om inget annat anges.", True),
    ],
)
def test_a_question_for_a_time_span_needs_its_start_and_end(quote: str, holds: bool) -> None:
    assert holds_value(Asked.TIME, quote, "Mellan vilka klockslag pågick workshopen?") is holds
    assert holds_value(Asked.TIME, quote, "Vilken tid började workshopen?")


def test_a_number_the_question_gives_is_no_answer() -> None:
    assert not holds_value(Asked.YEAR, "Socialchefsdagarna 2023 i Karlstad.", "Vilket år, 2023?")


def _chunk(title: str, text: str) -> Chunk:
    return Chunk(title, "a.txt", title, "", 0, len(text), text, f"{title}\n{text}")


def test_names_from_corpus_case_and_question_case() -> None:
    chunks = [
        _chunk("Huset", "Seminariet i Nordmaling leddes av Harry Lönnebacke, chef i Nordmaling."),
        _chunk("Tillit", "I veckan var det förvaltningsdag i Lund, där tillit diskuterades."),
    ]
    names = Names(chunks, [terms(c.embed_text) for c in chunks])
    asked = names.in_question("hur många invånare har nordmaling enligt Harry?")
    assert asked == terms("nordmaling harry")
    assert names.mentioned(chunks[0], asked) == asked
    assert names.mentioned(chunks[1], asked) == []


def test_an_english_question_names_only_what_the_corpus_names() -> None:
    """The English "House" translates "Huset", and no Swedish article writes it so."""
    chunks = [_chunk("Huset", "Seminariet i Nordmaling om Huset leddes av Harry Lönnebacke.")]
    names = Names(chunks, [terms(c.embed_text) for c in chunks])
    assert names.in_question("What is the House model in Nordmaling?") == terms("nordmaling")
    assert names.in_question("Vad är House-modellen i Nordmaling?") == terms("house nordmaling")


def test_an_english_question_names_no_lowercase_word_nor_domain_term() -> None:
    """The corpus writes "Social Services" and "Council" capitalised in English names."""
    text = "I höstas var FSS på European Social Services Conference och i Council of Europe."
    chunks = [_chunk("Resan", text)]
    names = Names(chunks, [terms(c.embed_text) for c in chunks])
    assert names.in_question("When did FSS start its network for social services?") == terms("fss")
    assert names.in_question("Who leads the Council for knowledge-based governance?") == []
    assert names.in_question("Who spoke at the European Conference?") == terms("european")


@pytest.mark.parametrize(
    ("question", "quote", "named"),
    [
        (
            "Vad heter utredningen som …?",
            "Jag tänker på utredningen Ett fönster av möjligheter.",
            True,
        ),
        ("Vad heter utredningen som …?", "Enligt FSS blir utredningen dock motsägelsefull.", False),
        ("Vad heter utredningen som …?", "Vi läste utredningen. Den fick i uppdrag …", False),
        ("Vad heter modellen?", "Modellen kallas ”Huset” i Nordmaling.", True),
        ("Vad heter IVO:s generaldirektör?", "IVO:s generaldirektör Sofia Wallström talade.", True),
        # "social" is part of the asked noun, not the noun itself
        ("Vad heter Malmö stads socialdirektör?", "Hon arbetar på Social Services i Malmö.", False),
        (
            "Vad heter Malmö stads socialdirektör?",
            "Malmö stads socialdirektör Anna Andersson.",
            True,
        ),
        ("Vad heter FSS ordförande?", "FSS ordförande FSS var där.", False),  # already asked
        (  # a hashtag, after a non-breaking space
            "Vad heter Suffolks kampanj mot desinformation?",
            "De inspirerade oss med sin kampanj\xa0#SupportSocialCare om socialtjänsten.",
            True,
        ),
    ],
)
def test_a_name_question_needs_a_name_after_the_noun(
    question: str, quote: str, named: bool
) -> None:
    assert holds_value(Asked.NAME, quote, question) is named
    assert names_named(quote, question) is named


@pytest.mark.parametrize(
    ("quote", "named"),
    [
        ("Under denna tid implementerades ledningssystemet Stratsys i kommunen.", True),
        ("Hur skapar Nordmaling ett kvalitetsledningssystem som integrerar visionen?", False),
        ("Ledningssystemet byggdes. Stratsys kom sedan.", False),  # across sentences
    ],
)
def test_a_name_after_the_asked_noun(quote: str, named: bool) -> None:
    assert name_after("ledningssystem", quote, "Vilket ledningssystem infördes?") is named


@pytest.mark.parametrize(
    ("quote", "question", "pending"),
    [
        ("Vi inväntar besked om vem som blir vår medpart.", "Vem blev FSS medpart?", True),
        ("Nu kommer FSS att påbörja remissvaret.", "Vad stod i FSS remissvar?", True),
        ("Nu kommer FSS att påbörja remissvaret.", "Vad ska FSS göra nu?", False),  # plans
        ("FSS skickade in remissvaret i november.", "Vad stod i FSS remissvar?", False),
        ("Vi får se vad som faller ut där.", "What did Statskontoret conclude?", True),
    ],
)
def test_a_quote_saying_the_outcome_is_pending(quote: str, question: str, pending: bool) -> None:
    assert only_pending(quote, question) is pending


@pytest.mark.parametrize(
    ("quote", "place"),
    [
        ("Anna Burston, verksamhetschef i Lund; Malin Johansson, socialchef i Härryda.", True),
        ("Malmö stad gästade oss och berättade om tillit.", True),
        ("Till min glädje får min hemstad Karlstad vara värd.", True),
        ("Samtalsledare Petra West Stenkvist (Malmö), FSS riksstyrelse.", True),
        ("Rådet (RSK) samordnar myndigheterna.", False),  # an acronym follows no name
        ("I veckan hade vi förvaltningsdag i Lund.", False),  # the asked Lund
        ("De avsatte mer tid i början.", False),
    ],
)
def test_a_place_question_prefers_quotes_naming_a_place(quote: str, place: bool) -> None:
    question = "Vilka städer besökte förvaltningen i Lund?"
    assert holds_value(Asked.PLACE, quote, question) is place
