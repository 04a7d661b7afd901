"""Features of candidate answer sentences, for the learned answer selector.

Every sentence of the retrieved passages is a candidate. Its features are general ones,
none a word of this corpus: how its passage ranked and scored, how close its e5 vector
is to the question's (alone, with its neighbours, its chunk, its article), how much of
the question's word weight it holds (idf-weighted, fuzzy stems), whether it holds the
kind of value the question asks for (a number, a year, a place, a name …), its text
role (body, heading, byline, caption …), where it sits in its article, whether the
question names who says it in a transcript, and what kind of question it is.
`SentenceIndex` holds what the corpus side needs, once per index generation;
`candidate_features` builds the matrix for one question.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

import numpy as np

from rag.answer.evidence import Asked, asked_value, holds_value
from rag.answer.roles import CREDIT_ROLES, ROLES, Role, span_roles
from rag.ingest.sentences import sentence_spans
from rag.retrieve.glossary import searched_text
from rag.retrieve.lexical import (
    PRONOUNS,
    StemCoverage,
    TermWeights,
    asks_for_people,
    looks_english,
    matches,
    matches_held,
    terms,
)
from rag.types import Chunk, Passage

ArticleKey = tuple[str, str]  # (source, title)
SentenceKey = tuple[str, int, int]  # (source, start, end)

MAX_QUESTION_TERMS = 24  # content words weighed against each sentence (the most of any set: 20)
RARE_IDF = 3.0  # a question word this rare must usually appear in the answer

_SUMMARY = re.compile(
    r"\b(sammanfatta|beskriv|berätta|handlar|summari[sz]e|describe|summary|overview|"
    r"what (?:is|was) .* about|vad (?:säger|sa|tycker|tyckte|menar|anser))\b",
    re.I,
)
_WHY = re.compile(r"\b(varför|why|orsak\w*|reason\w*)\b", re.I)
_HOW = re.compile(
    r"^\W*(hur|how)\b(?!\s+(många|mycket|stor|gammal|länge|many|much|old|long))", re.I
)
_LIST = re.compile(r"\b(vilka|which|what are|nämn|list|exempel|examples)\b", re.I)
# Users ask for what someone said, wrote or answered, or for the gist, in more ways than
# `_SUMMARY` reads; such a question's answer quotes several points, as "vad sa …" does
# (docs/decisions.md)
_STATEMENTS = re.compile(
    r"\bwhat (?:did|does|do) .{0,80}?\b(?:say|said|think|write|wrote|argue|feel|tell)\b|"
    r"\b(?:what|how) did .{0,80}?\b(?:answer|respond|reply|describe|explain|conclude)\b|"
    r"\bmain (?:point|message|idea|argument)s?\b|\bgist\b|\btl;?dr\b|\bexplain\b|"
    r"\btell me about\b|\bviews?\b|\bconclu\w+|\bkey (?:points|takeaways)\b|"
    r"\bwhat'?s\b.*\babout\b|\bsum up\b|\brecap\b|"
    r"\bvad (?:skriver|skrev|svarade|svarar|sades|sägs|berättade|berättar|lyfte|lyfter)\b|"
    r"\bvad tog \w+ upp\b|\bhur (?:svarade|svarar|beskriver|beskrivs|beskrev|resonerar)\b|"
    r"\bförklara\b|\bslutsats\w*|\bbudskap\w*",
    re.I,
)
_CREDITS = re.compile(
    r"\b(skrev|skrivit|författa\w*|fotogr\w*|foto\w*|bild\w*|film\w*|text(en)? av|"
    r"kontakt\w*|wrote|written|author\w*|photo\w*|contact\w*|credits?)\b",
    re.I,
)
_PRONOUN_START = re.compile(rf"^\W*({'|'.join(sorted(PRONOUNS))})\b", re.I)
_NUMBER = re.compile(r"\d")
_YEAR = re.compile(r"\b(19|20)\d\d\b")
_NAME = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-ZÅÄÖ][a-zåäöé]+(?:\s[A-ZÅÄÖ][a-zåäöé]+)+")
_WORD = re.compile(r"\w+")
# A paragraph that opens with a short label and a colon is a turn of a transcript:
# "Anna Svensson, Region Norr: …", "Olivia: …", "Fråga från publiken: …". The label names
# the speaker when its words before the comma are capitalised; an organisation may follow
# the comma, and then a full stop may end the label ("Per Berg, FSS. Skickliga ledare …").
_TURN_LABEL = re.compile(
    r"^\s*([^\s:.!?,][^:.!?\n]{0,60}?)(?::|(?<=\w),\s*([A-ZÅÄÖ0-9][^:.!?,\n]{0,39})[:.])(?:\s|$)"
)
_SPEAKER = re.compile(r"^[A-ZÅÄÖ][\w-]*(?:\s+[A-ZÅÄÖ][\w-]*){0,4}$")

ASKED_KINDS: tuple[Asked, ...] = tuple(Asked)
QUESTION_FEATURES = (
    "q_terms",
    "q_english",
    "q_who",
    "q_summary",
    "q_why",
    "q_how",
    "q_list",
    "q_credits",
    *(f"q_asks_{kind.value}" for kind in ASKED_KINDS),
)
SENTENCE_FEATURES = (
    "rank",
    "score_share",
    "dense",
    "cos",
    "cos_gap",
    "cos_next",
    "cos_prev",
    "cos_chunk",
    "centrality",
    "cos_article",
    "cov_title",
    "cov",
    "cov_gap",
    "cov_next",
    "cov_context",
    "cov_prev",
    "cov_paragraph",
    "cov_chunk",
    "paragraph_first",
    "credits_role",
    "bigrams",
    "names_share",
    "rare_share",
    "new_words",
    "words",
    *(f"role_{role}" for role in ROLES),
    "next_role_body",
    "position",
    "first",
    "lead_section",
    "pronoun_start",
    "question_mark",
    "holds",
    "holds_next",
    "has_number",
    "has_year",
    "has_name",
    "who_name",
    "speaker_named",
    "speaker_org_named",
    "speaker_inherited",
    "article_rank",
    "top_article",
    "passages_with_it",
    "cos_rank",
    "cov_rank",
    "mix_rank",
    "mix_gap",
)
FEATURES: tuple[str, ...] = QUESTION_FEATURES + SENTENCE_FEATURES
FEATURE_COLUMN = {name: i for i, name in enumerate(FEATURES)}
_SENTENCE_COLUMN = {name: i for i, name in enumerate(SENTENCE_FEATURES)}


@dataclass(frozen=True)
class Sentence:
    """A sentence of an indexed article, with its role and place in the article."""

    source: str
    start: int
    end: int
    text: str
    role: Role
    article: ArticleKey
    index: int  # 0-based position in its article
    count: int  # sentences in its article
    paragraph: int = 0  # 0-based paragraph of its article (a line break starts one)


@dataclass(frozen=True)
class Speaker:
    """The speaker of a transcript's turn, from its label ("Anna Svensson, Region Norr:")."""

    name: tuple[str, ...]  # stems of the label's name
    organisation: tuple[str, ...]  # stems of the organisation after the comma, if any
    inherited: bool  # the sentence's paragraph follows the labelled one, unlabelled


