"""Contract tests every store backend passes: embedded Chroma and Chroma's server on loopback."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from rag.errors import EmbedderMismatchError, IndexMissingError, StoreError
from rag.index.store import ChromaStore, make_client
from rag.types import Chunk

EMBEDDER = "test:embedder"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    port = _free_port()
    chroma = Path(sys.executable).with_name("chroma")
    process = subprocess.Popen(
        [str(chroma), "run", "--path", str(tmp_path_factory.mktemp("server")),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                make_client(Path("unused"), "127.0.0.1", port)
                break
            except StoreError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.3)
        yield "127.0.0.1", port
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(params=["embedded", pytest.param("server", marks=pytest.mark.slow)])
def client(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    if request.param == "embedded":
        return make_client(tmp_path / "chroma")
    host, port = request.getfixturevalue("chroma_server")
    made = make_client(tmp_path, host, port)
    for collection in made.list_collections():
        made.delete_collection(collection.name)
    return made


def _chunk(i: int, source: str = "a.txt") -> Chunk:
    text = f"Text nummer {i}"
    return Chunk(f"id{i}-{source}", source, f"Titel {i}", "Avsnitt", i * 10, i * 10 + 5, text, text)


def _vectors(n: int, dim: int = 8) -> np.ndarray:
    rng = np.random.default_rng(7)
    v = rng.normal(size=(n, dim)).astype(np.float32)
    return np.asarray(v / np.linalg.norm(v, axis=1, keepdims=True))


def test_upsert_search_roundtrip(client) -> None:  # type: ignore[no-untyped-def]
    store, rebuilt = ChromaStore.for_ingest(client, "test", EMBEDDER)
    assert not rebuilt
    chunks = [_chunk(i) for i in range(5)]
    vectors = _vectors(5)
    store.upsert(chunks, vectors)
    assert store.count() == 5
    hits = store.search(vectors[3], k=2)
    assert hits[0][0] == chunks[3]
    assert hits[0][1] == pytest.approx(1.0, abs=1e-4)
    assert hits[0][1] >= hits[1][1]


def test_nearest_gives_the_ids_and_cosines_of_search(client) -> None:  # type: ignore[no-untyped-def]
    store, _ = ChromaStore.for_ingest(client, "test", EMBEDDER)
    chunks, vectors = [_chunk(i) for i in range(6)], _vectors(6)
    store.upsert(chunks, vectors)
    hits = store.search(vectors[2], k=4)
    assert store.nearest(vectors[2], k=4) == [(chunk.id, score) for chunk, score in hits]
    assert store.nearest(vectors[2], k=0) == []


def test_upsert_is_idempotent_and_delete_removes(client) -> None:  # type: ignore[no-untyped-def]
    store, _ = ChromaStore.for_ingest(client, "test", EMBEDDER)
    chunks = [_chunk(i, "a.txt") for i in range(3)] + [_chunk(9, "b.txt")]
    store.upsert(chunks, _vectors(4))
    store.upsert(chunks, _vectors(4))
    assert store.count() == 4
    assert store.ids_by_source() == {
        "a.txt": {"id0-a.txt", "id1-a.txt", "id2-a.txt"},
        "b.txt": {"id9-b.txt"},
    }
    store.delete({"id9-b.txt"})
    assert set(store.ids_by_source()) == {"a.txt"}
    assert sorted(c.id for c in store.chunks()) == ["id0-a.txt", "id1-a.txt", "id2-a.txt"]


def test_index_records_its_embedder(client) -> None:  # type: ignore[no-untyped-def]
    store, _ = ChromaStore.for_ingest(client, "test", EMBEDDER)
    store.upsert([_chunk(1)], _vectors(1))
    assert ChromaStore.open(client, "test", EMBEDDER).count() == 1
    with pytest.raises(EmbedderMismatchError, match="rag ingest"):
        ChromaStore.open(client, "test", "other:model")
    rebuilt_store, rebuilt = ChromaStore.for_ingest(client, "test", "other:model")
    assert rebuilt and rebuilt_store.count() == 0


def test_missing_index_says_to_ingest(client) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(IndexMissingError, match="rag ingest"):
        ChromaStore.open(client, "nothing-here", EMBEDDER)


def test_unreachable_server_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="RAG_CHROMA_HOST"):
        make_client(Path("unused"), "127.0.0.1", _free_port())


def test_a_server_that_never_answers_is_a_clear_error_not_a_hang() -> None:
    with socket.socket() as silent:  # accepts connections, never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        began = time.monotonic()
        with pytest.raises(StoreError, match="not reachable or too slow"):
            make_client(Path("unused"), "127.0.0.1", silent.getsockname()[1], timeout_s=0.5)
    assert time.monotonic() - began < 60  # no hang: bounded by the timeout, generously
