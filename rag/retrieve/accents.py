"""Swedish questions typed without å, ä and ö, read as they were meant.

Many users type on keyboards or phones without Swedish letters: "hur manga anstallda har
radet", "nar startade natverket". Without å, ä and ö the words match nothing in the
index, the question words ("när", "många") are not recognised and the question's content
words are lost. In a question that holds none of å, ä, ö and is not English, each word
is read as the likeliest word that folds to it, by how common each is in Swedish
(`wordfreq`'s Swedish frequencies; a word of the corpus counts as at least moderately
common):

- an accented form is read when it is at least ten times as common as the word typed
  ("radet" → "rådet", "manga" → "många", "okade" → "ökade"); a common word of its own
  stays ("satt", "svar", "bor", "laget"), and so do Swedish function and question words
  ("var", "sa", "har");
- where two accented forms compete, the neighbouring words choose, from the corpus and
  the way questions put them ("vilket ar" → "vilket år", "vem ar" → "vem är").

English function words ("for", "at", "over") are restored only once the rest of the
question reads as Swedish, so English questions are left alone.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable

from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_SWEDISH

from rag.retrieve.lexical import SWEDISH_QUESTION_WORDS, looks_english

_FOLD = str.maketrans("åäöÅÄÖ", "aaoAAO")
_ACCENTED = re.compile(r"[åäöÅÄÖ]")
_WORD = re.compile(r"\w+")
MARGIN = 1.0  # an accented form is read when this much more common (Zipf scale: log10)
CORPUS_ZIPF = 3.0  # a word the corpus writes is at least this common (Zipf 3: once per million)
MIN_ZIPF = 2.0  # rarer Swedish words are offered as readings only when the corpus has them
_KEPT = frozenset(STOPWORDS_SWEDISH) | SWEDISH_QUESTION_WORDS  # "var", "sa", "har": as typed
_PHRASE = 1000  # a question phrase outweighs the articles' pairs: questions are worded apart
# How questions put them: "vilket år" beside "vilket är", "per år" beside "det är".
_QUESTION_PHRASES = (
    "vilket år", "vilka år", "per år", "i år", "förra året", "nästa år", "om året", "hur länge",
    "hur många", "hur gammal är", "när är", "vad är", "vem är", "var är", "vilka är", "vilken är",
)  # fmt: skip


def fold(text: str) -> str:
    """`text` with å, ä and ö written as a, a and o."""
    return text.translate(_FOLD)


def swedish_frequencies() -> dict[str, float]:
    """Each Swedish word's frequency (wordfreq's list; wordfreq keeps it once loaded, 0.2 s)."""
    from wordfreq import get_frequency_dict

    frequencies: dict[str, float] = get_frequency_dict("sv")
    return frequencies


def _zipf(frequency: float) -> float:
    """A frequency on the Zipf scale: log10 of occurrences per billion words (0 for none)."""
    return math.log10(frequency * 1e9) if frequency > 0 else 0.0


class Accents:
    """Accented Swedish words, by their form without å, ä and ö, with how common each is."""

    def __init__(self, texts: Iterable[str], frequencies: dict[str, float] | None = None) -> None:
        """Read the corpus `texts`; `frequencies` are Swedish word frequencies (wordfreq's)."""
        frequencies = swedish_frequencies() if frequencies is None else frequencies
        corpus: set[str] = set()
        pairs: Counter[tuple[str, str]] = Counter()
        for text, weight in [*((t, 1) for t in texts), *((p, _PHRASE) for p in _QUESTION_PHRASES)]:
            words = [w.lower() for w in _WORD.findall(text)]
            folded = [fold(w) for w in words]
            for word, next_word, folded_word, folded_next in zip(
                words, words[1:], folded, folded[1:], strict=False
            ):
                pairs[(word, folded_next)] += weight  # the word, the next one as typed
                pairs[(folded_word, next_word)] += weight  # the word before as typed, the word
            if weight == 1:
                corpus.update(words)

        def zipf(word: str) -> float:
            common = _zipf(frequencies.get(word, 0.0))
            return max(common, CORPUS_ZIPF) if word in corpus else common

        offered = {w for w in corpus if _ACCENTED.search(w)} | {
            w for w, f in frequencies.items() if _ACCENTED.search(w) and _zipf(f) >= MIN_ZIPF
        }
        forms: dict[str, list[str]] = defaultdict(list)
        for word in offered:
            forms[fold(word)].append(word)
        self._zipf = {w: zipf(w) for key, words in forms.items() for w in (key, *words)}
        self._forms = {
            k: sorted(words, key=lambda w: (-self._zipf[w], w)) for k, words in forms.items()
        }
        ambiguous = {w for words in self._forms.values() if len(words) > 1 for w in words}
        self._pairs = {p: n for p, n in pairs.items() if p[0] in ambiguous or p[1] in ambiguous}

    def restore(self, question: str) -> str:
        """`question` with the words it types without å, ä, ö read as meant.

        A question holding any of them, or in English, is returned as it is.
        """
        if _ACCENTED.search(question):
            return question
        if looks_english(self._restored(question, english_words=False)):
            return question
        return self._restored(question, english_words=True)

    def _restored(self, question: str, english_words: bool) -> str:
        matches = list(_WORD.finditer(question))
        words = [m.group(0).lower() for m in matches]
        parts, last = [], 0
        for n, match in enumerate(matches):
            if not english_words and words[n] in STOPWORDS_EN:
                continue
            before = words[n - 1] if n else ""
            after = words[n + 1] if n + 1 < len(words) else ""
            accented = self._accented(words[n], before, after)
            if accented is not None:
                parts += [question[last : match.start()], _with_case(accented, match.group(0))]
                last = match.end()
        return "".join([*parts, question[last:]])

    def _accented(self, word: str, before: str, after: str) -> str | None:
        """The accented form of `word` to read instead, or None to keep it."""
        forms = self._forms.get(word)
        if not forms or word in _KEPT:
            return None
        likely = [f for f in forms if self._zipf[f] - self._zipf[word] >= MARGIN]
        if not likely:
            return None

        def in_context(form: str) -> int:
            return self._pairs.get((before, form), 0) + self._pairs.get((form, after), 0)

        return max(likely, key=lambda f: (in_context(f), self._zipf[f]))


def _with_case(accented: str, typed: str) -> str:
    """`accented` in the letter case the user typed ("Radet" → "Rådet")."""
    return "".join(a.upper() if t.isupper() else a for a, t in zip(accented, typed, strict=True))
