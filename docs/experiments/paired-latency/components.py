"""Where each system's answer time goes: question embedding, retrieval, answer (session 14).

Run from the repo root after `rag ingest`: `.venv/bin/python
docs/experiments/paired-latency/components.py [ROUNDS]` (setup: `systems.py`). Prints p50 /
p95 in ms of: the question's embedding alone, the whole retrieval (embedding included) and
the extractive answer from the retrieved passages, for ours and for the e5 tutorial
baseline, question by question in turns.
"""

import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from systems import ours, peer, questions

from rag.evaluate import percentile

embedders: dict[str, Callable[[str], Any]] = {
    "ours": ours.embedder.encode_query,
    "peer": peer.embeddings.embed_query,
}
by_name: dict[str, Any] = {"ours": ours, "peer": peer}
times: dict[tuple[str, str], list[float]] = {}


def timed(key: tuple[str, str], call: Callable[..., Any], *args: Any) -> Any:
    """Run `call(*args)`, adding its milliseconds to `times[key]`."""
    began = time.perf_counter()
    result = call(*args)
    times.setdefault(key, []).append((time.perf_counter() - began) * 1000)
    return result


for question in questions[:20]:  # warm-up
    for system in by_name.values():
        system.answer_from(question, system.search(question, 5))
for _ in range(int(sys.argv[1]) if len(sys.argv) > 1 else 2):
    for question in questions:
        for name, system in by_name.items():
            timed((name, "embed"), embedders[name], question)
            hits = timed((name, "retrieve"), system.search, question, 5)
            timed((name, "answer"), system.answer_from, question, hits)
for (name, part), values in times.items():
    p50, p95 = statistics.median(values), percentile(sorted(values), 0.95)
    print(f"{name} {part:9} p50 {p50:6.1f} p95 {p95:6.1f} ms")
