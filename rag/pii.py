"""Personal data guard: Swedish personal identity numbers are masked before anything keeps them.

A personnummer (YYMMDD-NNNC, YYYYMMDDNNNC, "+" for people over 100) or a
samordningsnummer (day of birth plus 60) is recognised by its date and its Luhn
check digit, so order numbers and phone numbers that merely look alike are left
alone. The question is masked before it is searched, logged, stored as feedback
or sent to a language model, and the user is told why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

MASK = "[personnummer borttaget]"
NOTICE = (
    "Frågan innehöll ett personnummer eller samordningsnummer. Det togs bort innan frågan "
    "söktes, loggades eller skickades vidare: skriv aldrig personuppgifter här."
)

_IDENTITY_NUMBER = re.compile(
    r"(?<![\d-])(?P<century>\d{2})?(?P<yy>\d{2})(?P<mm>\d{2})(?P<dd>\d{2})"
    r"\s?(?P<sep>[-+])?\s?(?P<serial>\d{3})(?P<check>\d)(?![\d])"
)


@dataclass(frozen=True)
class Masked:
    """Text with identity numbers replaced by MASK, and how many there were."""

    text: str
    count: int

    @property
    def notice(self) -> str:
        """What to tell the user, or "" when nothing was masked."""
        return NOTICE if self.count else ""


def mask_identity_numbers(text: str) -> Masked:
    """Replace every valid personnummer or samordningsnummer in `text` with MASK."""
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        if not is_identity_number(match):
            return match.group(0)
        count += 1
        return MASK

    masked = _IDENTITY_NUMBER.sub(replace, text)
    return Masked(masked, count)


def is_identity_number(match: re.Match[str]) -> bool:
    """Whether a matched digit run is a real date of birth with a correct check digit."""
    yy, mm, dd = match.group("yy"), match.group("mm"), match.group("dd")
    day = int(dd) - 60 if int(dd) > 60 else int(dd)  # samordningsnummer: day + 60
    century = match.group("century")
    year = int(century + yy) if century else 2000 + int(yy)
    try:
        date(year, int(mm), day)
    except ValueError:
        if century or not _valid_in_1900s(int(yy), int(mm), day):
            return False
    digits = yy + mm + dd + match.group("serial")
    return _luhn_check_digit(digits) == int(match.group("check"))


def _valid_in_1900s(yy: int, mm: int, day: int) -> bool:
    try:
        date(1900 + yy, mm, day)
    except ValueError:
        return False
    return True


def _luhn_check_digit(digits: str) -> int:
    """The Luhn check digit of nine digits (weights 2, 1, 2, …)."""
    total = 0
    for i, char in enumerate(digits):
        product = int(char) * (2 if i % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return (10 - total % 10) % 10