def _speakers(listed: Sequence[Sentence]) -> list[Speaker | None]:
    """Each sentence's speaker: its paragraph's label, or the paragraph before's.

    A labelled paragraph is a turn; an unlabelled paragraph right after one continues it
    (a speaker's second paragraph). Only body sentences are attributed: "Foto: …" and
    "Text: …" are credits, not turns.
    """
    found: list[Speaker | None] = []
    current: Speaker | None = None
    before: Speaker | None = None  # the previous paragraph's own label
    for i, sentence in enumerate(listed):
        if i == 0 or listed[i - 1].paragraph != sentence.paragraph:
            label = _TURN_LABEL.match(sentence.text)
            own = None
            if label and sentence.role == "body" and _SPEAKER.match(label.group(1)):
                name, organisation = label.group(1), label.group(2) or ""
                own = Speaker(tuple(terms(name)), tuple(terms(organisation)), False)
            current = own or (replace(before, inherited=True) if before and not label else None)
            before = own
        found.append(current if sentence.role == "body" else None)
    return found


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage, as the selector sees it."""

    sentence: Sentence
    passage: Passage  # the best-ranked retrieved passage holding it
    holders: int = 1  # retrieved passages holding it (chunks overlap)


class SentenceIndex:
    """The sentences of the indexed articles, their e5 vectors and each article's centroid."""

    def __init__(
        self,
        chunks: Sequence[Chunk],
        vectors: Mapping[SentenceKey, np.ndarray],
        chunk_vectors: Mapping[str, np.ndarray],
        weights: TermWeights,
    ) -> None:
        self.weights = weights
        self.chunk_vectors = chunk_vectors
        self._chunks_of: dict[str, list[Chunk]] = {}
        for chunk in chunks:
            self._chunks_of.setdefault(chunk.source, []).append(chunk)
        self._by_chunk: dict[str, list[Sentence]] = {}
        articles: dict[ArticleKey, dict[tuple[int, int], tuple[Role, Chunk]]] = {}
        for chunk in chunks:
            found = articles.setdefault((chunk.source, chunk.title), {})
            for start, end, role in _chunk_sentences(chunk):
                found.setdefault((start, end), (role, chunk))
        self.sentences: dict[SentenceKey, Sentence] = {}
        self._order: dict[ArticleKey, list[Sentence]] = {}
        for key, spans_found in articles.items():
            ordered = sorted(spans_found.items())
            listed = [
                Sentence(
                    chunk.source,
                    start,
                    end,
                    chunk.text[start - chunk.start : end - chunk.start],
                    role,
                    key,
                    i,
                    len(ordered),
                )
                for i, ((start, end), (role, chunk)) in enumerate(ordered)
            ]
            listed = _with_paragraphs(listed, [c for _, (_, c) in ordered])
            self._order[key] = listed
            for sentence in listed:
                self.sentences[(sentence.source, sentence.start, sentence.end)] = sentence
        for chunk in chunks:
            self._by_chunk[chunk.id] = [
                s
                for s in self._order[(chunk.source, chunk.title)]
                if chunk.start <= s.start and s.end <= chunk.end
            ]
        self.vectors = dict(vectors)
        self._terms = {k: terms(s.text) for k, s in self.sentences.items()}
        self._paragraph_terms: dict[tuple[ArticleKey, int], list[str]] = {}
        for key, listed in self._order.items():
            for sentence in listed:
                self._paragraph_terms.setdefault((key, sentence.paragraph), []).extend(
                    self._terms[(sentence.source, sentence.start, sentence.end)]
                )
        self._centroids = {key: self._centroid(listed) for key, listed in self._order.items()}
        self._speakers = {
            (s.source, s.start, s.end): speaker
            for listed in self._order.values()
            for s, speaker in zip(listed, _speakers(listed), strict=True)
            if speaker is not None
        }

    def _centroid(self, listed: Sequence[Sentence]) -> np.ndarray | None:
        rows = [self.vector(s) for s in listed]
        present = [r for r in rows if r is not None]
        if not present:
            return None
        mean = np.mean(present, axis=0)
        return np.asarray(mean / (np.linalg.norm(mean) or 1.0), dtype=np.float32)

    def vector(self, sentence: Sentence) -> np.ndarray | None:
        """The sentence's e5 vector, when it is long enough to have one."""
        return self.vectors.get((sentence.source, sentence.start, sentence.end))

    def centroid(self, article: ArticleKey) -> np.ndarray | None:
        """The normalised mean of the article's sentence vectors."""
        return self._centroids.get(article)

    def speaker(self, sentence: Sentence) -> Speaker | None:
        """Who says the sentence, when it is a body sentence of a transcript's turn."""
        return self._speakers.get((sentence.source, sentence.start, sentence.end))

    def terms_of(self, sentence: Sentence) -> list[str]:
        """The sentence's content stems."""
        return self._terms[(sentence.source, sentence.start, sentence.end)]

    def chunks_of(self, source: str) -> list[Chunk]:
        """The indexed chunks of one file, in order."""
        return self._chunks_of.get(source, [])

    def paragraph_terms(self, sentence: Sentence) -> list[str]:
        """The content stems of the paragraph holding the sentence."""
        return self._paragraph_terms.get((sentence.article, sentence.paragraph), [])

    def in_chunk(self, chunk: Chunk) -> list[Sentence]:
        """The sentences of an indexed chunk, in order."""
        return self._by_chunk.get(chunk.id, [])

    def sentence_vectors(self, chunk: Chunk) -> tuple[list[tuple[int, int]], np.ndarray] | None:
        """An indexed chunk's sentence spans and e5 passage vectors (None if it has none).

        Sentences the index holds no vector for (the shortest) are left out.
        """
        held = [(s, v) for s in self.in_chunk(chunk) if (v := self.vector(s)) is not None]
        if not held:
            return None
        return [(s.start, s.end) for s, _ in held], np.vstack([v for _, v in held])

    def article(self, key: ArticleKey) -> list[Sentence]:
        """The article's sentences, in order."""
        return self._order.get(key, [])

    def neighbour(self, sentence: Sentence, step: int) -> Sentence | None:
        """The sentence `step` places after (or before) `sentence` in its article."""
        i = sentence.index + step
        listed = self._order[sentence.article]
        return listed[i] if 0 <= i < len(listed) else None

    def candidates(self, passages: Sequence[Passage]) -> list[Candidate]:
        """Each sentence of the passages once, with the best-ranked passage holding it."""
        seen: dict[SentenceKey, Candidate] = {}
        for passage in sorted(passages, key=lambda p: p.rank):
            for sentence in self.in_chunk(passage.chunk) or self._unindexed(passage.chunk):
                key = (sentence.source, sentence.start, sentence.end)
                held = seen.get(key)
                seen[key] = (
                    Candidate(sentence, passage)
                    if held is None
                    else Candidate(held.sentence, held.passage, held.holders + 1)
                )
        return list(seen.values())

    def _unindexed(self, chunk: Chunk) -> list[Sentence]:
        """Sentences of a chunk the index does not hold (a test's hand-made passage)."""
        key = (chunk.source, chunk.title)
        return [
            Sentence(
                chunk.source, s, e, chunk.text[s - chunk.start : e - chunk.start], r, key, i, 0
            )
            for i, (s, e, r) in enumerate(_chunk_sentences(chunk))
        ]


