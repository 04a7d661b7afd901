"""Fast checks of the UI's presentation functions, without a browser or an index."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from itertools import pairwise
from typing import Any

from rag.answer.relevance import RelevanceCalibration
from rag.config import Settings
from rag.errors import RagError
from rag.types import (
    Answer,
    Article,
    ArticleDate,
    ArticleInfo,
    AskEvent,
    Chunk,
    Citation,
    Document,
    FlaggedSentence,
    Passage,
    Searched,
    Span,
    TextDelta,
    Turn,
)
from ui.answer_view import conversation_turns
from ui.app import STREAM_WORDS, respond
from ui.render import answer_footer, copy_text, sources_html

_LEAD = "Intro <b>fet</b> *x* ${1+1}. "
_TEXT = _LEAD + "Dagarna hölls i Karlstad. Slut."
_QUOTE = "Dagarna hölls i Karlstad."
_START = 100  # the chunk's offset in its file; the article starts 40 characters earlier
_ARTICLE_HEAD = "Rubrik <script>alert(1)</script>\n\n" + "x" * 6
_DATE = ArticleDate("2 oktober 2022", 2022, 10, 2)


def _answer(text: str, abstained: bool = False) -> Answer:
    chunk = Chunk("c1", "000_a.txt", "Titel <i>", "Del", _START, _START + len(_TEXT), _TEXT, _TEXT)
    passage = Passage(chunk, rank=1, score=0.9, dense_score=0.85)
    other = Passage(Chunk("c2", "000_a.txt", "Titel <i>", "", 0, 5, "Annat", ""), 2, 0.45)
    start = _START + _TEXT.index(_QUOTE)
    citations = () if abstained else (Citation(1, passage, _QUOTE, start, start + len(_QUOTE)),)
    articles = () if abstained else (ArticleInfo("000_a.txt", "Titel <i>", 60, 200, _DATE, (1,)),)
    warning = "" if abstained else "Svaret bygger på en artikel från 2022, före <lagen>."
    return Answer("fråga", text, abstained, citations, (passage, other), {}, articles, warning)


def _article(source: str, offset: int) -> Article | None:
    if not 60 <= offset < 200:
        return None
    text = _ARTICLE_HEAD + _TEXT
    document = Document(source, "Titel <i>", 60, 60 + len(text), (Span("Del", 100, 160),), 0)
    return Article(document, text, _DATE)


class _FakePipeline:
    """Streams like Pipeline.ask_stream: the searched query, the LLM's deltas, the Answer."""

    def __init__(self, answer: Answer | Exception, deltas: tuple[str, ...] = ()) -> None:
        self.result = answer
        self.deltas = deltas
        self.history: list[Turn] = []
        self.settings = Settings(_env_file=None)

    def ask_stream(self, question: str, history: Sequence[Turn] = ()) -> Iterator[AskEvent]:
        self.history = list(history)
        if isinstance(self.result, Exception):
            raise self.result
        yield Searched(self.result.searched_query or question, self.result.passages)
        yield from (TextDelta(d) for d in self.deltas)
        yield self.result

    def article_at(self, source: str, offset: int) -> Article | None:
        return _article(source, offset)

    def passage_chance(self, passage: Passage) -> float | None:
        return None


