"""The bench: synthetic corpora, the tutorial baseline, figures and a whole run at tiny sizes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from bench.baseline import PEER_MODELS, TutorialBaseline, peer_model
from bench.corpus import derive_vectors, scale_chunks, seed_sentences, write_articles
from bench.ingests import embedded_texts
from bench.measure import Latency, time_paired
from bench.report import Row, write_report
from bench.run import BenchOptions, parse_sizes, run_bench
from conftest import DATA, MINI, make_settings
from rag.config import DEFAULT_CACHE_DIR
from rag.index.embed import RagEmbeddings
from rag.ingest.chunk import chunk_documents
from rag.ingest.documents import load_documents
from rag.pipeline import Pipeline
from rag.types import Answer, Chunk, Passage

REQUIRED = (
    "answer_p95_ms_seeds", "answer_p95_ms_100k", "query_speedup_vs_peer", "hit5_ours",
    "hit5_peer", "ingest_vs_model", "reingest_s", "cold_start_s", "load_p95_ms", "load_errors",
)  # fmt: skip


def test_synthetic_articles_reach_the_asked_chunk_count(
    seeded_pipeline: Pipeline, e5: RagEmbeddings, tmp_path: Path
) -> None:
    sentences = seed_sentences(seeded_pipeline.indexed_chunks)
    assert len(sentences) > 100 and all(len(s.text.split()) >= 3 for s in sentences)
    folder = write_articles(sentences, tmp_path / "synthetic", 12, seed=3)
    corpus, documents = load_documents(folder)
    assert not corpus.skipped
    assert len(chunk_documents(corpus.sources, documents, e5.count_tokens)) >= 12
    again = write_articles(sentences, tmp_path / "again", 12, seed=3)
    assert [p.read_text() for p in sorted(folder.iterdir())] == [
        p.read_text() for p in sorted(again.iterdir())
    ]


def test_scale_chunks_are_reproducible_and_vectors_derive_from_real_ones(
    seeded_pipeline: Pipeline,
) -> None:
    sentences = seed_sentences(seeded_pipeline.indexed_chunks)
    corpus = scale_chunks(sentences, 50, seed=1)
    assert [c.id for c in corpus.chunks] == [c.id for c in scale_chunks(sentences, 50, 1).chunks]
    assert len({c.id for c in corpus.chunks}) == 50
    real = np.random.default_rng(0).standard_normal((len(seeded_pipeline.indexed_chunks), 64))
    real /= np.linalg.norm(real, axis=1, keepdims=True)
    vectors = derive_vectors(real, corpus.origins, seed=1)
    assert vectors.shape == (50, 64) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    nearest = [int(np.argmax(real @ v)) for v in vectors]
    assert sum(n in origin for n, origin in zip(nearest, corpus.origins, strict=True)) >= 45


@pytest.mark.parametrize("model", PEER_MODELS)
def test_baseline_chunks_keep_their_file_offsets(tmp_path: Path, model: str) -> None:
    baseline = TutorialBaseline(tmp_path / "peer", peer_model(model, DEFAULT_CACHE_DIR))
    result = baseline.ingest(MINI)
    assert result.chunks == len(baseline.indexed_chunks) > 0 and result.tokens > 0
    passages = baseline.search("Hur lång är handläggningstiden i Provstad?", 2)
    assert passages and passages[0].chunk.source == "beta.md"
    for passage in passages:
        chunk = passage.chunk
        text = (MINI / chunk.source).read_text(encoding="utf-8")
        assert text[chunk.start : chunk.end] == chunk.text
    answer = baseline.answer_from("Vilka arbetar kvällar och helger i Provstad?", passages)
    assert answer.passages == tuple(passages)


def test_latency_percentiles_and_report(tmp_path: Path) -> None:
    latency = Latency.of([float(v) for v in range(100, 0, -1)])
    assert (latency.p50_ms, latency.p95_ms, latency.p99_ms, latency.count) == (50.5, 95, 99, 100)
    rows = [Row("a", "ms", 10.0, 40.0), Row("b", "s", 1.0), Row("c", "ms", math.nan, 2.0)]
    path = write_report(tmp_path, {"x": 1.0, "y": None, "z": math.nan}, rows)
    payload = json.loads(path.read_text())
    assert payload["x"] == 1.0 and payload["y"] is None and payload["z"] is None
    assert [r["ratio"] for r in payload["rows"]] == [0.25, None, None]


class _Clocked:
    """A system that logs its name on every search (to check the order of turns)."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log, self.indexed_chunks = name, log, list[Chunk]()

    def search(self, question: str, k: int) -> list[Passage]:
        self.log.append(self.name)
        return []

    def answer_from(self, question: str, passages: object) -> Answer:
        return Answer(question, "", True, (), ())