def _chunk_sentences(chunk: Chunk) -> list[tuple[int, int, Role]]:
    """Each sentence of a chunk as (start, end, role), with file offsets."""
    spans = list(sentence_spans(chunk.text, chunk.start))
    local = [(s - chunk.start, e - chunk.start) for s, e in spans]
    roles = span_roles(chunk.text, local)
    return [(s, e, role) for (s, e), role in zip(spans, roles, strict=True)]


@dataclass(frozen=True)
class QuestionView:
    """What the features read from a question, worked out once."""

    text: str
    terms: list[str]  # content stems of the question and its Swedish glossary words
    idf: list[float]
    asked: Asked | None
    english: bool
    who: bool
    summary: bool
    vector: np.ndarray | None
    # the vector blended with the user's own words' (`blend`), which say what is asked when
    # a follow-up's standalone query leads with the conversation's words; the question
    # memory reads it too (`QuestionMemory.item_features`)
    asked_vector: np.ndarray | None = None

    @property
    def broad(self) -> bool:
        """Whether the question asks for a summary or a list: its answer quotes more."""
        return self.summary or bool(_LIST.search(self.text) or _STATEMENTS.search(self.text))

    @property
    def values(self) -> list[float]:
        """The question's own features, in QUESTION_FEATURES order."""
        return [
            float(len(self.terms)),
            float(self.english),
            float(self.who),
            float(self.summary),
            float(bool(_WHY.search(self.text))),
            float(bool(_HOW.search(self.text))),
            float(bool(_LIST.search(self.text))),
            float(asks_credits(self.text)),
            *(float(self.asked is kind) for kind in ASKED_KINDS),
        ]


