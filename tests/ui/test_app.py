"""Browser tests of the Gradio UI: Debian chromium, driven by Playwright, on 127.0.0.1 only.

Also a `gradio_client` test of the public API endpoint `fraga`. Screenshots go to
test-artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from browser import ANSWER_TIMEOUT_MS, ask, open_page, serve

from conftest import ROOT
from rag.feedback import FeedbackStore
from rag.ingest.dates import date_label
from rag.records import NO_SUPPORT_TITLE

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

    from rag.pipeline import Pipeline
    from rag.types import Answer

ARTIFACTS = ROOT / "test-artifacts"
QUESTION = "Var hölls Socialchefsdagarna 2023?"
CITED = "Sammanfatta Huset"  # two quotes, one article
UNSUPPORTED = "Vad kostar ett pass på Liseberg?"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _normalize(text: str) -> str:
    return " ".join(text.split())


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


@pytest.fixture(scope="module")
def eval_questions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small slice of the held-out set: three answerable questions and one refusal."""
    lines = (ROOT / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    refusal = next(line for line in lines if '"unanswerable"' in line)
    path = tmp_path_factory.mktemp("eval") / "questions.jsonl"
    path.write_text("\n".join([*lines[:3], refusal]) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def ui_url(
    seeded_pipeline: Pipeline, eval_questions: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    from ui.app import build_app

    runs = tmp_path_factory.mktemp("eval-runs")
    app = build_app(
        seeded_pipeline, eval_questions=eval_questions, eval_runs_dir=runs, eval_open=True
    )
    yield from serve(app)


@pytest.fixture
def page(browser: Browser, ui_url: str) -> Iterator[Page]:
    yield from open_page(browser, ui_url, 1400, 1000)


@pytest.fixture
def phone(browser: Browser, ui_url: str) -> Iterator[Page]:
    yield from open_page(browser, ui_url, 390, 844)


def _check_highlight(page: Page, n: int, expected: Answer) -> Locator:
    """The quote of citation n is marked, shown and scrolled into view in its article."""
    from playwright.sync_api import expect

    citation = next(c for c in expected.citations if c.n == n)
    target = page.evaluate("document.querySelector(':target')?.id ?? ''")
    assert target.endswith(f"-{n}"), f"the URL fragment's target is {target!r}"
    mark = page.locator("#kallor").locator(f"mark[id='{target}']")
    assert mark.evaluate("m => m.textContent") == citation.quote
    expect(mark).to_be_visible()
    expect(mark).to_be_in_viewport()
    article = page.locator("#kallor article.artikel").filter(has=page.locator(f"#{target}"))
    expect(article).to_be_visible()
    expect(page.locator("#kallor article.artikel:visible")).to_have_count(1)
    expect(article.locator(".kallhuvud h4")).to_be_in_viewport()  # where the quote is from
    return article


def test_clicking_a_citation_shows_the_quote_in_its_article(
    page: Page, seeded_pipeline: Pipeline
) -> None:
    from playwright.sync_api import expect

    expected = seeded_pipeline.ask(CITED)
    assert len(expected.citations) >= 2, "precondition: the seeds answer with several citations"
    expect(page.get_by_text("Fråga socialtjänstartiklarna").first).to_be_visible()
    bot = ask(page, CITED)
    expect(bot).to_contain_text(_normalize(expected.text.split("[1]")[0]))
    expect(bot).to_contain_text("Bygger på")
    expect(bot).to_contain_text("SFS 2025:400")  # the age warning: all articles predate the act
    expect(page.locator("#kallor .artikel:visible")).to_have_count(0)

    bot.locator("a", has_text="[1]").first.click()
    article = _check_highlight(page, 1, expected)
    first = expected.citations[0]
    info = next(a for a in expected.articles if 1 in a.citations)
    expect(article).to_contain_text(first.passage.chunk.title)
    expect(article).to_contain_text(first.passage.chunk.source)
    assert info.date is not None, "precondition: the first cited article gives a date"
    expect(article).to_contain_text(date_label(info.date))  # e.g. "2 oktober 2022"
    whole = seeded_pipeline.article_at(first.passage.chunk.source, first.start)
    assert whole is not None
    assert _normalize(article.locator(".artikeltext").inner_text()) == _normalize(whole.text)
    _shot(page, "ui-citation.png")
    article.get_by_role("link", name="↑ Tillbaka till svaret").click()
    expect(page.locator("#chatt")).to_be_in_viewport()
    bot.locator("a", has_text="[1]").first.click()
    article = _check_highlight(page, 1, expected)

    # The source list links to the same viewer; keyboard only.
    link = page.locator("#kallor .stycken a", has_text="[2]")
    link.focus()
    page.keyboard.press("Enter")
    second = _check_highlight(page, 2, expected)
    expect(second).to_contain_text(expected.citations[1].passage.chunk.title)
    cited = page.locator("#kallor li.citerad")
    expect(cited).to_have_count(len({c.passage.chunk.id for c in expected.citations}))
    expect(page.locator("#kallor li.stycke")).to_have_count(len(expected.passages))


def test_unsupported_question_says_no_support(page: Page, seeded_pipeline: Pipeline) -> None:
    from playwright.sync_api import expect

    expected = seeded_pipeline.ask(UNSUPPORTED)
    assert expected.abstained, "precondition: the seeds do not cover this question"
    bot = ask(page, UNSUPPORTED)
    expect(bot).to_have_text(f"Inget stöd i källorna. {_normalize(expected.text)}")
    panel = page.locator("#kallor")
    expect(panel.locator(".inget-stod")).to_contain_text("Inget stöd i källorna")
    expect(panel.locator("mark")).to_have_count(0)
    expect(panel.locator("li.citerad")).to_have_count(0)
    expect(panel.locator("li.stycke")).to_have_count(len(expected.passages))
    _shot(page, "ui-abstain.png")


def test_thumbs_and_comment_are_stored(page: Page, seeded_pipeline: Pipeline) -> None:
    from playwright.sync_api import expect

    store = FeedbackStore(seeded_pipeline.settings.feedback_path)
    before = len(store.all())
    ask(page, CITED)
    expected = seeded_pipeline.ask(QUESTION)
    bot = ask(page, QUESTION)  # the second answer is the one rated
    expect(bot).to_contain_text("Bygger på")
    page.locator("#chatt").get_by_role("button", name="Ogilla", exact=True).last.click()
    status = page.locator("#omdome")
    expect(status).to_contain_text("Tack för ditt omdöme")
    expect(status).to_contain_text(QUESTION)  # names the answer the comment belongs to
    chat_box = page.locator("#chatt").bounding_box()
    status_box = status.bounding_box()
    question_box = page.locator("#fraga").bounding_box()
    assert chat_box and status_box and question_box
    assert chat_box["y"] + chat_box["height"] <= status_box["y"] < question_box["y"]  # beside it
    comment = page.locator("#kommentar textarea")
    comment.fill("Källa [2] handlar om något annat.")
    page.locator("#spara-kommentar").click()
    expect(page.locator("#omdome")).to_contain_text("Kommentaren är sparad")
    expect(comment).to_have_value("")

    rows = store.all()
    assert len(rows) == before + 1
    row = rows[0]
    assert (row.question, row.answer, row.rating) == (QUESTION, expected.text, "down")
    assert row.comment == "Källa [2] handlar om något annat."
    assert row.sources == [f"[{c.n}] {c.passage.chunk.source}" for c in expected.citations]
    _shot(page, "ui-feedback.png")


def test_eval_tab_runs_the_question_set(page: Page, eval_questions: Path) -> None:
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Utvärdering").click()
    page.locator("#kor-utvardering").click()
    metrics = page.locator("#utvardering-matt")
    expect(metrics).to_contain_text("4 frågor", timeout=ANSWER_TIMEOUT_MS)
    for name in ("Träff@1", "MRR@10", "Rätt avböjda", "andel obesvarbara frågor som avböjdes"):
        expect(metrics).to_contain_text(name)
    expect(page.locator("#utvardering-diagram img")).to_have_count(3)
    expect(page.locator("#utvardering-fel")).to_contain_text("Frågor som misslyckades")
    _shot(page, "ui-eval.png")


def test_phone_width(phone: Page, seeded_pipeline: Pipeline) -> None:
    from playwright.sync_api import expect

    expected = seeded_pipeline.ask(QUESTION)
    bot = ask(phone, QUESTION)
    expect(bot).to_contain_text("Bygger på")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    expect(phone.locator("#kallor")).to_be_visible()
    bot.locator("a", has_text="[1]").first.click()
    _check_highlight(phone, 1, expected)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    _shot(phone, "ui-phone.png")


def test_gradio_client_gets_the_answer_and_its_citations(
    ui_url: str, seeded_pipeline: Pipeline
) -> None:
    from gradio_client import Client

    expected = seeded_pipeline.ask(QUESTION)
    client = Client(ui_url, verbose=False)
    answer, record, *_ = client.predict(QUESTION, [], api_name="/fraga")
    assert answer == expected.text
    assert [(c["n"], c["source"], c["quote"]) for c in record["citations"]] == [
        (c.n, c.passage.chunk.source, c.quote) for c in expected.citations
    ]
    assert record["age_warning"] == expected.age_warning
    refusal, record, *_ = client.predict(UNSUPPORTED, [], api_name="/fraga")
    assert refusal == record["answer"] and record["abstained"] is True
    assert record["citations"] == []


def test_a_follow_up_shows_its_standalone_query_and_a_new_conversation_forgets(
    page: Page,
) -> None:
    from playwright.sync_api import expect

    expect(page.locator("footer a")).to_have_count(0)  # no API, Gradio or settings links
    ask(page, "Vad är Huset i Nordmalings kommun?")
    ask(page, "hur många jobbade på IFO då")
    searched = page.locator("#kallor .sokfraga q")
    expect(searched).to_contain_text("Nordmaling")
    expect(page.locator("#kallor")).to_contain_text("träffsäkerhet")  # calibrated in training
    page.locator("#ny-konversation").click()
    expect(page.locator("#chatt [data-testid='bot']")).to_have_count(0)
    expect(page.locator("#kallor")).not_to_contain_text("Nordmaling")
    bot = ask(page, "vad tyckte hon om tillit?")
    expect(bot).to_contain_text("”hon”")  # nothing earlier names her: the chat says so
    expect(searched).to_have_text("vad tyckte hon om tillit?")  # nothing carried over

    # The chat's own clear button forgets the same way, sources panel included.
    ask(page, "Vad är Huset i Nordmalings kommun?")
    page.locator("#chatt").get_by_role("button", name=re.compile("rensa|clear", re.I)).click()
    expect(page.locator("#chatt [data-testid='bot']")).to_have_count(0)
    expect(page.locator("#kallor")).not_to_contain_text("Nordmaling")
    ask(page, "hur många jobbade på IFO då")
    expect(searched).not_to_contain_text("Nordmaling")


def test_a_citation_in_an_earlier_answer_still_opens_its_article(page: Page) -> None:
    from playwright.sync_api import expect

    ask(page, QUESTION)
    ask(page, CITED)
    first = page.locator("#chatt [data-testid='bot']").first
    first.locator("a", has_text="[1]").first.click()
    article = page.locator("#kallor article.artikel:visible")
    expect(article).to_have_count(1)
    expect(article).to_contain_text(f"Svar på{QUESTION}")  # says which question it serves
    expect(article.locator("mark").first).to_be_visible()
    _shot(page, "ui-earlier-citation.png")


def test_citation_links_are_targets_of_at_least_24_px(page: Page) -> None:
    bot = ask(page, QUESTION)
    box = bot.locator("a", has_text="[1]").first.bounding_box()
    assert box is not None and box["width"] >= 24 and box["height"] >= 24, box


def test_no_serious_accessibility_violations(page: Page) -> None:
    """axe-core over the chat with an answer and an opened citation: nothing serious."""
    from axe_playwright_python.sync_playwright import Axe

    def serious() -> list[tuple[str, str, list[str]]]:
        return [
            (v["id"], v["impact"], [n["html"][:160] for n in v["nodes"]])
            for v in Axe().run(page).response["violations"]
            if v["impact"] in ("serious", "critical")
        ]

    bot = ask(page, QUESTION)
    bot.locator("a", has_text="[1]").first.click()
    assert serious() == []
    page.get_by_role("tab", name="Utvärdering").click()
    page.locator("#kor-utvardering").wait_for()
    assert serious() == []


def test_a_reload_keeps_the_conversation_until_a_new_one(page: Page) -> None:
    from playwright.sync_api import expect

    bots = page.locator("#chatt [data-testid='bot']")
    ask(page, "Vad är Huset i Nordmalings kommun?")
    ask(page, "hur många jobbade på IFO då")
    page.reload(wait_until="domcontentloaded")
    expect(bots).to_have_count(2, timeout=30_000)  # asked again from the browser's copy
    expect(page.locator("#chatt")).to_contain_text("hur många jobbade på IFO då")
    expect(page.locator("#kallor .sokfraga q")).to_contain_text("Nordmaling")  # still a follow-up
    bots.last.locator("a", has_text="[1]").first.click()
    expect(page.locator("#kallor article.artikel:visible")).to_have_count(1)
    page.locator("#ny-konversation").click()
    expect(bots).to_have_count(0)
    page.reload(wait_until="domcontentloaded")
    page.locator("#fraga textarea").wait_for()
    page.wait_for_timeout(1500)  # the load event has run: nothing comes back
    expect(bots).to_have_count(0)


@pytest.mark.parametrize(("width", "height"), [(1366, 900), (390, 844)])
def test_screens_at_desktop_and_phone_widths(
    browser: Browser, ui_url: str, width: int, height: int
) -> None:
    """The four screens a new user meets, at a laptop's and a phone's width, none too wide."""
    from playwright.sync_api import expect

    size = f"{width}x{height}"
    for page in open_page(browser, ui_url, width, height):
        ask(page, QUESTION)
        ask(page, CITED)
        page.locator("#chatt [data-testid='bot']").first.locator("a", has_text="[1]").first.click()
        expect(page.locator("#kallor article.artikel:visible mark").first).to_be_in_viewport()
        _shot(page, f"screen-{size}-older-citation.png")
        bot = ask(page, UNSUPPORTED)
        expect(bot).to_contain_text(NO_SUPPORT_TITLE)
        _shot(page, f"screen-{size}-no-support.png")
        page.locator("#chatt").get_by_role("button", name="Gilla", exact=True).nth(1).click()
        expect(page.locator("#omdome")).to_contain_text(CITED)  # the second answer's question
        expect(page.locator("#omdome")).to_be_in_viewport()
        _shot(page, f"screen-{size}-feedback.png")
        page.get_by_role("tab", name="Utvärdering").click()
        _shot(page, f"screen-{size}-eval-tab.png")
        assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_one_click_copies_the_answer_with_its_sources(
    browser: Browser, ui_url: str, seeded_pipeline: Pipeline
) -> None:
    from playwright.sync_api import expect

    from ui.render import copy_text

    expected = copy_text(seeded_pipeline.ask(QUESTION))
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="sv-SE")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=ui_url.rstrip("/"))
    page = context.new_page()
    page.goto(ui_url, wait_until="domcontentloaded")
    ask(page, QUESTION)
    page.locator("#kopiera-panel").get_by_text("Kopiera svaret med källor").click()
    box = page.locator("#kopiera")
    expect(box.locator("textarea")).to_have_value(expected)
    box.get_by_role("button", name=re.compile("kopiera|copy", re.I)).click()
    assert page.evaluate("navigator.clipboard.readText()") == expected
    context.close()
