"""`python -m bench`: every measurement of ours and the baseline in one run, then the report.

Stages: seeds (ingest, re-ingest, bare model, latency, Hit@5), the synthetic
ingest corpus, the large query sizes, Chroma server mode, cold starts, and the
load test. Indexes live in a temporary folder under the output folder.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.baseline import TutorialBaseline, peer_model
from bench.corpus import seed_sentences, write_articles
from bench.ingests import (
    IngestRun,
    embedded_texts,
    ingest_in_fresh_process,
    ingest_ours,
    ingest_peer,
)
from bench.measure import QueryLatency, hit_at_5, time_paired, time_queries
from bench.report import Row
from bench.scale import SeedIndex, measure_baseline, measure_ours, sweep_hnsw
from bench.serving import LoadPlan, cold_starts, serve_and_load, server_mode
from rag.config import Settings
from rag.evaluation.metrics import EvalItem, load_questions
from rag.index.embed import RagEmbeddings, make_embedder
from rag.pipeline import Pipeline

Log = Callable[[str], None]
HNSW_GRID = ((100, 50), (100, 100), (100, 200), (100, 400), (200, 200))  # (build, search)


@dataclass(frozen=True)
class BenchOptions:
    """What to measure, and how long."""

    out: Path
    sizes: tuple[int, ...]  # chunk counts of the large query sizes (0 = the seeds only)
    ingest_chunks: int  # synthetic ingest corpus size (0 = skip)
    users: int
    load_seconds: float
    think_s: float
    questions: Path  # timed and scored
    warmup_questions: Path  # asked once before timing, so no cache helps the timed ones
    seed: int = 0
    peer_model: str = "e5"  # one of baseline.PEER_MODELS
    passes: int = 3  # rounds of the timed questions on the seeds, ours and the baseline's in turn


def parse_sizes(text: str) -> tuple[int, ...]:
    """Chunk counts of the large sizes: "seeds,10k,100k" -> (10000, 100000).

    The seeds are always measured, so "seeds" adds nothing.
    """
    sizes = []
    for part in (p.strip().lower() for p in text.split(",") if p.strip()):
        if part == "seeds":
            continue
        number = float(part[:-1]) * 1000 if part.endswith("k") else float(part)
        sizes.append(int(number))
    return tuple(sizes)


def bare_model(
    embedder: RagEmbeddings, texts: list[str], batch_size: int
) -> tuple[float, np.ndarray]:
    """Our embedding model alone on `texts`: tokens per second, and the vectors."""
    tokens = sum(embedder.count_tokens(t) for t in texts)
    began = time.perf_counter()
    vectors = embedder.encode_passages(texts, batch_size)
    return tokens / (time.perf_counter() - began), vectors


def bare_peer_model(peer: TutorialBaseline, seeds_dir: Path) -> float:
    """The baseline's model alone on its own chunks: tokens per second."""
    texts = [chunk.text for chunk in peer.split_chunks(seeds_dir)]
    began = time.perf_counter()
    peer.encode(texts)
    return peer.count_tokens(texts) / (time.perf_counter() - began)


def latency_rows(label: str, ours: QueryLatency, peer: QueryLatency | None) -> list[Row]:
    """p50/p95 of retrieval and of the whole answer, ours beside the baseline's."""
    rows = []
    for kind, mine, theirs in (
        ("retrieve", ours.retrieve, peer.retrieve if peer else None),
        ("answer", ours.answer, peer.answer if peer else None),
    ):
        for name in ("p50_ms", "p95_ms"):
            value = getattr(theirs, name) if theirs else None
            rows.append(Row(f"{kind} {name[:3]} {label}", "ms", getattr(mine, name), value))
    return rows


@dataclass
class Results:
    """Rows for the table and the headline figures for bench.json, filled stage by stage."""

    rows: list[Row]
    figures: dict[str, float | None]


@dataclass(frozen=True)
class Bench:
    """What every stage measures with: our settings and embedder, the baseline, the questions."""

    settings: Settings  # ours, on the seeds, in the work folder
    embedder: RagEmbeddings
    peer: TutorialBaseline
    items: list[EvalItem]  # timed and scored
    warm: list[str]  # asked once before timing
    options: BenchOptions
    work: Path
    results: Results
    deployed_cache_size: int  # `rag serve`'s query cache, for the serving stage

    @property
    def questions(self) -> list[str]:
        """The timed questions' text."""
        return [item.question for item in self.items]


