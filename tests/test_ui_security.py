"""Browser and HTTP tests of the UI's defences: hostile article text runs nothing; login."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest
from test_ui import CHROMIUM, CHROMIUM_ARGS, _ask, _open, serve

from conftest import make_settings
from rag.embed import RagEmbeddings
from rag.pipeline import Pipeline

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HOSTILE = """Boendestöd i Tallbacka

Boendestödet i Tallbacka har <script>window.pwned = 1; alert("xss")</script> tolv platser.
Platserna <img src=x onerror="window.pwned = 2; alert(2)"> fördelas av biståndshandläggare.

Varma hälsningar, Tallbacka kommun
"""
QUESTION = "Hur många platser har boendestödet i Tallbacka?"
PASSWORD = "hemligt-lösen-99"


@pytest.fixture(scope="module")
def hostile_pipeline(tmp_path_factory: pytest.TempPathFactory, e5: RagEmbeddings) -> Pipeline:
    seeds = tmp_path_factory.mktemp("hostile-seeds")
    (seeds / "farlig.txt").write_text(HOSTILE, encoding="utf-8")
    data = tmp_path_factory.mktemp("hostile-data")
    pipeline = Pipeline(make_settings(seeds, data, min_score=0.0), embedder=e5)
    pipeline.ingest()
    return pipeline


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, hostile_pipeline: Pipeline) -> Iterator[Page]:
    from ui.app import build_app

    for url in serve(build_app(hostile_pipeline)):
        yield from _open(browser, url, 1400, 1000)


def test_script_in_an_article_or_question_runs_nothing(
    page: Page, hostile_pipeline: Pipeline
) -> None:
    from playwright.sync_api import expect

    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    expected = hostile_pipeline.ask(QUESTION)
    assert expected.citations, "precondition: the hostile article is cited"
    bot = _ask(page, QUESTION)
    bot.locator("a", has_text="[1]").first.click()
    article = page.locator("#kallor article.artikel:visible .artikeltext")
    expect(article).to_contain_text('<script>window.pwned = 1; alert("xss")</script>')
    expect(article).to_contain_text('<img src=x onerror="window.pwned = 2; alert(2)">')
    expect(page.locator("#kallor")).to_contain_text("<script>")  # the passage list too

    typed = '<img src=y onerror="window.pwned = 3; alert(3)"> <script>alert(4)</script>Hej?'
    _ask(page, typed)
    expect(page.locator("#chatt [data-testid='user']").last).to_contain_text("<script>alert(4)")
    page.wait_for_timeout(500)  # give any injected handler the chance to fire before checking
    assert page.evaluate("window.pwned") is None
    assert page.locator("#chatt img[src='x'], #chatt img[src='y'], #kallor img").count() == 0
    assert dialogs == []


@pytest.fixture(scope="module")
def login_url(hostile_pipeline: Pipeline) -> Iterator[str]:
    from ui.app import build_app

    yield from serve(build_app(hostile_pipeline), auth=[("anna", PASSWORD), ("bo", "annat")])


def test_login_is_required_and_works(login_url: str, caplog: pytest.LogCaptureFixture) -> None:
    from gradio_client import Client

    caplog.set_level(logging.DEBUG)
    with httpx.Client(base_url=login_url, timeout=30) as anonymous:
        assert anonymous.get("config").status_code == 401
        call = anonymous.post("gradio_api/call/fraga", json={"data": [QUESTION, []]})
        assert call.status_code in (401, 403)
        wrong = anonymous.post("login", data={"username": "anna", "password": "fel"})
        assert wrong.status_code == 400
    with httpx.Client(base_url=login_url, timeout=30) as user:
        assert user.post("login", data={"username": "anna", "password": PASSWORD}).is_success
        assert user.get("config").status_code == 200
    client = Client(login_url, auth=("bo", "annat"), verbose=False)
    answer, record, *_ = client.predict(QUESTION, [], api_name="/fraga")
    assert "tolv" in answer and record["citations"]
    assert PASSWORD not in caplog.text and "annat" not in caplog.text