def opens_with_pronoun(text: str) -> bool:
    """Whether the text opens with a pronoun that needs the sentence before it."""
    return bool(_PRONOUN_START.search(text))


def asks_credits(question: str) -> bool:
    """Whether the question asks who wrote, filmed or photographed, or how to get in touch."""
    return bool(_CREDITS.search(question))


def view_question(
    question: str,
    weights: TermWeights,
    vector: np.ndarray | None,
    asking: str = "",
    asking_vector: np.ndarray | None = None,
) -> QuestionView:
    """The question's stems (with glossary Swedish), their weights and its kind.

    `asking` holds the words that say what is asked, when they are not `question`'s own:
    a follow-up's standalone query puts the conversation's words in front of the user's
    ("… när tillträdde hon?"), and what is asked (a date, who, a summary) is read from
    the user's words alone; `asking_vector` is their e5 vector.
    """
    stems = list(dict.fromkeys(terms(searched_text(question))))[:MAX_QUESTION_TERMS]
    asking = asking or question
    asked_vector = vector
    if vector is not None and asking_vector is not None and asking != question:
        asked_vector = blend(vector, asking_vector)
    return QuestionView(
        question,
        stems,
        [weights.idf(t) for t in stems],
        asked_value(asking),
        looks_english(question),
        asks_for_people(asking),
        bool(_SUMMARY.search(asking)),
        vector,
        asked_vector,
    )