def ingest_and_model(
    settings: Settings, embedder: RagEmbeddings, rounds: int = 2
) -> tuple[Pipeline, IngestRun, float, np.ndarray]:
    """Our ingest and the bare model on the same texts, alternated; each side's best round.

    The machine is shared, so a single pair can be skewed by a neighbour's burst.

    Returns:
        The first round's pipeline, the best ingest, the best model tokens/s, the vectors.

    """
    runs, speeds = [], []
    for round_ in range(rounds):
        folder = settings.data_dir.with_name(f"{settings.data_dir.name}-{round_}")
        local = settings if round_ == 0 else settings.model_copy(update={"data_dir": folder})
        pipeline, ingest = ingest_ours(local, embedder)
        texts = embedded_texts(pipeline)  # the chunks first: their vectors seed the scale sizes
        speed, vectors = bare_model(embedder, texts, settings.embedding_batch_size)
        runs.append((pipeline, ingest, vectors[: len(pipeline.indexed_chunks)]))
        speeds.append(speed)
    best = max((run[1] for run in runs), key=lambda run: run.tokens_per_s)
    return runs[0][0], best, max(speeds), runs[0][2]


def seeds_stage(bench: Bench) -> tuple[Pipeline, SeedIndex]:
    """Ingest, re-ingest, bare model, latency and Hit@5 on the seeds, ours and the baseline's."""
    settings, embedder, peer, items, warm, results = (
        bench.settings, bench.embedder, bench.peer, bench.items, bench.warm, bench.results
    )  # fmt: skip
    pipeline, ours, model_tps, vectors = ingest_and_model(settings, embedder)
    again = pipeline.ingest()
    chunks = pipeline.indexed_chunks
    theirs = ingest_peer(peer, settings.seeds_dir)
    peer_again = peer.ingest(settings.seeds_dir).seconds
    peer_model_tps = bare_peer_model(peer, settings.seeds_dir)
    memory = {
        system: ingest_in_fresh_process(
            system,
            settings,
            settings.seeds_dir,
            settings.data_dir.with_name(f"{system}-memory"),
            peer.model,
        ).peak_mb
        for system in ("ours", "peer")
    }
    pipeline.warm_up()
    time_queries(pipeline, warm), time_queries(peer, warm)
    latency, peer_latency = time_paired(
        [pipeline, peer], bench.questions, passes=bench.options.passes
    )
    hit5, peer_hit5 = (
        hit_at_5(pipeline, items, settings.seeds_dir),
        hit_at_5(peer, items, settings.seeds_dir),
    )
    results.rows += [
        Row("ingest seeds", "chunks/s", ours.chunks_per_s, theirs.chunks_per_s),
        Row("ingest seeds", "tokens/s", ours.tokens_per_s, theirs.tokens_per_s),
        Row("bare model seeds", "tokens/s", model_tps, peer_model_tps),
        Row(
            "ingest / bare model",
            "ratio",
            ours.tokens_per_s / model_tps,
            theirs.tokens_per_s / peer_model_tps,
        ),
        Row("ingest seeds peak memory, own process", "MiB", memory["ours"], memory["peer"]),
        Row("re-ingest unchanged seeds", "s", again.seconds, peer_again),
        *latency_rows("seeds", latency, peer_latency),
        Row("Hit@5 seeds (eval set)", "share", hit5, peer_hit5),
    ]
    lexical_stage(bench)
    results.figures.update(
        answer_p95_ms_seeds=latency.answer.p95_ms,
        # The median: the baseline's p95 swings with torch's threads and the host's minute.
        query_speedup_vs_peer=peer_latency.answer.p50_ms / latency.answer.p50_ms,
        query_speedup_vs_peer_p95=peer_latency.answer.p95_ms / latency.answer.p95_ms,
        hit5_ours=hit5,
        hit5_peer=peer_hit5,
        ingest_vs_model=ours.tokens_per_s / model_tps,
        reingest_s=again.seconds,
    )
    return pipeline, SeedIndex(chunks, vectors, seed_sentences(chunks))


