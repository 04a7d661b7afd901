"""Serves the original PDF of a citation, so the reader can open it at the cited page.

`GET /dokument/<sha256>.pdf` answers with the indexed PDF whose content has that hash:
the client names a hash the app itself put in a link, never a path, and only a file the
index holds, unchanged since it was indexed, is served. When the app has a login, the
request must carry a logged-in session (Gradio's own login check decides).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ui.guard import ASGIApp, Receive, Scope, Send, probe, reply

ORIGINAL_PATH = re.compile(r"^/dokument/([0-9a-f]{64})\.pdf$")
LOGIN_CHECK = "/gradio_api/login_check"
NOT_FOUND = "Dokumentet finns inte i indexet."
NOT_LOGGED_IN = "Logga in för att öppna dokument."

OriginalLookup = Callable[[str], bytes | None]  # content sha256 -> the indexed PDF's bytes


def original_link(sha256: str, page: int | None) -> str:
    """The link that opens an indexed PDF (at `page` when given), relative to the app."""
    return f"dokument/{sha256}.pdf" + (f"#page={page}" if page else "")


class OriginalFiles:
    """ASGI middleware: answers `/dokument/<sha256>.pdf`, passes everything else on."""

    def __init__(self, app: ASGIApp, lookup: OriginalLookup) -> None:
        self.app = app
        self.lookup = lookup

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve an original, or pass the request to the app."""
        match = ORIGINAL_PATH.match(scope.get("path", "")) if scope["type"] == "http" else None
        if match is None or scope.get("method") not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        if not await self._logged_in(scope):
            await reply(send, 401, NOT_LOGGED_IN)
            return
        content = self.lookup(match.group(1))
        if content is None:
            await reply(send, 404, NOT_FOUND)
            return
        headers = [
            (b"content-type", b"application/pdf"),
            (b"content-length", str(len(content)).encode()),
            (b"content-disposition", b"inline"),
            (b"x-content-type-options", b"nosniff"),
            (b"cache-control", b"private, max-age=300"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else content}
        )

    async def _logged_in(self, scope: Scope) -> bool:
        """Whether the app's login check passes with this request's cookies."""
        status, _ = await probe(self.app, scope, LOGIN_CHECK)
        return status == 200
