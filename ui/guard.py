"""HTTP guard in front of the Gradio app: routes it must not offer, body limits, login throttle.

An ASGI middleware (passed to Gradio's FastAPI app through `app_kwargs`), so it sees every
request before Gradio does:

- Gradio's deep links (`/gradio_api/deep_link`, `/?deep_link=…`) would save one session's
  chat and replay it to whoever opens the link; they are refused, and the page ignores the
  parameter. The monitoring dashboard is refused too. Uploads are refused except for the
  logged-in maintainers of the Dokument tab (`uploaders`), up to `max_upload_bytes`.
- A request body larger than `max_body_bytes` is refused with 413 before it is read whole.
- Failed logins are counted per user name and per client address; after `free_attempts`
  the next attempt must wait 1, 2, 4 … seconds (at most `max_wait_s`), answered 429 with
  Retry-After. Each failed login is logged with user and client, never the password.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

from rag.logs import log_event

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

REFUSED_PATHS = ("/gradio_api/deep_link", "/monitoring")
UPLOAD_PATH = "/gradio_api/upload"
USER_PATH = "/gradio_api/user"  # Gradio's answer to "who is logged in?" (JSON: name or null)
LOGIN_PATHS = ("/login", "/login/")
TOO_LARGE = "Förfrågan är för stor. Korta frågan, kommentaren eller samtalet och försök igen."
TOO_MANY_LOGINS = "För många misslyckade inloggningar. Vänta {wait} sekunder och försök igen."
NOT_OFFERED = "Den här funktionen är avstängd."


@dataclass
class LoginThrottle:
    """Failed logins per key (a user name or a client address) and when the next may come."""

    free_attempts: int = 3
    max_wait_s: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, tuple[int, float]] = field(default_factory=dict)  # key -> (n, until)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_s(self, *keys: str) -> float:
        """Seconds before any of `keys` may try again (0 when it may now)."""
        now = self.clock()
        with self._lock:
            return max((until - now for _, until in self._entries(keys)), default=0.0)

    def failed(self, *keys: str) -> None:
        """Count a failed login against every key; past the free attempts, back off."""
        now = self.clock()
        with self._lock:
            if len(self._failures) > 100_000:  # bounded: forget the oldest keys
                for key in list(self._failures)[:50_000]:
                    del self._failures[key]
            for key in keys:
                count = self._failures.get(key, (0, 0.0))[0] + 1
                over = count - self.free_attempts
                wait = min(self.max_wait_s, 2.0 ** (over - 1)) if over > 0 else 0.0
                self._failures[key] = (count, now + wait)

    def succeeded(self, *keys: str) -> None:
        """Forget the failures of `keys`."""
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)

    def _entries(self, keys: tuple[str, ...]) -> list[tuple[int, float]]:
        return [self._failures[k] for k in keys if k in self._failures]


class HttpGuard:
    """ASGI middleware: see the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int = 1_000_000,
        throttle: LoginThrottle | None = None,
        uploaders: frozenset[str] = frozenset(),
        max_upload_bytes: int = 0,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.throttle = throttle or LoginThrottle()
        self.uploaders = uploaders
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse, bound or throttle the request, else pass it to the app."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if any(path.startswith(p) for p in REFUSED_PATHS):
            await reply(send, 404, NOT_OFFERED)
            return
        limit = self.max_body_bytes
        if path.startswith(UPLOAD_PATH):
            if not self.uploaders or await self._user(scope) not in self.uploaders:
                await reply(send, 404, NOT_OFFERED)
                return
            limit = self.max_upload_bytes
        _drop_deep_link(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await reply(send, 413, TOO_LARGE)
            return
        if path in LOGIN_PATHS and scope.get("method") == "POST":
            await self._login(scope, receive, send)
            return
        await self.app(scope, _bounded(receive, limit), send)

    async def _user(self, scope: Scope) -> str | None:
        """The logged-in user of the request, as the app's own login says (None if nobody)."""
        status, body = await probe(self.app, scope, USER_PATH)
        try:
            user = json.loads(body) if status == 200 else None
        except ValueError:
            return None
        return user if isinstance(user, str) else None

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _read_body(receive, min(self.max_body_bytes, 16_384))
        if body is None:
            await reply(send, 413, TOO_LARGE)
            return
        form = parse_qs(body.decode("utf-8", "replace"))
        user = (form.get("username") or [""])[0].strip()[:100]
        client = (scope.get("client") or ("?", 0))[0]
        keys = (f"user:{user}", f"client:{client}")
        wait = self.throttle.wait_s(*keys)
        if wait > 0:
            log_event("login_throttled", logging.WARNING, user=user, client=client)
            await reply(send, 429, TOO_MANY_LOGINS.format(wait=int(wait) + 1), int(wait) + 1)
            return
        status: list[int] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            await send(message)

        await self.app(scope, _replay(body), watch)
        if status and status[0] < 400:
            self.throttle.succeeded(*keys)
        elif status and status[0] == 400:
            self.throttle.failed(*keys)
            log_event("login_failed", logging.WARNING, user=user, client=client)


async def probe(app: ASGIApp, scope: Scope, path: str) -> tuple[int, bytes]:
    """Ask `app` for GET `path` with the request's headers (its login cookie): status, body."""
    headers = [
        (name, value)
        for name, value in scope.get("headers", [])
        if name not in (b"content-length", b"content-type", b"transfer-encoding")
    ]
    check = {
        **scope,
        "path": path,
        "raw_path": path.encode(),
        "method": "GET",
        "query_string": b"",
        "headers": headers,
    }
    status: list[int] = []
    body: list[bytes] = []

    async def watch(message: Message) -> None:
        if message["type"] == "http.response.start":
            status.append(int(message["status"]))
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    await app(check, _replay(b""), watch)
    return (status[0] if status else 500), b"".join(body)


def _drop_deep_link(scope: Scope) -> None:
    """Remove a `deep_link` query parameter: the page then loads as it does without one."""
    raw: bytes = scope.get("query_string", b"")
    if b"deep_link" not in raw:
        return
    query = parse_qs(raw.decode("latin-1"), keep_blank_values=True)
    query.pop("deep_link", None)
    scope["query_string"] = urlencode(query, doseq=True).encode("latin-1")


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _bounded(receive: Receive, limit: int) -> Receive:
    """`receive` that ends the request as disconnected once its body passes `limit` bytes."""
    seen = 0

    async def bounded() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                return {"type": "http.disconnect"}
        return message

    return bounded


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None when it passes `limit` bytes or the client left."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def reply(send: Send, status: int, detail: str, retry_after: int | None = None) -> None:
    """Answer with `status` and a JSON body `{"detail": detail}`."""
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode("utf-8")
    headers = [(b"content-type", b"application/json; charset=utf-8")]
    headers.append((b"content-length", str(len(body)).encode()))
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
