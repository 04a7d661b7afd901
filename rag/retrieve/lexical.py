"""Lexical analysis shared by answering and lexical retrieval: Swedish stems without stopwords."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_SWEDISH

_TOKEN = re.compile(r"\w+", re.UNICODE)
# A text of at least this many letters, this share of them capitals, is written in capitals
# ("IVO, SKR och FSS" is not: 0.56).
SHOUTED_LETTERS = 8
SHOUTED_SHARE = 0.8
# The interrogatives.
_SWEDISH_INTERROGATIVES = (
    "vad", "vem", "vilka", "vilken", "vilket", "hur", "när", "var", "varför", "vart",
)  # fmt: skip
_ENGLISH_INTERROGATIVES = ("what", "who", "which", "how", "when", "where", "why")
QUESTION_WORDS = _SWEDISH_INTERROGATIVES + _ENGLISH_INTERROGATIVES
# Words that point back to something named before ("hon", "detta", "they", "där").
PRONOUNS = frozenset(
    "den det denna detta dessa de dem han hon hen hans hennes dess deras där "
    "it they their he she this these there".split()
)
# Words that ask rather than say what is asked about: never content words.
SWEDISH_QUESTION_WORDS = {
    *_SWEDISH_INTERROGATIVES,
    "finns", "ska", "kan", "många", "mycket", "berätta", "beskriv", "enligt", "sammanfatta",
    "artikeln", "artikel", "inlägget", "inlägg", "texten", "säger", "sa", "skriver", "skrev",
    "respektive", "handlar", "nämns", "nämner", "tar", "upp", "beskriver", "beskrivs",
    "inläggen", "artiklarna", "artiklar", "texterna", "källorna", "källor", "sägs", "skrivs",
    # Words about the wording rather than the subject ("i vilket sammanhang nämns uttrycket …").
    "sammanhang", "sammanhangen", "uttryck", "uttrycket", "uttrycken", "begrepp", "begreppet",
    "ordet", "termen", "formuleringen",
}  # fmt: skip
_ENGLISH_QUESTION_WORDS = {
    *_ENGLISH_INTERROGATIVES,
    "does", "did", "tell", "according",
    "summarize", "summarise", "describe", "article", "post", "text", "say", "says", "said",
    "write", "writes", "wrote", "mention", "mentioned", "mentions", "about", "were", "was",
    "context", "contexts", "expression", "phrase", "term", "word", "wording",
}  # fmt: skip
STOPWORDS = (
    frozenset(STOPWORDS_SWEDISH)
    | frozenset(STOPWORDS_EN)
    | SWEDISH_QUESTION_WORDS
    | _ENGLISH_QUESTION_WORDS
)
_ONLY_ENGLISH = (frozenset(STOPWORDS_EN) | _ENGLISH_QUESTION_WORDS) - frozenset(STOPWORDS_SWEDISH)
_ONLY_SWEDISH = (frozenset(STOPWORDS_SWEDISH) | SWEDISH_QUESTION_WORDS) - frozenset(STOPWORDS_EN)
_STEMMER = Stemmer.Stemmer("swedish")
MIN_COMPOUND_PART = 5  # shortest stem matched inside a compound word
MIN_FUZZY = 6  # shortest stem matched with one spelling difference
MAX_COMPARED = 100_000  # stems remembered as not matching one query stem (`matches`)
MIN_COMPOUND = 8  # shortest word tried as a compound of two known stems


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


def terms(text: str) -> list[str]:
    """Lowercased Swedish stems of the content words of `text`, in order (numbers kept)."""
    return list(_terms(text))


# Answering re-reads the same retrieved sentences question after question.
@lru_cache(maxsize=16_384)
def _terms(text: str) -> tuple[str, ...]:
    words = [w for w in map(str.lower, _TOKEN.findall(text)) if w not in STOPWORDS]
    return tuple(_STEMMER.stemWords([w for w in words if len(w) > 1 or w.isdigit()]))


_ASKS_FOR_PEOPLE = re.compile(
    r"\b(vem|vems|who|whom|whose)\b|^\W*vilka\s+(personer|var|är|deltog|medverkade|satt|"
    r"talade|föreläste|samarbetar|ingick|ingår|leder|ledde|skrev|arbetar)\b",
    re.I,
)


def asks_for_people(question: str) -> bool:
    """Whether `question` asks who: "Vem …", "Who …", "Vilka deltog …" (not "Vilka utmaningar")."""
    return bool(_ASKS_FOR_PEOPLE.search(question))


def unshouted(text: str) -> str:
    """`text` in lowercase when it is written in capitals (caps lock, shouting).

    Capitals mark names and acronyms; in a question written all in capitals they mark
    nothing, and the models would read every word as a name.
    """
    letters = [c for c in text if c.isalpha()]
    upper = sum(c.isupper() for c in letters)
    shouted = len(letters) >= SHOUTED_LETTERS and upper >= SHOUTED_SHARE * len(letters)
    return text.lower() if shouted else text


def looks_english(text: str) -> bool:
    """Whether `text` uses more English than Swedish function words."""
    words = [m.group(0).lower() for m in _TOKEN.finditer(text)]
    english = sum(w in _ONLY_ENGLISH for w in words)
    return english > sum(w in _ONLY_SWEDISH for w in words)


def matches(query_term: str, text_terms: Iterable[str]) -> bool:
    """Whether a query stem occurs among `text_terms`, as part of a compound or misspelt.

    "bostad" matches "bostadsbidrag", "socialtjänst" matches "socialtjänstlag", and
    "karlstad" matches the typo "kalstad" (one edit apart, for stems of six letters or more).
    Each stem pair is compared once: the answer compares a question's stems with the
    same sentences' stems many times (sentence, neighbours, paragraph, passage).
    """
    matched, unmatched = _compared(query_term)
    text = set(text_terms)
    if not matched.isdisjoint(text):
        return True
    if len(unmatched) > MAX_COMPARED:
        unmatched.clear()
    for term in text - unmatched:
        if _term_matches(query_term, term):
            matched.add(term)
            return True
        unmatched.add(term)
    return False


class StemCoverage:
    """How much of a query's stems texts hold, as `matches` judges, for many texts.

    Which query stems each text stem matches is worked out once, so the answer's many
    coverages of one question (sentence, neighbours, paragraph, passage, title) cost a
    lookup per stem.
    """

    def __init__(self, query_terms: Sequence[str], weights: Sequence[float]) -> None:
        self._terms = list(query_terms)
        self._weights = list(weights)
        self._total = sum(self._weights)
        self._masks: dict[str, int] = {}

    def held(self, text_terms: Iterable[str]) -> int:
        """Bit i set when the text holds query stem i."""
        masks = self._masks
        held = 0
        for term in text_terms:
            mask = masks.get(term)
            if mask is None:
                mask = sum(1 << i for i, q in enumerate(self._terms) if _term_matches(q, term))
                masks[term] = mask
            held |= mask
        return held

    def coverage(self, text_terms: Iterable[str]) -> float:
        """Share of the query's weight whose stems the text holds (1.0 for no weight)."""
        return self.share(self.held(text_terms))

    def share(self, held: int) -> float:
        """Share of the query's weight in `held` (bits as `held` sets them; 1.0 for no weight).

        Texts made of parts cost no new scan: the held bits of a union are the OR of the
        parts' bits.
        """
        if self._total == 0:
            return 1.0
        return sum(w for i, w in enumerate(self._weights) if held >> i & 1) / self._total


