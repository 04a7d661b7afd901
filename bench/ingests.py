"""Ingest runs of ours and the baseline: throughput, and peak memory in a fresh process.

A process's peak resident memory (VmHWM) only ever grows, and resetting it sets it
to the memory already resident. Measured inside the bench, an ingest's peak
therefore includes both systems' models and whatever earlier stages left behind.
`ingest_in_fresh_process` runs one ingest alone in a new interpreter, so its peak
is that ingest's own, as `/usr/bin/time -v rag ingest` would report it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from bench.baseline import TutorialBaseline
from bench.measure import peak_memory_mb, reset_peak_memory
from bench.processes import python_command, settings_env
from rag.config import Settings, load_settings
from rag.errors import RagError
from rag.index.embed import RagEmbeddings
from rag.ingest.chunk import sentence_units
from rag.pipeline import Pipeline

SystemName = Literal["ours", "peer"]
_CHILD = "import sys; from bench.ingests import child_main; child_main(sys.argv[1:])"


@dataclass(frozen=True)
class IngestRun:
    """One ingest: size, time and peak memory."""

    chunks: int
    tokens: int
    seconds: float
    peak_mb: float

    @property
    def chunks_per_s(self) -> float:
        """Chunks embedded and stored per second."""
        return self.chunks / self.seconds

    @property
    def tokens_per_s(self) -> float:
        """Model tokens per second."""
        return self.tokens / self.seconds


def ingest_ours(
    settings: Settings, embedder: RagEmbeddings | None = None
) -> tuple[Pipeline, IngestRun]:
    """Ingest `settings.seeds_dir` into a fresh index (the model loaded before timing)."""
    pipeline = Pipeline(settings, embedder=embedder)
    model = pipeline.embedder
    reset_peak_memory()
    report = pipeline.ingest()
    peak = peak_memory_mb()
    tokens = sum(model.count_tokens(text) for text in embedded_texts(pipeline))
    return pipeline, IngestRun(report.chunks, tokens, report.seconds, peak)


def embedded_texts(pipeline: Pipeline) -> list[str]:
    """Every text an ingest embeds: the chunks, then their sentence units when enabled.

    Counting only the chunks made an ingest with sentence vectors look half as fast as
    the model, though it embeds about twice the tokens.
    """
    chunks = pipeline.indexed_chunks
    units = sentence_units(chunks) if pipeline.settings.sentence_vectors else []
    return [item.embed_text for item in [*chunks, *units]]


def ingest_peer(baseline: TutorialBaseline, seeds_dir: Path) -> IngestRun:
    """Ingest `seeds_dir` the baseline's way (everything embedded)."""
    reset_peak_memory()
    result = baseline.ingest(seeds_dir)
    return IngestRun(result.chunks, result.tokens, result.seconds, peak_memory_mb())


def ingest_in_fresh_process(
    system: SystemName, settings: Settings, seeds_dir: Path, data_dir: Path, peer_model: Path
) -> IngestRun:
    """One ingest of `seeds_dir` into `data_dir` by `system`, alone in a new process.

    `peer_model` is the baseline's model folder (unused for ours).

    Raises:
        RagError: the process failed (its stderr ends the message).

    """
    local = settings.model_copy(update={"seeds_dir": seeds_dir, "data_dir": data_dir})
    done = subprocess.run(
        python_command(_CHILD, system, str(peer_model)),
        env={**os.environ, **settings_env(local)},
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace")[-800:]
        raise RagError(f"{system} ingest in a fresh process failed: {tail}")
    return IngestRun(**json.loads(done.stdout.decode().strip().splitlines()[-1]))


def child_main(argv: list[str]) -> None:
    """Entry point of the fresh process: ingest, then print the run as one JSON line."""
    settings = load_settings()
    if len(argv) == 2 and argv[0] == "ours":
        run = ingest_ours(settings)[1]
    elif len(argv) == 2 and argv[0] == "peer":
        run = ingest_peer(TutorialBaseline(settings.data_dir, Path(argv[1])), settings.seeds_dir)
    else:
        raise SystemExit(f"usage: ours|peer PEER_MODEL, not {argv!r}")
    sys.stdout.write(json.dumps(asdict(run)) + "\n")
