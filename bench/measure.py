"""Measurements shared by our pipeline and the baseline: latency percentiles, memory, Hit@5."""

from __future__ import annotations

import contextlib
import resource
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bench.baseline import TEXT_SUFFIXES
from rag.evaluation.metrics import (
    RANK_DEPTH,
    EvalItem,
    aggregate,
    gold_spans,
    relevant_in_index,
    score_item,
)
from rag.types import Answer, Chunk, Passage

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


class System(Protocol):
    """What the bench asks of a RAG system: ours (`Pipeline`) or the baseline."""

    @property
    def indexed_chunks(self) -> list[Chunk]:
        """Every indexed chunk."""

    def search(self, question: str, k: int) -> list[Passage]:
        """The k best passages, best first."""

    def answer_from(self, question: str, passages: Sequence[Passage]) -> Answer:
        """An extractive answer from the passages."""


@dataclass(frozen=True)
class Latency:
    """Percentiles of a series of timings, in milliseconds."""

    p50_ms: float
    p95_ms: float
    p99_ms: float
    count: int

    @classmethod
    def of(cls, timings_ms: Sequence[float]) -> Latency:
        """Nearest-rank percentiles (the eval's definition) of `timings_ms`."""
        from rag.evaluation.metrics import percentile

        ordered = sorted(timings_ms)
        median = statistics.median(ordered) if ordered else float("nan")
        return cls(median, percentile(ordered, 0.95), percentile(ordered, 0.99), len(ordered))


@dataclass(frozen=True)
class QueryLatency:
    """Retrieval alone, and retrieval plus the extractive answer, over the same questions."""

    retrieve: Latency
    answer: Latency


def time_queries(system: System, questions: Sequence[str], k: int = 5) -> QueryLatency:
    """Ask every question once; time retrieval and the whole answer separately."""
    return time_paired([system], questions, k, passes=1)[0]


def time_paired(
    systems: Sequence[System], questions: Sequence[str], k: int = 5, passes: int = 3
) -> list[QueryLatency]:
    """Time several systems question by question, in turns, over `passes` rounds.

    Interleaving puts every system in the same minute of the machine's load (a shared
    host's slow spell otherwise lands on whichever system was being timed), and the
    order alternates per question so no system always runs right after another.
    """
    timings: list[tuple[list[float], list[float]]] = [([], []) for _ in systems]
    order = list(range(len(systems)))
    for _ in range(passes):
        for question in questions:
            order.reverse()
            for i in order:
                began = time.perf_counter()
                passages = systems[i].search(question, k)
                retrieved = time.perf_counter()
                systems[i].answer_from(question, passages)
                done = time.perf_counter()
                timings[i][0].append((retrieved - began) * 1000)
                timings[i][1].append((done - began) * 1000)
    return [QueryLatency(Latency.of(r), Latency.of(a)) for r, a in timings]


def hit_at_5(system: System, items: Sequence[EvalItem], seeds_dir: Path) -> float:
    """Hit@5 on an eval set, scored by the eval runner's own functions."""
    file_texts = {
        p.name: p.read_bytes().decode("utf-8-sig")
        for p in seeds_dir.iterdir()
        if p.suffix in TEXT_SUFFIXES
    }
    chunks = system.indexed_chunks
    scores = []
    for item in items:
        spans = gold_spans(item, file_texts)
        ranking = system.search(item.question, RANK_DEPTH)
        answer = system.answer_from(item.question, ranking[:5])
        relevant = relevant_in_index(chunks, spans)
        scores.append(score_item(item, ranking, answer, spans, relevant, 0.0))
    return aggregate(scores)["hit@5"]


def reset_peak_memory() -> None:
    """Start a new peak-RSS measurement (Linux: writing 5 to clear_refs resets VmHWM)."""
    with contextlib.suppress(OSError):  # not Linux: the peak then covers the whole process
        _CLEAR_REFS.write_text("5")


def peak_memory_mb() -> float:
    """Peak resident memory since `reset_peak_memory`, in MiB."""
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
