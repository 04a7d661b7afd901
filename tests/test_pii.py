from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.pii import MASK, mask_identity_numbers
from rag.pipeline import Pipeline


def _luhn(nine: str) -> str:
    total = 0
    for i, char in enumerate(nine):
        product = int(char) * (2 if i % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return str((10 - total % 10) % 10)


@st.composite
def identity_numbers(draw: st.DrawFn) -> str:
    born = draw(st.dates(min_value=date(1901, 1, 1), max_value=date(2024, 12, 31)))
    serial = f"{draw(st.integers(0, 999)):03d}"
    day = born.day + (60 if draw(st.booleans()) else 0)  # samordningsnummer
    short = f"{born:%y%m}{day:02d}{serial}"
    number = short + _luhn(short)
    if draw(st.booleans()):
        number = f"{born:%Y}"[:2] + number
    separator = draw(st.sampled_from(["", "-"]))
    return number[:-4] + separator + number[-4:]


@given(identity_numbers(), st.text(alphabet="abc åäö,.?", max_size=20))
def test_every_valid_identity_number_is_masked(number: str, around: str) -> None:
    masked = mask_identity_numbers(f"{around} {number} {around}")
    assert number not in masked.text
    assert MASK in masked.text and masked.count == 1
    assert masked.notice


@given(st.text(alphabet=st.characters(blacklist_categories=["Nd"]), max_size=200))
def test_text_without_digits_is_untouched(text: str) -> None:
    masked = mask_identity_numbers(text)
    assert (masked.text, masked.count, masked.notice) == (text, 0, "")


@pytest.mark.parametrize(
    "text",
    [
        "121212-1213",  # wrong check digit
        "Ordernummer 1234567890",
        "Socialchefsdagarna 2023-2024",
        "Ring 08-123 456 78",
    ],
)
def test_lookalikes_are_kept(text: str) -> None:
    assert mask_identity_numbers(text).text == text


def test_known_examples() -> None:
    masked = mask_identity_numbers("Tolvan 19121212-1212 och 701063-2391 (samordningsnummer)")
    assert masked.text == f"Tolvan {MASK} och {MASK} (samordningsnummer)"
    assert masked.count == 2


def test_ask_never_searches_or_returns_the_number(mini_pipeline: Pipeline) -> None:
    mini_pipeline.ingest()
    answer = mini_pipeline.ask("Vad kostade nyckelfri hemtjänst? Mitt personnummer är 121212-1212")
    assert "1212" not in answer.question and MASK in answer.question
    assert "1212" not in answer.searched_query
    assert "personnummer" in answer.notice