def test_respond_streams_escaped_answer_with_linked_citations() -> None:
    text = f"{_QUOTE} [1] <script>x</script> *y* [7] " + "Och sedan hände mer. " * 10
    fake = _FakePipeline(_answer(text.strip()))
    steps = list(respond(fake, "  Var?  ", [], {}))  # type: ignore[arg-type]
    chats = [step.chat[-1]["content"] for step in steps[2:]]  # after "searching", "searched"
    words = len(text.split())
    assert len(chats) == -(-words // STREAM_WORDS) + 1  # a few words per update, the footer
    assert all(later.startswith(earlier) for earlier, later in pairwise(chats))
    final = steps[-1]
    assert steps[0].question == "" and final.answer == fake.result.text  # type: ignore[union-attr]
    # the box is cleared once: what the user types while the answer streams is kept
    assert all(not isinstance(step.question, str) for step in steps[3:])
    # the sources panel shows with the whole answer, never beside a half-streamed one
    assert all("Söker" in step.panel for step in steps[2:-1]) and "Söker" not in final.panel
    assert final.chat[0] == {"role": "user", "content": "Var?"}
    text = final.chat[-1]["content"]
    assert "[\\[1\\]](#k1-1)" in text and "\\<script\\>" in text and "\\*y\\*" in text
    assert "\\[7\\]" in text  # a marker without a citation stays plain text
    assert "*Bygger på:*" in text and "2 oktober 2022" in text and "\\<lagen\\>" in text
    assert final.answers == {1: fake.result}
    assert final.record is not None and final.record["citations"][0]["quote"] == _QUOTE
    assert final.copy.startswith(f"{_QUOTE} [1]")


def test_panel_shows_the_whole_article_escaped_with_the_quote_marked() -> None:
    panel = sources_html(_answer(f"{_QUOTE} [1]"), 3, _article)
    assert f'<mark id="k3-1" tabindex="-1">{_QUOTE}</mark>' in panel
    assert "Rubrik &lt;script&gt;alert(1)&lt;/script&gt;" in panel  # the article head, escaped
    assert "&lt;b&gt;fet&lt;/b&gt;" in panel and "Titel &lt;i&gt;" in panel
    assert "<b>" not in panel and "<i>" not in panel and "<script>" not in panel
    assert (
        "<dd>Del</dd><dt>Datum</dt><dd>2 oktober 2022</dd><dt>Fil</dt><dd>000_a.txt</dd>" in panel
    )
    assert "före &lt;lagen&gt;" not in panel  # the age note is shown in the chat only
    # Every retrieved passage, ranked, with relevance; the cited one marked and linked.
    assert panel.count('<li class="stycke') == 2
    assert '<li class="stycke citerad">' in panel and 'href="#k3-1"' in panel
    assert 'value="1.00"' in panel and 'value="0.50"' in panel


def test_panel_falls_back_to_the_passage_when_the_article_is_gone() -> None:
    panel = sources_html(_answer(f"{_QUOTE} [1]"), 1, lambda source, offset: None)
    assert f'<mark id="k1-1" tabindex="-1">{_QUOTE}</mark>' in panel
    assert "rag ingest" in panel and "<dd>Del</dd>" in panel


def test_copy_text_and_footer() -> None:
    answer = _answer(f"{_QUOTE} [1]")
    assert copy_text(answer) == (
        f"{_QUOTE} [1]\n\nKällor:\n"
        f"[1] Titel <i> › Del (000_a.txt, 2 oktober 2022): ”{_QUOTE}”\n\n"
        "Svaret bygger på en artikel från 2022, före <lagen>."
    )
    assert answer_footer(_answer("Inget.", abstained=True), 1) == ""


def test_respond_blank_error_and_abstain() -> None:
    ((_, _, chat, *_),) = respond(_FakePipeline(_answer("x")), "  ", [], {})  # type: ignore[arg-type]
    assert chat == [{"role": "assistant", "content": "Skriv en fråga."}]
    huge = "ä" * 100_000
    ((_, _, chat, _, _, box, _),) = respond(_FakePipeline(_answer("x")), huge, [], {})  # type: ignore[arg-type]
    assert chat == [{"role": "assistant", "content": chat[0]["content"]}]  # not echoed
    assert "Frågan är för lång (100000 tecken)" in chat[0]["content"]
    assert box == huge  # kept in the box, to be shortened

    failing = _FakePipeline(RagError("Inget index."))
    *_, last = respond(failing, "Fråga?", [], {})  # type: ignore[arg-type]
    assert last.chat[-1]["content"] == "**Något gick fel:** Inget index."

    abstaining = _FakePipeline(_answer("Inget stöd [1].", abstained=True))
    *_, last = respond(abstaining, "Fråga?", [], {})  # type: ignore[arg-type]
    assert "Inget stöd i källorna" in last.panel and "<mark" not in last.panel
    assert "citerad" not in last.panel and last.panel.count('<li class="stycke"') == 2
    assert last.chat[-1]["content"].startswith("**Inget stöd i källorna.**")
    assert "#k" not in last.chat[-1]["content"]
    assert last.copy.startswith("Inget stöd i källorna.")


def test_respond_streams_llm_text_then_the_checked_answer_with_flags() -> None:
    text = f"{_QUOTE} [1] Påhittad mening om allt."
    flag = FlaggedSentence(text.index("Påhittad"), len(text), "saknar källhänvisning")
    answer = replace(_answer(text), mode="llm", searched_query="Karlstad Och sen?", flagged=(flag,))
    fake = _FakePipeline(answer, deltas=("Dagarna", " hölls [1][9]"))
    history = [
        {"role": "user", "content": "Var hölls \\*dagarna\\*?"},
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "I Karlstad [\\[1\\]](#k1-1)."}],
        },
    ]
    steps = list(respond(fake, "Och sen?", history, {}))  # type: ignore[arg-type]
    assert fake.history == [Turn("Var hölls *dagarna*?", "I Karlstad [1].")]
    chats = [step.chat[-1]["content"] for step in steps]
    assert "Dagarna hölls \\[1\\]\\[9\\]" in chats  # the LLM's words, as they came
    final = steps[-1]
    content = final.chat[-1]["content"]
    assert content.startswith("Dagarna hölls i Karlstad. [\\[1\\]](#k3-1) Påhittad")
    assert "om allt. ⚠️ *\\(ej belagt: saknar källhänvisning\\)*" in content
    assert "Sökte efter: <q>Karlstad Och sen?</q>" in final.panel
    assert "Sökte efter" in steps[1].panel  # shown while the answer is still being written
    assert final.record is not None and final.record["unsupported_sentences"] == 1


