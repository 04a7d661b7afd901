from __future__ import annotations

import pytest

from rag.ingest.sentences import sentence_spans


def _split(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Den 20 oktober kl. 16.00 håller FSS en workshop. Välkommen!",
            ["Den 20 oktober kl. 16.00 håller FSS en workshop.", "Välkommen!"],
        ),
        (
            "Det gäller t.ex. barn och unga. Och äldre.",
            ["Det gäller t.ex. barn och unga.", "Och äldre."],
        ),
        (
            "Tack till er! 19 medlemmar deltog.",
            ["Tack till er!", "19 medlemmar deltog."],
        ),
        (
            "Ett seminarium i Karlstad\nFoto: © Peter",
            ["Ett seminarium i Karlstad", "Foto: © Peter"],
        ),
        ("En mening som bryts\nmitt i raden.", ["En mening som bryts\nmitt i raden."]),
        ("Stycke ett\n\nstycke två", ["Stycke ett", "stycke två"]),
    ],
)
def test_swedish_sentences(text: str, expected: list[str]) -> None:
    assert _split(text) == expected


def test_offsets_are_shifted() -> None:
    text = "  Hej. Då."
    assert list(sentence_spans(text, offset=100)) == [(102, 106), (107, 110)]
