"""Servers the bench starts on 127.0.0.1: `chroma run` and `rag serve`, stopped when done."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from rag.config import Settings
from rag.errors import RagError

HOST = "127.0.0.1"
T = TypeVar("T")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_for(
    attempt: Callable[[], T], process: subprocess.Popen[bytes], timeout_s: float, poll_s: float
) -> T:
    """Call `attempt` until it returns without raising; fail if `process` exits or time is up."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return attempt()
        except Exception as exc:  # connection refused and the like, until the server is up
            if process.poll() is not None:
                raise RagError(f"{process.args!r} exited with {process.returncode}") from exc
            if time.monotonic() > deadline:
                raise RagError(f"{process.args!r} did not answer in {timeout_s:.0f} s") from exc
            time.sleep(poll_s)


@contextmanager
def running(
    command: list[str], env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Start `command` in the background and stop it (SIGTERM, then SIGKILL) on exit."""
    process = subprocess.Popen(
        command,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def chroma_command(path: Path, port: int) -> list[str]:
    """`chroma run` serving `path` on 127.0.0.1:`port` (the CLI installed with chromadb)."""
    chroma = Path(sys.executable).with_name("chroma")
    return [str(chroma), "run", "--path", str(path), "--host", HOST, "--port", str(port)]


CLI = "from rag.cli import main; main()"


def serve_command(port: int) -> list[str]:
    """`rag serve` on an index that is already built, on 127.0.0.1:`port`."""
    return python_command(CLI, "serve", "--skip-ingest", "--port", str(port))


def run_to_exit(command: list[str], env: dict[str, str] | None = None) -> float:
    """Seconds `command` takes from start to a successful exit.

    Raises:
        RagError: it exited non-zero (its stderr is in the message).

    """
    began = time.perf_counter()
    done = subprocess.run(
        command, env={**os.environ, **(env or {})}, capture_output=True, check=False
    )
    if done.returncode != 0:
        raise RagError(f"{command!r} failed: {done.stderr.decode(errors='replace')[-500:]}")
    return time.perf_counter() - began


def python_command(code: str, *args: str) -> list[str]:
    """A fresh process of this interpreter running `code` with `args`."""
    return [sys.executable, "-c", code, *args]


def settings_env(settings: Settings) -> dict[str, str]:
    """`settings` as RAG_* variables, for a `rag` process started by the bench."""
    values = settings.model_dump()
    return {f"RAG_{key.upper()}": str(value) for key, value in values.items() if value is not None}
