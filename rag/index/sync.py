"""Index stage: bring the store in line with the chunks of the corpus, embedding only what is new.

Chunk ids are content hashes, so the difference between the ids in the store
and the ids of the current chunks is exactly what changed: new or edited text
is embedded and added, chunks of edited or deleted files are removed, and an
unchanged corpus costs no embedding at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.index.embed import RagEmbeddings
from rag.index.store import VectorStore
from rag.types import Chunk


@dataclass(frozen=True)
class SyncResult:
    """Counts of one synchronisation."""

    added: int
    deleted: int
    unchanged: int


def sync_index(
    store: VectorStore,
    embedder: RagEmbeddings,
    chunks: Sequence[Chunk],
    batch_size: int,
    on_progress: Callable[[int, int], None] | None = None,
) -> SyncResult:
    """Make `store` hold exactly `chunks`.

    Args:
        store: the index to update.
        embedder: embeds the chunks that are not stored yet.
        chunks: every chunk of the corpus, in corpus order.
        batch_size: texts per embedding call.
        on_progress: called with (chunks embedded so far, chunks to embed).

    """
    wanted = {chunk.id: chunk for chunk in chunks}
    stored = set().union(*store.ids_by_source().values())
    new = [chunk for chunk_id, chunk in wanted.items() if chunk_id not in stored]
    stale = stored - wanted.keys()
    done = 0

    def advance(size: int) -> None:
        nonlocal done
        done += size
        if on_progress is not None:
            on_progress(done, len(new))

    # Embed and add page by page, so an interrupted run keeps what it finished.
    page = max(batch_size, 256)
    for i in range(0, len(new), page):
        part = new[i : i + page]
        vectors = embedder.encode_passages([c.embed_text for c in part], batch_size, advance)
        store.upsert(part, vectors)
    if stale:
        store.delete(stale)
    return SyncResult(added=len(new), deleted=len(stale), unchanged=len(wanted) - len(new))
