"""The learned answerer: its model file, body-only quotes, leads, refusals."""

from __future__ import annotations

import pickle
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT
from rag.answer.features import (
    FEATURE_COLUMN,
    Candidate,
    Sentence,
    SentenceIndex,
    Speaker,
    candidate_features,
    view_question,
)
from rag.answer.roles import span_roles
from rag.answer.selector import (
    ITEM_FEATURES,
    UNSURE_BELOW,
    UNSURE_NOTICE,
    UNSURE_NOTICE_EN,
    AnswerModel,
    AnswerModelError,
    Composition,
    QuestionMemory,
    Scored,
    answer_chance,
    answer_chances,
    compose,
    item_features,
)
from rag.ingest.sentences import sentence_spans
from rag.pipeline import Pipeline
from rag.retrieve.lexical import TermWeights, terms
from rag.types import Answer, Chunk, Passage


def test_the_shipped_model_loads_for_these_features() -> None:
    model = AnswerModel.load()
    assert model.selector.n_features_in_ == len(model.features)
    assert 0.0 < model.composition.answerable_threshold < 1.0


def test_a_missing_or_stale_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AnswerModelError, match="rag train"):
        AnswerModel.load(tmp_path / "none.pkl")
    stale = AnswerModel(selector=None, abstainer=None, features=("old",))
    stale.save(tmp_path / "stale.pkl")
    with pytest.raises(AnswerModelError, match=r"other features.*rag train"):
        AnswerModel.load(tmp_path / "stale.pkl")
    (tmp_path / "broken.pkl").write_bytes(b"not a pickle")
    with pytest.raises(AnswerModelError, match=r"cannot be read.*rag train"):
        AnswerModel.load(tmp_path / "broken.pkl")


def _unit(*values: float) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_the_question_memory_votes_with_the_closest_training_questions() -> None:
    memory = QuestionMemory(
        np.vstack([_unit(1, 0, 0), _unit(1, 0.1, 0), _unit(0, 1, 0), _unit(0, 0, 1)]).astype(
            np.float16
        ),
        np.array([False, False, True, True]),
    )
    vote, nearest, unanswerable, answerable = memory.features(_unit(1, 0.05, 0))
    assert vote < 0.01 and nearest > 0.99, "close to two near misses: votes to refuse"
    assert unanswerable > 0.99 and answerable < 0.1
    vote, *_ = memory.features(_unit(0.1, 1, 0))
    assert vote > 0.99
    # without the two near misses (another fold), the closest answerable ones vote
    vote, nearest, unanswerable, _ = memory.features(
        _unit(1, 0.05, 0), np.array([False, False, True, True])
    )
    assert vote == 1.0 and nearest < 0.1 and unanswerable == -1.0
    assert np.isnan(memory.features(None)).all(), "no vector (lexical mode): no evidence"


def test_a_follow_up_is_also_remembered_by_what_its_own_words_ask() -> None:
    from rag.answer.features import blend, view_question
    from rag.retrieve.lexical import TermWeights

    topic, ask_name, ask_goal = _unit(1, 0, 0), _unit(0, 1, 0), _unit(0, 0, 1)
    weights = TermWeights([["projektledare"]])
    alone = view_question("projektledare?", weights, topic)
    assert alone.asked_vector is topic, "a question that stands alone: its own vector"
    follow = view_question(
        "projektledare vad heter hen?", weights, topic, "vad heter hen?", ask_name
    )
    assert follow.asked_vector is not None
    assert np.allclose(follow.asked_vector, blend(topic, ask_name))
    # two training follow-ups on one topic, searched as the same standalone query: the
    # one asking the name is a near miss, the one asking the goal is answered
    memory = QuestionMemory(
        np.vstack([topic, topic]).astype(np.float16),
        np.array([False, True]),
        asked=np.vstack([blend(topic, ask_name), blend(topic, ask_goal)]).astype(np.float16),
    )
    by_query, by_ask = memory.item_features(follow)[:4], memory.item_features(follow)[4:]
    assert by_query[1] > 0.99 and by_query[2] > 0.99 and by_query[3] > 0.99, "both alike"
    assert by_ask[0] < 0.01, "by what is asked, the near miss is the closest"
    assert np.isnan(memory.item_features(follow, read=False)).all()
    kept = pickle.loads(pickle.dumps(memory))  # a blend is stored only where it differs
    assert np.array_equal(kept.asked, memory.asked)
    assert np.array_equal(kept.vectors, memory.vectors)
    assert np.isnan(
        QuestionMemory(memory.vectors, memory.answerable).item_features(follow)[4:]
    ).all()