def test_a_flag_links_the_passage_closer_to_its_sentence() -> None:
    text = f"{_QUOTE} Dagarna hölls i Uppsala."
    reason = "stöds inte av källa [2]; närmast är källa [1]"
    flag = FlaggedSentence(text.index("Dagarna"), len(text), reason)
    answer = replace(_answer(text), mode="llm", flagged=(flag,))
    *_, last = respond(_FakePipeline(answer), "Var?", [], {})  # type: ignore[arg-type]
    content = last.chat[-1]["content"]
    # [2] is not among the answer's citations: plain text; [1] is: a link that opens it
    assert "källa \\[2\\]; närmast är källa [\\[1\\]](#k1-1)" in content


def test_respond_shows_the_fallback_notice_above_the_quotes() -> None:
    notice = "Språkmodellen svarade inte inom 2 s, så svaret nedan citerar källorna."
    answer = replace(_answer(f"{_QUOTE} [1]"), notice=notice)
    *_, last = respond(_FakePipeline(answer, deltas=("Dag",)), "Var?", [], {})  # type: ignore[arg-type]
    assert last.chat[-1]["content"].startswith(f"> ⚠️ {notice}\n\n{_QUOTE} [\\[1\\]](#k1-1)")


def test_turns_carry_what_the_shown_answers_searched() -> None:
    chunk = Chunk("c1", "003.txt", "Huset", "", 0, 40, "Huset är en modell.", "Huset är en modell.")
    passage = Passage(chunk, 1, 0.9)
    citation = Citation(1, passage, "Huset är en modell.", 0, 19)
    article = ArticleInfo("003.txt", "Huset", 0, 40, None, (1,))
    shown = Answer(
        "Vad är Huset?", "Huset är en modell. [1]", False, (citation,), (passage,),
        articles=(article,), searched_query="Nordmaling Vad är Huset?",
    )  # fmt: skip
    history: list[dict[str, Any]] = [
        {"role": "user", "content": "Vad är Huset?"},
        {"role": "assistant", "content": "Huset är en modell. [1]"},
        {"role": "user", "content": "Och vem ledde det?"},
        {"role": "assistant", "content": "Det står inte."},
    ]
    first, second = conversation_turns(history, {1: shown})
    assert first.searched == "Nordmaling Vad är Huset?"
    assert first.question == "Vad är Huset?" and first.answer.startswith("Huset är en modell.")
    assert second.searched == "" and second.answer == "Det står inte."


def test_the_age_note_is_shown_once_in_full_then_short() -> None:
    dated = ArticleInfo("a.txt", "Titel", 0, 10, ArticleDate("2022", 2022), (1,))
    answer = replace(_answer("Svar [1]."), articles=(dated,), age_warning="Lång varning.")
    assert "Lång varning." in answer_footer(answer, 1)
    later = answer_footer(answer, 3, warned=True)
    assert "Lång varning." not in later and "SFS 2025:400" in later
    assert "Lång varning." not in sources_html(answer, 1, lambda *_: None)  # chat only


def test_passages_show_their_calibrated_chance_and_a_weak_match_is_said() -> None:
    calibration = RelevanceCalibration((0.80, 0.90), (0.1, 0.8))

    def chance(passage: Passage) -> float | None:
        return calibration.chance(passage.dense_score)

    panel = sources_html(_answer("Svar [1]."), 3, _article, chance)
    assert "träffsäkerhet 45%" in panel  # cosine 0.85 between the breakpoints
    assert "relevans" in panel  # the passage without a cosine keeps its relative score
    assert "Inget stycke matchar frågan väl" not in panel
    low = RelevanceCalibration((0.80, 0.90), (0.05, 0.2))
    weak = sources_html(_answer("Svar [1]."), 3, _article, lambda p: low.chance(p.dense_score))
    assert "Inget stycke matchar frågan väl" in weak
    assert RelevanceCalibration.fit([0.7, 0.8, 0.9], [False, False, True]).chance(0.95) == 1.0


def test_a_reply_without_a_search_shows_no_sources() -> None:
    reply = Answer("Hej!", "Hej! Jag svarar på frågor om 13 artiklar.", False, (), ())
    assert copy_text(reply) == reply.text
    assert "Inget söktes" in sources_html(reply, 0, lambda source, offset: None)
    assert answer_footer(reply, 0) == ""
