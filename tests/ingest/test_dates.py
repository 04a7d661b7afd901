from __future__ import annotations

from datetime import date

import pytest

from rag.ingest.dates import date_label, find_date
from rag.types import ArticleDate

TODAY = date(2025, 1, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Igår, den 18 januari 2024, samlades pilotkommunerna.", ("18 januari 2024", 2024, 1, 18)),
        ("ORDFÖRANDE HAR ORDET 2 OKTOBER 2022: Nyss hemkommen", ("2 OKTOBER 2022", 2022, 10, 2)),
        ("Lagförslaget kommer i april 2024.", ("april 2024", 2024, 4, None)),
        # A full date wins over an earlier month and year.
        (
            "I mars 2023 sades det. Den 15 november 2023 börjar hon.",
            ("15 november 2023", 2023, 11, 15),
        ),
        # The year named most often, labelled with the word before it; 1999 is only a reference.
        (
            "På Socialchefsdagarna 2021 sa de. Sedan 1999 har. Socialchefsdagarna 2021 i Malmö",
            ("Socialchefsdagarna 2021", 2021, None, None),
        ),
        ("Under hösten 2023 drog vi igång. Mötena för 2024 är:", ("hösten 2023", 2023, None, None)),
        ("2023\nnästa rad", ("2023", 2023, None, None)),
    ],
)
def test_finds_the_date_an_article_gives(
    text: str, expected: tuple[str, int, int | None, int | None]
) -> None:
    assert find_date(text, TODAY) == ArticleDate(*expected)


@pytest.mark.parametrize(
    "text",
    [
        "Ingen tidsangivelse alls, bara 24–26 november.",
        "Omställningsmedel är utlovade till 2028.",  # a plan, after today
        "Den 3 mars 2030 ska lagen utvärderas.",  # a full date after today
        "Lagen SFS 2025:400 och perioderna 2021-2022 och 2022–2023.",  # no law numbers, ranges
    ],
)
def test_no_date_when_the_text_gives_none(text: str) -> None:
    assert find_date(text, TODAY) is None


def test_impossible_day_falls_back_to_month_and_year() -> None:
    assert find_date("Den 31 februari 2023 finns inte.", TODAY) == ArticleDate(
        "februari 2023", 2023, 2
    )


def test_precision_bounds_and_labels() -> None:
    day = ArticleDate("2 OKTOBER 2022", 2022, 10, 2)
    month = ArticleDate("april 2024", 2024, 4)
    year = ArticleDate("Socialchefsdagarna 2023", 2023)
    assert (day.earliest, day.latest, day.iso) == (
        date(2022, 10, 2),
        date(2022, 10, 2),
        "2022-10-02",
    )
    assert (month.earliest, month.latest, month.iso) == (
        date(2024, 4, 1),
        date(2024, 4, 30),
        "2024-04",
    )
    assert (year.earliest, year.latest, year.iso) == (date(2023, 1, 1), date(2023, 12, 31), "2023")
    assert date_label(day) == "2 oktober 2022"
    assert date_label(month) == "april 2024"
    assert date_label(year) == "Socialchefsdagarna 2023"
    assert date_label(None) == "utan datum"
