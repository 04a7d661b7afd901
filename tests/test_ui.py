"""Browser tests of the Gradio UI: Debian chromium, driven by Playwright, on 127.0.0.1 only."""

from __future__ import annotations

import socket
from collections.abc import Iterator, Sequence
from dataclasses import replace
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from rag.errors import RagError
from rag.types import (
    Answer,
    AskEvent,
    Chunk,
    Citation,
    FlaggedSentence,
    Passage,
    Searched,
    TextDelta,
    Turn,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from rag.pipeline import Pipeline

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
SEEDS = Path(__file__).resolve().parents[1] / "seeds"
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
}
ANSWER_TIMEOUT_MS = 60_000  # the first question also builds the answerer's word weights


def _normalize(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def _offline_env() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        for key, value in OFFLINE_ENV.items():
            mp.setenv(key, value)
        yield


@pytest.fixture(scope="module")
def _ui_pipeline(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, _offline_env: None
) -> Pipeline:
    """The shared `seeded_pipeline` if conftest provides one, else a freshly ingested one."""
    try:
        pipeline: Pipeline = request.getfixturevalue("seeded_pipeline")
        return pipeline
    except pytest.FixtureLookupError:
        pass
    from rag.config import Settings
    from rag.pipeline import Pipeline

    settings = Settings(
        seeds_dir=SEEDS,
        data_dir=tmp_path_factory.mktemp("ui-data"),
        _env_file=None,  # type: ignore[call-arg]
    )
    pipeline = Pipeline(settings)
    pipeline.ingest()
    return pipeline


@pytest.fixture(scope="module")
def ui_url(_ui_pipeline: Pipeline) -> Iterator[str]:
    from ui.app import build_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = build_app(_ui_pipeline).queue()
    app.launch(
        server_name="127.0.0.1",
        server_port=port,
        prevent_thread_lock=True,
        share=False,
        show_error=False,
        quiet=True,
    )
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        app.close()


@pytest.fixture(scope="module")
def browser(_offline_env: None) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is missing: apt-get install -y chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, ui_url: str) -> Iterator[Page]:
    """A fresh page on the app; any request that leaves 127.0.0.1 is blocked and reported."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="sv-SE")
    outside: list[str] = []

    def only_local(route):  # type: ignore[no-untyped-def]
        if route.request.url.startswith("http://127.0.0.1:"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    page.goto(ui_url, wait_until="domcontentloaded")
    page.locator("#fraga textarea").wait_for()
    yield page
    context.close()
    assert outside == [], f"the UI tried to reach the network: {outside}"


def _ask(page: Page, question: str) -> None:
    box = page.locator("#fraga textarea")
    box.fill(question)
    box.press("Enter")


@pytest.mark.browser
@pytest.mark.slow
def test_answer_streams_with_citation_and_highlighted_source(
    page: Page, _ui_pipeline: Pipeline
) -> None:
    from playwright.sync_api import expect

    question = "Var hölls Socialchefsdagarna 2023?"
    expected = _ui_pipeline.ask(question)
    assert not expected.abstained, "precondition: the seeds answer this question"

    expect(page.get_by_text("Fråga socialtjänstartiklarna").first).to_be_visible()
    expect(page.get_by_text("Exempelfrågor")).to_be_visible()
    _ask(page, question)

    bot = page.locator("#chatt [data-testid='bot']").last
    expect(bot).to_contain_text("Karlstad", timeout=ANSWER_TIMEOUT_MS)
    expect(bot).to_have_text(_normalize(expected.text), timeout=ANSWER_TIMEOUT_MS)
    expect(bot.locator("a[href='#kalla-1']")).to_have_text("[1]")
    expect(bot).to_contain_text("[1]")

    source = page.locator("#kallor #kalla-1")
    expect(source).to_contain_text("[1]")
    expect(source).to_contain_text(expected.citations[0].passage.chunk.title)
    mark = source.locator("mark").first
    expect(mark).to_be_visible()
    assert _normalize(mark.inner_text()) in _normalize(bot.inner_text())
    expect(page.locator("#kallor")).not_to_contain_text("Inget stöd i källorna")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui-answer.png"), full_page=True)


@pytest.mark.browser
@pytest.mark.slow
def test_unsupported_question_says_no_support(page: Page, _ui_pipeline: Pipeline) -> None:
    from playwright.sync_api import expect

    question = "Vad kostar ett pass på Liseberg?"
    expected = _ui_pipeline.ask(question)
    assert expected.abstained, "precondition: the seeds do not cover this question"

    bots = page.locator("#chatt [data-testid='bot']")
    _ask(page, "   ")
    expect(bots.last).to_have_text("Skriv en fråga.")

    _ask(page, question)
    expect(bots).to_have_count(2)
    expect(bots.last).to_have_text(_normalize(expected.text), timeout=ANSWER_TIMEOUT_MS)
    panel = page.locator("#kallor")
    expect(panel).to_contain_text("Inget stöd i källorna", timeout=ANSWER_TIMEOUT_MS)
    expect(panel.locator("mark")).to_have_count(0)
    expect(panel.locator(".kalla")).to_have_count(0)

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui-abstain.png"), full_page=True)


# Fast checks of the presentation functions, without a browser or an index.

_TEXT = "Intro <b>fet</b> *x* ${1+1}. Dagarna hölls i Karlstad. Slut."
_QUOTE = "Dagarna hölls i Karlstad."


def _answer(text: str, abstained: bool = False) -> Answer:
    chunk = Chunk("c1", "000_a.txt", "Titel <i>", "", 100, 100 + len(_TEXT), _TEXT, _TEXT)
    passage = Passage(chunk, rank=1, score=0.9)
    start = 100 + _TEXT.index(_QUOTE)
    citations = () if abstained else (Citation(1, passage, _QUOTE, start, start + len(_QUOTE)),)
    return Answer("fråga", text, abstained, citations, (passage,))


class _FakePipeline:
    def __init__(self, answer: Answer | Exception, deltas: tuple[str, ...] = ()) -> None:
        self.result = answer
        self.deltas = deltas
        self.history: list[Turn] = []

    def ask_stream(self, question: str, history: Sequence[Turn] = ()) -> Iterator[AskEvent]:
        self.history = list(history)
        if isinstance(self.result, Exception):
            raise self.result
        yield Searched(self.result.searched_query or question, self.result.passages)
        yield from (TextDelta(d) for d in self.deltas)
        yield self.result


def test_respond_streams_escaped_answer_and_highlighted_source() -> None:
    from ui.app import respond

    fake = _FakePipeline(_answer(f"{_QUOTE} [1] <script>x</script> *y* [7]"))
    steps = list(respond(fake, "  Var?  ", []))  # type: ignore[arg-type]
    chats = [chat[-1]["content"] for _, chat, _ in steps[2:]]  # after "searching" and "searched"
    assert len(chats) > 3
    assert all(later.startswith(earlier) for earlier, later in pairwise(chats))
    final_box, final_chat, panel = steps[-1]
    assert final_box == ""
    assert final_chat[0] == {"role": "user", "content": "Var?"}
    text = final_chat[-1]["content"]
    assert "[\\[1\\]](#kalla-1)" in text and "\\<script\\>" in text and "\\*y\\*" in text
    assert "\\[7\\]" in text  # a marker without a citation stays plain text
    assert 'id="kalla-1"' in panel and f"<mark>{_QUOTE}</mark>" in panel
    assert "&lt;b&gt;fet&lt;/b&gt;" in panel and "Titel &lt;i&gt;" in panel
    assert "<b>" not in panel and "<i>" not in panel


def test_respond_blank_error_and_abstain() -> None:
    from ui.app import respond

    ((_, chat, _),) = respond(_FakePipeline(_answer("x")), "  ", [])  # type: ignore[arg-type]
    assert chat == [{"role": "assistant", "content": "Skriv en fråga."}]

    failing = _FakePipeline(RagError("Inget index."))
    *_, (_, chat, _) = respond(failing, "Fråga?", [])  # type: ignore[arg-type]
    assert chat[-1]["content"] == "**Något gick fel:** Inget index."

    abstaining = _FakePipeline(_answer("Inget stöd [1].", abstained=True))
    *_, (_, chat, panel) = respond(abstaining, "Fråga?", [])  # type: ignore[arg-type]
    assert "Inget stöd i källorna" in panel and "<mark>" not in panel
    assert "#kalla" not in chat[-1]["content"]


def test_respond_streams_llm_text_then_the_checked_answer_with_flags() -> None:
    from ui.app import respond

    text = f"{_QUOTE} [1] Påhittad mening om allt."
    flag = FlaggedSentence(text.index("Påhittad"), len(text), "saknar källhänvisning")
    answer = replace(_answer(text), mode="llm", searched_query="Karlstad Och sen?", flagged=(flag,))
    fake = _FakePipeline(answer, deltas=("Dagarna", " hölls [1][9]"))
    history = [
        {"role": "user", "content": "Var hölls \\*dagarna\\*?"},
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "I Karlstad [\\[1\\]](#kalla-1)."}],
        },
    ]
    steps = list(respond(fake, "Och sen?", history))  # type: ignore[arg-type]
    assert fake.history == [Turn("Var hölls *dagarna*?", "I Karlstad [1].")]
    chats = [chat[-1]["content"] for _, chat, _ in steps]
    assert "Dagarna hölls \\[1\\]\\[9\\]" in chats  # the LLM's words, as they came
    final, panel = chats[-1], steps[-1][2]
    assert final.startswith("Dagarna hölls i Karlstad. [\\[1\\]](#kalla-1) Påhittad")
    assert final.endswith("om allt. ⚠️ *\\(ej belagt: saknar källhänvisning\\)*")
    assert "Sökte efter: <q>Karlstad Och sen?</q>" in panel and 'id="kalla-1"' in panel
    assert "Sökte efter" in steps[1][2]  # shown while the answer is still being written


def test_respond_shows_the_fallback_notice_above_the_quotes() -> None:
    from ui.app import respond

    notice = "Språkmodellen svarade inte inom 2 s, så svaret nedan citerar källorna."
    answer = replace(_answer(f"{_QUOTE} [1]"), notice=notice)
    *_, (_, chat, _) = respond(_FakePipeline(answer, deltas=("Dag",)), "Var?", [])  # type: ignore[arg-type]
    assert chat[-1]["content"].startswith(f"> ⚠️ {notice}\n\n{_QUOTE} [\\[1\\]](#kalla-1)")
