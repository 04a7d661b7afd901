"""A scripted chat server on 127.0.0.1 for tests: no LLM weights exist on this machine.

It speaks the OpenAI chat-completions protocol (`POST /v1/chat/completions`, JSON or
`stream: true` server-sent events ending in `data: [DONE]`) and Ollama's
(`POST /api/chat`, JSON lines), so the real LangChain clients talk to it over HTTP.
Each request takes the next scripted `Reply`; with none left it answers HTTP 500.
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """One scripted response: text, or an HTTP error status, after an optional delay."""

    text: str = ""
    status: int = 200
    delay_s: float = 0.0  # wait this long before answering (a slow or hung server)


class FakeChatServer:
    """The server, its script and the requests it received (parsed JSON bodies)."""

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        self.stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self._server.server_address[1])

    @property
    def openai_url(self) -> str:
        """Base URL for an OpenAI client."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def ollama_url(self) -> str:
        """Base URL for an Ollama client."""
        return f"http://127.0.0.1:{self.port}"

    def script(self, *replies: Reply | str) -> None:
        """Replace the script: the next requests get these replies, in order."""
        self.replies = deque(r if isinstance(r, Reply) else Reply(r) for r in replies)
        self.requests.clear()

    def next_reply(self) -> Reply:
        """The next scripted reply, or an HTTP 500 when the script is used up."""
        return self.replies.popleft() if self.replies else Reply("no scripted reply", 500)

    def close(self) -> None:
        """Stop serving; delayed handlers wake up and give up."""
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()


def _pieces(text: str) -> list[str]:
    """Word-sized pieces whose concatenation is `text` (less trailing space), as models stream."""
    return re.findall(r"\s*\S+", text)


def _handler(fake: FakeChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            fake.requests.append(body)
            reply = fake.next_reply()
            if fake.stopping.wait(reply.delay_s):
                return
            try:
                if reply.status != 200:
                    self._send_json(reply.status, {"error": {"message": reply.text, "type": "x"}})
                elif self.path.endswith("/chat/completions"):
                    self._openai(body, reply.text)
                elif self.path == "/api/chat":
                    self._ollama(body, reply.text)
                else:
                    self._send_json(404, {"error": {"message": self.path}})
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def _send_json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _start_stream(self, content_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Connection", "close")
            self.end_headers()

        def _openai(self, body: dict[str, Any], text: str) -> None:
            model = body.get("model", "fake")
            if not body.get("stream"):
                message = {"role": "assistant", "content": text}
                choice = {"index": 0, "message": message, "finish_reason": "stop"}
                self._send_json(
                    200,
                    {"id": "c", "object": "chat.completion", "created": 0, "model": model,
                     "choices": [choice]},
                )  # fmt: skip
                return
            self._start_stream("text/event-stream")
            deltas = [{"role": "assistant", "content": ""}]
            deltas += [{"content": piece} for piece in _pieces(text)]
            for delta in [*deltas, {}]:
                choice = {"index": 0, "delta": delta, "finish_reason": None if delta else "stop"}
                chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0,
                         "model": model, "choices": [choice]}  # fmt: skip
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")

        def _ollama(self, body: dict[str, Any], text: str) -> None:
            model = body.get("model", "fake")
            self._start_stream("application/x-ndjson")
            for piece in [*_pieces(text), ""]:
                message = {"role": "assistant", "content": piece}
                line = {"model": model, "created_at": "2024-01-01T00:00:00Z",
                        "message": message, "done": not piece}  # fmt: skip
                if not piece:
                    line["done_reason"] = "stop"
                self.wfile.write((json.dumps(line) + "\n").encode())
                self.wfile.flush()

    return Handler
