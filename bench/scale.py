"""Query latency at 10k and 100k chunks: seed chunks plus synthetic ones with derived vectors.

The seed chunks keep their real vectors, so Hit@5 on the eval set still says
whether the right passage surfaces among many more; the synthetic chunks' text
is real seed sentences, so the lexical index (BM25, word weights) is real too.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.baseline import TutorialBaseline
from bench.corpus import Sentence, derive_vectors, scale_chunks
from bench.measure import QueryLatency, hit_at_5, time_queries
from rag.config import Settings
from rag.evaluation.metrics import EvalItem
from rag.index.embed import RagEmbeddings
from rag.index.store import ChromaStore, HnswParams, make_client
from rag.pipeline import Pipeline
from rag.types import Chunk

COLLECTION = "scale"
RECALL_DEPTH = 20  # the hybrid retriever's dense depth


@dataclass(frozen=True)
class SeedIndex:
    """The real seed chunks with their real vectors, from which the large sizes are made."""

    chunks: list[Chunk]
    vectors: np.ndarray  # (len(chunks), dim): our embedder's
    sentences: list[Sentence]


@dataclass(frozen=True)
class SideFigures:
    """One system at one size."""

    build_s: float  # inserting the vectors into Chroma
    load_s: float  # first question's setup: reading chunks, lexical index, word weights
    reload_s: float  # the same in a restarted process, from the lexical cache
    latency: QueryLatency
    hit5: float


def build_ours(
    settings: Settings, embedder: RagEmbeddings, chunks: Sequence[Chunk], vectors: np.ndarray
) -> tuple[Pipeline, float, float, float]:
    """An index of `chunks` under `settings.data_dir`; the warm pipeline and timings.

    Timings: inserting the vectors, the first process's setup (building the lexical data),
    and a restarted process's setup (loading it from the lexical cache).
    """
    hnsw = HnswParams(settings.hnsw_construction_ef, settings.hnsw_search_ef, settings.hnsw_m)
    client = make_client(settings.chroma_path, settings.chroma_host, settings.chroma_port)
    store, _ = ChromaStore.for_ingest(client, settings.collection, embedder.identity, hnsw)
    began = time.perf_counter()
    store.upsert(chunks, vectors)
    built = time.perf_counter()
    pipeline = Pipeline(settings, embedder=embedder)
    pipeline.warm_up()
    loaded = time.perf_counter()
    Pipeline(settings, embedder=embedder).warm_up()
    return pipeline, built - began, loaded - built, time.perf_counter() - loaded


def measure_ours(
    settings: Settings,
    embedder: RagEmbeddings,
    seed: SeedIndex,
    size: int,
    items: Sequence[EvalItem],
    rng_seed: int,
) -> tuple[SideFigures, list[Chunk], np.ndarray]:
    """Our pipeline at `size` chunks; also returns its chunks and vectors (for the HNSW sweep)."""
    corpus = scale_chunks(seed.sentences, max(0, size - len(seed.chunks)), rng_seed)
    vectors = np.vstack([seed.vectors, derive_vectors(seed.vectors, corpus.origins, rng_seed)])
    local = settings.model_copy(update={"collection": COLLECTION})
    chunks = seed.chunks + corpus.chunks
    pipeline, build_s, load_s, reload_s = build_ours(local, embedder, chunks, vectors)
    latency = time_queries(pipeline, [item.question for item in items], settings.top_k)
    hit5 = hit_at_5(pipeline, items, settings.seeds_dir)
    return SideFigures(build_s, load_s, reload_s, latency, hit5), chunks, vectors


def measure_baseline(
    baseline: TutorialBaseline,
    seed: SeedIndex,
    size: int,
    items: Sequence[EvalItem],
    seeds_dir: Path,
    rng_seed: int,
) -> SideFigures:
    """The baseline at `size` chunks: its seed chunks, our synthetic text, MiniLM vectors."""
    own = list(baseline.split_chunks(seeds_dir))
    corpus = scale_chunks(seed.sentences, max(0, size - len(own)), rng_seed)
    real = baseline.encode([c.embed_text for c in seed.chunks])  # MiniLM, of our seed chunks
    vectors = np.vstack(
        [baseline.encode([c.text for c in own]), derive_vectors(real, corpus.origins, rng_seed)]
    )
    began = time.perf_counter()
    baseline.load_vectors(own + corpus.chunks, vectors, f"{COLLECTION}{size}")
    build_s = time.perf_counter() - began
    latency = time_queries(baseline, [item.question for item in items])
    return SideFigures(build_s, 0.0, 0.0, latency, hit_at_5(baseline, items, seeds_dir))


@dataclass(frozen=True)
class EfPoint:
    """One HNSW setting against exact search."""

    construction_ef: int
    search_ef: int
    recall: float  # share of the exact top 20 that HNSW returns
    p50_ms: float
    build_s: float


def sweep_hnsw(
    settings: Settings,
    embedder: RagEmbeddings,
    chunks: Sequence[Chunk],
    vectors: np.ndarray,
    questions: Sequence[str],
    grid: Sequence[tuple[int, int]],
) -> list[EfPoint]:
    """Recall@20 against exact search, query and build time, per (construction_ef, search_ef).

    Each setting gets its own collection: Chroma 1.5 applies HNSW parameters when it
    builds the index (changing `ef_search` later did not change results in our tests).
    """
    client = make_client(settings.chroma_path, settings.chroma_host, settings.chroma_port)
    queries = [embedder.encode_query(q) for q in questions]
    exact = [set(np.argsort(-(vectors @ q))[:RECALL_DEPTH].tolist()) for q in queries]
    index = {chunk.id: i for i, chunk in enumerate(chunks)}
    points = []
    for construction_ef, search_ef in grid:
        name = f"hnsw-{construction_ef}-{search_ef}"
        hnsw = HnswParams(construction_ef, search_ef, settings.hnsw_m)
        store, _ = ChromaStore.for_ingest(client, name, embedder.identity, hnsw)
        began = time.perf_counter()
        store.upsert(chunks, vectors)
        build_s = time.perf_counter() - began
        found, timings = 0, []
        for query, truth in zip(queries, exact, strict=True):
            began = time.perf_counter()
            hits = store.search(query, RECALL_DEPTH)
            timings.append((time.perf_counter() - began) * 1000)
            found += len(truth & {index[chunk.id] for chunk, _ in hits})
        recall = found / (RECALL_DEPTH * len(queries))
        points.append(
            EfPoint(construction_ef, search_ef, recall, float(np.median(timings)), build_s)
        )
        client.delete_collection(name)
    return points
