"""PDF and web-page sources in the chat: the cited page, the original PDF, the web address."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from browser import ask, open_page, serve

from bench.documents import Block, write_html, write_pdf
from conftest import make_settings
from rag.pipeline import Pipeline

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from rag.index.embed import RagEmbeddings

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FACT = "Hembesök i Kristinehamn görs alltid av två socialsekreterare tillsammans."
QUESTION = "Hur många socialsekreterare gör hembesök i Kristinehamn?"
URL = "https://kristinehamn.example/anhoriga"


@pytest.fixture(scope="module")
def pdf_pipeline(tmp_path_factory: pytest.TempPathFactory, e5: RagEmbeddings) -> Pipeline:
    """An index of a two-page PDF (the fact on page 2) and a web page."""
    seeds = tmp_path_factory.mktemp("pdf-seeds")
    filler = [
        Block(f"Avsnitt {i} beskriver arbetsgång {i} för handläggningen av ärenden på enheten.")
        for i in range(1, 45)
    ]
    blocks = [Block("Rutin för hembesök", True), *filler, Block("Hembesöket", True), Block(FACT)]
    assert write_pdf(seeds / "rutin.pdf", "Rutin för hembesök", blocks) == 2
    page = [
        Block("Anhörigstöd i Kristinehamn", True),
        Block("Anhörigcentralen erbjuder samtal och stödgrupper för den som vårdar en närstående."),
    ]
    write_html(seeds / "anhorig.html", "Anhörigstöd", page, url=URL, date="2025-09-01")
    pipeline = Pipeline(make_settings(seeds, tmp_path_factory.mktemp("pdf-data")), embedder=e5)
    pipeline.ingest()
    return pipeline


@pytest.fixture(scope="module")
def pdf_url(pdf_pipeline: Pipeline) -> Iterator[str]:
    from ui.app import build_app

    yield from serve(build_app(pdf_pipeline), originals=pdf_pipeline.original_pdf)


def test_a_pdf_citation_opens_its_page_and_the_original(
    browser: Browser, pdf_url: str, pdf_pipeline: Pipeline
) -> None:
    from playwright.sync_api import expect

    expected = pdf_pipeline.ask(QUESTION)
    assert expected.citations and expected.citations[0].page == 2
    assert FACT in expected.citations[0].quote or expected.citations[0].quote in FACT
    for page in open_page(browser, pdf_url, 1400, 1000):
        bot = ask(page, QUESTION)
        expect(bot).to_contain_text("två socialsekreterare")
        bot.locator("a", has_text="[1]").first.click()
        article = page.locator("#kallor article.artikel:visible")
        expect(article.locator("dd", has_text="2 av 2")).to_have_count(1)  # Sida: 2 av 2
        text = article.locator(".artikeltext").inner_text()
        assert "Hembesöket" in text and "Avsnitt 1 " not in text  # the cited page only
        link = article.get_by_role("link", name="Öppna PDF:en på sidan 2")
        href = link.get_attribute("href")
        content = (Path(pdf_pipeline.settings.seeds_dir) / "rutin.pdf").read_bytes()
        assert href == f"dokument/{hashlib.sha256(content).hexdigest()}.pdf#page=2"
        response = page.request.get(pdf_url + href.split("#")[0])
        assert response.status == 200 and response.headers["content-type"] == "application/pdf"
        assert response.body() == content


def test_a_web_page_citation_links_its_original_address(
    browser: Browser, pdf_url: str, pdf_pipeline: Pipeline
) -> None:
    from playwright.sync_api import expect

    answer = pdf_pipeline.ask("Vad erbjuder anhörigcentralen i Kristinehamn?")
    assert answer.articles and answer.articles[0].url == URL
    assert answer.articles[0].date is not None and answer.articles[0].date.iso == "2025-09-01"
    for page in open_page(browser, pdf_url, 1400, 1000):
        bot = ask(page, "Vad erbjuder anhörigcentralen i Kristinehamn?")
        bot.locator("a", has_text="[1]").first.click()
        link = page.locator("#kallor article.artikel:visible").get_by_role(
            "link", name="Originalsidan på webben"
        )
        expect(link).to_have_attribute("href", URL)


def test_only_indexed_pdfs_are_served_and_only_after_login(
    pdf_pipeline: Pipeline, pdf_url: str
) -> None:
    from ui.app import build_app

    content = (Path(pdf_pipeline.settings.seeds_dir) / "rutin.pdf").read_bytes()
    sha = hashlib.sha256(content).hexdigest()
    html = (Path(pdf_pipeline.settings.seeds_dir) / "anhorig.html").read_bytes()
    with httpx.Client(base_url=pdf_url, timeout=30) as client:
        assert client.get(f"dokument/{sha}.pdf").status_code == 200
        assert client.get(f"dokument/{'0' * 64}.pdf").status_code == 404
        assert client.get(f"dokument/{hashlib.sha256(html).hexdigest()}.pdf").status_code == 404
        assert client.get("dokument/../rutin.pdf").status_code == 404
    for url in serve(
        build_app(pdf_pipeline), auth=[("anna", "lösenord-1")], originals=pdf_pipeline.original_pdf
    ):
        with httpx.Client(base_url=url, timeout=30) as anonymous:
            refused = anonymous.get(f"dokument/{sha}.pdf")
            assert refused.status_code == 401 and refused.content != content
            assert anonymous.post(
                "login", data={"username": "anna", "password": "lösenord-1"}
            ).status_code in (200, 302, 303)
            assert anonymous.get(f"dokument/{sha}.pdf").content == content