@lru_cache(maxsize=4_096)
def _compared(query_term: str) -> tuple[set[str], set[str]]:
    """The stems found to match `query_term` and those found not to (filled by `matches`)."""
    return set(), set()


def _term_matches(query_term: str, term: str) -> bool:
    """Whether `term` is `query_term`, holds it or is held by it, or is one edit from it."""
    if term == query_term:
        return True
    if len(query_term) >= MIN_COMPOUND_PART and query_term in term:
        return True
    if len(term) >= MIN_COMPOUND_PART and term in query_term:
        return True
    return len(query_term) >= MIN_FUZZY and _one_edit_apart(query_term, term)


@lru_cache(maxsize=65_536)
def matches_held(query_term: str, text_terms: tuple[str, ...]) -> bool:
    """`matches` remembered for a text's stems held as a tuple.

    The citation check compares each sentence of an answer with the same passages many
    times, and an English sentence's stems mostly match nothing, which scans them all.
    """
    return matches(query_term, text_terms)


def _one_edit_apart(a: str, b: str) -> bool:
    """True when one insertion, deletion or substitution turns `a` into `b`."""
    if abs(len(a) - len(b)) > 1 or a[:1] != b[:1]:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1 :] == b[i + 1 :]
    return a[i:] == b[i + 1 :]