def test_paired_timing_takes_turns_and_counts_every_pass() -> None:
    log: list[str] = []
    ours, peer = _Clocked("ours", log), _Clocked("peer", log)
    timed = time_paired([ours, peer], ["q1", "q2", "q3"], passes=2)
    assert [t.answer.count for t in timed] == [6, 6] and [t.retrieve.count for t in timed] == [6, 6]
    firsts = log[::2]  # who went first on each question: alternates, so neither always leads
    assert firsts == ["peer", "ours", "peer", "ours", "peer", "ours"]
    assert sorted(log[:2]) == ["ours", "peer"]


def test_ingest_tokens_count_the_sentence_units_it_embeds(indexed_mini: Pipeline) -> None:
    texts = embedded_texts(indexed_mini)
    chunks = indexed_mini.indexed_chunks
    assert texts[: len(chunks)] == [chunk.embed_text for chunk in chunks]
    assert len(texts) == len(chunks) + indexed_mini.live.sentence_store.count()  # type: ignore[union-attr]
    without = Pipeline(indexed_mini.settings.model_copy(update={"sentence_vectors": False}))
    assert embedded_texts(without) == texts[: len(chunks)]


def test_sizes_parse() -> None:
    assert parse_sizes("seeds,10k,100k") == (10_000, 100_000)
    assert parse_sizes("seeds") == ()
    assert parse_sizes("2000, 0.5k") == (2000, 500)


@pytest.mark.slow
def test_whole_bench_at_tiny_sizes(tmp_path: Path) -> None:
    settings = make_settings(MINI, tmp_path / "unused")
    options = BenchOptions(
        out=tmp_path / "out",
        sizes=(40,),
        ingest_chunks=6,
        users=2,
        load_seconds=3,
        think_s=0.2,
        questions=DATA / "bench_questions.jsonl",
        warmup_questions=DATA / "bench_questions.jsonl",
    )
    results = run_bench(settings, options, lambda line: None, lambda partial: None)
    path = write_report(options.out, results.figures, results.rows)
    payload = json.loads(path.read_text())
    assert set(REQUIRED) <= payload.keys()
    assert payload["hit5_ours"] == 1.0 and payload["hit5_peer"] is not None
    assert payload["query_speedup_vs_peer"] > 0 and payload["ingest_vs_model"] > 0
    assert payload["query_speedup_vs_peer_lexical"] > 0 and payload["hit5_ours_lexical"] > 0
    assert payload["load_errors"] == 0 and payload["load_p95_ms"] > 0
    assert payload["answer_p95_ms_40"] > 0 and payload["cold_start_s"] > 0
    ratios = {row["figure"]: row["ratio"] for row in payload["rows"]}
    assert ratios["ingest seeds"] is not None and ratios["answer p95 seeds"] is not None
    # The headline speedup is the medians' (the steadier figure); the p95s' has its own key.
    assert payload["query_speedup_vs_peer"] == pytest.approx(1 / ratios["answer p50 seeds"], 1e-2)
    assert payload["query_speedup_vs_peer_p95"] == pytest.approx(
        1 / ratios["answer p95 seeds"], 1e-2
    )
    # Each ingest's memory comes from its own process: a model and an index at least.
    memory = [row for row in payload["rows"] if "peak memory, own process" in row["figure"]]
    assert len(memory) == 2 and all(row["ours"] > 50 and row["peer"] > 50 for row in memory)
    assert not list(options.out.glob("bench-*")), "the work folder is removed"
