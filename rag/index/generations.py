"""Atomic ingest: build a new index generation beside the live one, then switch a pointer.

Readers open the collections named by `data_dir/index-<collection>.json`, replaced with
`os.replace` only after a build completed, so a failed, killed or concurrent ingest never
shows a half-built index. Unchanged vectors are copied forward from the live generation,
so only new text is embedded. Generation 0 is the unsuffixed names of older indexes.
An exclusive lock file keeps two ingests apart; the OS releases it when a process dies.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rag.errors import EmbedderMismatchError, IndexBuildError, IndexMissingError, StoreError
from rag.index.embed import RagEmbeddings
from rag.index.store import ChromaStore, HnswParams, collection_names, drop_collection
from rag.index.sync import SyncResult, sync_index
from rag.index.texts import TextStore
from rag.logs import log_event
from rag.types import Chunk, SourceFile

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

ProgressCallback = Callable[[int, int], None]

SENTENCE_SUFFIX = "-sentences"


@dataclass(frozen=True)
class Generation:
    """One build of the index: its number and the names of its two collections."""

    number: int
    chunks: str
    sentences: str


def generation(collection: str, number: int) -> Generation:
    """Generation `number` of `collection` (0: the unsuffixed names of older indexes)."""
    base = collection if number == 0 else f"{collection}-g{number}"
    return Generation(number, base, base + SENTENCE_SUFFIX)


def _pointer(data_dir: Path, collection: str) -> Path:
    return data_dir / f"index-{collection}.json"


def current_generation(data_dir: Path, collection: str) -> Generation:
    """The generation readers use now.

    Raises:
        StoreError: the pointer file is damaged.

    """
    path = _pointer(data_dir, collection)
    try:
        number = int(json.loads(path.read_text(encoding="utf-8"))["generation"])
    except FileNotFoundError:
        number = 0
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StoreError(
            f"The index pointer {path} is damaged ({exc}): delete it and run `rag ingest`."
        ) from exc
    return generation(collection, number)


class Pointer:
    """The index pointer of one collection, read again only when the file changed.

    Every question checks which generation is live (another process may have ingested);
    a stat costs a fraction of reading and parsing the file. `publish` renames a new
    file into place, so a switch always shows as a new inode.
    """

    def __init__(self, data_dir: Path, collection: str) -> None:
        self._data_dir = data_dir
        self._collection = collection
        self._seen: tuple[int, int, int] | None = None  # (inode, mtime ns, size) last read
        self._generation: Generation | None = None

    def current(self) -> Generation:
        """The generation readers use now (see `current_generation`)."""
        try:
            stat = _pointer(self._data_dir, self._collection).stat()
            seen: tuple[int, int, int] | None = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            seen = None
        if self._generation is None or seen is None or seen != self._seen:
            self._generation = current_generation(self._data_dir, self._collection)
            self._seen = seen
        return self._generation


def publish(data_dir: Path, collection: str, built: Generation) -> None:
    """Make `built` the generation readers open: write a temporary file, then rename it."""
    path = _pointer(data_dir, collection)
    temporary = path.with_suffix(".tmp")
    with temporary.open("w", encoding="utf-8") as file:
        json.dump({"generation": built.number, "chunks": built.chunks}, file)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


@contextmanager
def ingest_lock(data_dir: Path) -> Iterator[None]:
    """Hold the ingest lock of `data_dir` for the block.

    Raises:
        IndexBuildError: another ingest holds it.

    """
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / "ingest.lock").open("a") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IndexBuildError(
                f"Another `rag ingest` is running on {data_dir}: wait for it to finish."
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


def copy_forward(
    old: ChromaStore | None, new: ChromaStore, wanted: Sequence[Chunk]
) -> tuple[int, int]:
    """Copy the vectors of `wanted` chunks that `old` holds into `new`, without embedding.

    Returns:
        How many were copied, and how many of `old`'s chunks are no longer wanted.

    """
    if old is None:
        return 0, 0
    stored = set().union(*old.ids_by_source().values())
    keep = list(dict.fromkeys(chunk.id for chunk in wanted if chunk.id in stored))
    if keep:
        chunks, vectors = old.with_vectors(keep)
        new.upsert(chunks, vectors)
    return len(keep), len(stored - {chunk.id for chunk in wanted})


def open_previous(client: ClientAPI, name: str, embedder: str) -> tuple[ChromaStore | None, bool]:
    """The live collection `name` to copy from, and whether another embedder built it."""
    try:
        return ChromaStore.open(client, name, embedder), False
    except EmbedderMismatchError:
        return None, True
    except IndexMissingError:
        return None, False


def discard(client: ClientAPI, built: Generation) -> None:
    """Delete the collections of a generation (a failed build, or one no reader uses)."""
    drop_collection(client, built.chunks)
    drop_collection(client, built.sentences)


def prune(client: ClientAPI, collection: str, keep: set[int]) -> None:
    """Delete every generation of `collection` whose number is not in `keep`."""
    own = re.compile(rf"^{re.escape(collection)}(?:-g(\d+))?(?:{SENTENCE_SUFFIX})?$")
    for name in collection_names(client):
        match = own.match(name)
        if match and int(match.group(1) or 0) not in keep:
            drop_collection(client, name)


def build_failed(exc: OSError) -> IndexBuildError:
    """The message for a build stopped by the operating system (e.g. a full disk)."""
    reason = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
    return IndexBuildError(
        f"Ingest stopped: {reason}. The previous index is unchanged and still answers; "
        "fix the cause (free disk space in RAG_DATA_DIR) and run `rag ingest` again."
    )


@dataclass(frozen=True)
class Built:
    """What one build put in the new generation."""

    generation: Generation
    chunks: SyncResult  # added = embedded, unchanged = copied forward, deleted = dropped
    chunk_count: int
    sentences: SyncResult | None
    sentence_count: int
    rebuilt: bool  # the live index came from another embedder: nothing was copied


def build_generation(
    client: ClientAPI,
    data_dir: Path,
    collection: str,
    embedder: RagEmbeddings,
    items: tuple[Sequence[Chunk], Sequence[Chunk] | None],
    batch_size: int,
    on_progress: ProgressCallback | None = None,
    hnsw: HnswParams | None = None,
    sources: Sequence[SourceFile] = (),
) -> Built:
    """Build the next generation from (chunks, sentence units or None), then publish it.

    The texts of `sources` (the files the chunks come from) are stored with it.

    Raises:
        IndexBuildError: another ingest runs, or the OS stopped the build (e.g. disk full);
            the live generation is untouched either way.

    """
    chunks, units = items
    hnsw = hnsw or HnswParams()
    on_progress = _logged(on_progress)
    with ingest_lock(data_dir):
        live = current_generation(data_dir, collection)
        texts = TextStore(data_dir, collection)
        same = _unchanged(client, live, embedder, chunks, units)
        if same is not None:  # nothing to build: the live generation already holds exactly this
            texts.save(live.chunks, sources, previous=live.chunks)  # metadata may differ
            return same
        built = generation(collection, live.number + 1)
        discard(client, built)  # leftovers of a build that was killed
        log_event("ingest_started", generation=built.number, chunks=len(chunks))
        try:
            chunk_sync, chunk_count, rebuilt = _fill(
                client, (live.chunks, built.chunks), embedder, chunks, batch_size, on_progress, hnsw
            )
            sentence_sync, sentence_count = None, 0
            if units is not None:

                def after_chunks(done: int, total: int) -> None:  # one bar: chunks, sentences
                    on_progress(chunk_sync.added + done, chunk_sync.added + total)

                sentence_sync, sentence_count, _ = _fill(
                    client,
                    (live.sentences, built.sentences),
                    embedder,
                    units,
                    batch_size,
                    after_chunks,
                    hnsw,
                )
        except BaseException as exc:
            discard(client, built)
            log_event("ingest_failed", generation=built.number, error=type(exc).__name__)
            if isinstance(exc, OSError):
                raise build_failed(exc) from exc
            raise
        texts.save(built.chunks, sources, previous=live.chunks)
        publish(data_dir, collection, built)
        prune(client, collection, keep={live.number, built.number})  # readers may hold live
        texts.keep_only(generation(collection, n).chunks for n in (live.number, built.number))
    return Built(built, chunk_sync, chunk_count, sentence_sync, sentence_count, rebuilt)


def _logged(on_progress: ProgressCallback | None) -> ProgressCallback:
    """`on_progress` that also logs each step at DEBUG level."""

    def report(done: int, total: int) -> None:
        log_event("ingest_progress", logging.DEBUG, done=done, total=total)
        if on_progress is not None:
            on_progress(done, total)

    return report


def _unchanged(
    client: ClientAPI,
    live: Generation,
    embedder: RagEmbeddings,
    chunks: Sequence[Chunk],
    units: Sequence[Chunk] | None,
) -> Built | None:
    """The live generation as a Built when it holds exactly these chunks and units, else None."""
    counts = []
    for name, items in ((live.chunks, chunks), (live.sentences, units)):
        if items is None:
            counts.append(0)
            continue
        store, _ = open_previous(client, name, embedder.identity)
        if store is None or set().union(*store.ids_by_source().values()) != {
            item.id for item in items
        }:
            return None
        counts.append(len({item.id for item in items}))
    chunk_sync = SyncResult(0, 0, counts[0])
    sentence_sync = SyncResult(0, 0, counts[1]) if units is not None else None
    return Built(live, chunk_sync, counts[0], sentence_sync, counts[1], rebuilt=False)


def _fill(
    client: ClientAPI,
    names: tuple[str, str],
    embedder: RagEmbeddings,
    items: Sequence[Chunk],
    batch_size: int,
    on_progress: ProgressCallback | None,
    hnsw: HnswParams,
) -> tuple[SyncResult, int, bool]:
    """Fill the new collection `names[1]`: copy from the live `names[0]`, embed the rest."""
    old, rebuilt = open_previous(client, names[0], embedder.identity)
    new, _ = ChromaStore.for_ingest(client, names[1], embedder.identity, hnsw)
    _, dropped = copy_forward(old, new, items)
    result = sync_index(new, embedder, items, batch_size, on_progress)
    return SyncResult(result.added, dropped, result.unchanged), new.count(), rebuilt