def blend(vector: np.ndarray, own: np.ndarray) -> np.ndarray:
    """The unit mean of a standalone query's vector and the user's own words' vector."""
    mean = np.asarray(vector, dtype=np.float32) + np.asarray(own, dtype=np.float32)
    return mean / max(float(np.linalg.norm(mean)), 1e-12)


def weighted_coverage(
    question_terms: Sequence[str], weights: Sequence[float], text_terms: Sequence[str]
) -> float:
    """Share of the weights of `question_terms` whose stems `text_terms` hold (1.0 for none)."""
    total = sum(weights)
    if total == 0:
        return 1.0
    weighted = zip(question_terms, weights, strict=True)
    if isinstance(text_terms, tuple):
        return sum(w for t, w in weighted if matches_held(t, text_terms)) / total
    return sum(w for t, w in weighted if matches(t, text_terms)) / total


def _rare_share(question: QuestionView, held: int) -> float:
    """Share of the question's rare stems among `held` (StemCoverage.held's bits)."""
    rare = [i for i, w in enumerate(question.idf) if w >= RARE_IDF]
    if not rare:
        return 1.0
    return sum(held >> i & 1 for i in rare) / len(rare)


def _cos(a: np.ndarray | None, b: np.ndarray | None) -> float:
    return float(np.dot(a, b)) if a is not None and b is not None else float("nan")


