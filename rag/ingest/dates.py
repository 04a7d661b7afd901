"""Article dates: the date a source states, or the one its text gives ("2 oktober 2022").

A date in the file's metadata (a web page's publication date, front matter, a sidecar)
is used as it is. The seed articles carry none, only dates and years in their text. The
first full Swedish date wins, then the first month and year; otherwise the year named
most often (the first of equals), labelled with the word before it. Dates after `today`
are plans ("medel utlovade till 2028"), not the article's date, and are skipped.
"""

from __future__ import annotations

import calendar
import re
from collections import Counter
from datetime import date

from rag.types import ArticleDate

MONTHS = (
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
)
_MONTH = "|".join(MONTHS)
_YEAR = r"(?:19|20)\d\d"
_FULL = re.compile(rf"\b(\d{{1,2}})\s+({_MONTH})\s+({_YEAR})\b", re.IGNORECASE)
_MONTH_YEAR = re.compile(rf"\b({_MONTH})\s+({_YEAR})\b", re.IGNORECASE)
# A year on its own, with the word before it on the same line as its label ("hösten 2023");
# "SFS 2025:400" and "2021-2022" style numbers are not years of the article.
_LONE_YEAR = re.compile(rf"(?:(\w+)[ \t]+)?(?<![-–\d])\b({_YEAR})\b(?![:\d–-])")


def find_date(text: str, today: date | None = None) -> ArticleDate | None:
    """The date an article's text gives, or None when it names none.

    Args:
        text: The article text.
        today: Dates after this are ignored (default: today).

    Returns:
        The date as written (`text`), with the precision the article gives.

    """
    today = today or date.today()
    for match in _FULL.finditer(text):
        day, month, year = int(match[1]), MONTHS.index(match[2].lower()) + 1, int(match[3])
        if day <= calendar.monthrange(year, month)[1] and date(year, month, day) <= today:
            return ArticleDate(match[0], year, month, day)
    for match in _MONTH_YEAR.finditer(text):
        month, year = MONTHS.index(match[1].lower()) + 1, int(match[2])
        if date(year, month, 1) <= today:
            return ArticleDate(match[0], year, month)
    years = [m for m in _LONE_YEAR.finditer(text) if int(m[2]) <= today.year]
    if not years:
        return None
    counts = Counter(int(m[2]) for m in years)
    best = max(counts.values())
    first = next(m for m in years if counts[int(m[2])] == best)
    return ArticleDate(first[0], int(first[2]))


def date_label(found: ArticleDate | None) -> str:
    """How to show a date: "2 oktober 2022", "april 2024", the year as written, or "utan datum"."""
    if found is None:
        return "utan datum"
    if found.month is None:
        return found.text
    day = f"{found.day} " if found.day else ""
    return f"{day}{MONTHS[found.month - 1]} {found.year}"


_ISO = re.compile(r"^\s*((?:19|20)\d\d)(?:-(\d\d)(?:-(\d\d))?)?")


def given_date(text: str) -> ArticleDate | None:
    """A date the source states in its metadata ("2019-10-02", "2019-10", "2019"), or None."""
    match = _ISO.match(text)
    if match is None:
        return None
    year = int(match.group(1))
    month, day = (int(g) if g else None for g in match.groups()[1:])
    try:
        date(year, month or 1, day or 1)
    except ValueError:
        return None
    return ArticleDate(match.group(0).strip(), year, month, day)