def lexical_stage(bench: Bench) -> None:
    """The same index in lexical mode (`RAG_RETRIEVAL_MODE=lexical`): no question embedded.

    The default hybrid mode embeds every question, which costs more than the baseline's
    whole query; lexical mode shows what the speed costs in Hit@5.
    """
    lexical = bench.settings.model_copy(update={"retrieval_mode": "lexical"})
    pipeline = Pipeline(lexical, bench.embedder)
    pipeline.warm_up()
    time_queries(pipeline, bench.warm)
    latency, peer_latency = time_paired(
        [pipeline, bench.peer], bench.questions, passes=bench.options.passes
    )
    hit5 = hit_at_5(pipeline, bench.items, lexical.seeds_dir)
    results = bench.results
    results.rows += [
        *latency_rows("seeds, lexical mode", latency, peer_latency),
        Row("Hit@5 seeds (eval set), lexical mode", "share", hit5, None),
    ]
    results.figures.update(
        answer_p95_ms_seeds_lexical=latency.answer.p95_ms,
        query_speedup_vs_peer_lexical=peer_latency.answer.p50_ms / latency.answer.p50_ms,
        hit5_ours_lexical=hit5,
    )


def synthetic_ingest_stage(bench: Bench, seed: SeedIndex) -> None:
    """Ingest throughput and memory on a synthetic corpus of seed sentences, both systems.

    Each ingest runs alone in a fresh process: by this stage the bench holds the large
    indexes, which an in-process peak would count.
    """
    settings, options, work, results = bench.settings, bench.options, bench.work, bench.results
    peer_model = bench.peer.model
    folder = write_articles(seed.sentences, work / "synthetic", options.ingest_chunks, options.seed)
    ours = ingest_in_fresh_process("ours", settings, folder, work / "ours-synthetic", peer_model)
    theirs = ingest_in_fresh_process("peer", settings, folder, work / "peer-synthetic", peer_model)
    label = f"synthetic ({ours.chunks} / {theirs.chunks} chunks)"
    results.rows += [
        Row(f"ingest {label}", "chunks/s", ours.chunks_per_s, theirs.chunks_per_s),
        Row(f"ingest {label}", "tokens/s", ours.tokens_per_s, theirs.tokens_per_s),
        Row(f"ingest {label} peak memory, own process", "MiB", ours.peak_mb, theirs.peak_mb),
    ]
    results.figures["ingest_synthetic_chunks"] = ours.chunks
    results.figures["ingest_synthetic_tokens_per_s"] = ours.tokens_per_s


def scale_stage(bench: Bench, seed: SeedIndex, on_stage: Callable[[Results], object]) -> None:
    """Latency and Hit@5 at each large size; the HNSW search breadth sweep at the first one.

    Hit@5 there is a floor: synthetic chunks repeat the gold sentences but never count as hits.
    """
    settings, embedder, peer, items = bench.settings, bench.embedder, bench.peer, bench.items
    options, work, results = bench.options, bench.work, bench.results
    for number, size in enumerate(options.sizes):
        label = f"{size // 1000}k" if size % 1000 == 0 else str(size)
        local = settings.model_copy(update={"data_dir": work / f"ours-{label}"})
        ours, chunks, vectors = measure_ours(local, embedder, seed, size, items, options.seed)
        theirs = measure_baseline(peer, seed, size, items, settings.seeds_dir, options.seed)
        results.rows += [
            Row(f"build index {label} (vectors given)", "s", ours.build_s, theirs.build_s),
            Row(f"lexical index + weights load {label}", "s", ours.load_s),
            Row(f"same, restarted process (lexical cache) {label}", "s", ours.reload_s),
            *latency_rows(label, ours.latency, theirs.latency),
            Row(f"Hit@5 {label} (synthetic repeats never count)", "share", ours.hit5, theirs.hit5),
        ]
        results.figures[f"answer_p95_ms_{label}"] = ours.latency.answer.p95_ms
        results.figures[f"restart_load_s_{label}"] = ours.reload_s
        results.figures[f"hit5_ours_{label}"] = ours.hit5
        if number == 0:
            grid = sweep_hnsw(local, embedder, chunks, vectors, bench.questions, HNSW_GRID)
            for point in grid:
                name = f"HNSW {label} ef_construction={point.construction_ef} ef={point.search_ef}"
                results.rows += [
                    Row(f"{name}: recall@20", "share", point.recall),
                    Row(f"{name}: query p50", "ms", point.p50_ms),
                    Row(f"{name}: build", "s", point.build_s),
                ]
        on_stage(results)


