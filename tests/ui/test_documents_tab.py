"""The Dokument tab in Chromium: a maintainer adds a PDF, asks about it, opens it, removes it."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from browser import ANSWER_TIMEOUT_MS, ask, serve

from bench.documents import Block, write_pdf
from conftest import MINI, make_settings
from rag.pipeline import Pipeline
from ui.documents_tab import check_upload, safe_name, save_uploads

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from rag.index.embed import RagEmbeddings

pytestmark = [pytest.mark.browser, pytest.mark.slow]

USERS = [("anna", "förvaltare-1"), ("bo", "läsare-22")]
FACT = "Nattpatrullen i Sundsvall besöker varje natt elva brukare med larm."
QUESTION = "Hur många brukare besöker nattpatrullen i Sundsvall varje natt?"


@pytest.fixture(scope="module")
def managed(tmp_path_factory: pytest.TempPathFactory, e5: RagEmbeddings) -> Pipeline:
    seeds = tmp_path_factory.mktemp("managed") / "seeds"
    shutil.copytree(MINI, seeds)
    data = tmp_path_factory.mktemp("managed-data")
    pipeline = Pipeline(make_settings(seeds, data, maintainers="anna"), embedder=e5)
    pipeline.ingest()
    return pipeline


@pytest.fixture(scope="module")
def managed_url(managed: Pipeline) -> Iterator[str]:
    from ui.app import build_app

    yield from serve(
        build_app(managed), auth=USERS, settings=managed.settings, originals=managed.original_pdf
    )


def _logged_in(browser: Browser, url: str, user: tuple[str, str]) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="sv-SE")
    response = context.request.post(url + "login", form={"username": user[0], "password": user[1]})
    assert response.ok, response.status
    page = context.new_page()
    page.goto(url, wait_until="domcontentloaded")
    page.locator("#fraga textarea").wait_for()
    yield page
    context.close()


def test_a_maintainer_adds_asks_opens_and_removes_a_pdf(
    browser: Browser, managed_url: str, managed: Pipeline, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    filler = [
        Block(f"Punkt {i} i rutinen: larmsamtal nummer {i} journalförs av den som tog emot det.")
        for i in range(300)
    ]  # a dozen pages: embedding them takes long enough to watch the progress bar
    pdf = tmp_path / "Nattpatrull rutin 2026.pdf"
    blocks = [Block("Nattpatrullen", True), *filler[:40], Block(FACT), *filler[40:]]
    assert write_pdf(pdf, "Nattpatrullen", blocks) >= 10
    for page in _logged_in(browser, managed_url, USERS[0]):
        page.get_by_role("tab", name="Dokument").click()
        listing = page.locator("#dokument-lista")
        expect(listing).to_contain_text("alfa.txt")
        page.locator("#dokument-filer input[type=file]").set_input_files(str(pdf))
        expect(page.locator("#dokument-filer")).to_contain_text("Nattpatrull", timeout=30_000)
        page.locator("#dokument-indexera").click()
        progress = page.locator("#dokument-status .progress-text")
        expect(progress).to_contain_text(re.compile(r"[1-9]\d*/\d+ avsnitt"))  # embedding
        status = page.locator("#dokument-status")
        expect(status).to_contain_text("Indexet har nu 3 filer", timeout=ANSWER_TIMEOUT_MS)
        expect(status).to_contain_text("sparades som Nattpatrull rutin 2026.pdf")
        expect(listing).to_contain_text("Nattpatrull rutin 2026.pdf")
        expect(listing).to_contain_text("PDF")

        page.get_by_role("tab", name="Fråga").click()
        bot = ask(page, QUESTION)
        expect(bot).to_contain_text("elva brukare")
        bot.locator("a", has_text="[1]").first.click()
        link = page.locator("#kallor article.artikel:visible").get_by_role(
            "link", name="Öppna PDF:en på sidan 2"
        )
        href = link.get_attribute("href")
        assert href is not None
        opened = page.context.request.get(managed_url + href.split("#")[0])
        assert opened.status == 200 and opened.body() == pdf.read_bytes()

        page.get_by_role("tab", name="Dokument").click()
        page.locator("#dokument-val input").click()
        page.locator("li[aria-label='Nattpatrull rutin 2026.pdf']").click()
        page.locator("#dokument-ta-bort").click()
        expect(status).to_contain_text("togs bort", timeout=ANSWER_TIMEOUT_MS)
        expect(status).to_contain_text("Indexet har nu 2 filer")
        expect(listing).not_to_contain_text("Nattpatrull rutin 2026.pdf")
    kept = list((managed.settings.data_dir / "removed").iterdir())
    assert [p.read_bytes() for p in kept] == [pdf.read_bytes()]  # moved aside, not deleted
    assert not (managed.settings.seeds_dir / "Nattpatrull rutin 2026.pdf").exists()


def test_other_users_see_no_dokument_tab_and_cannot_upload(
    browser: Browser, managed_url: str
) -> None:
    from playwright.sync_api import expect

    for page in _logged_in(browser, managed_url, USERS[1]):
        expect(page.get_by_role("tab", name="Fråga")).to_be_visible()
        expect(page.get_by_role("tab", name="Dokument")).to_have_count(0)
    with httpx.Client(base_url=managed_url, timeout=30) as reader:
        assert reader.post("login", data={"username": "bo", "password": USERS[1][1]}).is_success
        refused = reader.post("gradio_api/upload", files={"files": ("a.pdf", b"%PDF-1.4")})
        assert refused.status_code == 404
    with httpx.Client(base_url=managed_url, timeout=30) as maintainer:
        assert maintainer.post(
            "login", data={"username": "anna", "password": USERS[0][1]}
        ).is_success
        accepted = maintainer.post("gradio_api/upload", files={"files": ("a.txt", b"Hej")})
        assert accepted.status_code == 200


def test_uploads_are_checked_by_content_and_never_overwrite(tmp_path: Path) -> None:
    assert check_upload("rapport.pdf", b"%PDF-1.4 trasig", 1000).startswith("a damaged PDF")
    assert check_upload("bild.png", b"\x89PNG", 1000).startswith("inte ett format som stöds")
    assert check_upload("stor.txt", b"x" * 2000, 1000).startswith("för stor")
    assert check_upload("text.pdf", b"Rubrik\n\nEn rad.", 1000) == ""  # read as text
    (tmp_path / "a.txt").write_bytes(b"gammal")
    assert safe_name("../../a.txt", tmp_path, b"ny") == "a-2.txt"
    assert safe_name("a.txt", tmp_path, b"gammal") is None  # the same file is already there
    assert safe_name("<script>.md", tmp_path, b"x") == "script.md"  # no path, no markup
    upload = tmp_path / "upload" / "[klicka](http:__x) <b>.txt"
    upload.parent.mkdir()
    upload.write_bytes(b"\x00binary")
    (line,), saved = save_uploads([str(upload)], tmp_path, 1000)
    assert saved == 0 and "\\[klicka\\]\\(http:\\_\\_x\\) \\<b\\>" in line  # shown as text
