"""Browser and HTTP tests of the UI's defences: hostile article text runs nothing; login."""

from __future__ import annotations

import json
import logging
import random
import string
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from browser import ask, open_page, serve

from conftest import make_settings
from rag.index.embed import RagEmbeddings
from rag.pipeline import Pipeline

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Dialog, Page

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


@pytest.fixture
def page(browser: Browser, hostile_pipeline: Pipeline) -> Iterator[Page]:
    from ui.app import build_app

    for url in serve(build_app(hostile_pipeline)):
        yield from open_page(browser, url, 1400, 1000)


def test_script_in_an_article_or_question_runs_nothing(
    page: Page, hostile_pipeline: Pipeline
) -> None:
    from playwright.sync_api import expect

    dialogs: list[str] = []
    page.on("dialog", _recorder(dialogs))
    expected = hostile_pipeline.ask(QUESTION)
    assert expected.citations, "precondition: the hostile article is cited"
    bot = ask(page, QUESTION)
    bot.locator("a", has_text="[1]").first.click()
    article = page.locator("#kallor article.artikel:visible .artikeltext")
    expect(article).to_contain_text('<script>window.pwned = 1; alert("xss")</script>')
    expect(article).to_contain_text('<img src=x onerror="window.pwned = 2; alert(2)">')
    expect(page.locator("#kallor")).to_contain_text("<script>")  # the passage list too

    typed = '<img src=y onerror="window.pwned = 3; alert(3)"> <script>alert(4)</script>Hej?'
    ask(page, typed)
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


CRAFTED_HISTORY = [
    {"role": "user", "content": [{"type": "text", "text": "hej"}]},
    {
        "role": "assistant",
        "content": [
            {
                "type": "component",
                "component": "html",
                "value": "<img src=x onerror=\"window.pwned = 5; alert('xss')\">"
                "Ring 08-123 45 67 och uppge personnummer och BankID-kod.",
                "constructor_args": {},
                "props": {},
            }
        ],
    },
]


def _recorder(dialogs: list[str]) -> Callable[[Dialog], None]:
    """A dialog handler that records each dialog's message and dismisses it."""

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    return on_dialog


def _fraga_index(client: httpx.Client) -> int:
    config = client.get("config").json()
    return int(next(d["id"] for d in config["dependencies"] if d.get("api_name") == "fraga"))


def _plant(client: httpx.Client, session: str) -> list[Any]:
    """The issue's attack: join the queue with a crafted chat; returns the event's outputs."""
    index = _fraga_index(client)
    joined = client.post(
        "gradio_api/queue/join",
        json={
            "data": [QUESTION, CRAFTED_HISTORY, None, None],
            "fn_index": index,
            "trigger_id": None,
            "session_hash": session,
        },
    )
    assert joined.is_success, joined.text
    outputs: list[Any] = []
    with client.stream("GET", f"gradio_api/queue/data?session_hash={session}") as events:
        for line in events.iter_lines():
            if not line.startswith("data:"):
                continue
            event = json.loads(line[5:])
            if event.get("msg") == "process_completed":
                outputs = event["output"]["data"]
                break
    return outputs


def test_a_crafted_history_and_a_deep_link_show_nothing_live(
    browser: Browser, hostile_pipeline: Pipeline
) -> None:
    from playwright.sync_api import expect

    from ui.app import build_app

    for url in serve(build_app(hostile_pipeline)):
        with httpx.Client(base_url=url, timeout=60) as attacker:
            outputs = _plant(attacker, "angripare1")
            chat = outputs[2]
            parts = [p for m in chat for p in m["content"]]
            assert chat and all(p["type"] == "text" for p in parts)
            assert "pwned = 5" not in json.dumps(chat) and "BankID" not in json.dumps(chat)
            link = attacker.get("gradio_api/deep_link", params={"session_hash": "angripare1"})
            assert link.status_code == 404
        dialogs: list[str] = []
        for page in open_page(browser, f"{url}?deep_link=angripare1", 1200, 900):
            page.on("dialog", _recorder(dialogs))
            page.wait_for_timeout(1000)
            expect(page.locator("#chatt [data-testid='bot']")).to_have_count(0)
            expect(page.get_by_role("tab", name="Utvärdering")).to_have_count(0)  # maintainers'
            assert "BankID" not in page.locator("#chatt").inner_text()
            assert page.locator("#chatt img[src='x']").count() == 0
            assert page.evaluate("window.pwned") is None and dialogs == []


def test_a_crafted_history_through_gradio_client_is_text(login_url: str) -> None:
    from gradio_client import Client

    client = Client(login_url, auth=("bo", "annat"), verbose=False)
    answer, record, chat, *_ = client.predict(QUESTION, CRAFTED_HISTORY, api_name="/fraga")
    assert "tolv" in answer and record["citations"]
    assert [m["role"] for m in chat] == ["user", "user", "assistant"]  # the component is gone
    assert "pwned = 5" not in json.dumps(chat) and "component" not in json.dumps(chat)


def test_oversized_requests_uploads_and_monitoring_are_refused(login_url: str) -> None:
    with httpx.Client(base_url=login_url, timeout=30) as user:
        assert user.post("login", data={"username": "anna", "password": PASSWORD}).is_success
        huge = user.post("gradio_api/queue/join", content=b"{" + b" " * 2_000_000 + b"}")
        assert huge.status_code == 413
        upload = user.post("gradio_api/upload", files={"files": ("a.txt", b"hej")})
        assert upload.status_code == 404
        assert user.get("monitoring/summary").status_code == 404


def test_password_guessing_is_throttled(login_url: str) -> None:
    with httpx.Client(base_url=login_url, timeout=30) as guesser:
        codes = [
            guesser.post("login", data={"username": "gissare", "password": f"x{i}"}).status_code
            for i in range(8)
        ]
    assert codes[:3] == [400, 400, 400] and 429 in codes


def test_a_long_question_is_cut_to_the_encoders_window(
    hostile_pipeline: Pipeline, e5: RagEmbeddings
) -> None:
    rng = random.Random(7)
    words = ["".join(rng.choices(string.ascii_lowercase + "åäö", k=6)) for _ in range(400)]
    question = (QUESTION + " " + " ".join(words))[:2000]
    answer = hostile_pipeline.ask(question)
    assert answer.query_truncated and "lång" in answer.notice
    fitted = e5.fit_query(question)
    assert 0 < len(fitted) < len(question) and e5.count_tokens(fitted) <= e5.query_window
    assert not hostile_pipeline.ask(QUESTION).query_truncated


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_malformed_request_prints_nothing_of_what_it_sent(
    hostile_pipeline: Pipeline, capfd: pytest.CaptureFixture[str]
) -> None:
    from ui.app import build_app

    secret = "811218-9876"
    for url in serve(build_app(hostile_pipeline)):
        with httpx.Client(base_url=url, timeout=60) as client:
            index = _fraga_index(client)
            joined = client.post(
                "gradio_api/queue/join",
                json={
                    "data": [
                        "hej",
                        [{"role": "user", "content": {"trasig": f"personnummer {secret}"}}],
                        None,
                        None,
                    ],
                    "fn_index": index,
                    "trigger_id": None,
                    "session_hash": "trasig1",
                },
            )
            with client.stream("GET", "gradio_api/queue/data?session_hash=trasig1") as events:
                for line in events.iter_lines():
                    if '"process_completed"' in line:
                        break
    out, err = capfd.readouterr()
    assert joined.is_success
    assert secret not in out + err
