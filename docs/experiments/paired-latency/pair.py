"""Ours and the e5 tutorial baseline answering the same questions in turns (session 12).

Run from the repo root after `rag ingest`: `.venv/bin/python docs/experiments/paired-latency/pair.py
[ROUNDS]`. The baseline's index is built once under /tmp/paired-latency. Prints p50 / p95 of
the whole extractive answer for each and their ratios; env settings (e.g.
RAG_EMBEDDING_QUERY_ENGINE=onnx-int8) apply to ours (setup: `systems.py`).
"""

import json
import statistics
import sys
import time
from pathlib import Path

from systems import ours, peer, questions

from rag.evaluate import percentile

warm = [json.loads(line)["question"] for line in Path("eval/dev.jsonl").read_text().splitlines()]
warm = warm[:30]


def one(system, question: str) -> float:
    """Milliseconds to retrieve and answer `question`."""
    began = time.perf_counter()
    system.answer_from(question, system.search(question, 5))
    return (time.perf_counter() - began) * 1000


for question in warm:
    one(ours, question), one(peer, question)
a, b = [], []
for _ in range(int(sys.argv[1]) if len(sys.argv) > 1 else 3):
    for question in questions:
        a.append(one(ours, question))
        b.append(one(peer, question))
p50a, p50b = statistics.median(a), statistics.median(b)
p95a, p95b = percentile(sorted(a), 0.95), percentile(sorted(b), 0.95)
print(
    f"ours p50 {p50a:.1f} p95 {p95a:.1f} | peer p50 {p50b:.1f} p95 {p95b:.1f} | "
    f"ratio p50 {p50b / p50a:.2f} p95 {p95b / p95a:.2f}"
)
