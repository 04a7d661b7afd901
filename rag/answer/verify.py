"""Verify stage: check every sentence of an LLM answer against the passages it cites.

Markers that point to no passage are removed, and so is a marker whose passage shares
too little with its sentence. Every number (number words too) must be in the cited
passages (a year its article names an event by may be in another of them; a number word
counting the people the claim names needs none: "de två var A och B"), every name
in the answer's passages (in a Swedish claim, with its capital) or named throughout a
cited passage's article (what it is about), and a two-word person name written as they
write it.
A sentence whose passages hold most of its content words (weighted by rarity) and which
negates nothing is supported; any other is judged by the support model (`SupportModel`,
trained on the verification benchmark) from its word coverage, e5 closeness, names and
negation cues, here and in the other passages. An unsupported sentence loses its markers
and is flagged with the reason; when another passage is closer, the flag names it and it
is cited too. An uncited sentence one passage holds is given that marker, else it is
checked against the passages its neighbour cites ("Ja, enligt X. … [1]"); a sentence
saying what the sources do not state needs none, and only the rest of it ("…, men …")
is checked. Each citation quotes the passage span that best supports its sentences.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from rag.answer.pickled import load_model, positive_chance, save_model
from rag.errors import RagError
from rag.index.embed import RagEmbeddings
from rag.ingest.sentences import sentence_spans
from rag.retrieve.glossary import is_term_word, searched_text
from rag.retrieve.lexical import looks_english, terms
from rag.types import Chunk, Citation, FlaggedSentence, Passage

# An indexed chunk's sentence spans and their stored passage vectors (None: not indexed).
StoredVectors = Callable[[Chunk], tuple[list[tuple[int, int]], np.ndarray] | None]
# Weighted share of `claim_terms` found in `text_terms`: ExtractiveAnswerer.coverage.
CoverageFn = Callable[[Sequence[str], Sequence[str]], float]

SUBJECT_MENTIONS = 5  # sentences of an article naming what it is about
MARKER = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")  # "[2]" or "[1, 3]"
_MARKER_AFTER_STOP = re.compile(r"([.!?])((?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+)")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_WHOLE_HOUR = re.compile(r"[.:]00$")  # "17.00" and "17" are the same time
_THOUSANDS_COMMA = re.compile(r"(?<=\d),(?=\d{3}\b)")  # English "7,500"
_DIGIT_GROUP_SPACE = re.compile(r"(?<=\d)[ \u00a0\u202f](?=\d{3}\b)")  # "7 500" -> "7500"
_SOURCES_SV = r"(källorna|källan|utdragen|utdraget|artiklarna|texten|artikeln)"
_SOURCES_EN = r"(sources?|excerpts?|passages?|articles?|texts?)"
NOT_COVERED = re.compile(
    rf"{_SOURCES_SV}\s+"
    r"(tar|ger|\w{3,}r)"  # a verb in the present ("anger", "beskriver"), not "har", "är"
    r"\s+(dock\s+|däremot\s+|alltså\s+)?(inte|inget|ingen|inga)\b|inget (i|om det i) källorna|"
    # the verb first: "Utöver detta beskriver utdragen inte …"
    rf"\b(tar|ger|\w{{3,}}r)\s+{_SOURCES_SV}\s+(dock\s+|däremot\s+)?(inte|inget|ingen|inga)\b|"
    rf"\b{_SOURCES_EN}( provided| given)? "
    r"(gives?|contains?|includes?|provides?|offers?|says?|has|have) (no|nothing)\b|"
    rf"\bnot (included|covered|described|found|given)( \w+)? in the {_SOURCES_EN}|"
    r"(framgår|anges|nämns|står|sägs|redovisas|preciseras)\s+(dock\s+|däremot\s+)?inte|"
    r"(finns|ingår|ges)\s+(dock\s+|däremot\s+)?inte\s+(i|bland|av)\s+(utdragen|utdraget|källorna|källan)|"
    r"går\s+inte\s+att\s+belägga|"
    r"(sources?|excerpts?|passages?)( provided| given)? (do|does) not|"
    r"do not (answer|cover|mention)|"
    r"(is|are) not (stated|mentioned|given|specified)|"
    r"(does|do) not (explicitly |directly )?(say|state|specify|mention|give|name)",
    re.IGNORECASE,
)
UNCITED = "saknar källhänvisning"
# "…, men …" or "…; …": a sentence saying what the sources leave out goes on to claim.
_CONTRAST = re.compile(r",\s+(men|but)\s|;\s+", re.IGNORECASE)
# Number words as digits: "tre myndigheter" and "3 myndigheter" make the same claim.
_NUMBER_WORDS = {
    w: str(n)
    for n, words in enumerate(
        [
            "", "", "två two", "tre three", "fyra four", "fem five", "sex six", "sju seven",
            "åtta eight", "nio nine", "tio ten", "elva eleven", "tolv twelve", "tretton thirteen",
            "fjorton fourteen", "femton fifteen", "sexton sixteen", "sjutton seventeen",
            "arton eighteen", "nitton nineteen", "tjugo twenty",
        ]
    )
    for w in words.split()
}  # fmt: skip
_AND_A_HALF = re.compile(r"\b(\d+) (?:and a half|och en halv|och ett halvt)\b", re.I)
_NUMBER_WORD = re.compile(rf"\b({'|'.join(_NUMBER_WORDS)})\b", re.IGNORECASE)
# A capitalised word inside a sentence (not its first): a name, place or organisation.
_NAME = re.compile(r"(?<=[\w,)] )[A-ZÅÄÖ][\wåäöéü-]{2,}")
_SPLIT_NAME = re.compile(r"\b([A-ZÅÄÖ][a-zåäöé]{2,}) ([A-ZÅÄÖ][a-zåäöé]{2,})\b")
_ENGLISH_CALENDAR = {
    *"january february march april may june july august september october november".split(),
    *"december monday tuesday wednesday thursday friday saturday sunday".split(),
}
# Two capitalised words in a row, each with lowercase after its capital: a person's name.
_PERSON = re.compile(r"\b([A-ZÅÄÖ][a-zåäöéü]+)(?=[ \u00a0]([A-ZÅÄÖ][a-zåäöéü]+)\b)")
# A year after a name labels an event: "Socialchefsdagarna 2021", "Almedalen 2022".
_EVENT_YEAR = re.compile(r"\b[A-ZÅÄÖ][\wåäöé-]+ ((?:19|20)\d\d)\b")
_QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”|”[^”]*”|«[^»]*»")
MIN_NAME_PREFIX = 5  # a name may end differently in a compound or inflection,
MAX_NAME_ENDING = 4  # by at most this many letters, keeping at least MIN_NAME_PREFIX
NEGATION_SCOPE = 3  # content words after a negation that it bears on
NEGATION_BEFORE = 1  # and content words before it
NEGATION_WINDOW = 6  # words between a source's negation and a word it bears on
NEGATION_SENTENCES = 2  # else a negation must be among this many closest source sentences
# A bracketed aside about the sources, not the subject: "(skribenten namnges inte i utdragen)".
_SOURCE_ASIDE = re.compile(
    r"\s*\((?=[^()]*\b(utdrag|källor|källan|texten|artikeln|excerpt|source|passage))"
    r"(?=[^()]*\b(inte|ej|not)\b)[^()]*\)"
)
_NEGATION = re.compile(r"\b(inte|ej|aldrig|icke|not|never)\b", re.I)
# What a source may say a negation with ("utan", "saknas", "ingen").
_NEGATIVE = re.compile(
    r"\b(inte|ej|aldrig|icke|ingen|inget|inga|varken|knappast|sakna\w*|"
    r"not|never|no|without|neither|lack\w*)\b",
    re.I,
)


SUPPORT_MODEL = Path(__file__).parent / "model" / "verifier.pkl"
SUPPORT_FORMAT = 1
SUPPORT_FEATURES = (
    "coverage",  # weighted share of the claim's words in its backing passages
    "coverage_elsewhere",  # how much more of them another passage of the answer holds
    "similarity",  # e5 cosine of the claim to the closest sentence of its backing passages
    "similarity_elsewhere",  # how much closer the closest sentence of another passage is
    "english",
    "english_similarity",  # similarity, for an English claim (centred on 0.85)
    "english_coverage",
    "negated",  # the claim negates (and does not say what the sources leave out)
    "negation_unmatched_words",  # sentences hold the words it negates, none negates
    "negation_unmatched_meaning",  # none of the closest sentences in meaning negates
    "negation_unmatched_closest",  # the closest sentence in meaning does not negate
    "claim_words",  # log(1 + content words)
    "no_backing",  # no cited passage shares enough words to keep its marker
    "names_elsewhere",  # share of the claim's names only other passages of the answer hold
    "names_nowhere",  # share of its names no passage holds
    "not_closest",  # another passage of the answer is the closest in meaning
    "passage_similarity",  # e5 cosine of the claim to its backing passages' centroid
    "passage_similarity_elsewhere",  # how much closer another passage's centroid is
    "negation_shift",  # how much closer to its sources the claim gets without its negation
    "negation_phrase",  # a source negates next to the words the claim's negation stands by
    "similarity_pair",  # e5 cosine of the claim to the mean of its two closest source sentences
    "grams",  # share of the claim's letter 4-grams one backing sentence holds (cognates, names)
    "grams_elsewhere",  # how many more of them a sentence of another passage holds
)


class SupportModelError(RagError):
    """The support model file is missing, damaged or made for other code."""


@dataclass(frozen=True)
class SupportModel:
    """The chance that a cited sentence is not supported by its sources, and when to flag.

    A gradient-boosted classifier over SUPPORT_FEATURES, trained by `rag verification
    --fit` on the benchmark's train part; each language's threshold was chosen there by
    cross-validation (rag/answer/model/MODEL_CARD.md).
    """

    classifier: Any  # predict_proba over SUPPORT_FEATURES; class 1 = unsupported
    threshold: float  # flag a Swedish claim at or above this chance
    threshold_english: float  # and an English one at or above this
    features: tuple[str, ...] = SUPPORT_FEATURES
    sklearn: str = field(default_factory=lambda: metadata.version("scikit-learn"))

    def unsupported(self, values: dict[str, float]) -> float:
        """The chance that the claim with these feature values is unsupported."""
        row = np.array([[values[name] for name in self.features]], dtype=np.float64)
        return float(positive_chance(self.classifier, row)[0])

    def flags(self, values: dict[str, float]) -> bool:
        """Whether a claim with these feature values is flagged as unsupported."""
        limit = self.threshold_english if values["english"] else self.threshold
        return self.unsupported(values) >= limit

    def save(self, path: Path = SUPPORT_MODEL) -> None:
        """Write the model (pickle) atomically."""
        save_model(self, path, SUPPORT_FORMAT)

    @classmethod
    def load(cls, path: Path = SUPPORT_MODEL) -> SupportModel:
        """Read the model, checking it was made for these features and this scikit-learn.

        Raises:
            SupportModelError: missing, unreadable or stale; the message says how to rebuild it.

        """
        fix = "Rebuild it with `rag verification --fit` (about two minutes)."
        model = load_model(
            path, SupportModel, SUPPORT_FORMAT, SupportModelError, "support model", fix
        )
        if model.features != SUPPORT_FEATURES or model.sklearn != metadata.version("scikit-learn"):
            raise SupportModelError(
                f"The support model {path} was made for other features or scikit-learn "
                f"{model.sklearn}. {fix}"
            )
        return model


@dataclass(frozen=True)
class VerifyPolicy:
    """Thresholds of the support check."""

    min_coverage: float = 0.45  # word weight of its backing that lets a claim pass unmodelled
    min_marker_coverage: float = 0.25  # below this (and no shared number) a marker is dropped
    max_similarity_gap: float = 0.03  # a marker is kept within this of its closest passage
    min_claim_terms: int = 3  # uncited sentences with fewer content words are connective text
    min_uncited_coverage: float = 0.7  # an uncited claim one passage holds this much of is cited


@dataclass(frozen=True)
class Verified:
    """An answer text after verification, with its citations and flagged sentences."""

    text: str  # markers kept only where supported; numbers are passage numbers
    citations: tuple[Citation, ...]
    flagged: tuple[FlaggedSentence, ...]
    supported_sentences: int
    says_not_covered: bool  # some sentence says the sources do not cover the question


@dataclass
class _Sentence:
    text: str  # without markers
    groups: list[tuple[int, int, list[int]]]  # (start, end, numbers) of markers in `raw`
    raw: str
    kept: list[int] = field(default_factory=list)  # supporting passage numbers, in order
    reason: str = ""  # why it is flagged; "" when not flagged
    closest: int = 0  # the uncited passage closer in meaning that the flag offers, if any


class Verifier:
    """Checks cited sentences against their passages; see the module docstring."""

    def __init__(
        self,
        coverage: CoverageFn,
        embedder: RagEmbeddings,
        policy: VerifyPolicy = VerifyPolicy(),
        known: Callable[[str], bool] | None = None,
        stored: StoredVectors | None = None,
        model: SupportModel | None = None,
        article: Callable[[Chunk], Sequence[str]] | None = None,
    ) -> None:
        """A verifier over the corpus' word weights and the e5 embedder.

        `known` says whether the corpus holds a word stem (names in English claims);
        `stored` gives an indexed chunk's sentence spans and e5 vectors from the index, so
        only the claims are embedded at question time.
        """
        self._coverage = coverage
        self._known = known
        self._stored = stored
        self._article = article
        self._embedder = embedder
        self.policy = policy
        self._model = model
        self._sentence_vectors: dict[str, tuple[list[tuple[int, int]], np.ndarray]] = {}
        self._claim_vectors: dict[str, np.ndarray] = {}

    @property
    def model(self) -> SupportModel:
        """The support model (the bundled one unless another was given)."""
        if self._model is None:
            self._model = SupportModel.load()
        return self._model

    def use_model(self, model: SupportModel) -> None:
        """Judge with `model` from now on (a freshly trained one)."""
        self._model = model

    def verify(self, text: str, passages: Sequence[Passage], asked: str = "") -> Verified:
        """Verify `text`, whose marker [n] refers to `passages[n - 1]`.

        `asked` is the question (with a follow-up's standalone query): a number or name
        it holds is no claim where a sentence says the sources leave it out.
        """
        self._claim_vectors = {}
        text = _MARKER_AFTER_STOP.sub(lambda m: m.group(2) + m.group(1), text.strip())
        parts: list[str] = []
        flagged: list[FlaggedSentence] = []
        supported: dict[int, list[str]] = {}  # passage number -> claims it supports
        offered: dict[int, list[str]] = {}  # passage number -> flagged claims it is closest to
        cursor, length, count, not_covered = 0, 0, 0, False
        spans = _claim_spans(text)
        parsed = [_parse(text[start:end]) for start, end in spans]
        cited = [_cited(s, passages) for s in parsed]
        # An uncited sentence may lean on its neighbour's citation ("Ja, enligt X. …[1]").
        around = [
            [n for c in (cited[k + 1 : k + 2] + cited[max(0, k - 1) : k]) for n in c]
            for k in range(len(spans))
        ]
        jobs = [
            partial(self._judge, s, passages, a, asked) for s, a in zip(parsed, around, strict=True)
        ]
        judged = self._embedder.side_by_side(jobs)  # each sentence is judged on its own
        for (start, end), sentence in zip(spans, judged, strict=True):
            gap = text[cursor:start]
            rendered = _render(sentence)
            parts += [gap, rendered]
            if sentence.reason:
                flagged.append(
                    FlaggedSentence(
                        length + len(gap), length + len(gap) + len(rendered), sentence.reason
                    )
                )
            for n in sentence.kept:
                supported.setdefault(n, []).append(sentence.text)
            if sentence.closest:
                offered.setdefault(sentence.closest, []).append(sentence.text)
            count += bool(sentence.kept)
            not_covered = not_covered or bool(NOT_COVERED.search(sentence.text))
            length += len(gap) + len(rendered)
            cursor = end
        # A flag's closest passage is cited too, so its "[k]" opens the passage's words.
        offered = {n: claims for n, claims in offered.items() if n not in supported}
        citations = tuple(
            self._citation(n, passages[n - 1], claims)
            for n, claims in [*supported.items(), *offered.items()]
        )
        return Verified("".join(parts), citations, tuple(flagged), count, not_covered)

    def _judge(
        self,
        sentence: _Sentence,
        passages: Sequence[Passage],
        around: Sequence[int] = (),
        asked: str = "",
    ) -> _Sentence:
        cited = _cited(sentence, passages)
        claim = _SOURCE_ASIDE.sub("", sentence.text)  # "(the excerpts do not name …)" is no claim
        claim = _joined_names(claim, passages)
        claim_terms = _words(claim)  # numbers are checked on their own
        says_not_covered = bool(NOT_COVERED.search(claim))
        # "Vilket tema 2023 hade framgår inte": what is left out is named by the question.
        echoed = _echoed(claim, asked) if says_not_covered else _Echoed()
        counted = _listed_counts(claim, passages)  # "de två var A och B"
        numbers = [x for x in _numbers(claim) if x not in echoed.numbers and x not in counted]
        leaning = False  # uncited, judged by its neighbour's sources
        if not cited:
            substantive = len(claim_terms) >= self.policy.min_claim_terms or numbers
            if substantive and not says_not_covered:
                cited = self._holding(claim, passages)
                if not cited and around:
                    cited, leaning = list(dict.fromkeys(around)), True
                if not cited:
                    sentence.reason = UNCITED
                    return sentence
            else:
                return sentence
        backing = self._backing(claim, cited, passages)
        if leaning and not backing:  # the neighbour's sources share too little of it
            sentence.reason = UNCITED
            return sentence
        basis = backing or cited
        refs = ", ".join(f"[{n}]" for n in basis)
        source = "källa" if len(basis) == 1 else "källorna"
        context = _same_articles(passages, basis)
        missing = [
            x
            for x in numbers
            if not any(_has_number(passages[n - 1], x) for n in basis)
            # The year an article names its event by holds for all its passages.
            and not any(x in _event_years(p) for p in context)
        ]
        # A name is taken from any passage of the prompt: a speaker is often named in one
        # passage and quoted in the next ("Olivia:").
        absent = [
            x
            for x, capital in self._claim_names(claim).items()
            if x not in echoed.names
            and not any(_name_in(x, _text(p), capital) for p in passages)
            and self._article_mentions(x, capital, [passages[n - 1] for n in basis])
            < SUBJECT_MENTIONS
        ]
        absent += [x for x in _person_names(claim, passages) if x not in echoed.names]
        features = None if missing or absent else self._modelled(claim, cited, backing, passages)
        if missing:
            sentence.closest = _holder(passages, basis, lambda p: _has_number(p, missing[0]))
            sentence.reason = f"talet {missing[0]} finns inte i {source} {refs}"
        elif absent:
            sentence.reason = f"”{absent[0]}” finns inte i {source} {refs}"
        elif features is not None and self.model.flags(features):
            if (
                backing
                and features["negated"]
                and (features["negation_unmatched_words"] or features["negation_unmatched_meaning"])
            ):
                sentence.reason = f"{source} {refs} säger inte att det inte är så"
            else:
                sentence.closest = self._closest_other(claim, cited, passages)
                sentence.reason = f"stöds inte av {source} {refs}"
        elif backing or not says_not_covered:
            sentence.kept = backing or self._closest_cited(claim, cited, passages)
        if leaning and sentence.reason:  # the neighbour's sources do not hold it either
            sentence.reason, sentence.closest = UNCITED, 0
        if sentence.closest:
            sentence.reason += f"; närmast är källa [{sentence.closest}]"
        return sentence

    def _article_mentions(self, name: str, capital: bool, sources: Sequence[Passage]) -> int:
        """The most sentences of one source's article that name `name` (0 without articles).

        An article about Nordmaling names it in many sentences: a claim citing any of its
        passages may name it too ("Nordmalings modell …"), as a reader of the article would.
        """
        if self._article is None:
            return 0
        counts = [sum(_name_in(name, s, capital) for s in self._article(p.chunk)) for p in sources]
        return max(counts, default=0)

    def _holding(self, claim: str, passages: Sequence[Passage]) -> list[int]:
        """The passage that holds an uncited claim's words, numbers and names, if one does.

        The sentence is then checked as if it cited that passage, and gets its marker.
        """
        claim_terms = _claim_words(claim)
        if not passages or len(claim_terms) < self.policy.min_claim_terms:
            return []
        coverage = [self._coverage(claim_terms, _terms(p)) for p in passages]
        best = int(np.argmax(coverage))
        return [best + 1] if coverage[best] >= self.policy.min_uncited_coverage else []

    def _backing(self, claim: str, cited: list[int], passages: Sequence[Passage]) -> list[int]:
        """The cited passages sharing enough of the claim's words (or a number) to cite."""
        claim_terms, numbers = _claim_words(claim), _numbers(claim)
        return [
            n
            for n in cited
            if self._coverage(claim_terms, _terms(passages[n - 1]))
            >= self.policy.min_marker_coverage
            or any(_has_number(passages[n - 1], x) for x in numbers)
        ]

    def _modelled(
        self, claim: str, cited: list[int], backing: list[int], passages: Sequence[Passage]
    ) -> dict[str, float] | None:
        """The support model's features, or None when the words alone settle support.

        A claim whose backing passages hold most of its words, and which negates nothing,
        is supported without embedding it (most claims: the check stays fast). What the
        sources leave out is not modelled (its markers show where it looked), only what
        the sentence claims beside it (`_claimed_part`).
        """
        claim = _claimed_part(claim)
        if not claim:
            return None
        negated = bool(_NEGATION.search(claim))
        pooled = tuple(dict.fromkeys(t for n in backing for t in _terms(passages[n - 1])))
        if (
            backing
            and not negated
            and self._coverage(_claim_words(claim), pooled) >= self.policy.min_coverage
        ):
            return None
        return self.support_features(claim, cited, backing, passages)

    def support_features(
        self, claim: str, cited: list[int], backing: list[int], passages: Sequence[Passage]
    ) -> dict[str, float]:
        """The support model's inputs for a claim citing `cited` (see SUPPORT_FEATURES)."""
        basis = backing or cited
        claim_terms = _claim_words(claim)
        coverage = [self._coverage(claim_terms, _terms(p)) for p in passages]
        pooled = tuple(dict.fromkeys(t for n in basis for t in _terms(passages[n - 1])))
        own_coverage = self._coverage(claim_terms, pooled)
        if negation := _NEGATION.search(claim):  # its features compare it without the negation
            self._embed_claims([claim, _without(claim, negation)])
        similarity = self._similarities(claim, passages)
        own_similarity = max(similarity[n - 1] for n in basis)
        english = float(looks_english(claim))
        centroid = [self._centroid_similarity(claim, p) for p in passages]
        own_centroid = max(centroid[n - 1] for n in basis)
        sources = [passages[n - 1] for n in basis]
        held = [_held_grams(claim, p) for p in passages]
        own_grams = max(held[n - 1] for n in basis)
        return {
            **self._name_features(claim, basis, passages),
            "grams": own_grams,
            "grams_elsewhere": max(held) - own_grams,
            "not_closest": float(max(similarity) > own_similarity),
            "passage_similarity": own_centroid,
            "passage_similarity_elsewhere": max(centroid) - own_centroid,
            "coverage": own_coverage,
            "coverage_elsewhere": max(0.0, max(coverage) - own_coverage),
            "similarity": own_similarity,
            "similarity_elsewhere": max(similarity) - own_similarity,
            "similarity_pair": self._pair_similarity(claim, sources),
            "english": english,
            "english_similarity": english * (own_similarity - 0.85),
            "english_coverage": english * own_coverage,
            **self._negation_features(claim, sources, own_similarity),
            "claim_words": math.log1p(len(claim_terms)),
            "no_backing": float(not backing),
        }

    def _name_features(
        self, claim: str, basis: list[int], passages: Sequence[Passage]
    ) -> dict[str, float]:
        """Shares of the claim's names only other passages hold, and that none holds."""
        capital = self._claim_names(claim)
        names = list(capital)
        in_basis = [
            any(_name_in(x, _text(passages[n - 1]), capital[x]) for n in basis) for x in names
        ]
        anywhere = [any(_name_in(x, _text(p), capital[x]) for p in passages) for x in names]
        share = 1 / len(names) if names else 0.0
        elsewhere = sum(a and not b for a, b in zip(anywhere, in_basis, strict=True))
        return {
            "names_elsewhere": share * elsewhere,
            "names_nowhere": share * sum(not a for a in anywhere),
        }

    def _negation_features(
        self, claim: str, sources: Sequence[Passage], similarity: float
    ) -> dict[str, float]:
        """Whether the claim negates, and whether its sources negate where it does."""
        negation = _NEGATION.search(claim)
        features = dict.fromkeys(
            ("negated", "negation_unmatched_words", "negation_unmatched_meaning",
             "negation_unmatched_closest", "negation_shift", "negation_phrase"),
            0.0,
        )  # fmt: skip
        if not negation:  # what the sources leave out never reaches here (`_claimed_part`)
            return features
        closest = self._closest_sentences(claim, sources, NEGATION_SENTENCES)
        features["negated"] = 1.0
        features["negation_unmatched_words"] = float(
            self._negation_unmatched(claim, negation, sources)
        )
        features["negation_unmatched_meaning"] = float(
            not any(_NEGATIVE.search(t) for t in closest)
        )
        features["negation_unmatched_closest"] = (
            float(not _NEGATIVE.search(closest[0])) if closest else 0.0
        )
        features["negation_phrase"] = float(
            any(_negation_phrase_in(claim, negation, _text(p)) for p in sources)
        )
        plain = _without(claim, negation)
        without = max(self._similarity(p, self._claim_vector(plain)) for p in sources)
        features["negation_shift"] = without - similarity
        return features

    def claims(self, text: str, passages: Sequence[Passage]) -> list[tuple[str, list[int]]]:
        """Each cited sentence of an answer (markers removed) with the passages it cites."""
        text = _MARKER_AFTER_STOP.sub(lambda m: m.group(2) + m.group(1), text.strip())
        found = []
        for start, end in _claim_spans(text):
            sentence = _parse(text[start:end])
            cited = _cited(sentence, passages)
            if cited:
                found.append((sentence.text, cited))
        return found

    def modelled_features(
        self, claim: str, cited: list[int], passages: Sequence[Passage]
    ) -> dict[str, float] | None:
        """The features the support model sees for this claim, None if words settle it."""
        claim = _joined_names(claim, passages)
        return self._modelled(claim, cited, self._backing(claim, cited, passages), passages)

    def _claim_names(self, claim: str) -> dict[str, bool]:
        """The claim's names to check, each with whether its capital must match (`_capitals`)."""
        names = [x for x in _names(claim) if self._checks_name(x, claim)]
        return _capitals(names, claim)

    def _checks_name(self, name: str, claim: str) -> bool:
        """Whether a name in the claim must be found in its sources.

        Always in Swedish; in another language only names the corpus knows, since the
        others may be translations ("the National Board of Health").
        """
        if not looks_english(claim):
            return True
        if is_term_word(name):
            return False
        return self._known is not None and all(self._known(t) for t in terms(name))

    def _negation_unmatched(
        self, claim: str, negation: re.Match[str], sources: Sequence[Passage]
    ) -> bool:
        """Whether the claim turns its sources around.

        True when source sentences hold the words its negation bears on and none of those
        sentences negates near them. The words are the few content words after the
        negation and the one before it (a main clause puts the negated verb first:
        "räcker inte"; a subordinate clause after: "att man inte kan arbeta").
        """
        before = _content_words(claim[: negation.start()])[-NEGATION_BEFORE:]
        after = _content_words(claim[negation.end() :])[:NEGATION_SCOPE]
        scope = set(_claim_words(" ".join([*before, *after])))
        bearing = [
            _slice(p, a, b)
            for p in sources
            for a, b in sentence_spans(p.chunk.text, p.chunk.start)
            if scope & set(terms(_slice(p, a, b)))
        ]
        return bool(bearing) and not any(_negates_near(text, scope) for text in bearing)

    def _closest_sentences(self, claim: str, sources: Sequence[Passage], k: int) -> list[str]:
        """The k source sentences closest in meaning to the claim (e5)."""
        vector = self._claim_vector(claim)
        scored: list[tuple[float, str]] = []
        for passage in sources:
            spans, vectors = self._vectors(passage)
            if len(vectors):
                texts = [_slice(passage, *span) for span in spans]
                scored += zip((vectors @ vector).tolist(), texts, strict=True)
        return [text for _, text in sorted(scored, key=lambda x: -x[0])[:k]]

    def _closest_cited(
        self, claim: str, cited: list[int], passages: Sequence[Passage]
    ) -> list[int]:
        """The cited passages within the policy's gap of the closest one in meaning."""
        similarity = self._similarities(claim, passages)
        best = max(similarity[n - 1] for n in cited)
        return [n for n in cited if similarity[n - 1] >= best - self.policy.max_similarity_gap]

    def _closest_other(self, claim: str, cited: list[int], passages: Sequence[Passage]) -> int:
        """The passage closest in meaning to the claim if it is not cited, else 0."""
        best = int(np.argmax(self._similarities(claim, passages))) + 1
        return best if best not in cited else 0

    def _similarities(self, claim: str, passages: Sequence[Passage]) -> list[float]:
        """The claim's closeness in meaning to each passage (its closest sentence)."""
        vector = self._claim_vector(claim)
        return [self._similarity(passage, vector) for passage in passages]

    def _claim_vector(self, claim: str) -> np.ndarray:
        """The claim's e5 query vector, embedded once per answer."""
        if claim not in self._claim_vectors:
            self._claim_vectors[claim] = self._embedder.encode_claim(claim)
        return self._claim_vectors[claim]

    def _embed_claims(self, claims: Sequence[str]) -> None:
        """Embed the claims not embedded yet, side by side (`_claim_vector` then reads them)."""
        new = [c for c in dict.fromkeys(claims) if c not in self._claim_vectors]
        self._claim_vectors.update(zip(new, self._embedder.encode_claims(new), strict=True))

    def _pair_similarity(self, claim: str, sources: Sequence[Passage]) -> float:
        """Cosine of the claim to the mean of its two closest source sentences.

        A sentence that joins two source sentences is closer to their mean than to either.
        """
        vector = self._claim_vector(claim)
        stacked = [v for v in (self._vectors(p)[1] for p in sources) if len(v)]
        if not stacked:
            return -1.0
        vectors = np.vstack(stacked)
        closest = vectors[np.argsort(-(vectors @ vector))[:2]].mean(axis=0)
        return float(closest @ vector / (np.linalg.norm(closest) + 1e-9))

    def _centroid_similarity(self, claim: str, passage: Passage) -> float:
        """Cosine of the claim to the mean of the passage's sentence vectors."""
        _, vectors = self._vectors(passage)
        if not len(vectors):
            return -1.0
        centroid = vectors.mean(axis=0)
        return float(centroid @ self._claim_vector(claim) / (np.linalg.norm(centroid) + 1e-9))

    def _similarity(self, passage: Passage, vector: np.ndarray) -> float:
        """Highest cosine between `vector` and a sentence of the passage."""
        _, vectors = self._vectors(passage)
        return float(np.max(vectors @ vector)) if len(vectors) else -1.0

    def _vectors(self, passage: Passage) -> tuple[list[tuple[int, int]], np.ndarray]:
        """The passage's sentence spans and their embeddings (cached per chunk)."""
        chunk = passage.chunk
        if chunk.id not in self._sentence_vectors and self._stored is not None:
            found = self._stored(chunk)
            if found is not None:
                self._sentence_vectors[chunk.id] = found
        if chunk.id not in self._sentence_vectors:
            spans = list(sentence_spans(chunk.text, chunk.start))
            texts = [_slice(passage, a, b) for a, b in spans]
            vectors = self._embedder.encode(texts, query=True) if texts else np.zeros((0, 0))
            self._sentence_vectors[chunk.id] = (spans, vectors)
        return self._sentence_vectors[chunk.id]

    def _citation(self, n: int, passage: Passage, claims: Sequence[str]) -> Citation:
        """Citation [n] quoting the passage span that covers the best sentence for each claim."""
        spans = [self._best_span(passage, claim) for claim in claims]
        start, end = min(a for a, _ in spans), max(b for _, b in spans)
        return Citation(n, passage, _slice(passage, start, end), start, end)

    def _best_span(self, passage: Passage, claim: str) -> tuple[int, int]:
        chunk = passage.chunk
        spans = list(sentence_spans(chunk.text, chunk.start)) or [(chunk.start, chunk.end)]
        claim_terms = _claim_words(claim)
        numbers = _numbers(claim)

        def lexical(span: tuple[int, int]) -> float:
            sentence = _slice(passage, *span)
            shared = sum(_number_in(x, sentence) for x in numbers)
            return self._coverage(claim_terms, _distinct_terms(sentence)) + 0.5 * shared

        best = max(spans, key=lexical)
        if lexical(best) >= self.policy.min_marker_coverage:
            return best
        embedded_spans, vectors = self._vectors(passage)
        if not len(vectors):
            return best
        vector = self._claim_vector(claim)
        return embedded_spans[int(np.argmax(vectors @ vector))]


def _claimed_part(claim: str) -> str:
    """What a sentence claims beside what it says the sources leave out ("" for nothing).

    "Utdragen säger inte om …, men de visar att …": the clause after "men" is the claim.
    """
    if not NOT_COVERED.search(claim):
        return claim
    contrast = _CONTRAST.search(claim)
    if contrast is None:
        return ""
    clauses = (claim[: contrast.start()], claim[contrast.end() :])
    claimed = [c for c in clauses if not NOT_COVERED.search(c)]
    return claimed[0] if len(claimed) == 1 else ""


@dataclass(frozen=True)
class _Echoed:
    """The numbers and names a sentence's left-out part repeats from the question."""

    numbers: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()


def _echoed(claim: str, asked: str) -> _Echoed:
    """What `claim`'s part saying what the sources leave out takes from the question `asked`.

    Only that part: the rest of the sentence (`_claimed_part`) is a claim, checked whole.
    """
    claimed = _claimed_part(claim)
    left_out = claim.replace(claimed, " ") if claimed else claim
    repeated = set(_numbers(asked)) - set(_numbers(claimed))
    numbers = {x for x in _numbers(left_out) if x in repeated}
    words = {w.lower() for w in re.findall(r"\w+", asked)}
    names = {
        x
        for x in [*_names(left_out), *(f"{a} {b}" for a, b, _ in _pairs(left_out))]
        if all(w.lower() in words for w in x.split()) and x not in claimed
    }
    return _Echoed(frozenset(numbers), frozenset(names))


def _holder(passages: Sequence[Passage], basis: list[int], holds: Callable[[Passage], bool]) -> int:
    """The first passage outside `basis` that `holds` (a number the basis lacks), else 0."""
    return next((n for n, p in enumerate(passages, 1) if n not in basis and holds(p)), 0)


def _cited(sentence: _Sentence, passages: Sequence[Passage]) -> list[int]:
    """The passage numbers the sentence's markers name, in order, without unknown ones."""
    cited = dict.fromkeys(n for *_, ns in sentence.groups for n in ns)
    return [n for n in cited if 1 <= n <= len(passages)]


def _parse(raw: str) -> _Sentence:
    groups = [
        (m.start(), m.end(), [int(x) for x in re.split(r"\s*[,;]\s*", m.group(1))])
        for m in MARKER.finditer(raw)
    ]
    text = re.sub(r"\s+([.,;:!?])", r"\1", MARKER.sub("", raw))
    return _Sentence(re.sub(r"[ \t]{2,}", " ", text).strip(), groups, raw)


def _render(sentence: _Sentence) -> str:
    """The sentence with only its supporting markers, each as "[n]" after a space.

    A sentence written without markers gets those of the passages found to hold it.
    """
    if not sentence.groups and sentence.kept:
        body = sentence.raw.rstrip()
        stop = len(body.rstrip(".!?:"))
        return body[:stop] + " " + "".join(f"[{n}]" for n in sentence.kept) + body[stop:]
    out, cursor = "", 0
    for start, end, numbers in sentence.groups:
        kept = "".join(f"[{n}]" for n in numbers if n in sentence.kept)
        out += sentence.raw[cursor:start]
        if not kept:
            out = out.rstrip()
        elif out and not out[-1].isspace() and not out.endswith("]"):
            out += " " + kept
        else:
            out += kept
        cursor = end
    return (out + sentence.raw[cursor:]).strip()


def _event_years(passage: Passage) -> set[str]:
    """The years the passage names an event by (in its title, heading or text)."""
    return set(_EVENT_YEAR.findall(_text(passage)))


def _same_articles(passages: Sequence[Passage], basis: list[int]) -> list[Passage]:
    """The passages of the prompt from the articles of the `basis` passages."""
    articles = {(passages[n - 1].chunk.source, passages[n - 1].chunk.title) for n in basis}
    return [p for p in passages if (p.chunk.source, p.chunk.title) in articles]


def _joined_names(claim: str, passages: Sequence[Passage]) -> str:
    """The claim with a name written in two words joined where the sources write it as one.

    "Star Wars" is the sources' "Starwars": each word alone is in no passage.
    """
    if not _SPLIT_NAME.search(claim):
        return claim  # most claims: no passage text to read
    written = [_text(p) for p in passages]
    lowered = [t.lower() for t in written]

    def joined(match: re.Match[str]) -> str:
        one = match.group(1) + match.group(2).lower()
        if any(one.lower() in t for t in lowered) and not any(match.group() in t for t in written):
            return one
        return match.group()

    return _SPLIT_NAME.sub(joined, claim)


# A number word, a few words, then a colon and the list it counts, to the sentence's end;
# each item of the list a few words (longer ones describe, and their commas are no list).
MAX_LISTED_WORDS = 6
_COUNTED_LIST = re.compile(
    rf"\b({'|'.join(_NUMBER_WORDS)})\b(?:\s+[\w-]+){{1,10}}:\s+([^:;]+?)\s*[.]?$", re.I
)


def _listed_counts(claim: str, passages: Sequence[Passage]) -> set[str]:
    """The count a number word gives of what the claim itself lists.

    "The two panellists were Olivia Wigzell … and Sabina Wikgren Orstam" counts names the
    passages write, each checked on its own; "two" needs no passage. So does "two themes:
    A and B", a count of the list after its colon. Digits do not count.
    """
    said = {m.group().lower() for m in _NUMBER_WORD.finditer(claim)}
    if not said:
        return set()
    if listed := _COUNTED_LIST.search(claim):  # "two themes: the network and the degree"
        items = re.split(r",\s+|\s+(?:and|och|or|eller)\s+", listed.group(2).strip())
        short = all(0 < len(item.split()) <= MAX_LISTED_WORDS for item in items)
        if short and _NUMBER_WORDS[listed.group(1).lower()] == str(len(items)):
            return {str(len(items))}
    written = _names_written(passages)
    named = [(f, last) for f, last, _ in _pairs(claim) if (f, _base_name(last)) in written]
    # "Sabina Wikgren Orstam" is two pairs and one person
    count = str(sum(i == 0 or named[i - 1][1] != f for i, (f, _) in enumerate(named)))
    return {count} if any(_NUMBER_WORDS[w] == count for w in said) else set()


def _person_names(claim: str, passages: Sequence[Passage]) -> list[str]:
    """Two-word person names in the claim the passages never write, though one half is known.

    "Anna Starwar" when the sources have "Anna Burston", "Director Wigzell" when they have
    "Olivia Wigzell": a swapped first name or surname, checked in any language. A pair
    opening the claim counts only by a known first name ("Enligt Anna" is none); an
    inflected first word is the same ("Samtalsledaren Petra" for "Samtalsledare Petra").
    """
    written = _names_written(passages)
    firsts, lasts = {f for f, _ in written}, {last for _, last in written}
    absent = []
    for first, last, start in _pairs(claim):
        surname = _base_name(last)
        known = first in firsts or (start > 0 and surname in lasts)
        if known and not any(
            w_last == surname and _name_in(first, w_first, capital=True)
            for w_first, w_last in written
        ):
            absent.append(f"{first} {last}")
    return absent


def _names_written(passages: Sequence[Passage]) -> set[tuple[str, str]]:
    """The two-word names any of the passages writes (`_written_names`)."""
    return {pair for p in passages for pair in _written_names(_text(p))}


@lru_cache(maxsize=1024)
def _written_names(text: str) -> frozenset[tuple[str, str]]:
    """The two-word names `text` writes, the second without a genitive s."""
    return frozenset((first, _base_name(last)) for first, last, _ in _pairs(text))


def _base_name(name: str) -> str:
    """The name without a genitive s ("Grönvalls" -> "Grönvall")."""
    return name[:-1] if name.endswith("s") and len(name) > 4 else name


def _pairs(text: str) -> list[tuple[str, str, int]]:
    """Each two capitalised words in a row (overlapping), in order, with the first's offset."""
    return [(m.group(1), m.group(2), m.start()) for m in _PERSON.finditer(text)]


def _claim_spans(text: str) -> list[tuple[int, int]]:
    """The answer's sentences; a split inside a quotation or before a bracket is undone.

    'ask: "How was it? Was it fine?" ("Hur var det?") [1].' is one claim with its marker.
    """
    spans: list[tuple[int, int]] = []
    for start, end in sentence_spans(text):
        if spans and (_open_quotation(text[spans[-1][0] : spans[-1][1]]) or text[start] == "("):
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def _open_quotation(sentence: str) -> bool:
    """Whether `sentence` ends inside a quotation (an odd number of quotation marks)."""
    return sentence.count('"') % 2 == 1 or (sentence.count("”") + sentence.count("“")) % 2 == 1


def _text(passage: Passage) -> str:
    """The passage with its title and section."""
    return f"{passage.chunk.embed_text}\n{passage.chunk.text}"


def _terms(passage: Passage) -> tuple[str, ...]:
    """The distinct stems of the passage with its title and section."""
    return _distinct_terms(passage.chunk.embed_text)


@lru_cache(maxsize=1024)
def _distinct_terms(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(terms(text)))


def _slice(passage: Passage, start: int, end: int) -> str:
    chunk = passage.chunk
    return chunk.text[start - chunk.start : end - chunk.start]


def _held_grams(claim: str, passage: Passage) -> float:
    """The largest share of the claim's letter 4-grams one sentence of the passage holds."""
    wanted = _grams(claim)
    spans = sentence_spans(passage.chunk.text, passage.chunk.start)
    held = max((len(wanted & _grams(_slice(passage, a, b))) for a, b in spans), default=0)
    return held / max(1, len(wanted))


@lru_cache(maxsize=4096)
def _grams(text: str) -> frozenset[str]:
    """The letter 4-grams of the text's words (lowercased), shared by cognates across languages."""
    return frozenset(
        w[i : i + 4] for w in re.findall(r"\w{4,}", text.lower()) for i in range(len(w) - 3)
    )


def _words(text: str) -> list[str]:
    """Distinct content stems of `text` without numbers."""
    return [t for t in dict.fromkeys(terms(text)) if not any(c.isdigit() for c in t)]


def _claim_words(claim: str) -> list[str]:
    """The claim's content stems; an English claim's also in Swedish (its domain terms)."""
    return _words(searched_text(claim))


def _numbers(text: str) -> list[str]:
    """Numbers in `text`: digit groups joined ("7 500" -> "7500"), decimal comma as point.

    Number words count as their digits ("tre" -> "3", "two and a half" -> "2.5"); in
    English a comma groups thousands ("7,500" -> "7500").
    """
    text = _NUMBER_WORD.sub(lambda m: _NUMBER_WORDS[m.group().lower()], text)
    text = _AND_A_HALF.sub(r"\1.5", text)
    if looks_english(text):
        text = _THOUSANDS_COMMA.sub("", text)
    found = _NUMBER.findall(_DIGIT_GROUP_SPACE.sub("", text))
    return [_WHOLE_HOUR.sub("", n.replace(",", ".")) for n in found]


def _names(text: str) -> list[str]:
    """Capitalised words inside `text`'s sentences: names, places, organisations."""
    return list(dict.fromkeys(m.group() for m in _NAME.finditer(text)))


def _swedish_wording(claim: str) -> bool:
    """Whether the claim's own words (outside quotation marks) are Swedish."""
    return not looks_english(_QUOTED.sub(" ", claim))


def _capitals(names: Sequence[str], claim: str) -> dict[str, bool]:
    """Each name with whether its capital must be in the source too (in a Swedish claim).

    Swedish writes only names with a capital; English also months and weekdays, so those
    are matched without case.
    """
    swedish = _swedish_wording(claim)
    return {x: swedish and x.lower() not in _ENGLISH_CALENDAR for x in names}


def _name_in(name: str, text: str, capital: bool) -> bool:
    """Whether `name` occurs in `text`, inflected or in a compound.

    "Lunds" is found in "i Lund", "Sarah-ärenden" in "lex Sarah", "Teamsmötena" in "Teams".
    With `capital` (a Swedish claim, where only names are capitalised) its capital must be
    there too: "Uppdrag" is no name in "ett uppdrag".
    """
    stem = _base_name(name.split("-")[0])
    forms = {stem, stem[: max(MIN_NAME_PREFIX, len(stem) - MAX_NAME_ENDING)]}

    def pattern(form: str) -> str:
        head, tail = re.escape(form[0]), re.escape(form[1:])
        return rf"\b{head}(?i:{tail})" if capital else rf"(?i:\b{head}{tail})"

    return any(re.search(pattern(form), text) for form in forms)


def _without(claim: str, negation: re.Match[str]) -> str:
    """The claim with its negation word cut out."""
    return claim[: negation.start()] + claim[negation.end() :]


def _content_words(text: str) -> list[str]:
    """The words of `text` that have a content stem, in order."""
    return [w for w in re.findall(r"\w+", text) if terms(w)]


def _negation_phrase_in(claim: str, negation: re.Match[str], text: str) -> bool:
    """Whether `text` negates next to a word that stands next to the claim's negation.

    "som inte kunde vara med" is found in "Om du inte kunde vara med": the source says
    the same negation, whatever the words' weight.
    """
    before = re.findall(r"\w+", claim[: negation.start()].lower())[-1:]
    after = re.findall(r"\w+", claim[negation.end() :].lower())[:1]
    words = re.findall(r"\w+", text.lower())
    for i, word in enumerate(words):
        if _NEGATIVE.fullmatch(word):
            near = set(words[max(0, i - 2) : i] + words[i + 1 : i + 3])
            if near & {*before, *after}:
                return True
    return False


def _negates_near(sentence: str, scope: set[str]) -> bool:
    """Whether a negation in `sentence` stands within NEGATION_WINDOW words of a scope word."""
    words = re.findall(r"\w+", sentence)
    negations = [i for i, w in enumerate(words) if _NEGATIVE.fullmatch(w)]
    if not negations:
        return False
    held = [i for i, w in enumerate(words) if scope & set(terms(w))]
    return any(abs(i - j) <= NEGATION_WINDOW for i in held for j in negations)


def _number_in(number: str, text: str) -> bool:
    return number in _numbers(text)


def _has_number(passage: Passage, number: str) -> bool:
    return _number_in(number, passage.chunk.embed_text) or _number_in(number, passage.chunk.text)
