"""Eval outputs: run a question set through the pipeline, write answers, metrics, report and plots.

Files written to the output folder: `answers.jsonl` (the `rag ask --json` shape
plus `id`), `scores.jsonl` (per-item measurements, used by `--compare`),
`metrics.json`, `legs.json` (each retrieval leg alone and fused), `report.md`, and
`hit_at_k.png`, `latency.png`, `per_kind.png`.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rag.evaluation.legs import leg_metrics
from rag.evaluation.metrics import (
    RANK_DEPTH,
    EvalItem,
    ItemScores,
    aggregate,
    gold_spans,
    relevant_in_index,
    score_item,
)
from rag.pipeline import Pipeline
from rag.records import answer_record

FAILURES_HEADING = "## Failures"
PLOTS = ("hit_at_k.png", "latency.png", "per_kind.png")
PAIRED_METRICS: dict[str, Callable[[ItemScores], float | None]] = {
    "hit@1": lambda s: s.hit(1),
    "hit@5": lambda s: s.hit(5),
    "mrr@10": lambda s: s.reciprocal_rank,
    "ndcg@10": lambda s: s.ndcg10,
    "fact_recall_answer": lambda s: s.fact_recall_answer,
    "citation_precision": lambda s: s.citation_precision,  # items both runs answered
    "citation_recall": lambda s: s.citation_recall,
    "correct_refusal": lambda s: s.correct_refusal,
}


def run_eval(
    pipeline: Pipeline,
    items: Sequence[EvalItem],
    out_dir: Path,
    on_progress: Callable[[int, int], None] | None = None,
    legs: bool = True,
) -> dict[str, float]:
    """Answer every item, score it, and write all outputs to `out_dir`.

    With `legs`, each retrieval leg alone and fused is scored too (`legs.json` and a
    table in the report).
    """
    chunks = pipeline.indexed_chunks
    file_texts = {
        name: file.text
        for name in {c.source for c in chunks}
        if (file := pipeline.source_file(name)) is not None
    }
    spans = {item.id: gold_spans(item, file_texts) for item in items}
    relevant = {item.id: relevant_in_index(chunks, spans[item.id]) for item in items}
    out_dir.mkdir(parents=True, exist_ok=True)
    scores: list[ItemScores] = []
    records: dict[str, dict[str, Any]] = {}  # id -> the answers.jsonl row, for the report
    with (out_dir / "answers.jsonl").open("w", encoding="utf-8") as answers_file:
        for done, item in enumerate(items, start=1):
            turns = pipeline.conversation(item.history)
            began = time.perf_counter()
            depth = max(RANK_DEPTH, pipeline.settings.top_k)
            question = pipeline.restore_typed(item.question)  # as the chat reads it
            query, ranking, _ = pipeline.retrieve(question, turns, depth)
            said = turns[-1].answer if turns else ""  # as the chat answers "berätta mer"
            answer = pipeline.answer_from(question, ranking[: pipeline.settings.top_k], query, said)
            latency = (time.perf_counter() - began) * 1000
            scores.append(
                score_item(item, ranking, answer, spans[item.id], relevant[item.id], latency)
            )
            record = {"id": item.id, **answer_record(answer)}
            record["timings_ms"] = {"total": round(latency, 2)}
            records[item.id] = record
            answers_file.write(json.dumps(record, ensure_ascii=False) + "\n")
            if on_progress is not None:
                on_progress(done, len(items))
    metrics = aggregate(scores)
    _write_jsonl(out_dir / "scores.jsonl", [asdict(s) for s in scores])
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    by_leg = leg_metrics(pipeline, items, spans, relevant, scores) if legs else {}
    if by_leg:
        (out_dir / "legs.json").write_text(json.dumps(by_leg, indent=2) + "\n", encoding="utf-8")
    _plot(scores, out_dir)
    report = _report(items, scores, metrics, records, by_leg)
    (out_dir / "report.md").write_text(report, encoding="utf-8")
    return metrics


def new_run_dir(runs_dir: Path) -> Path:
    """A new, empty output folder under `runs_dir`, named by the current time (unique)."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        out = runs_dir / (stamp if n == 0 else f"{stamp}-{n}")
        try:
            out.mkdir()
        except FileExistsError:
            continue
        return out
    raise FileExistsError(f"{runs_dir}: no free run folder for {stamp}")


