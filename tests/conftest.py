"""Shared fixtures: real embedders loaded once, real Chroma on tmp paths, seeds indexed once."""

from __future__ import annotations

import os

# Before any library import: no hub look-ups, no telemetry, no analytics.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from browser import chromium

from fake_llm import FakeChatServer
from rag.config import Settings
from rag.index.embed import E5Embeddings, RagEmbeddings
from rag.pipeline import Pipeline

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"
MINI = DATA / "mini"
GOLDEN = TESTS / "golden"
LLM_TIMEOUT_S = 2.0  # short, so fallback tests are quick; bounds derive from it


def make_settings(seeds_dir: Path, data_dir: Path, **values: object) -> Settings:
    """Settings that ignore any developer `.env` and RAG_* variables."""
    return Settings(seeds_dir=seeds_dir, data_dir=data_dir, _env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _no_rag_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("RAG_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def e5() -> RagEmbeddings:
    """The bundled multilingual e5 embedder, loaded once."""
    return E5Embeddings()


@pytest.fixture(scope="session")
def seeded_pipeline(tmp_path_factory: pytest.TempPathFactory, e5: RagEmbeddings) -> Pipeline:
    """A pipeline whose index holds the real seeds (embedded once per test session)."""
    data = tmp_path_factory.mktemp("seeded-data")
    pipeline = Pipeline(make_settings(SEEDS, data), embedder=e5)
    pipeline.ingest()
    return pipeline


@pytest.fixture
def mini_seeds(tmp_path: Path) -> Path:
    """A writable copy of the small test corpus."""
    target = tmp_path / "seeds"
    shutil.copytree(MINI, target)
    return target


@pytest.fixture(scope="session")
def indexed_mini(tmp_path_factory: pytest.TempPathFactory, e5: RagEmbeddings) -> Pipeline:
    """A pipeline whose index holds the small corpus (read-only: tests must not ingest)."""
    pipeline = Pipeline(make_settings(MINI, tmp_path_factory.mktemp("mini-data")), embedder=e5)
    pipeline.ingest()
    return pipeline


@pytest.fixture
def mini_pipeline(tmp_path: Path, mini_seeds: Path, e5: RagEmbeddings) -> Iterator[Pipeline]:
    """A pipeline over the small corpus with an empty index."""
    yield Pipeline(make_settings(mini_seeds, tmp_path / "data"), embedder=e5)


def llm_settings(server: FakeChatServer, data_dir: Path, **values: object) -> Settings:
    """Settings answering with the OpenAI client against the fake server (no retries)."""
    defaults: dict[str, object] = {
        "llm_provider": "openai",
        "llm_base_url": server.openai_url,
        "llm_model": "fake-model",
        "llm_timeout_s": LLM_TIMEOUT_S,
        "llm_max_retries": 0,
    }
    return make_settings(SEEDS, data_dir, **(defaults | values))


@pytest.fixture(scope="session")
def _chat_server() -> Iterator[FakeChatServer]:
    server = FakeChatServer()
    yield server
    server.close()


@pytest.fixture
def chat_server(_chat_server: FakeChatServer) -> FakeChatServer:
    """The scripted OpenAI-compatible/Ollama server on 127.0.0.1, with an empty script."""
    _chat_server.script()
    return _chat_server


@pytest.fixture(scope="session")
def llm_pipeline(
    seeded_pipeline: Pipeline, _chat_server: FakeChatServer, e5: RagEmbeddings
) -> Pipeline:
    """The seeded index, answered by the real LangChain OpenAI client via the fake server."""
    return Pipeline(llm_settings(_chat_server, seeded_pipeline.settings.data_dir), embedder=e5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium for a test module's pages."""
    with chromium() as launched:
        yield launched


# Fixtures that load a model or index a corpus; tests using them (directly or through
# another fixture) are slow. `pytest -m "not slow"` is the fast tier: no model load, no
# browser, no server process.
MODEL_FIXTURES = frozenset({"e5", "minilm", "minilm_path", "seeded_pipeline", "indexed_mini"})
HEAVY_MODULES = frozenset(  # start processes or load models outside the fixtures above
    {
        "test_generations",
        "test_cli",
        "test_feedback",
        "test_logs",
        "test_store",
        "test_startup",
        "test_e5_onnx",
        "test_bench",
        "test_bench_formats",
        "test_embed",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests that load a model, index, start a process or drive a browser as slow."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        module = item.module.__name__ if isinstance(item, pytest.Function) else ""
        if fixtures & MODEL_FIXTURES or module in HEAVY_MODULES:
            item.add_marker(pytest.mark.slow)
