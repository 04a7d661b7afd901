"""The UI under load: cold start of `rag serve`, and simulated chat users through gradio_client.

Each user asks a question through the UI's `fraga` endpoint (the same call the
browser makes), waits for the whole streamed answer, thinks, and asks again,
until the time is up. Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.measure import Latency
from bench.processes import HOST, free_port, running, serve_command, wait_for

API_NAME = "/fraga"


def connect(url: str) -> Any:
    """A gradio_client for the UI at `url` (fails while the server is not up yet)."""
    from gradio_client import Client

    return Client(url, verbose=False, download_files=False, analytics_enabled=False)


def ask_ui(client: Any, question: str) -> Any:
    """Ask through the UI's endpoint; returns its outputs (first: the answer text)."""
    return client.predict(question, api_name=API_NAME)


def cold_start(env: dict[str, str], question: str, timeout_s: float = 120.0) -> float:
    """Seconds from starting `rag serve` (settings from `env`) until the UI answers `question`."""
    port = free_port()
    began = time.perf_counter()
    with running(serve_command(port), env) as process:
        client = wait_for(lambda: connect(f"http://{HOST}:{port}/"), process, timeout_s, 0.05)
        ask_ui(client, question)
        return time.perf_counter() - began


@dataclass(frozen=True)
class LoadResult:
    """What N concurrent users saw."""

    users: int
    seconds: float
    requests: int
    errors: int
    throughput_rps: float
    latency: Latency


def load_test(
    urls: Sequence[str],
    users: int,
    seconds: float,
    questions: Sequence[str],
    think_s: float = 1.0,
    seed: int = 0,
) -> LoadResult:
    """Run `users` simulated chat users against the UIs at `urls` (round robin) for `seconds`.

    Users think for 0.5-1.5x `think_s` between questions (0 = ask back to back).
    """
    clients = [connect(urls[i % len(urls)]) for i in range(users)]
    timings: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def user(number: int) -> None:
        rng = random.Random(seed * 1000 + number)
        time.sleep(rng.uniform(0, think_s))  # users do not all arrive at once
        while time.monotonic() < deadline:
            began = time.perf_counter()
            try:
                ask_ui(clients[number], rng.choice(questions))
            except Exception:  # any failure seen by a user counts as an error
                with lock:
                    errors[0] += 1
            else:
                with lock:
                    timings.append((time.perf_counter() - began) * 1000)
            time.sleep(rng.uniform(0.5, 1.5) * think_s)

    began = time.monotonic()
    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    elapsed = time.monotonic() - began
    for client in clients:
        client.close()
    done = len(timings)
    return LoadResult(
        users, elapsed, done + errors[0], errors[0], done / elapsed, Latency.of(timings)
    )