def report_failures(out_dir: Path) -> str:
    """The failures section of a run's `report.md` (Markdown)."""
    report = (out_dir / "report.md").read_text(encoding="utf-8")
    return report[report.find(FAILURES_HEADING) :]


def _write_jsonl(path: Path, rows: Sequence[dict[str, object]]) -> None:
    path.write_text(
        "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8"
    )


def load_scores(run_dir: Path) -> list[ItemScores]:
    """Per-item scores of an earlier run."""
    rows = (run_dir / "scores.jsonl").read_text(encoding="utf-8").splitlines()
    loaded = []
    for row in rows:
        raw = json.loads(row)
        raw["unsupported_numbers"] = tuple(raw["unsupported_numbers"])
        loaded.append(ItemScores(**raw))
    return loaded


def _fmt(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.3f}"


def metrics_table(columns: dict[str, dict[str, float]]) -> str:
    """A Markdown table: one row per metric, one column per named set of metrics.

    A metric a set lacks (no item of that kind) shows as "–".
    """
    names = list(columns)
    keys = list(dict.fromkeys(key for metrics in columns.values() for key in metrics))
    lines = [f"| metric | {' | '.join(names)} |", "| --- |" + " ---: |" * len(names)]
    lines += [
        f"| {key} | {' | '.join(_fmt(columns[n].get(key, math.nan)) for n in names)} |"
        for key in keys
    ]
    return "\n".join(lines)


def _report(
    items: Sequence[EvalItem],
    scores: Sequence[ItemScores],
    metrics: dict[str, float],
    answers: dict[str, dict[str, Any]],
    by_leg: dict[str, dict[str, float]],
) -> str:
    by_id = {item.id: item for item in items}
    groups = {"all": list(scores)}
    for key in ("fact", "multi", "summary", "unanswerable"):
        groups[key] = [s for s in scores if s.kind == key]
    for language in ("sv", "en"):
        groups[f"lang:{language}"] = [s for s in scores if s.language == language]
    groups["follow-up"] = [s for s in scores if by_id[s.id].history]
    breakdown = {name: aggregate(group) for name, group in groups.items() if group}
    failures = [s for s in scores if _failed(s)]
    lines = [
        "# Eval report",
        "",
        metrics_table({"value": metrics}),
        "",
        "## By kind and language",
        "",
        metrics_table(breakdown),
        "",
        "![Hit@k](hit_at_k.png) ![Latency](latency.png) ![Per kind](per_kind.png)",
        "",
    ]
    if by_leg:
        lines += [
            "## Retrieval legs, alone and fused (answerable items)",
            "",
            metrics_table(by_leg),
            "",
        ]
    lines += [
        f"{FAILURES_HEADING} ({len(failures)})",
        "",
    ]
    for s in failures:
        row = answers[s.id]
        top = "; ".join(
            f"{p['rank']}. {p['source'][:3]} {p['title'][:40]} ({p['score']:.3f})"
            for p in row["passages"][:3]
        )
        lines += [
            *(f"- earlier: {q}" for q in by_id[s.id].history),
            f"- **{s.id}** ({s.kind}, {s.language}) {by_id[s.id].question}",
            f"  - searched: {row['searched_query']}",
            f"  - expected: {by_id[s.id].answer}",
            f"  - answered{' (abstained)' if s.abstained else ''}: {_line(row['answer'])[:300]}",
            f"  - first relevant rank: {s.first_relevant_rank}; facts in answer: "
            f"{s.fact_recall_answer:.2f}; retrieved: {top}",
        ]
    return "\n".join(lines) + "\n"


