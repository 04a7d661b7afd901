"""Atomic ingest: a failed, killed or concurrent build never changes what readers see."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import SEEDS, make_settings
from rag.errors import CorpusError, IndexBuildError, StoreError
from rag.index.embed import RagEmbeddings
from rag.index.generations import Pointer, current_generation, generation, ingest_lock, publish
from rag.index.store import ChromaStore, collection_names
from rag.pipeline import Pipeline
from rag.records import answer_record

RAG = str(Path(sys.executable).with_name("rag"))
QUESTION = "Hur mycket kostade nyckelfri hemtjänst?"
KILL_BOUND_S = 240  # generous: model load plus embedding on a busy 2-core machine


def _record(pipeline: Pipeline) -> dict[str, object]:
    """What the user sees of the answer: text, citations and passages (not timings)."""
    record = answer_record(pipeline.ask(QUESTION))
    assert record["citations"], "precondition: the question is answered from the mini corpus"
    return {key: record[key] for key in ("answer", "citations", "passages")}


def _reader(pipeline: Pipeline) -> Pipeline:
    """A second pipeline on the same folders, as a serving process would have."""
    return Pipeline(pipeline.settings, embedder=pipeline.embedder)


def _add_big_article(seeds: Path) -> None:
    shutil.copy(SEEDS / "001_9da2409787b5ed37.txt", seeds / "ny.txt")


def test_sigkilled_ingest_leaves_the_old_index_answering(mini_pipeline: Pipeline) -> None:
    mini_pipeline.ingest()
    before = _record(mini_pipeline)
    pointer = current_generation(mini_pipeline.settings.data_dir, "seeds")
    _add_big_article(mini_pipeline.settings.seeds_dir)
    log = mini_pipeline.settings.log_path
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")} | {
        "RAG_SEEDS_DIR": str(mini_pipeline.settings.seeds_dir),
        "RAG_DATA_DIR": str(mini_pipeline.settings.data_dir),
        "RAG_LOG_LEVEL": "DEBUG",
        "RAG_EMBEDDING_BATCH_SIZE": "2",
    }
    process = subprocess.Popen(
        [RAG, "ingest"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + KILL_BOUND_S
    progress: list[dict[str, int]] = []
    while not progress and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
        if log.exists():
            events = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
            progress = [e for e in events if e["event"] == "ingest_progress" and e["done"] > 0]
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert progress, "precondition: the ingest was killed while embedding"
    assert progress[0]["done"] < progress[0]["total"]

    reader = _reader(mini_pipeline)
    assert current_generation(mini_pipeline.settings.data_dir, "seeds") == pointer
    assert _record(reader) == before
    report = mini_pipeline.ingest()  # the lock died with the process; leftovers are dropped
    assert report.added > 0 and report.unchanged == 4
    names = collection_names(reader.client)
    assert sorted(names) == ["seeds-g1", "seeds-g1-sentences", "seeds-g2", "seeds-g2-sentences"]


def test_readers_see_the_old_index_until_the_new_one_is_complete(
    mini_pipeline: Pipeline,
) -> None:
    mini_pipeline.ingest()
    reader = _reader(mini_pipeline)
    before = _record(reader)
    chunks_before = reader.store.count()
    _add_big_article(mini_pipeline.settings.seeds_dir)
    seen: list[dict[str, object]] = []
    mini_pipeline.ingest(lambda done, total: seen.append(_record(reader)))
    assert seen and all(record == before for record in seen)
    assert reader.store.count() > chunks_before  # then it follows the new generation


def test_disk_full_during_ingest_keeps_the_index(
    mini_pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    mini_pipeline.ingest()
    before = _record(_reader(mini_pipeline))
    _add_big_article(mini_pipeline.settings.seeds_dir)

    def full(*_args: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(ChromaStore, "upsert", full)
    with pytest.raises(IndexBuildError, match=r"disk is full.*previous index is unchanged"):
        mini_pipeline.ingest()
    assert _record(_reader(mini_pipeline)) == before
    assert "seeds-g2" not in collection_names(mini_pipeline.client)


def test_a_second_ingest_is_refused_while_one_runs(mini_pipeline: Pipeline) -> None:
    with (
        ingest_lock(mini_pipeline.settings.data_dir),
        pytest.raises(IndexBuildError, match="Another `rag ingest` is running"),
    ):
        mini_pipeline.ingest()


@pytest.mark.parametrize("problem", ["missing", "empty", "binary only"])
def test_bad_seeds_folder_leaves_the_index(mini_pipeline: Pipeline, problem: str) -> None:
    mini_pipeline.ingest()
    before = _record(mini_pipeline)
    seeds = mini_pipeline.settings.seeds_dir
    shutil.rmtree(seeds)
    if problem != "missing":
        seeds.mkdir()
    if problem == "binary only":
        (seeds / "bild.txt").write_bytes(b"\x89PNG\x00\x01")
    with pytest.raises(CorpusError, match="RAG_SEEDS_DIR"):
        mini_pipeline.ingest()
    assert _record(mini_pipeline) == before


def test_damaged_chroma_folder_is_explained(
    tmp_path: Path, mini_seeds: Path, e5: RagEmbeddings
) -> None:
    data = tmp_path / "data"
    Pipeline(make_settings(mini_seeds, data), embedder=e5).ingest()
    with sqlite3.connect(data / "chroma" / "chroma.sqlite3") as db:  # as from another version
        db.execute("DROP TABLE collections")
    pipeline = Pipeline(make_settings(mini_seeds, data), embedder=e5)
    with pytest.raises(StoreError, match="damaged or was written by another Chroma version"):
        pipeline.ask(QUESTION)
    with pytest.raises(StoreError, match="Delete that folder and run `rag ingest`"):
        pipeline.ingest()


def test_garbage_chroma_file_is_one_clear_line(tmp_path: Path) -> None:
    chroma = tmp_path / "data" / "chroma"
    chroma.mkdir(parents=True)
    (chroma / "chroma.sqlite3").write_bytes(b"not a database" * 100)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    result = subprocess.run(
        [RAG, "ask", QUESTION, "--data", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 1
    assert "damaged or was written by another Chroma version" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_pointer_reads_the_file_again_only_when_it_changed(tmp_path: Path) -> None:
    pointer = Pointer(tmp_path, "seeds")
    assert pointer.current() == generation("seeds", 0)  # no file yet: the unsuffixed names
    publish(tmp_path, "seeds", generation("seeds", 1))
    first = pointer.current()
    assert first == generation("seeds", 1)
    assert pointer.current() is first  # unchanged file: not read again
    publish(tmp_path, "seeds", generation("seeds", 2))
    assert pointer.current() == generation("seeds", 2)
    (tmp_path / "index-seeds.json").write_text("{", encoding="utf-8")
    with pytest.raises(StoreError, match="damaged"):
        pointer.current()
