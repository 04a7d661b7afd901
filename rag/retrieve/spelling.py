"""Misspelt question words read as the word of the articles they most likely mean.

Users type fast: "hembtsök", "Socialchefsdgarna", "tilsyn", "Burstn". A misspelt
word matches nothing in BM25 and pulls e5 off course, so the question's most telling
word is lost (on questions with one word in two of six letters or more misspelt, facts
in the answer fell by a fifth). A word is read as another when

- it is not a word of the articles or of the English glossary, nor another form of one
  (the same stem: "panelsamtalet" for "panelsamtal"), not a word in common Swedish or
  English use (`wordfreq`), and not a compound of two such words ("tipsfunktion"), so
  real words and English questions stay as typed;
- it has at least MIN_LENGTH letters and no digit;
- a word of the articles (or of the glossary) is within one edit of it (two for words of
  eight letters or more): a letter added, dropped, changed, or two swapped
  (Damerau-Levenshtein, RapidFuzz). The closest wins, then the one the articles use
  most. Only words that open with the typed word's first or second letter are read, so
  a large corpus costs little (a misspelt first letter stays as typed).

The corrected question is what is searched and shown as "Sökte efter".
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable

from rapidfuzz.distance import DamerauLevenshtein
from rapidfuzz.process import extract

from rag.retrieve.glossary import GLOSSARY
from rag.retrieve.lexical import terms

MIN_LENGTH = 5  # shorter words have too many neighbours one edit away
LONG_WORD = 8  # from this length two edits are allowed
COMPOUND_PART = 4  # each part of a compound kept as typed has this many letters
KNOWN_ZIPF = 2.0  # a word this common in Swedish or English (Zipf scale) is left as typed
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def _known_words() -> set[str]:
    """Swedish and English words in common use (Zipf KNOWN_ZIPF or more)."""
    from wordfreq import get_frequency_dict

    least = 10 ** (KNOWN_ZIPF - 9)  # the frequency at that Zipf value
    return {
        word
        for language in ("sv", "en")
        for word, frequency in get_frequency_dict(language).items()
        if frequency >= least
    }


class Spelling:
    """The corpus's words by length and first letter, to read a misspelt word as one of them."""

    def __init__(
        self, texts: Iterable[str], stems: Iterable[str], known: Iterable[str] | None = None
    ) -> None:
        """Read the corpus `texts` and their `stems`; `known`: words in common use (wordfreq's)."""
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(w.lower() for w in _WORD.findall(text))
        for phrase in GLOSSARY:  # English questions are read against the glossary's words
            counts.update(w for w in phrase if w not in counts)
        self._counts = dict(counts)
        buckets: dict[tuple[int, str], list[str]] = defaultdict(list)
        for word in sorted(counts):
            if len(word) >= MIN_LENGTH - 1:
                buckets[(len(word), word[0])].append(word)
        self._buckets = dict(buckets)  # by length and first letter: a scan reads few words
        self._known = frozenset(_known_words() if known is None else known)
        self._stems = frozenset(stems)

    def correct(self, question: str) -> str:
        """`question` with each misspelt word read as the article word it most likely means."""
        parts, last = [], 0
        for match in _WORD.finditer(question):
            typed = match.group(0)
            meant = self._meant(typed.lower())
            if meant is not None:
                parts += [question[last : match.start()], _with_case(meant, typed)]
                last = match.end()
        return "".join([*parts, question[last:]]) if parts else question

    def _meant(self, word: str) -> str | None:
        """The article word `word` stands for, or None to keep it."""
        if len(word) < MIN_LENGTH or self._is_word(word):
            return None
        if any(stem in self._stems for stem in terms(word)) or self._compound(word):
            return None
        edits = 2 if len(word) >= LONG_WORD else 1
        found = [
            hit
            for length in range(len(word) - edits, len(word) + edits + 1)
            for first in {word[0], word[1]}  # the first two letters swapped too
            for hit in extract(
                word,
                self._buckets.get((length, first), ()),
                scorer=DamerauLevenshtein.distance,
                score_cutoff=edits,
                limit=None,
            )
        ]
        if not found:
            return None
        best = min(found, key=lambda hit: (hit[1], -self._counts[hit[0]], hit[0]))
        return str(best[0])

    def _is_word(self, word: str) -> bool:
        return word in self._known or word in self._counts

    def _compound(self, word: str) -> bool:
        """Whether `word` joins two words of COMPOUND_PART letters or more (a linking s too)."""
        for cut in range(COMPOUND_PART, len(word) - COMPOUND_PART + 1):
            head, tail = word[:cut], word[cut:]
            if self._is_word(tail) and (
                self._is_word(head) or (head.endswith("s") and self._is_word(head[:-1]))
            ):
                return True
        return False


def _with_case(meant: str, typed: str) -> str:
    """`meant` capitalised as `typed` is ("Burstn" → "Burston")."""
    if typed.isupper() and len(typed) > 1:
        return meant.upper()
    return meant[:1].upper() + meant[1:] if typed[:1].isupper() else meant