def test_the_memory_points_at_the_sentences_that_answered_the_closest_questions() -> None:
    article, other = ("a.txt", "A"), ("b.txt", "B")
    memory = QuestionMemory(
        np.vstack([_unit(1, 0, 0), _unit(1, 0.1, 0), _unit(0, 1, 0)]).astype(np.float16),
        np.array([True, False, True]),
        gold=((("a.txt", 100, 160),), (), (("b.txt", 0, 50),)),
        gold_articles=(article, None, other),
    )
    answering, beside, elsewhere = (
        Candidate(Sentence("a.txt", 100, 150, "x", "body", article, 3, 9), None),  # type: ignore[arg-type]
        Candidate(Sentence("a.txt", 200, 250, "y", "body", article, 5, 9), None),  # type: ignore[arg-type]
        Candidate(Sentence("b.txt", 0, 50, "z", "body", other, 0, 9), None),  # type: ignore[arg-type]
    )
    found = memory.sentence_features(
        _unit(1, 0.02, 0), [answering, beside, elsewhere], lambda a: a == article
    )
    vote, nearest = found[0][:2]
    assert vote > 0.3 and nearest > 0.99, "the closest question's gold sentence"
    assert found[1][0] == 0.0 and found[1][1] == 0.0, "same article, not its answer"
    assert found[1][2] > 0.99 and found[1][3] == vote
    assert np.isnan(found[2]).all(), "an article the memory does not know: no evidence"
    masked = memory.sentence_features(
        _unit(1, 0.02, 0), [answering], lambda a: True, np.array([False, True, True])
    )
    assert masked[0][0] == 0.0, "its only answering question is held out"
    assert np.isnan(memory.sentence_features(None, [answering], lambda a: True)).all()


def test_the_shipped_model_remembers_its_training_questions() -> None:
    memory = AnswerModel.load().memory
    assert memory.vectors.shape == (len(memory.answerable), 384)
    assert memory.asked.shape == memory.vectors.shape
    assert 0.5 < memory.answerable.mean() < 0.9


class _FirstColumn:
    """A stand-in classifier: the chance of class 1 is the row's first value."""

    def predict_proba(self, rows: np.ndarray) -> np.ndarray:
        return np.column_stack([1 - rows[:, 0], rows[:, 0]])


def test_a_two_part_question_weighs_the_whole_and_the_mean_of_its_parts() -> None:
    whole = np.array([[0.8], [0.1], [0.1]])
    parts = [np.array([[0.8], [0.0], [0.2]]), np.array([[0.0], [0.9], [0.2]])]
    assert np.allclose(answer_chance(_FirstColumn(), whole, []), [0.8, 0.1, 0.1])
    chance = answer_chance(_FirstColumn(), whole, parts)
    assert np.allclose(chance, [0.6, 0.275, 0.15])
    assert chance[1] > chance[2]  # the second part's sentence now outranks a filler
    assert answer_chance(_FirstColumn(), np.zeros((0, 1)), []).shape == (0,)


@pytest.mark.slow
def test_a_two_part_question_ranks_each_parts_answer_first(seeded_pipeline: Pipeline) -> None:
    question = "Hur många invånare har Nordmaling och vilket ledningssystem implementerades där?"
    passages = seeded_pipeline.retrieve(question)[1]
    scored = seeded_pipeline.answerer.score(question, passages)
    best = [scored.candidates[i].sentence.text for i in np.argsort(-scored.probs)[:2]]
    assert any("7500" in s for s in best) and any("Stratsys" in s for s in best), best
    assert "7500" in seeded_pipeline.ask(question).text


