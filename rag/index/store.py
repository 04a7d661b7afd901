"""Store stage: Chroma (embedded or server) behind one small interface.

This is the only module that imports chromadb; Chroma's lists of lists are
turned into Chunks here. We always pass our own vectors, so Chroma's default
embedding function (an ONNX download) is never used.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import numpy as np

from rag.errors import EmbedderMismatchError, IndexMissingError, StoreError
from rag.types import Chunk

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import chromadb
from chromadb.api import ClientAPI
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError, NotFoundError

EMBEDDER_KEY = "embedder"
_PAGE = 1000


@dataclass(frozen=True)
class HnswParams:
    """Chroma's HNSW index parameters; they apply when a collection is created."""

    construction_ef: int = 100
    search_ef: int = 400  # see Settings.hnsw_search_ef
    m: int = 16  # neighbours per node

    def metadata(self) -> dict[str, int | str]:
        """As Chroma collection metadata, in cosine space."""
        return {
            "hnsw:space": "cosine",
            "hnsw:construction_ef": self.construction_ef,
            "hnsw:search_ef": self.search_ef,
            "hnsw:M": self.m,
        }


class VectorStore(Protocol):
    """What the pipeline needs from a vector store."""

    embedder: str

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Add or replace chunks with their (n, dim) vectors."""

    def delete(self, ids: Collection[str]) -> None:
        """Remove chunks by id."""

    def ids_by_source(self) -> dict[str, set[str]]:
        """Chunk ids currently stored, grouped by source file."""

    def search(self, vector: np.ndarray, k: int) -> list[tuple[Chunk, float]]:
        """The k nearest chunks with cosine similarity, best first."""

    def nearest(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Ids of the k nearest chunks with cosine similarity, best first (no text read)."""

    def get(self, ids: Sequence[str]) -> list[Chunk]:
        """The stored chunks with these ids."""

    def chunks(self) -> Iterator[Chunk]:
        """Every stored chunk."""

    def count(self) -> int:
        """Number of stored chunks."""


def make_client(
    path: Path, host: str | None = None, port: int = 8000, timeout_s: float = 10.0
) -> ClientAPI:
    """An embedded client on `path`, or a server client when `host` is given.

    A server must answer within `timeout_s` seconds, at connect and on every request
    (Chroma's own client waits forever).

    Raises:
        StoreError: the server cannot be reached or the folder cannot be opened.

    """
    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if host:
        try:  # probe with a timeout first: HttpClient's constructor already calls the server
            httpx.get(f"http://{host}:{port}/api/v2/heartbeat", timeout=timeout_s)
            client = chromadb.HttpClient(host=host, port=port, settings=settings)
            session = getattr(getattr(client, "_server", None), "_session", None)
            if isinstance(session, httpx.Client):
                session.timeout = httpx.Timeout(timeout_s)
            client.heartbeat()
        except Exception as exc:  # chromadb raises bare Exception/ValueError subclasses here
            raise unreachable(host, port, exc) from exc
        return client
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=settings)
    except Exception as exc:  # a corrupt or foreign folder surfaces as various errors
        raise damaged(exc, path) from exc


def unreachable(host: str, port: int, exc: Exception) -> StoreError:
    """The error for a Chroma server that is down or does not answer in time."""
    return StoreError(
        f"Chroma server at {host}:{port} is not reachable or too slow ({exc!r}). Start it with "
        f"`chroma run --path DATA --host {host} --port {port}`, raise RAG_CHROMA_TIMEOUT_S, "
        "or unset RAG_CHROMA_HOST."
    )


def damaged(exc: Exception, where: Path | str = "RAG_DATA_DIR/chroma") -> StoreError:
    """The error for an index database that is damaged or from another Chroma version."""
    return StoreError(
        f"The index in {where} is damaged or was written by another Chroma version ({exc}). "
        "Delete that folder and run `rag ingest` to rebuild it."
    )


