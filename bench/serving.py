"""Serving figures: cold starts, the UI under load, and Chroma in server mode."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bench.load import LoadResult, ask_ui, cold_start, connect, load_test
from bench.measure import QueryLatency, time_queries
from bench.processes import (
    CLI,
    HOST,
    chroma_command,
    free_port,
    python_command,
    run_to_exit,
    running,
    serve_command,
    settings_env,
    wait_for,
)
from bench.scale import SeedIndex, build_ours
from rag.config import Settings
from rag.index.embed import RagEmbeddings
from rag.index.store import make_client

_PEER_ANSWER = "import sys; from bench.baseline import cold_answer; cold_answer(*sys.argv[1:])"


@dataclass(frozen=True)
class ColdStarts:
    """Seconds from process start to the first answer."""

    ui_s: float  # `rag serve` until the UI answers through gradio_client
    cli_s: float  # `rag ask` until it exits
    peer_s: float  # the baseline: import, load model, open Chroma, answer


def cold_starts(settings: Settings, peer_dir: Path, peer_model: Path, question: str) -> ColdStarts:
    """Cold starts of ours (UI and CLI) and of the baseline, on indexes already built."""
    env = settings_env(settings)
    ui = cold_start(env, question)
    cli = run_to_exit(python_command(CLI, "ask", question), env)
    peer = run_to_exit(
        python_command(
            _PEER_ANSWER, str(peer_dir), str(settings.seeds_dir), str(peer_model), question
        )
    )
    return ColdStarts(ui, cli, peer)


@dataclass(frozen=True)
class LoadPlan:
    """How many users, for how long, asking what."""

    users: int
    seconds: float
    think_s: float
    questions: Sequence[str]
    seed: int = 0


def serve_and_load(settings: Settings, processes: int, plan: LoadPlan) -> LoadResult:
    """Start `processes` UI processes on `settings`' index and run the load test on them."""
    env = settings_env(settings)
    ports = [free_port() for _ in range(processes)]
    urls = [f"http://{HOST}:{port}/" for port in ports]
    with ExitStack() as stack:
        started = [stack.enter_context(running(serve_command(port), env)) for port in ports]
        for process, url in zip(started, urls, strict=True):
            client = wait_for(lambda url=url: connect(url), process, 180, 0.2)  # type: ignore[misc]
            ask_ui(client, plan.questions[0])
            client.close()
        return load_test(urls, plan.users, plan.seconds, plan.questions, plan.think_s, plan.seed)


def server_mode(
    settings: Settings,
    embedder: RagEmbeddings,
    seed: SeedIndex,
    folder: Path,
    questions: Sequence[str],
    plan: LoadPlan | None,
) -> tuple[QueryLatency, LoadResult | None]:
    """The seeds in a `chroma run` server: query latency, and the load on two UI processes."""
    port = free_port()
    with running(chroma_command(folder, port)) as process:
        wait_for(lambda: make_client(folder, HOST, port), process, 90, 0.3)
        local = settings.model_copy(update={"chroma_host": HOST, "chroma_port": port})
        pipeline, *_ = build_ours(local, embedder, seed.chunks, seed.vectors)
        latency = time_queries(pipeline, questions, settings.top_k)
        load = serve_and_load(local, 2, plan) if plan and plan.users else None
    return latency, load