@pytest.mark.slow
def test_the_chance_of_an_answer_is_what_decides_abstaining(seeded_pipeline: Pipeline) -> None:
    answerer = seeded_pipeline.answerer
    threshold = answerer.model.composition.answerable_threshold
    for question in (
        "Hur många invånare har Nordmaling?",
        "Vad kostar en plats på HVB-hem i Lund?",
    ):
        passages = seeded_pipeline.retrieve(question)[1]
        chance = answerer.answerable(question, passages)
        assert answerer.answer(question, passages).abstained == (chance < threshold)
        assert answerer.answerable(question, passages) == chance  # the same input, kept


def _role_of(pipeline: Pipeline, source: str, start: int) -> str:
    text = (ROOT / "seeds" / source).read_text(encoding="utf-8")
    spans = list(sentence_spans(text))
    roles = dict(zip((s for s, _ in spans), span_roles(text, spans), strict=True))
    return roles.get(start, "body")


@pytest.mark.slow
@pytest.mark.parametrize(
    "question",
    [
        "Vad tycker Anna Burston om administration i socialtjänsten?",
        "What did the panel say about trust-based management?",
        "Vad sa Malin Ekman Aldén om social innovation?",
        "Hur många medlemmar deltog i FSS workshop om äldreomsorgslag?",
    ],
)
def test_quotes_are_never_credits_or_sign_offs_unless_asked(
    seeded_pipeline: Pipeline, question: str
) -> None:
    answer = seeded_pipeline.ask(question)
    for citation in answer.citations:
        role = _role_of(seeded_pipeline, citation.passage.chunk.source, citation.start)
        assert role not in ("byline", "caption", "signature"), citation.quote


@pytest.mark.slow
def test_who_wrote_an_article_may_quote_its_byline(seeded_pipeline: Pipeline) -> None:
    answer = seeded_pipeline.ask("Vem skrev texten om GD-panelen?")
    assert "Jenny Asp" in answer.text


OFF_TOPIC = [
    "recept på kanelbullar",
    "Vad blir vädret i Göteborg i morgon?",
    "Hur ansöker jag om bostadsbidrag?",
    "What is the maximum housing allowance for a family of four?",
    "Vilka regler gäller för LVU-placeringar?",
    "hur mycket är försörjningsstödet för en ensamstående 2024",
]
OFF_TOPIC_REFUSED = 0.6  # one item below what the shipped model does


@pytest.mark.slow
def test_questions_the_articles_do_not_touch_are_refused(seeded_pipeline: Pipeline) -> None:
    answered = [q for q in OFF_TOPIC if not seeded_pipeline.ask(q).abstained]
    assert len(OFF_TOPIC) - len(answered) >= OFF_TOPIC_REFUSED * len(OFF_TOPIC), answered


@pytest.mark.slow
def test_scores_are_probabilities_for_every_candidate(seeded_pipeline: Pipeline) -> None:
    question = "Var hölls Socialchefsdagarna 2023?"
    scored = seeded_pipeline.answerer.score(question, seeded_pipeline.search(question))
    assert len(scored.probs) == len(scored.candidates) > 5
    assert np.all((scored.probs >= 0) & (scored.probs <= 1)) and 0 <= scored.answerable <= 1


