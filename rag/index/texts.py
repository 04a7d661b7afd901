"""The text extracted from each file, stored with the index generation that indexed it.

The source viewer, the age warning and the eval read a file's text from here, never
from the seeds folder, so `text[start:end] == quote` holds for every citation of every
format, and a moved or edited seeds folder cannot change what a citation shows.

Layout under `data_dir/texts/<collection>/`: one JSON file per distinct extracted text,
named by its hash and shared by generations, and a manifest per generation
(`<generation>.manifest.json`: file name -> text hash and when it was first indexed).
Both are written to a temporary file and renamed into place.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from rag.errors import StoreError
from rag.types import SourceFile, SourceMeta


class TextStore:
    """The extracted texts of one collection's generations."""

    def __init__(self, data_dir: Path, collection: str) -> None:
        self._folder = data_dir / "texts" / collection

    def save(self, generation: str, sources: Sequence[SourceFile], previous: str = "") -> None:
        """Store the texts of `sources` as those of `generation` (a chunk collection name).

        A file whose text `previous` (the generation before) already held keeps the time
        it was first indexed; the others are stamped now.
        """
        self._folder.mkdir(parents=True, exist_ok=True)
        try:
            earlier = (self.entries(previous) or {}) if previous else {}
        except StoreError:  # a damaged manifest is replaced, not a reason to fail
            earlier = {}
        now = datetime.now(UTC).isoformat(timespec="seconds")
        manifest = {}
        for source in sources:
            record = json.dumps(asdict(source), ensure_ascii=False, sort_keys=True)
            key = hashlib.sha256(record.encode("utf-8")).hexdigest()[:32]
            path = self._folder / f"{key}.json"
            if not path.exists():
                _write(path, record)
            kept = earlier.get(source.name)
            manifest[source.name] = {
                "key": key,
                "indexed": kept[1] if kept and kept[0] == key else now,
            }
        _write(self._folder / f"{generation}.manifest.json", json.dumps(manifest, sort_keys=True))

    def entries(self, generation: str) -> dict[str, tuple[str, str]] | None:
        """File name -> (text key, when first indexed) for `generation`; None without texts."""
        try:
            raw = (self._folder / f"{generation}.manifest.json").read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"Cannot read the stored texts ({exc}): run `rag ingest`.") from exc
        try:
            manifest = json.loads(raw)
            return {str(k): (str(v["key"]), str(v["indexed"])) for k, v in manifest.items()}
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreError(
                f"The stored texts of {generation} are damaged: run `rag ingest`."
            ) from exc

    def lookup(self, generation: str) -> Callable[[str], SourceFile | None] | None:
        """File name -> stored file for `generation`; None when it stored no texts."""
        entries = self.entries(generation)
        if entries is None:
            return None
        return lambda name: self.load(entries[name][0]) if name in entries else None

    def load(self, key: str) -> SourceFile | None:
        """The stored file of text key `key` (None when missing or damaged)."""
        try:
            fields = json.loads((self._folder / f"{key}.json").read_text(encoding="utf-8"))
            return SourceFile(
                **{
                    **fields,
                    "pages": tuple(fields["pages"]),
                    "headings": tuple(fields["headings"]),
                    "meta": SourceMeta(**fields["meta"]),
                }
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def keep_only(self, generations: Iterable[str]) -> None:
        """Delete the manifests of other generations and the texts no kept manifest names."""
        kept = set(generations)
        used: set[str] = set()
        if not self._folder.is_dir():
            return
        for manifest in self._folder.glob("*.manifest.json"):
            generation = manifest.name.removesuffix(".manifest.json")
            if generation not in kept:
                manifest.unlink(missing_ok=True)
            else:
                used |= {key for key, _ in (self.entries(generation) or {}).values()}
        for path in self._folder.glob("*.json"):
            if not path.name.endswith(".manifest.json") and path.stem not in used:
                path.unlink(missing_ok=True)


def _write(path: Path, text: str) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