class ChromaStore:
    """A Chroma collection in cosine space that records which embedder built it."""

    def __init__(self, collection: Any) -> None:
        self._collection = collection
        self.embedder: str = (collection.metadata or {}).get(EMBEDDER_KEY, "")

    @classmethod
    def open(cls, client: ClientAPI, name: str, embedder: str) -> ChromaStore:
        """Open an existing index for querying with `embedder`.

        Raises:
            IndexMissingError: no index yet.
            EmbedderMismatchError: the index was built with another embedder.

        """
        try:
            collection = client.get_collection(name)
        except (NotFoundError, ValueError) as exc:
            raise IndexMissingError(f"No index '{name}' yet: run `rag ingest` first.") from exc
        except ChromaError as exc:
            raise damaged(exc) from exc
        store = cls(collection)
        if store.embedder != embedder:
            raise EmbedderMismatchError(
                f"The index '{name}' was built with {store.embedder or 'an unknown embedder'}, "
                f"but {embedder} is configured. Run `rag ingest` to rebuild it, or set "
                "RAG_EMBEDDING_BACKEND/RAG_EMBEDDING_MODEL back."
            )
        return store

    @classmethod
    def for_ingest(
        cls, client: ClientAPI, name: str, embedder: str, hnsw: HnswParams = HnswParams()
    ) -> tuple[ChromaStore, bool]:
        """Open or create the index for `embedder`; rebuilds it if another embedder built it.

        `hnsw` applies when the collection is created; an existing one keeps its parameters.

        Returns:
            The store and whether an index from another embedder was dropped.

        """
        rebuilt = False
        try:
            existing = cls(client.get_collection(name))
        except (NotFoundError, ValueError):
            existing = None
        except ChromaError as exc:
            raise damaged(exc) from exc
        if existing is not None and existing.embedder != embedder:
            client.delete_collection(name)
            rebuilt = True
        collection = client.get_or_create_collection(
            name,
            metadata={**hnsw.metadata(), EMBEDDER_KEY: embedder},
            embedding_function=None,
        )
        return cls(collection), rebuilt

    def fingerprint(self) -> str:
        """Names this collection's content: its name, Chroma id and size.

        An index generation is written once, so these change whenever its content does.
        """
        return f"{self._collection.name}:{self._collection.id}:{self.count()}"

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Add or replace chunks with their vectors, in pages Chroma accepts."""
        for i in range(0, len(chunks), _PAGE):
            page = chunks[i : i + _PAGE]
            self._collection.upsert(
                ids=[c.id for c in page],
                embeddings=vectors[i : i + _PAGE],
                documents=[c.text for c in page],
                metadatas=[_metadata(c) for c in page],
            )

    def delete(self, ids: Collection[str]) -> None:
        """Remove chunks by id."""
        ordered = sorted(ids)
        for i in range(0, len(ordered), _PAGE):
            self._collection.delete(ids=ordered[i : i + _PAGE])

    def ids_by_source(self) -> dict[str, set[str]]:
        """Chunk ids grouped by source file."""
        grouped: dict[str, set[str]] = {}
        for offset in range(0, self.count(), _PAGE):
            page = self._collection.get(include=["metadatas"], limit=_PAGE, offset=offset)
            for chunk_id, meta in zip(page["ids"], page["metadatas"], strict=True):
                grouped.setdefault(str(meta["source"]), set()).add(chunk_id)
        return grouped

    def search(self, vector: np.ndarray, k: int) -> list[tuple[Chunk, float]]:
        """Nearest chunks by cosine similarity (1 - Chroma's cosine distance)."""
        result = self._query(vector, k, ["documents", "metadatas", "distances"])
        if result is None:
            return []
        return [
            (_chunk(chunk_id, text, meta), 1.0 - float(distance))
            for chunk_id, text, meta, distance in zip(
                result["ids"][0],
                result["documents"][0],
                result["metadatas"][0],
                result["distances"][0],
                strict=True,
            )
        ]

    def nearest(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Ids of the nearest chunks by cosine similarity: `search` without reading any text.

        Reading and converting the text and metadata of hundreds of hits costs several
        times the search itself; callers that hold the chunks (or need only ids) use this.
        """
        result = self._query(vector, k, ["distances"])
        if result is None:
            return []
        return [
            (str(chunk_id), 1.0 - float(distance))
            for chunk_id, distance in zip(result["ids"][0], result["distances"][0], strict=True)
        ]

    def _query(self, vector: np.ndarray, k: int, include: list[str]) -> Any:
        """Chroma's answer to a k-nearest query (lists of lists), or None when k <= 0."""
        if k <= 0:  # an empty collection answers with empty lists: no count() round trip
            return None
        try:
            return self._collection.query(query_embeddings=[vector], n_results=k, include=include)
        except httpx.HTTPError as exc:  # server mode: down or slower than RAG_CHROMA_TIMEOUT_S
            raise StoreError(f"The Chroma server did not answer the search ({exc!r}).") from exc

    def get(self, ids: Sequence[str]) -> list[Chunk]:
        """The stored chunks with these ids (unknown ids are left out)."""
        if not ids:
            return []
        page = self._collection.get(ids=list(ids), include=["documents", "metadatas"])
        return [
            _chunk(chunk_id, text, meta)
            for chunk_id, text, meta in zip(
                page["ids"], page["documents"], page["metadatas"], strict=True
            )
        ]

    def with_vectors(self, ids: Sequence[str]) -> tuple[list[Chunk], np.ndarray]:
        """The stored chunks with these ids and their (n, dim) vectors, read in pages."""
        chunks: list[Chunk] = []
        vectors: list[np.ndarray] = []
        ordered = list(ids)
        for i in range(0, len(ordered), _PAGE):
            page = self._collection.get(
                ids=ordered[i : i + _PAGE], include=["documents", "metadatas", "embeddings"]
            )
            for chunk_id, text, meta, vector in zip(
                page["ids"], page["documents"], page["metadatas"], page["embeddings"], strict=True
            ):
                chunks.append(_chunk(chunk_id, text, meta))
                vectors.append(np.asarray(vector, dtype=np.float32))
        return chunks, np.array(vectors, dtype=np.float32)

    def vectors(self) -> tuple[list[str], np.ndarray]:
        """Every stored id and its (n, dim) vector, in pages."""
        ids: list[str] = []
        vectors: list[np.ndarray] = []
        for offset in range(0, self.count(), _PAGE):
            page = self._collection.get(include=["embeddings"], limit=_PAGE, offset=offset)
            ids.extend(page["ids"])
            vectors.append(np.asarray(page["embeddings"], dtype=np.float32))
        return ids, np.vstack(vectors) if vectors else np.zeros((0, 0), np.float32)

    def chunks(self) -> Iterator[Chunk]:
        """Every stored chunk, in pages."""
        for offset in range(0, self.count(), _PAGE):
            page = self._collection.get(
                include=["documents", "metadatas"], limit=_PAGE, offset=offset
            )
            for chunk_id, text, meta in zip(
                page["ids"], page["documents"], page["metadatas"], strict=True
            ):
                yield _chunk(chunk_id, text, meta)

    def count(self) -> int:
        """Number of stored chunks."""
        return int(self._collection.count())


def collection_names(client: ClientAPI) -> list[str]:
    """Names of every collection in the database."""
    try:
        return [c.name for c in client.list_collections()]
    except ChromaError as exc:
        raise damaged(exc) from exc


def drop_collection(client: ClientAPI, name: str) -> None:
    """Delete a collection if it exists."""
    try:
        client.delete_collection(name)
    except (NotFoundError, ValueError):
        return
    except ChromaError as exc:
        raise damaged(exc) from exc


def _metadata(chunk: Chunk) -> dict[str, str | int]:
    return {
        "source": chunk.source,
        "title": chunk.title,
        "section": chunk.section,
        "start": chunk.start,
        "end": chunk.end,
        "embed_text": chunk.embed_text,
    }


def _chunk(chunk_id: str, text: str, meta: Any) -> Chunk:
    return Chunk(
        id=chunk_id,
        source=str(meta["source"]),
        title=str(meta["title"]),
        section=str(meta["section"]),
        start=int(meta["start"]),
        end=int(meta["end"]),
        text=text,
        embed_text=str(meta["embed_text"]),
    )