# Questions the articles come close to but do not answer: the asked value, name or
# outcome is missing (or still pending). The answer model refuses most of them.
NEAR_MISSES = [
    "Vad tjänar Harry Lönnebacke i månaden?",
    "Vad kostar det att delta på Socialchefsdagarna 2024 på Kistamässan?",
    "Hur många invånare har Lund?",
    "Hur många anställda har IFO i Lund?",
    "Hur många recept hanterar eHälsomyndigheten varje år?",
    "Vilken budget har Rådet för styrning med kunskap?",
    "How old is Olivia Wigzell, the director-general of Socialstyrelsen?",
    "How many million kronor in transition funding has the state promised up to 2028?",
    "What is the maximum housing allowance a family with two children can receive?",
    "What did Statskontoret conclude in its evaluation of the Council for knowledge-based "
    "governance?",
    "Vad heter Lunds socialdirektör?",
    "Vad heter Nordmalings kommunstyrelses ordförande?",
    "vem blev fss:s medpart på socialdepartementet",
    "Vad sa FSS remissvar om äldreomsorgslagen?",
]
# Questions whose answer is one value, name or place the quote must hold.
ANSWERED = [
    ("hur många invånare har nordmaling ungefär", "7500"),
    ("Hur många medlemmar deltog i FSS workshop om äldreomsorgslag?", "19"),
    ("Hur stor del av arbetstiden lägger doktoranderna i Fortes forskarskolor?", "halvtid"),
    ("vilket ledningssystem implementerades i Nordmaling när huset byggdes", "Stratsys"),
    ("vad hette utredningen om barn i skyddat boende", "Ett fönster av möjligheter"),
    ("När ska FSS remissvar om äldreomsorgslagen skickas in?", "15 november"),
    ("från vilka kommuner kom de som intervjuades i filmen om nätverket", "Huddinge"),
    ("Vad står bottenplattan respektive bjälklaget för i Nordmalings husmodell?", "Vi-sam"),
    ("varför måste deltagarna i nätverket vara medlemar i föreningen?", "fria"),
    ("Var hölls Socialchefsdagarna 2023?", "Karlstad"),
]
# Floors: one item below what the shipped model does (rag train re-measures them).
NEAR_MISSES_REFUSED = 0.64
ANSWERED_WITH_THE_VALUE = 0.8


@pytest.mark.slow
def test_most_near_misses_are_refused(seeded_pipeline: Pipeline) -> None:
    refused = [q for q in NEAR_MISSES if seeded_pipeline.ask(q).abstained]
    assert len(refused) >= NEAR_MISSES_REFUSED * len(NEAR_MISSES), sorted(
        set(NEAR_MISSES) - set(refused)
    )


@pytest.mark.slow
def test_value_questions_quote_the_value(seeded_pipeline: Pipeline) -> None:
    answered = [q for q, fact in ANSWERED if fact in seeded_pipeline.ask(q).text]
    missed = [q for q, _ in ANSWERED if q not in answered]
    assert len(answered) >= ANSWERED_WITH_THE_VALUE * len(ANSWERED), missed


@pytest.mark.slow
def test_quotes_grow_within_their_passage_to_the_limit(seeded_pipeline: Pipeline) -> None:
    answerer = seeded_pipeline.answerer
    how = answerer.model.composition
    grown_any = False
    for question, _ in ANSWERED:
        passages = seeded_pipeline.search(question)
        scored = answerer.score(question, passages)
        plain = compose(question, passages, scored, answerer.index, replace(how, grow_relative=2))
        grown = compose(question, passages, scored, answerer.index, how)
        spans = {(c.passage.chunk.source, c.start, c.end) for c in plain.citations}
        for after in grown.citations:
            chunk = after.passage.chunk
            (before,) = [
                (s, e)
                for source, s, e in spans
                if source == chunk.source and after.start <= s and e <= after.end
            ][:1]  # the quote it grew from
            assert chunk.start <= after.start and after.end <= chunk.end
            assert after.end - after.start <= max(how.grow_chars, before[1] - before[0])
            grown_any = grown_any or (after.start, after.end) != before
    assert grown_any


def test_several_readings_score_as_each_alone() -> None:
    whole = np.array([[0.8], [0.1], [0.1]])
    parts = [np.array([[0.8], [0.0], [0.2]]), np.array([[0.0], [0.9], [0.2]])]
    other = np.array([[0.3], [0.6]])
    empty = np.zeros((0, 1))
    readings = [(whole, parts), (other, []), (empty, [])]
    together = answer_chances(_FirstColumn(), readings)
    for (matrix, its_parts), chance in zip(readings, together, strict=True):
        assert np.allclose(chance, answer_chance(_FirstColumn(), matrix, its_parts))
    assert together[2].shape == (0,)


