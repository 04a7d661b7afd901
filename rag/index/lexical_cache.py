"""Lexical data of an index generation, built once and kept beside the index.

Every process that answers needs all indexed chunks (BM25 and answering read them),
the BM25 index, the word weights and the corpus's names (computed from the chunks'
stems), and its accented words (from their text). Reading and computing them takes about
40 s at 100k chunks; loading them back from `data_dir/lexical/<collection>/` takes a few
seconds. A file is named by the
generation's collection, its Chroma id and size, and a digest of the code and library
versions that compute the data, so a new ingest, or a change to that code, builds it
again. Files are written atomically; one that cannot be read or written costs a
rebuild (logged as a warning), never an answer.

The files are pickles: like the Chroma files beside them they are the application's
own state, and nothing from elsewhere belongs in `data_dir`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

from rag import types
from rag.answer import evidence
from rag.answer.evidence import Names
from rag.retrieve import accents, glossary, lexical, retrievers, spelling
from rag.retrieve.accents import Accents
from rag.retrieve.lexical import TermWeights, terms
from rag.retrieve.retrievers import LexicalRetriever
from rag.retrieve.spelling import Spelling
from rag.types import Chunk

_LOG = logging.getLogger(__name__)
# The modules and libraries whose code shapes the data: a change to any of them rebuilds.
_CODE = (lexical, accents, spelling, glossary, retrievers, evidence, types, sys.modules[__name__])
_LIBRARIES = ("bm25s", "PyStemmer", "numpy")
_SUFFIX = ".pickle"


@dataclass(frozen=True)
class LexicalData:
    """What answering and lexical search read from the whole index."""

    chunks: list[Chunk]  # every indexed chunk, in file order
    bm25: LexicalRetriever
    weights: TermWeights
    names: Names
    accents: Accents  # restores å, ä, ö in questions typed without them
    spelling: Spelling  # reads misspelt question words as the articles' words

    @classmethod
    def build(cls, chunks: Iterable[Chunk]) -> LexicalData:
        """Compute everything from the chunks, in a canonical order.

        The order is file order whatever order the store returns chunks in, so BM25
        breaks ties the same way in every process and every index generation.
        """
        ordered = sorted(chunks, key=lambda c: (c.source, c.start, c.id))
        stems = [terms(chunk.embed_text) for chunk in ordered]  # shared, then dropped
        return cls(
            ordered,
            LexicalRetriever(ordered, stems),
            TermWeights(stems),
            Names(ordered, stems),
            Accents(chunk.text for chunk in ordered),
            Spelling((chunk.text for chunk in ordered), {t for s in stems for t in s}),
        )


@cache  # the code this process runs: read once
def code_digest() -> str:
    """Digest of the source files and library versions that compute `LexicalData`."""
    digest = hashlib.sha256()
    for module in _CODE:
        digest.update(Path(str(module.__file__)).read_bytes())
    for library in _LIBRARIES:
        digest.update(f"{library}=={metadata.version(library)}".encode())
    return digest.hexdigest()


class LexicalCache:
    """Lexical data files of one collection's index generations."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    def get(self, fingerprint: str, read_chunks: Callable[[], Iterable[Chunk]]) -> LexicalData:
        """The data of the index `fingerprint` names: loaded, or built and saved.

        Args:
            fingerprint: names one generation's content (collection, Chroma id, size).
            read_chunks: reads every chunk from the index, when the data must be built.

        """
        path = self._path(fingerprint)
        data = self._load(path)
        if data is None:
            data = LexicalData.build(read_chunks())
            self._save(path, data)
        return data

    def keep_only(self, fingerprint: str) -> None:
        """Remove the files of every other generation.

        Ingest calls it once readers are switched to the new generation; a process still
        answering from an older one holds that data in memory already.
        """
        keep = self._path(fingerprint)
        for old in self._folder.glob(f"*{_SUFFIX}"):
            if old != keep:
                old.unlink(missing_ok=True)

    def _path(self, fingerprint: str) -> Path:
        key = hashlib.sha256(f"{fingerprint}\n{code_digest()}".encode()).hexdigest()[:32]
        return self._folder / f"{key}{_SUFFIX}"

    def _load(self, path: Path) -> LexicalData | None:
        try:
            with path.open("rb") as file:
                data = pickle.load(file)
        except FileNotFoundError:
            return None
        except Exception as exc:  # any damage to our own file means "build it again"
            _LOG.warning("Lexical data %s unreadable (%r): building it again.", path, exc)
            return None
        if not isinstance(data, LexicalData):
            _LOG.warning("Lexical data %s holds something else: building it again.", path)
            return None
        return data

    def _save(self, path: Path, data: LexicalData) -> None:
        """Write atomically: readers never see a half-written file."""
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=self._folder, prefix=".writing-") as work:
                written = Path(work) / path.name
                with written.open("wb") as file:
                    pickle.dump(data, file, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(written, path)
        except (OSError, pickle.PicklingError) as exc:
            _LOG.warning("Lexical data not saved to %s (%r): it is built at each start.", path, exc)
