"""Citation verification on small hand-made passages, with the real e5 embedder."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from rag.answer.extractive import ExtractiveAnswerer
from rag.answer.verify import (
    SUBJECT_MENTIONS,
    SupportModel,
    SupportModelError,
    Verifier,
    _claimed_part,
    _joined_names,
)
from rag.index.embed import RagEmbeddings
from rag.retrieve.lexical import TermWeights, terms
from rag.types import Chunk, Passage

FILE = (
    "Rubrik\n\nNordmaling är en kommun i Västerbotten med cirka 7500 invånare. "
    "Kommunen byggde en modell som kallas Huset för kvalitetsarbete.\n\n"
    "Boendet i Exempelby har tolv platser. Det öppnade i mars efter två års planering."
)
SPLIT = FILE.index("Boendet")


def _passage(n: int, start: int, end: int) -> Passage:
    text = FILE[start:end].strip()
    start = FILE.index(text)
    chunk = Chunk(f"c{n}", "a.txt", "Titel", "", start, start + len(text), text, text)
    return Passage(chunk, rank=n, score=1.0)


PASSAGES = [_passage(1, 0, SPLIT), _passage(2, SPLIT, len(FILE))]


@pytest.fixture(scope="module")
def verifier(e5: RagEmbeddings) -> Verifier:
    weights = TermWeights(terms(p.chunk.embed_text) for p in PASSAGES)
    return Verifier(ExtractiveAnswerer(weights).coverage, e5)


def test_markers_are_cleaned_and_quotes_are_exact_spans(verifier: Verifier) -> None:
    result = verifier.verify(
        "Nordmaling har cirka 7 500 invånare. [1, 9] Boendet har tolv platser [2][1].",
        PASSAGES,
    )
    assert result.text == "Nordmaling har cirka 7 500 invånare [1]. Boendet har tolv platser [2]."
    assert result.flagged == () and result.supported_sentences == 2
    first, second = result.citations
    assert (first.n, second.n) == (1, 2)
    assert first.quote == "Nordmaling är en kommun i Västerbotten med cirka 7500 invånare."
    assert second.quote == "Boendet i Exempelby har tolv platser."
    for citation in result.citations:
        assert FILE[citation.start : citation.end] == citation.quote


def test_unsupported_and_uncited_sentences_are_flagged(verifier: Verifier) -> None:
    text = (
        "Boendet har 40 platser [2]. Kommunens socialchef heter Anna Andersson [1]. "
        "Huset infördes av regeringen i hela landet. Sammanfattning:"
    )
    result = verifier.verify(text, PASSAGES)
    reasons = {result.text[f.start : f.end]: f.reason for f in result.flagged}
    assert reasons == {
        "Boendet har 40 platser.": "talet 40 finns inte i källa [2]",
        "Kommunens socialchef heter Anna Andersson.": "”Anna” finns inte i källa [1]",
        "Huset infördes av regeringen i hela landet.": "saknar källhänvisning",
    }
    assert "[" not in result.text and result.citations == ()
    assert result.supported_sentences == 0 and not result.says_not_covered


def test_english_answer_is_checked_by_meaning(verifier: Verifier) -> None:
    """A translation is supported; a translated fact cited to the wrong passage is not."""
    result = verifier.verify(
        "The housing in Exempelby has twelve places [2]. "
        "It opened in March after two years of planning [1].",
        PASSAGES,
    )
    assert result.supported_sentences == 1
    (flag,) = result.flagged
    assert result.text[flag.start : flag.end] == "It opened in March after two years of planning."
    assert flag.reason == "talet 2 finns inte i källa [1]; närmast är källa [2]"
    assert result.citations[0].quote == "Boendet i Exempelby har tolv platser."


def test_a_marker_to_a_passage_that_does_not_back_the_sentence_is_dropped(
    verifier: Verifier,
) -> None:
    result = verifier.verify("Nordmaling har cirka 7500 invånare [2][1].", PASSAGES)
    assert result.text == "Nordmaling har cirka 7500 invånare [1]."
    assert [c.n for c in result.citations] == [1]


def test_an_uncited_sentence_a_passage_holds_gets_its_marker(verifier: Verifier) -> None:
    result = verifier.verify("Boendet i Exempelby har tolv platser.", PASSAGES)
    assert result.text == "Boendet i Exempelby har tolv platser [2]."
    assert result.flagged == () and [c.n for c in result.citations] == [2]


def test_a_missing_or_stale_support_model_says_how_to_rebuild_it(tmp_path: Path) -> None:
    with pytest.raises(SupportModelError, match="rag verification --fit"):
        SupportModel.load(tmp_path / "verifier.pkl")
    (tmp_path / "old.pkl").write_bytes(pickle.dumps({"format": 0, "model": None}))
    with pytest.raises(SupportModelError, match="old format"):
        SupportModel.load(tmp_path / "old.pkl")


def test_an_uncited_sentence_is_checked_against_its_neighbours_sources(
    verifier: Verifier,
) -> None:
    """ "Ja, enligt …" before a cited sentence leans on its citation; an unrelated one does not."""
    result = verifier.verify(
        "Ja, Nordmaling byggde modellen Huset. Kommunen byggde en modell som kallas Huset "
        "för kvalitetsarbete [1]. Regeringen beslutade om Huset i hela landet.",
        PASSAGES,
    )
    reasons = {result.text[f.start : f.end]: f.reason for f in result.flagged}
    assert reasons == {"Regeringen beslutade om Huset i hela landet.": "saknar källhänvisning"}
    assert result.text.startswith("Ja, Nordmaling byggde modellen Huset [1].")


def test_only_what_a_sentence_claims_beside_what_is_left_out_is_checked() -> None:
    assert _claimed_part("Utdragen anger inget belopp.") == ""
    assert _claimed_part("Utdragen anger inget belopp, men boendet har tolv platser") == (
        "boendet har tolv platser"
    )
    assert _claimed_part("Boendet har tolv platser, men källorna anger inte priset") == (
        "Boendet har tolv platser"
    )
    assert _claimed_part("Boendet har tolv platser") == "Boendet har tolv platser"


def test_not_covered_reply_is_recognised(verifier: Verifier) -> None:
    result = verifier.verify("Källorna besvarar inte frågan.", PASSAGES)
    assert result.says_not_covered and result.flagged == () and result.citations == ()


@pytest.mark.parametrize(
    ("sentence", "reason"),
    [
        ("Boendet i Exempelby har tio platser [2].", "talet 10 finns inte i källa [2]"),
        ("Boendet i Exempelby har 12 platser [2].", ""),  # "tolv" in the source
        ("Nordmaling är en kommun i Norrbotten med cirka 7500 invånare [1].", "”Norrbotten”"),
        ("Nordmalings kommun har cirka 7500 invånare [1].", ""),  # inflected name
        # a common noun of the sources is no name ("planering" is in passage 2)
        ("Kommunen byggde en modell som kallas Planering [1].", "”Planering”"),
        ("Boendet i Exempelby har inte tolv platser [2].", "säger inte att det inte är så"),
        ("Hur många som bor på boendet framgår inte av källorna.", ""),  # says what is unsaid
        ("Vem som driver boendet finns inte bland utdragen.", ""),
        ("Utdraget anger dock inte vem som driver boendet.", ""),  # one excerpt
        ("Utdragen beskriver inte närmare vem som driver boendet.", ""),  # any verb
        ("Utdragen anger inget belopp för boendet.", ""),
        ("Texten har inte tolv platser [2].", "säger inte att det inte är så"),  # "har": a claim
        ("The excerpt does not say who runs the home.", ""),
        ("Utöver detta beskriver utdragen inte vem som driver boendet.", ""),  # verb first
        ("Källorna ger ingen uppgift om priset.", ""),
        ("The sources give no price for the home.", ""),
        ("The excerpts contain nothing more about the home.", ""),
        ("Its price is not included in the excerpts.", ""),
        # a count of the list after its colon needs no source; a miscount does
        ("Boendet har två sorters platser: korttid och permanent [2].", ""),
        ("Boendet har tre sorters platser: korttid och permanent [2].", "talet 3 finns inte"),
        ("The planning took two and a half years [2].", "talet 2.5 finns inte i källa [2]"),
        ("The planning took two years [2].", ""),
        ("Nordmaling is a municipality with about 7,500 inhabitants [1].", ""),  # 7500
        ("Nordmaling has about 7,600 inhabitants [1].", "talet 7600 finns inte i källa [1]"),
    ],
)
def test_numbers_names_negations_and_unsaid_things(
    verifier: Verifier, sentence: str, reason: str
) -> None:
    result = verifier.verify(sentence, PASSAGES)
    found = " ".join(f.reason for f in result.flagged)
    assert (reason in found) if reason else found == ""


def test_a_claim_cited_to_the_wrong_passage_names_the_closer_one(verifier: Verifier) -> None:
    result = verifier.verify("Boendet i Exempelby har tolv platser [1].", PASSAGES)
    (flag,) = result.flagged
    # the number says where it is, without the meaning model
    assert flag.reason == "talet 12 finns inte i källa [1]; närmast är källa [2]"
    # The closer passage is cited too, quoting its closest words, so the flag's [2] opens it
    (offered,) = result.citations
    assert offered.n == 2 and offered.quote == "Boendet i Exempelby har tolv platser."
    assert result.text == "Boendet i Exempelby har tolv platser."
    assert result.supported_sentences == 0


def test_a_claim_without_numbers_cited_to_the_wrong_passage_is_judged_by_meaning(
    verifier: Verifier,
) -> None:
    result = verifier.verify("Boendet öppnade efter en lång planering [1].", PASSAGES)
    (flag,) = result.flagged
    assert flag.reason == "stöds inte av källa [1]; närmast är källa [2]"
    assert [c.n for c in result.citations] == [2]


PANEL = (
    "Samtalsledare Petra West från FSS ledde panelen på Socialchefsdagarna 2021.\n\n"
    "Anna Burston menade att tilliten är viktig för socialtjänsten. Det är snarare polisen "
    "än kommunen som sparar pengarna på tidiga insatser."
)
OTHER = "Boendet i Exempelby öppnade 2019 med tolv platser för äldre."


def _panel_passages() -> list[Passage]:
    second = PANEL.index("Anna Burston")
    spans = [
        ("p.txt", "Panelsamtal", PANEL, 0, second),
        ("p.txt", "Panelsamtal", PANEL, second, len(PANEL)),
        ("b.txt", "Boendet", OTHER, 0, len(OTHER)),
    ]
    passages = []
    for n, (source, title, text, start, end) in enumerate(spans, start=1):
        body = text[start:end].strip()
        begin = text.index(body)
        chunk = Chunk(f"p{n}", source, title, "", begin, begin + len(body), body, body)
        passages.append(Passage(chunk, rank=n, score=1.0))
    return passages


@pytest.fixture(scope="module")
def panel_verifier(e5: RagEmbeddings) -> Verifier:
    weights = TermWeights(terms(p.chunk.embed_text) for p in _panel_passages())
    return Verifier(ExtractiveAnswerer(weights).coverage, e5)


def test_a_quoted_question_or_its_translation_does_not_end_the_claim(
    panel_verifier: Verifier,
) -> None:
    answer = 'The survey answer was: "How was it? Was it good?" ("Hur var det? Var det bra?") [2].'
    ((claim, cited),) = panel_verifier.claims(answer, _panel_passages())
    assert claim.startswith("The survey") and "Var det bra?" in claim and cited == [2]


@pytest.mark.parametrize(
    ("sentence", "reason"),
    [
        # the year an article names its event by holds for all its passages; not another's
        ("Anna Burston menade 2021 att tilliten är viktig för socialtjänsten [2].", ""),
        ("Anna Burston menade 2019 att tilliten är viktig för socialtjänsten [2].", "talet 2019"),
        # a swapped first name or surname, in either language
        ("Petra Burston menade att tilliten är viktig för socialtjänsten [2].", "”Petra Burston”"),
        ("The panel heard Director Burston say that trust matters [2].", "”Director Burston”"),
        ("Enligt Anna Burston är tilliten viktig för socialtjänsten [2].", ""),
        ("Samtalsledaren Petra West från FSS ledde panelen [1].", ""),
        # an aside about the sources is no negation of the claim
        ("Anna Burston (vars titel inte anges i utdragen) menade att tilliten är viktig [2].", ""),
    ],
)
def test_article_years_person_names_and_asides(
    panel_verifier: Verifier, sentence: str, reason: str
) -> None:
    result = panel_verifier.verify(sentence, _panel_passages())
    found = " ".join(f.reason for f in result.flagged)
    assert (reason in found) if reason else found == "", found


def test_a_name_written_in_two_words_is_read_as_the_sources_join_it() -> None:
    title = "Vad kan socialtjänsten lära av Yoda i Starwars?"
    text = "Yoda säger: du måste lära om."
    chunk = Chunk("y", "y.txt", title, "", 0, len(text), text, f"{title}\n{text}")
    passages = [Passage(chunk, rank=1, score=1.0)]
    joined = _joined_names("The post quotes Yoda from Star Wars [1].", passages)
    assert joined == "The post quotes Yoda from Starwars [1]."
    unchanged = "Anna Burston quotes Yoda [1]."  # "Annaburston" is in no source
    assert _joined_names(unchanged, passages) == unchanged


@pytest.mark.parametrize(
    ("asked", "flagged"),
    [
        ("Hur många platser hade boendet 2019 i Umeå?", False),  # the question names both
        ("Hur många platser har boendet?", True),  # the answer brought them in
    ],
)
def test_what_the_sources_leave_out_may_repeat_the_question(
    verifier: Verifier, asked: str, flagged: bool
) -> None:
    text = "Källorna anger inte hur många platser boendet hade 2019 i Umeå [2]."
    assert bool(verifier.verify(text, PASSAGES, asked).flagged) is flagged


def test_a_name_from_the_question_is_still_checked_in_a_claim(verifier: Verifier) -> None:
    text = "Källorna anger inte när Umeå öppnade boendet, men Umeå har tolv platser [2]."
    result = verifier.verify(text, PASSAGES, "När öppnade Umeå boendet?")
    assert [f.reason for f in result.flagged] == ["”Umeå” finns inte i källa [2]"]


def test_a_claim_after_a_semicolon_is_checked(verifier: Verifier) -> None:
    text = "Källorna anger inte priset; boendet har tio platser [2]."
    assert [f.reason for f in verifier.verify(text, PASSAGES).flagged] == [
        "talet 10 finns inte i källa [2]"
    ]


def test_a_name_its_article_is_about_is_no_unsupported_name(e5: RagEmbeddings) -> None:
    """A passage of the article about Exempelby may be cited for it; not for another town."""
    text = "Boendet har tolv platser."
    passages = [Passage(Chunk("b1", "b.txt", "Boendet", "", 0, len(text), text, text), 1, 1.0)]
    about = [f"I Exempelby finns boende nummer {n}." for n in range(SUBJECT_MENTIONS)]
    weights = TermWeights(terms(t) for t in [text, *about])  # the town's name is common
    answer = "Boendet i Exempelby har tolv platser [1]. Boendet i Storvik har tolv platser [1]."
    exempelby, storvik = "”Exempelby” finns inte i källa [1]", "”Storvik” finns inte i källa [1]"
    for article, expected in (
        (about, [storvik]),
        (about[1:], [exempelby, storvik]),  # named in too few of its sentences
    ):

        def sentences_of(chunk: Chunk, found: list[str] = article) -> list[str]:
            return found

        verifier = Verifier(ExtractiveAnswerer(weights).coverage, e5, article=sentences_of)
        assert [f.reason for f in verifier.verify(answer, passages).flagged] == expected


def test_a_number_word_counting_the_people_the_claim_lists_needs_no_source(
    panel_verifier: Verifier,
) -> None:
    """A count word ("två") of the names listed, each checked itself; "tre" miscounts."""
    passages = _panel_passages()
    for count, flags in (("två", []), ("tre", ["talet 3 finns inte i källorna [1], [2]"])):
        text = f"De {count} som talade var Petra West och Anna Burston [1][2]."
        assert [f.reason for f in panel_verifier.verify(text, passages).flagged] == flags
