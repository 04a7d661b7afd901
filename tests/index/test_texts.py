"""Extracted texts stored with each index generation."""

from __future__ import annotations

from pathlib import Path

from rag.index.texts import TextStore
from rag.types import SourceFile, SourceMeta

PDF = SourceFile(
    "rutin.pdf", "Rubrik\n\nText.", "ab" * 32, "pdf", (0, 8), (0,), SourceMeta(url="https://x.se")
)
TXT = SourceFile("a.txt", "Titel\n\nBrödtext.", "cd" * 32)


def test_texts_round_trip_per_generation(tmp_path: Path) -> None:
    store = TextStore(tmp_path, "seeds")
    store.save("seeds-g1", [PDF, TXT])
    lookup = store.lookup("seeds-g1")
    assert lookup is not None
    assert lookup("rutin.pdf") == PDF and lookup("a.txt") == TXT
    assert lookup("other.txt") is None
    assert store.lookup("seeds-g2") is None  # a generation that stored no texts


def test_unchanged_texts_keep_when_they_were_first_indexed(tmp_path: Path) -> None:
    store = TextStore(tmp_path, "seeds")
    store.save("seeds-g1", [PDF, TXT])
    first = store.entries("seeds-g1")
    assert first is not None
    changed = SourceFile("a.txt", "Titel\n\nNy brödtext.", "ef" * 32)
    store.save("seeds-g2", [PDF, changed], previous="seeds-g1")
    second = store.entries("seeds-g2")
    assert second is not None
    assert second["rutin.pdf"] == first["rutin.pdf"]
    assert second["a.txt"][0] != first["a.txt"][0]


def test_keep_only_drops_other_generations_and_their_texts(tmp_path: Path) -> None:
    store = TextStore(tmp_path, "seeds")
    store.save("seeds-g1", [PDF, TXT])
    store.save("seeds-g2", [PDF])
    TextStore(tmp_path, "other").save("other-g1", [TXT])
    store.keep_only(["seeds-g2"])
    assert store.entries("seeds-g1") is None
    assert len(list((tmp_path / "texts" / "seeds").glob("*.json"))) == 2  # manifest + PDF
    other = TextStore(tmp_path, "other").lookup("other-g1")
    assert other is not None and other("a.txt") == TXT  # another collection is untouched