def candidate_features(
    question: QuestionView, candidates: Sequence[Candidate], index: SentenceIndex
) -> np.ndarray:
    """The (candidates, FEATURES) matrix for one question."""
    if not candidates:
        return np.zeros((0, len(FEATURES)), dtype=np.float32)
    top_score = max(c.passage.score for c in candidates) or 1.0
    top_article = min(candidates, key=lambda c: c.passage.rank).sentence.article
    article_rank: dict[ArticleKey, int] = {}
    for c in candidates:
        article_rank[c.sentence.article] = min(
            article_rank.get(c.sentence.article, 99), c.passage.rank
        )
    own = set(question.terms)
    credits = asks_credits(question.text)
    names = _question_names(question.text)
    # Stems of what many candidates share, worked out once per question.
    title_terms = {key: terms(key[1]) for key in article_rank}
    chunk_terms: dict[str, tuple[list[str], list[str]]] = {}  # id -> (text, title › section)
    for c in candidates:
        chunk = c.passage.chunk
        if chunk.id not in chunk_terms:
            chunk_terms[chunk.id] = (terms(chunk.text), terms(f"{chunk.title} {chunk.section}"))
    stems = StemCoverage(question.terms, question.idf)
    share = stems.share
    held_by: dict[tuple[object, ...], int] = {}  # what a sentence, paragraph, chunk holds

    def held(key: tuple[object, ...], text_terms: Sequence[str]) -> int:
        """The question stems `text_terms` hold, scanned once per key and question."""
        if (bits := held_by.get(key)) is None:
            bits = held_by[key] = stems.held(text_terms)
        return bits

    rows = []
    for c in candidates:
        s = c.sentence
        s_terms = (
            index.terms_of(s) if (s.source, s.start, s.end) in index.sentences else terms(s.text)
        )
        nxt, prev = (
            index.neighbour(s, 1) if s.count else None,
            index.neighbour(s, -1) if s.count else None,
        )
        next_terms = index.terms_of(nxt) if nxt is not None else []
        chunk_vector = index.chunk_vectors.get(c.passage.chunk.id)
        whole_chunk_terms, context_terms = chunk_terms[c.passage.chunk.id]
        words = _WORD.findall(s.text)
        new_words = [t for t in s_terms if t not in own]
        holds = holds_value(question.asked, s.text, question.text) if question.asked else False
        holds_next = (
            holds_value(question.asked, nxt.text, question.text)
            if question.asked and nxt is not None
            else False
        )
        has_name = bool(_NAME.search(s.text))
        speaker = index.speaker(s)
        own_held = held(("sentence", s.source, s.start, s.end), s_terms)
        next_held = (
            held(("sentence", nxt.source, nxt.start, nxt.end), next_terms) if nxt is not None else 0
        )
        rows.append(
            [
                float(c.passage.rank),
                c.passage.score / top_score,
                c.passage.dense_score if c.passage.dense_score is not None else float("nan"),
                _cos(question.vector, index.vector(s)),
                0.0,  # cos_gap, filled below
                _cos(question.vector, index.vector(nxt)) if nxt is not None else float("nan"),
                _cos(question.vector, index.vector(prev)) if prev is not None else float("nan"),
                _cos(question.vector, chunk_vector),
                _cos(index.vector(s), index.centroid(s.article)),
                _cos(question.vector, index.centroid(s.article)),
                share(held(("title", *s.article), title_terms[s.article])),
                share(own_held),
                0.0,  # cov_gap, filled below
                share(own_held | next_held),
                share(own_held | held(("context", c.passage.chunk.id), context_terms)),
                share(held(("sentence", prev.source, prev.start, prev.end), index.terms_of(prev)))
                if prev is not None
                else float("nan"),
                share(held(("paragraph", *s.article, s.paragraph), index.paragraph_terms(s)))
                if s.count
                else float("nan"),
                share(held(("chunk", c.passage.chunk.id), whole_chunk_terms)),
                float(prev is None or prev.paragraph != s.paragraph),
                float(credits and s.role in CREDIT_ROLES),
                _bigram_share(question, s_terms),
                _names_share(names, s.text),
                _rare_share(question, own_held),
                len(new_words) / max(1, len(s_terms)),
                float(len(words)),
                *(float(s.role == role) for role in ROLES),
                float(nxt is not None and nxt.role == "body"),
                s.index / max(1, s.count - 1) if s.count else float("nan"),
                float(s.index == 0),
                float(c.passage.chunk.section == ""),
                float(opens_with_pronoun(s.text)),
                float(s.text.rstrip().endswith("?")),
                float(holds),
                float(holds_next),
                float(bool(_NUMBER.search(s.text))),
                float(bool(_YEAR.search(s.text))),
                float(has_name),
                float(question.who and has_name),
                _names_speaker(speaker.name, question) if speaker else float("nan"),
                _names_speaker(speaker.organisation, question) if speaker else float("nan"),
                float(speaker.inherited) if speaker else float("nan"),
                float(article_rank[s.article]),
                float(s.article == top_article),
                float(c.holders),
                0.0,  # cos_rank, cov_rank, mix_rank, mix_gap: filled below
                0.0,
                0.0,
                0.0,
            ]
        )
    matrix = np.asarray(rows, dtype=np.float32)
    column = _SENTENCE_COLUMN
    cos = np.nan_to_num(matrix[:, column["cos"]], nan=0.7)
    cov = matrix[:, column["cov"]]
    mix = 2 * cos + cov
    matrix[:, column["cos_gap"]] = cos - cos.max()
    matrix[:, column["cov_gap"]] = cov - cov.max()
    matrix[:, column["cos_rank"]] = _ranks(cos)
    matrix[:, column["cov_rank"]] = _ranks(cov)
    matrix[:, column["mix_rank"]] = _ranks(mix)
    matrix[:, column["mix_gap"]] = mix - mix.max()
    own_features = np.tile(np.asarray(question.values, dtype=np.float32), (len(rows), 1))
    return np.hstack([own_features, matrix])


