"""Browser and server helpers shared by the UI tests: Debian chromium on 127.0.0.1 only."""

from __future__ import annotations

import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from rag.config import Settings

if TYPE_CHECKING:
    import gradio as gr
    from playwright.sync_api import Browser, Locator, Page

    from ui.originals import OriginalLookup

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
ANSWER_TIMEOUT_MS = 60_000  # the first question also builds the answerer's word weights


def serve(
    app: gr.Blocks,
    auth: list[tuple[str, str]] | None = None,
    settings: Settings | None = None,
    originals: OriginalLookup | None = None,
) -> Iterator[str]:
    """Launch `app` as `rag serve` does on a free port of 127.0.0.1; yields its URL, closes it."""
    from ui.app import start

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = settings or Settings(data_dir=Path(tempfile.mkdtemp(prefix="ui-data-")))
    start(app, settings, auth, host="127.0.0.1", port=port, block=False, originals=originals)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        app.close()


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's chromium, headless, through Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is missing: apt-get install -y chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_page(browser: Browser, url: str, width: int, height: int) -> Iterator[Page]:
    """A fresh page on the app; any request that leaves 127.0.0.1 is blocked and reported."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale="sv-SE")
    outside: list[str] = []

    def only_local(route):  # type: ignore[no-untyped-def]
        if route.request.url.startswith("http://127.0.0.1:"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    page.goto(url, wait_until="domcontentloaded")
    page.locator("#fraga textarea").wait_for()
    yield page
    context.close()
    assert outside == [], f"the UI tried to reach the network: {outside}"


def ask(page: Page, question: str) -> Locator:
    """Ask in the chat; returns the newest bot message once the answer is complete."""
    from playwright.sync_api import expect

    bots = page.locator("#chatt [data-testid='bot']")
    before = bots.count()
    box = page.locator("#fraga textarea")
    box.fill(question)
    box.press("Enter")
    expect(bots).to_have_count(before + 1, timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("#kallor")).not_to_contain_text("Söker", timeout=ANSWER_TIMEOUT_MS)
    return bots.last