def serving_stage(bench: Bench, seed: SeedIndex) -> None:
    """Cold starts, the load test on one UI, and Chroma server mode with two UIs, as deployed.

    The query cache is on here, as in `rag serve`.
    """
    settings = bench.settings.model_copy(update={"query_cache_size": bench.deployed_cache_size})
    embedder, options, work, results = bench.embedder, bench.options, bench.work, bench.results
    questions = bench.questions
    starts = cold_starts(settings, work / "peer-seeds", bench.peer.model, questions[0])
    plan = LoadPlan(options.users, options.load_seconds, options.think_s, questions, options.seed)
    load = serve_and_load(settings, 1, plan) if options.users else None
    server, server_load = server_mode(
        settings.model_copy(update={"collection": "served"}),
        embedder,
        seed,
        work / "chroma-server",
        questions,
        plan,
    )
    results.rows += [
        Row("cold start: rag serve until the UI answers", "s", starts.ui_s),
        Row("cold start: fresh process's first answer (CLI)", "s", starts.cli_s, starts.peer_s),
        *latency_rows("seeds, Chroma server", server, None),
    ]
    results.figures["cold_start_s"] = starts.ui_s
    for name, result in (("", load), ("_server_2ui", server_load)):
        if result is None:
            continue
        label = f"load {result.users} users {result.seconds:.0f} s" + name.replace("_", " ")
        results.rows += [
            Row(f"{label}: throughput", "answers/s", result.throughput_rps),
            Row(f"{label}: p50", "ms", result.latency.p50_ms),
            Row(f"{label}: p95", "ms", result.latency.p95_ms),
            Row(f"{label}: p99", "ms", result.latency.p99_ms),
            Row(f"{label}: errors", "count", float(result.errors)),
        ]
        results.figures[f"load_p95_ms{name}"] = result.latency.p95_ms
        results.figures[f"load_errors{name}"] = float(result.errors)
        results.figures[f"load_rps{name}"] = result.throughput_rps


def run_bench(
    settings: Settings, options: BenchOptions, log: Log, on_stage: Callable[[Results], object]
) -> Results:
    """Measure everything, calling `on_stage` after each stage (so a long run saves as it goes).

    Indexes are built in a temporary folder under `options.out`, removed afterwards.
    """
    items = [item for item in load_questions(options.questions) if item.answerable]
    warm = [item.question for item in load_questions(options.warmup_questions)]
    # No query cache while timing: every timed question is embedded.
    embedder = make_embedder(settings, query_cache_size=0)
    results = Results([], {"answer_p95_ms_100k": None, "load_p95_ms": None, "load_errors": None})
    options.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-", dir=options.out) as tmp:
        work = Path(tmp)
        local = settings.model_copy(
            update={"data_dir": work / "ours-seeds", "collection": "seeds", "query_cache_size": 0}
        )
        peer = TutorialBaseline(
            work / "peer-seeds", peer_model(options.peer_model, settings.model_cache_dir)
        )
        bench = Bench(
            local, embedder, peer, items, warm, options, work, results, settings.query_cache_size
        )
        log("seeds: ingest, re-ingest, bare models, latency, Hit@5 (ours and baseline)")
        _, seed = seeds_stage(bench)
        on_stage(results)
        log("serving: cold starts, load test, Chroma server mode")
        serving_stage(bench, seed)
        on_stage(results)
        if options.sizes:
            log(f"large sizes {options.sizes}: build, latency, Hit@5, HNSW sweep")
            scale_stage(bench, seed, on_stage)
        if options.ingest_chunks:
            log(f"synthetic ingest: about {options.ingest_chunks} chunks, both systems")
            synthetic_ingest_stage(bench, seed)
            on_stage(results)
    return results