class TermWeights:
    """Inverse document frequencies over a set of documents' terms; unseen terms weigh most."""

    def __init__(self, documents: Iterable[Sequence[str]]) -> None:
        document_frequency: Counter[str] = Counter()
        count = 0
        for document_terms in documents:
            document_frequency.update(set(document_terms))
            count += 1
        self._df = document_frequency
        self._n = count

    def known(self, term: str) -> bool:
        """Whether any document holds the stem."""
        return term in self._df

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency (BM25's, floored at a small positive value)."""
        df = self._df.get(term, 0)
        return max(0.05, math.log(1 + (self._n - df + 0.5) / (df + 0.5)))

    def rarity(self, term: str) -> float:
        """`idf` of a stem the corpus holds, 0 for one it lacks.

        How much a word names a subject: a typo or a word of another language names none
        ("elected", "chair" must not crowd out "Monica Persson" in a follow-up's query).
        """
        return self.idf(term) if self.known(term) else 0.0


class Decompounder:
    """Splits Swedish compounds into two known stems: "bostadsbidrag" -> "bostad", "bidrag".

    Known stems come from the corpus; a linking "s" between the parts is allowed.
    """

    def __init__(self, vocabulary: Iterable[str]) -> None:
        self._known = frozenset(t for t in set(vocabulary) if len(t) >= 3 and not t.isdigit())
        self.__setstate__(self.__getstate__())

    def __getstate__(self) -> dict[str, object]:
        """What is saved with the lexical data: the vocabulary, not the cache of splits."""
        return {"_known": self._known}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        # Each distinct stem is split once: indexing 100k chunks repeats the same stems.
        self._parts = lru_cache(maxsize=262_144)(self.parts)

    def parts(self, term: str) -> list[str]:
        """The known stems `term` is made of, or [] when it is not such a compound."""
        if len(term) < MIN_COMPOUND:
            return []
        for cut in range(len(term) - 3, 2, -1):  # prefer the longest known head
            head, tail = term[:cut], term[cut:]
            if not self._is_known(tail):
                continue
            for candidate in (head, head[:-1] if head.endswith("s") else ""):
                if self._is_known(candidate):
                    return [_stem(candidate), _stem(tail)]
                if len(candidate) >= MIN_COMPOUND and (inner := self.parts(candidate)):
                    return [*inner, _stem(tail)]
        return []

    def _is_known(self, word: str) -> bool:
        return len(word) >= 3 and (word in self._known or _stem(word) in self._known)

    def expand(self, stems: Iterable[str]) -> list[str]:
        """The stems followed by the parts of every compound among them."""
        return self.expand_all([list(stems)])[0]

    def expand_all(self, documents: Sequence[Sequence[str]]) -> list[list[str]]:
        """`expand` of every document; each distinct stem is split once, the rest is lookups."""
        compounds = {
            stem: parts for stem in set().union(*documents) if (parts := self._parts(stem))
        }
        return [
            [*stems, *(part for stem in stems if stem in compounds for part in compounds[stem])]
            for stems in documents
        ]