def _with_paragraphs(listed: list[Sentence], chunks: list[Chunk]) -> list[Sentence]:
    """The article's sentences numbered by paragraph: a line break between two starts one."""
    numbered: list[Sentence] = []
    paragraph = 0
    for i, sentence in enumerate(listed):
        if i:
            before = listed[i - 1]
            holder = chunks[i] if chunks[i].start <= before.end else chunks[i - 1]
            gap = holder.text[before.end - holder.start : sentence.start - holder.start]
            paragraph += "\n" in gap
        numbered.append(replace(sentence, paragraph=paragraph))
    return numbered


def _ranks(values: np.ndarray) -> np.ndarray:
    """Each value's rank: 0 for the largest, 1 for the next, and so on."""
    order = np.argsort(-values, kind="stable")
    ranks = np.empty(len(values), dtype=np.float32)
    ranks[order] = np.arange(len(values), dtype=np.float32)
    return ranks


def _bigram_share(question: QuestionView, text_terms: Sequence[str]) -> float:
    """Share of the question's adjacent stem pairs that the text holds as adjacent pairs."""
    pairs = set(pairwise(question.terms))
    if not pairs:
        return float("nan")
    held = set(pairwise(text_terms))
    return len(pairs & held) / len(pairs)


def _names_speaker(label: Sequence[str], question: QuestionView) -> float:
    """1.0 when the question holds a stem of the speaker's label, 0.0 if not (NaN: none)."""
    if not label:
        return float("nan")
    return float(any(matches(stem, question.terms) for stem in label))


def _question_names(question: str) -> set[str]:
    """The question's capitalised words after its first, lowercased."""
    return {w.lower() for w in _WORD.findall(question)[1:] if w[:1].isupper()}


def _names_share(names: set[str], text: str) -> float:
    """Share of the question's capitalised words that the text holds."""
    if not names:
        return float("nan")
    lowered = text.lower()
    return sum(n in lowered for n in names) / len(names)