def test_a_standalone_query_asks_what_the_users_own_words_ask() -> None:
    from rag.answer.evidence import Asked
    from rag.answer.features import view_question
    from rag.retrieve.lexical import TermWeights

    weights = TermWeights([["generaldirektör", "ehälsomyndigheten"]])
    carried = "generaldirektör för eHälsomyndigheten när tillträdde hon?"
    assert view_question(carried, weights, None).asked is None  # "när" opens no question here
    view = view_question(carried, weights, None, asking="när tillträdde hon?")
    assert view.asked is Asked.DATE and "ehälsomynd" in view.terms  # the subject stays
    assert view_question("Ehälsomyndigheten vem leder den?", weights, None, "vem leder den?").who


TRANSCRIPT = (
    "Panelsamtal om äldreomsorg\n\n"
    "Karin Lund, Region Norr: Vi behöver fler händer i hemtjänsten. Det är vår största fråga.\n\n"
    "Det gäller också nattpatrullen.\n\n"
    "Fråga från publiken: Hur rekryterar ni?\n\n"
    "Olle: Vi annonserar brett. Lönen spelar roll.\n\n"
    "Gustav Berg, IVO. Tillsynen följer upp.\n\n"
    "Foto: Lisa Ek\n"
)


def _transcript() -> tuple[SentenceIndex, list[Candidate], dict[str, int]]:
    """A hand-made transcript's index, its sentences as candidates, and their rows by text."""
    chunk = Chunk(
        "t", "t.txt", "Panelsamtal om äldreomsorg", "", 0, len(TRANSCRIPT), TRANSCRIPT, ""
    )
    index = SentenceIndex([chunk], {}, {}, TermWeights([terms(TRANSCRIPT)]))
    candidates = index.candidates([Passage(chunk, 1, 1.0)])
    return index, candidates, {c.sentence.text: i for i, c in enumerate(candidates)}


def test_a_transcripts_turns_name_their_speaker() -> None:
    index, candidates, rows = _transcript()

    def speaker(text: str) -> Speaker | None:
        return index.speaker(candidates[rows[text]].sentence)

    karin = Speaker(tuple(terms("Karin Lund")), tuple(terms("Region Norr")), inherited=False)
    assert speaker("Det är vår största fråga.") == karin
    assert speaker("Det gäller också nattpatrullen.") == replace(karin, inherited=True)
    assert speaker("Fråga från publiken: Hur rekryterar ni?") is None  # a label, no speaker
    assert speaker("Lönen spelar roll.") == Speaker(tuple(terms("Olle")), (), inherited=False)
    assert speaker("Tillsynen följer upp.") == Speaker(
        tuple(terms("Gustav Berg")), tuple(terms("IVO")), inherited=False
    )
    assert speaker("Foto: Lisa Ek") is None  # credits are not a turn
    assert speaker("Panelsamtal om äldreomsorg") is None


def test_a_question_naming_the_speaker_marks_their_turns() -> None:
    index, candidates, rows = _transcript()
    question = view_question("Vad sa Karin om nattpatrullen?", index.weights, None)
    matrix = candidate_features(question, candidates, index)
    named, organisation = FEATURE_COLUMN["speaker_named"], FEATURE_COLUMN["speaker_org_named"]
    assert matrix[rows["Det gäller också nattpatrullen."], named] == 1.0
    assert matrix[rows["Lönen spelar roll."], named] == 0.0
    assert np.isnan(matrix[rows["Lönen spelar roll."], organisation])  # "Olle:" names none
    assert matrix[rows["Tillsynen följer upp."], organisation] == 0.0
    assert np.isnan(matrix[rows["Foto: Lisa Ek"], named])
    assert matrix[rows["Fråga från publiken: Hur rekryterar ni?"], FEATURE_COLUMN["question_mark"]]
    assert not matrix[rows["Lönen spelar roll."], FEATURE_COLUMN["question_mark"]]