def _line(text: str) -> str:
    """Text on one line, so a quote's paragraph breaks do not break the Markdown list."""
    return " ".join(text.split())


def _failed(s: ItemScores) -> bool:
    if not s.answerable:
        return not s.abstained
    return s.abstained or s.hit(5) == 0 or s.fact_recall_answer < 1 or bool(s.unsupported_numbers)


def _plot(scores: Sequence[ItemScores], out_dir: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    answerable = [s for s in scores if s.answerable]
    ks = list(range(1, RANK_DEPTH + 1))
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(ks, [sum(s.hit(k) for s in answerable) / max(1, len(answerable)) for k in ks], "o-")
    ax.set(xlabel="k", ylabel="Hit@k", ylim=(0, 1.02), title="Hit@k (answerable questions)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out_dir / "hit_at_k.png", dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.hist([s.latency_ms for s in scores], bins=20)
    ax.set(xlabel="ms (retrieve + answer)", ylabel="questions", title="Latency")
    fig.tight_layout()
    fig.savefig(out_dir / "latency.png", dpi=100)
    plt.close(fig)

    kinds = sorted({s.kind for s in scores})
    fig, ax = plt.subplots(figsize=(6, 3.5))
    width = 0.4
    bars: list[tuple[str, Callable[[ItemScores], float]]] = [
        ("Hit@5 / correct refusal", lambda s: s.hit(5) if s.answerable else s.correct_refusal),
        ("facts in answer", lambda s: s.fact_recall_answer if s.answerable else math.nan),
    ]
    for offset, (label, value) in enumerate(bars):
        means = []
        for kind in kinds:
            values = [v for s in scores if s.kind == kind if not math.isnan(v := value(s))]
            means.append(sum(values) / len(values) if values else 0.0)
        ax.bar([i + offset * width for i in range(len(kinds))], means, width, label=label)
    ax.set_xticks([i + width / 2 for i in range(len(kinds))], kinds)
    ax.set(ylim=(0, 1.05), title="Per kind")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "per_kind.png", dpi=100)
    plt.close(fig)


def compare_runs(dir_a: Path, dir_b: Path, permutations: int = 10000) -> str:
    """Side-by-side metrics of two runs with paired sign-flip permutation p-values."""
    a = {s.id: s for s in load_scores(dir_a)}
    b = {s.id: s for s in load_scores(dir_b)}
    shared = sorted(a.keys() & b.keys())
    lines = [
        f"Paired comparison on {len(shared)} shared items: A = {dir_a}, B = {dir_b}",
        "",
        "| metric | A | B | B - A | p (two-sided) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    rng = random.Random(0)
    for name, metric in PAIRED_METRICS.items():
        pairs = [
            (x, y)
            for i in shared
            if name == "correct_refusal" or a[i].answerable
            if (x := metric(a[i])) is not None and (y := metric(b[i])) is not None
        ]
        if not pairs:
            continue
        diffs = [y - x for x, y in pairs]
        mean_a = sum(x for x, _ in pairs) / len(pairs)
        mean_b = sum(y for _, y in pairs) / len(pairs)
        p = _sign_flip_p(diffs, permutations, rng)
        lines.append(f"| {name} | {mean_a:.3f} | {mean_b:.3f} | {mean_b - mean_a:+.3f} | {p:.3f} |")
    return "\n".join(lines) + "\n"


def _sign_flip_p(diffs: Sequence[float], permutations: int, rng: random.Random) -> float:
    """Two-sided p-value of the mean paired difference under random sign flips."""
    observed = abs(sum(diffs))
    nonzero = [d for d in diffs if d != 0]
    if not nonzero:
        return 1.0
    extreme = sum(
        abs(sum(d if rng.random() < 0.5 else -d for d in nonzero)) >= observed - 1e-12
        for _ in range(permutations)
    )
    return (extreme + 1) / (permutations + 1)
