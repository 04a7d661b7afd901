"""The lexical data of an index generation is built once and loaded by later processes."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from rag.index.lexical_cache import LexicalData
from rag.pipeline import Pipeline
from rag.retrieve.lexical import terms

QUESTION = "Hur många platser har stödboendet för unga vuxna?"


def _files(pipeline: Pipeline) -> list[Path]:
    folder = pipeline.settings.data_dir / "lexical" / pipeline.settings.collection
    return sorted(folder.glob("*.pickle"))


def _restarted(pipeline: Pipeline) -> Pipeline:
    """A new process's pipeline on the same data folder (the model is shared, not reloaded)."""
    return Pipeline(pipeline.settings, embedder=pipeline.embedder)


def _no_build(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(chunks: object) -> LexicalData:
        raise AssertionError("built again instead of loaded")

    monkeypatch.setattr(LexicalData, "build", refuse)


def test_a_restarted_process_loads_what_ingest_built(
    mini_pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    mini_pipeline.ingest()
    assert len(_files(mini_pipeline)) == 1
    _no_build(monkeypatch)
    restarted = _restarted(mini_pipeline)
    assert restarted.indexed_chunks == mini_pipeline.indexed_chunks
    loaded, built = restarted.live.lexical, mini_pipeline.live.lexical
    vocabulary = {t for chunk in built.chunks for t in terms(chunk.embed_text)}
    assert [loaded.weights.idf(t) for t in sorted(vocabulary)] == [
        built.weights.idf(t) for t in sorted(vocabulary)
    ]
    ranked = restarted.live.lexical.bm25.search(QUESTION, 5)
    assert [p.chunk.id for p in ranked] == [
        p.chunk.id for p in mini_pipeline.live.lexical.bm25.search(QUESTION, 5)
    ]
    assert "tolv platser" in restarted.ask(QUESTION).text


def test_a_new_generation_replaces_the_file(mini_pipeline: Pipeline, mini_seeds: Path) -> None:
    mini_pipeline.ingest()
    before = _files(mini_pipeline)
    (mini_seeds / "gamma.txt").write_text(
        "Ny familjecentral\n\nExempelby öppnar en familjecentral i Norrby under våren 2024.\n",
        encoding="utf-8",
    )
    mini_pipeline.ingest()
    after = _files(mini_pipeline)
    assert len(after) == 1 and after != before
    restarted = _restarted(mini_pipeline)
    assert any(chunk.source == "gamma.txt" for chunk in restarted.indexed_chunks)


def test_a_damaged_file_is_built_again(
    mini_pipeline: Pipeline, caplog: pytest.LogCaptureFixture
) -> None:
    mini_pipeline.ingest()
    (path,) = _files(mini_pipeline)
    path.write_bytes(b"not a pickle")
    restarted = _restarted(mini_pipeline)
    with caplog.at_level(logging.WARNING, logger="rag.index.lexical_cache"):
        assert restarted.indexed_chunks == mini_pipeline.indexed_chunks
    assert "unreadable" in caplog.text
    assert path.stat().st_size > 1000  # written again, whole


def test_changed_analysis_code_builds_again(
    mini_pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    mini_pipeline.ingest()
    before = _files(mini_pipeline)
    monkeypatch.setattr("rag.index.lexical_cache.code_digest", lambda: "other code")
    restarted = _restarted(mini_pipeline)
    assert restarted.indexed_chunks == mini_pipeline.indexed_chunks
    # A reader adds its file and removes none: another process may be on another generation.
    assert len(_files(mini_pipeline)) == 2
    restarted.ingest()  # ingest keeps only the live generation's file
    after = _files(mini_pipeline)
    assert len(after) == 1 and after != before


def test_an_unwritable_folder_costs_a_warning_not_an_answer(
    mini_pipeline: Pipeline, caplog: pytest.LogCaptureFixture
) -> None:
    lexical = mini_pipeline.settings.data_dir / "lexical"
    lexical.parent.mkdir(parents=True, exist_ok=True)
    lexical.write_text("a file where the folder should be", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="rag.index.lexical_cache"):
        mini_pipeline.ingest()
        assert "tolv platser" in mini_pipeline.ask(QUESTION).text
    assert "not saved" in caplog.text


def test_the_cache_can_be_turned_off(mini_pipeline: Pipeline) -> None:
    settings = mini_pipeline.settings.model_copy(update={"lexical_cache": False})
    pipeline = Pipeline(settings, embedder=mini_pipeline.embedder)
    pipeline.ingest()
    assert _files(pipeline) == []
    assert "tolv platser" in pipeline.ask(QUESTION).text