def test_the_abstainer_reads_the_best_chance_of_a_sentence_holding_what_is_asked() -> None:
    index, candidates, rows = _transcript()
    probs = np.full(len(candidates), 0.1)
    probs[rows["Lönen spelar roll."]] = 0.9  # the likeliest sentence names no one
    probs[rows["Karin Lund, Region Norr: Vi behöver fler händer i hemtjänsten."]] = 0.4
    holds, who = ITEM_FEATURES.index("p_holds"), ITEM_FEATURES.index("p_who")

    def read(question: str) -> np.ndarray:
        view = view_question(question, index.weights, None)
        matrix = candidate_features(view, candidates, index)
        return item_features(view, matrix, probs, np.full(8, np.nan))

    asking_who = read("Vem sa att lönen spelar roll?")
    assert asking_who[who] == pytest.approx(0.4) and asking_who[holds] == 1.0
    assert read("Hur många undersköterskor anställdes?")[holds] == 0.0  # no count anywhere
    assert read("Vad sa Olle om lönen?")[[holds, who]].tolist() == [1.0, 1.0]  # nothing asked


def test_a_summary_quotes_its_sentences_whole_paragraph_when_it_fits() -> None:
    index, candidates, rows = _transcript()
    said = "Karin Lund, Region Norr: Vi behöver fler händer i hemtjänsten."
    probs = np.full(len(candidates), 0.01)
    probs[rows[said]] = 0.9
    passages = [candidates[0].passage]
    how = Composition(window_chars=0, grow_relative=2.0, paragraph_chars=200)

    def quoted(question: str, how: Composition = how) -> list[str]:
        view = view_question(question, index.weights, None)
        scored = Scored(view, candidates, candidate_features(view, candidates, index), probs, 1.0)
        return [c.quote for c in compose(question, passages, scored, index, how).citations]

    turn = f"{said} Det är vår största fråga."
    assert quoted("Vad sa Karin om hemtjänsten?") == [turn]  # her turn, not the next paragraph
    assert quoted("What did Karin say about home care?") == [turn]  # what someone said
    assert quoted("Hur många fler behövs i hemtjänsten?") == [said]  # a fact: the sentence
    assert quoted("When did Karin say that?") == [said]
    too_short = replace(how, paragraph_chars=len(turn) - 1)
    assert quoted("Vad sa Karin om hemtjänsten?", too_short) == [said]


def test_an_answer_whose_best_sentence_is_unlikely_says_it_is_uncertain() -> None:
    index, candidates, rows = _transcript()
    passages = [candidates[0].passage]

    def answered(question: str, best: float) -> Answer:
        probs = np.full(len(candidates), 0.01)
        probs[rows["Det är vår största fråga."]] = best
        view = view_question(question, index.weights, None)
        scored = Scored(view, candidates, candidate_features(view, candidates, index), probs, 1.0)
        return compose(question, passages, scored, index, Composition())

    sure = answered("Vad sa Karin om hemtjänsten?", 0.9)
    assert (sure.notice, sure.uncertain) == ("", False)
    unsure = answered("Vad sa Karin om hemtjänsten?", UNSURE_BELOW / 2)
    assert unsure.notice == UNSURE_NOTICE and unsure.uncertain
    assert not unsure.abstained and unsure.citations
    assert answered("What did Karin say about home care?", UNSURE_BELOW / 2).notice == (
        UNSURE_NOTICE_EN
    )


@pytest.mark.parametrize(
    ("question", "broad"),
    [
        ("Vad skriver ordföranden om valet?", True),
        ("hur svarade panelen på publikfrågan", True),
        ("förklara avimplementering", True),
        ("What did the panel answer about follow-up?", True),
        ("explain the House model briefly", True),
        ("tell me about the first-line network", True),
        ("what's the chair's letter about", True),
        ("Vad heter rådets ordförande?", False),
        ("När hölls workshopen?", False),
        ("How many agencies are in the council?", False),
    ],
)
def test_a_question_asking_what_was_written_or_answered_quotes_several_points(
    question: str, broad: bool
) -> None:
    index, _, _ = _transcript()
    assert view_question(question, index.weights, None).broad == broad
