"""Answer stage: question + Passages -> Answer with exact, numbered Citations.

The extractive answerer needs no language model: it quotes the sentences of the
retrieved passages that best cover the question's content words (weighted by
how rare each word is in the corpus) and cites each one. It abstains when the
evidence is weak: a low dense score, or (for Swedish questions, whose words the
Swedish passages should share) question words the passages never use.

Each quote also takes the sentence after the one that matched, since the answer
often follows it ("…pekar ut fyra områden." "Det handlar om …"), and the sentence
before one that opens with a pronoun ("Hon har arbetat …" needs who "hon" is); a
question that asks for a number needs a quote with a number the question does not
already hold.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from rag.answer.about import ABOUT, ArticleKey
from rag.answer.evidence import (
    Asked,
    Names,
    asked_value,
    counted_noun,
    holds_value,
    name_after,
    only_pending,
)
from rag.answer.features import opens_with_pronoun
from rag.ingest.documents import CREDIT
from rag.ingest.sentences import MIN_SENTENCE_WORDS, sentence_spans
from rag.retrieve.glossary import swedish_words
from rag.retrieve.lexical import QUESTION_WORDS, TermWeights, looks_english, matches, terms
from rag.retrieve.parts import question_parts
from rag.types import Answer, Chunk, Citation, Passage

LEAD_MIN_WORDS = 8  # shorter opening lines are bylines and datelines, not the lead
# Opening lines that list people rather than say what the article is about.
_BYLINE = re.compile(r"^\W*\w+( \w+)?:", re.I)
# Words that join two subjects: the question may draw on several articles.
_ACROSS_ARTICLES = re.compile(r"\b(och|samt|respektive|både|båda|två|olika|and|both|two)\b", re.I)
_QUESTION_WORD = f"({'|'.join(QUESTION_WORDS)})"
# "När och hur …", "when and where …": one subject asked two ways, not two subjects.
_JOINED_QUESTION_WORDS = re.compile(
    rf"\b{_QUESTION_WORD}\s*(,|och|samt|and|&)\s*{_QUESTION_WORD}\b", re.I
)

# Words naming the kind of text ("i blogginlägget om …"), which the text rarely uses itself.
_DOCUMENT_WORDS = frozenset(terms("blogginlägg inlägg artikel text krönika"))

# A question asking for a summary draws on several passages.
_SUMMARY = re.compile(
    rf"{ABOUT.pattern}|\b(sammanfatta|beskriv|summari[sz]e|describe|summary)", re.I
)

# "Vilken paragraf …", "Vem var samtalsledare …", "Which agency …": the noun asked about.
_FOCUS = re.compile(
    r"^\W*(?:vilke[nt]|vilka|which|what|vem (?:var|är|blir|blev)|who (?:is|was))\s+"
    r"(?:\w+\s+)??(\w{4,})",
    re.I,
)

NO_ANSWER = (
    "Jag hittar inget i källorna som besvarar frågan. Formulera gärna om frågan, "
    "eller fråga om något som artiklarna tar upp."
)

# Content words of a question weighed against each passage: four times the most of any
# eval question, so an allowed 2,000-character question costs about what a normal one does.
MAX_QUESTION_TERMS = 48


@dataclass(frozen=True)
class AnswerPolicy:
    """Tunable knobs of extractive answering."""

    min_score: float = 0.80  # dense cosine below which we abstain outright
    confident_score: float = 0.86  # dense cosine above which weak word overlap is tolerated
    min_coverage: float = 0.5  # share of the question's word weight the passages must contain
    max_sentences: int = 3
    quote_floor: float = 0.5  # further quotes need this share of the best quote's coverage
    candidate_passages: int = 3  # passages whose sentences are always quotable
    close_score: float = 0.03  # further passages this close to the best dense cosine too
    rank_penalty: float = 0.04  # sentence score lost per rank of its passage
    credit_penalty: float = 0.3  # sentence score lost by photo captions and credits
    per_part: bool = True  # a question asking two things gets a quote for each
    part_covered: float = 0.5  # a part counts as answered when quotes hold this share of it
    about_lead: bool = True  # "Vad handlar artikeln om?" quotes the article's opening first
    same_article: bool = True  # further quotes only from the best quote's article
    max_window_chars: int = 400  # quote the following sentence too while the pair fits this
    antecedent: bool = True  # a quote opening with a pronoun starts one sentence earlier
    says_more: bool = True  # a quote must hold a content word the question does not
    max_answer_chars: int = 700
    focus_weight: float = 2.0  # weight of the noun a "Vilken X …?" / "Vem var X …?" asks about
    refuse_pending: bool = True  # no answer when the best quote says the outcome is pending
    lead_chars: int = 500  # an article's lead quotes its opening sentences up to this length
    place_bonus: float = 0.3  # score added to a quote naming a place, for "Var …?"
    named_focus: float = 0.5  # score added to a sentence naming that noun ("systemet Stratsys")
    spare_names: int = 1  # names (of three or more) the quoted articles may leave unmentioned
    # Once the best quote holds this share of the question's word weight, a quote from a
    # passage not cited yet must add at least `min_gain` of it (else it is context, not answer).
    answered_share: float = 0.5
    min_gain: float = 0.1
    # The same for a narrow question (not a summary, not joining subjects): its answer is
    # one place in the text, and a quote from elsewhere is more often beside the point.
    narrow_answered_share: float = 0.3
    narrow_min_gain: float = 0.3
    # Weight of the question's names when scoring a sentence: the article must mention
    # them (`_about_named`), but the sentence that answers need not ("Hälsningar Anna
    # Burston" names her and says nothing of what was asked).
    name_weight: float = 0.5
    # Once the best quote holds the one value asked for ("Hur många …", "Var …"), further
    # quotes only from its passage: other passages hold other numbers and places. Not for
    # a question joining subjects ("… 2022 och 2023?"): it asks for a value per subject.
    value_alone: bool = True


@dataclass(frozen=True)
class _Question:
    """What the answerer reads from a question, worked out once per answer."""

    text: str
    terms: list[str]  # content stems, each once
    names: list[str]  # stems of the names in it
    asked: Asked | None  # the kind of value it asks for
    parts: list[list[str]]  # content stems of each sub-question, when it asks two things
    focus: str | None  # stem of the noun the question asks about ("Vilken paragraf …")
    across: bool  # it joins two subjects ("A och B"), so may draw on several articles
    broad: bool  # it joins subjects or asks for a summary: several passages answer it


@dataclass(frozen=True)
class _Candidate:
    passage: Passage
    start: int  # (start, end) char offsets into the source file
    end: int
    coverage: float
    score: float
    pending: bool = False  # its sentence only says the outcome is not known yet


class ExtractiveAnswerer:
    """Quotes the best-supported sentences of the passages, each with its citation."""

    def __init__(
        self,
        weights: TermWeights,
        policy: AnswerPolicy = AnswerPolicy(),
        names: Names | None = None,
        leads: Mapping[ArticleKey, Chunk] | None = None,
    ) -> None:
        self._weights = weights
        self.policy = policy
        self._names = names
        self._leads = leads or {}  # each article's opening chunk (`rag.answer.about.article_leads`)

    def answer(self, question: str, passages: Sequence[Passage]) -> Answer:
        """Compose an answer, or abstain when the passages do not support one."""
        across = _joins_subjects(question)
        parsed = _Question(
            question,
            list(dict.fromkeys(terms(question)))[:MAX_QUESTION_TERMS],
            self._names.in_question(question) if self._names else [],
            asked_value(question),
            [
                list(dict.fromkeys(terms(part)))[:MAX_QUESTION_TERMS]
                for part in question_parts(question)
            ],
            focus_of(question),
            across,
            across or bool(_SUMMARY.search(question)),
        )
        if self._abstains(parsed, passages):
            return Answer(question, NO_ANSWER, True, (), tuple(passages))
        chosen = self._choose(parsed, passages)
        if not chosen:
            return Answer(question, NO_ANSWER, True, (), tuple(passages))
        passages = [*passages, *{c.passage: None for c in chosen if c.passage not in passages}]
        citations = tuple(
            Citation(
                n=n,
                passage=c.passage,
                quote=_quote(c),
                start=c.start,
                end=c.end,
            )
            for n, c in enumerate(chosen, start=1)
        )
        text = " ".join(f"{citation.quote} [{citation.n}]" for citation in citations)
        return Answer(question, text, False, citations, tuple(passages))

    def coverage(
        self,
        question_terms: Sequence[str],
        text_terms: Sequence[str],
        focus: str | None = None,
        names: Sequence[str] = (),
    ) -> float:
        """Share of the question's word weight found in `text_terms` (1.0 for no content words).

        The `focus` stem, when given, weighs `policy.focus_weight` times its rarity; the
        `names`, `policy.name_weight` times.
        """
        weights = [
            self._weights.idf(t)
            * (self.policy.focus_weight if t == focus else 1.0)
            * (self.policy.name_weight if t in names else 1.0)
            for t in question_terms
        ]
        total = sum(weights)
        if total == 0:
            return 1.0
        found = (w for t, w in zip(question_terms, weights, strict=True) if matches(t, text_terms))
        return sum(found) / total

    def _abstains(self, question: _Question, passages: Sequence[Passage]) -> bool:
        if not passages:
            return True
        dense = _best_dense(passages)
        if dense is not None and dense < self.policy.min_score:
            return True
        if question.asked is Asked.COUNT and counted_noun(question.text):
            return False  # only a quote with "<number> <that noun>" will do: see _choose
        if looks_english(question.text):  # cross-lingual: its domain terms' Swedish words
            checked = terms(swedish_words(question.text))
        else:  # names are checked against whole articles (_about_named)
            checked = [t for t in question.terms if t not in question.names]
        checked = [t for t in checked if t not in _DOCUMENT_WORDS]
        pooled = [t for p in passages for t in terms(p.chunk.embed_text)]
        covered = self.coverage(checked, pooled)
        confident = dense is not None and dense >= self.policy.confident_score
        return covered < self.policy.min_coverage and not confident

    def _choose(self, question: _Question, passages: Sequence[Passage]) -> list[_Candidate]:
        candidates = self._candidates(question, passages)
        if question.asked is Asked.NAME:
            candidates = _named_first(question, candidates)
        elif question.asked is Asked.PLACE:  # a place is preferred, not required
            bonus = self.policy.place_bonus
            candidates = [
                replace(c, score=c.score + bonus) if _holds(question, c) else c for c in candidates
            ]
        elif question.asked is not None:
            candidates = [c for c in candidates if _holds(question, c)]
        if self.policy.says_more:
            candidates = [c for c in candidates if _says_more(question, c)]
        candidates = self._about_named(question, sorted(candidates, key=lambda c: -c.score))
        if not candidates:
            return []
        floor = max(self.policy.quote_floor * candidates[0].coverage, 1e-9)
        lead = self._lead(question, passages)
        if lead is not None:
            candidates = [lead, *candidates]
        best = candidates[0]
        if self.policy.refuse_pending and best.pending and question.asked is None:
            return []  # a value asked for and found is an answer, whatever else it says
        chosen = [best, *self._per_part(question, candidates, best)]
        length = sum(c.end - c.start for c in chosen)
        answered = (
            self.policy.value_alone
            and not question.across
            and question.asked is not None
            and _holds(question, best)
        )
        for candidate in candidates:  # best first, the rest by score
            if len(chosen) >= self.policy.max_sentences:
                break
            size = candidate.end - candidate.start
            if candidate in chosen or candidate.coverage < floor:
                continue
            if (
                self.policy.same_article
                and not question.across
                and candidate.passage.chunk.source != best.passage.chunk.source
            ):
                continue
            if length + size > self.policy.max_answer_chars:
                continue
            if answered and candidate.passage.chunk.id != best.passage.chunk.id:
                continue
            if self._adds_too_little(question, chosen, candidate):
                continue
            chosen.append(candidate)
            length += size
        return _merge_adjacent(
            sorted(chosen, key=lambda c: (c is not lead, c.passage.rank, c.start))
        )

    def _adds_too_little(
        self, question: _Question, chosen: Sequence[_Candidate], candidate: _Candidate
    ) -> bool:
        """Whether `candidate`, from a passage not cited yet, adds too little to an answer.

        Only once the best quote covers `answered_share` of the question (a narrow
        question: `narrow_answered_share`): until then a further quote may hold the
        answer in words the question does not use.
        """
        share, gain = (
            (self.policy.answered_share, self.policy.min_gain)
            if question.broad
            else (self.policy.narrow_answered_share, self.policy.narrow_min_gain)
        )
        if chosen[0].coverage < share:
            return False
        if any(c.passage.chunk.id == candidate.passage.chunk.id for c in chosen):
            return False
        quoted = [t for c in chosen for t in terms(_quote(c))]
        before = self.coverage(question.terms, quoted)
        after = self.coverage(question.terms, [*quoted, *terms(_quote(candidate))])
        return after - before < gain

    def _lead(self, question: _Question, passages: Sequence[Passage]) -> _Candidate | None:
        """The opening of the top passage's article, when the question asks what it is about."""
        if not self.policy.about_lead or not ABOUT.search(question.text) or not passages:
            return None
        top = min(passages, key=lambda p: p.rank).chunk
        chunk = self._leads.get((top.source, top.title))
        if chunk is None:
            return None
        passage = next(
            (p for p in passages if p.chunk.id == chunk.id),
            Passage(chunk, rank=len(passages) + 1, score=0.0),
        )
        spans = list(sentence_spans(chunk.text, chunk.start))
        for index, (start, end) in enumerate(spans):
            sentence = _slice(passage, start, end)
            if len(sentence.split()) < LEAD_MIN_WORDS or _BYLINE.match(sentence):
                continue
            last = index
            while last + 1 < len(spans) and spans[last + 1][1] - start <= self.policy.lead_chars:
                last += 1
            end = max(spans[last][1], self._window_end(passage, spans, index))
            coverage = self.coverage(question.terms, terms(_slice(passage, start, end)))
            return _Candidate(passage, start, end, coverage, score=float("inf"))
        return None

    def _per_part(
        self, question: _Question, candidates: list[_Candidate], best: _Candidate
    ) -> list[_Candidate]:
        """For a question asking two things, the best quote for each part `best` misses."""
        if len(question.parts) < 2 or not self.policy.per_part:
            return []
        extra: list[_Candidate] = []
        for part in question.parts:
            quoted = [best, *extra]
            text_terms = [t for c in quoted for t in terms(_quote(c))]
            if self.coverage(part, text_terms) >= self.policy.part_covered:
                continue
            scored = [
                (self.coverage(part, terms(_quote(c))), c) for c in candidates if c not in quoted
            ]
            penalty = self.policy.rank_penalty
            if scored:
                coverage, pick = max(scored, key=lambda s: s[0] - penalty * s[1].passage.rank)
                if coverage > 0:
                    extra.append(pick)
        return extra

    def _about_named(self, question: _Question, candidates: list[_Candidate]) -> list[_Candidate]:
        """Candidates (best-supported first) about the names in the question.

        The best quote must come from an article that mentions every name; further
        quotes from articles that mention some. A question across articles ("…i
        panelen 2021 och i GD-panelen") may instead draw on several articles that
        together mention every name.
        """
        names = question.names
        if not names or self._names is None:
            return candidates
        mentioned = {id(c): self._names.mentioned(c.passage.chunk, names) for c in candidates}
        needed = len(names) - (self.policy.spare_names if len(names) >= 3 else 0)
        partial = [c for c in candidates if mentioned[id(c)]]
        complete = [c for c in partial if len(mentioned[id(c)]) >= needed]
        if complete:
            return [complete[0], *(c for c in partial if c is not complete[0])]
        covered = {name for c in partial for name in mentioned[id(c)]}
        return partial if question.across and len(covered) >= needed else []

    def _candidates(self, question: _Question, passages: Sequence[Passage]) -> list[_Candidate]:
        best = _best_dense(passages)
        pooled = {
            p
            for p in passages
            if p.rank <= self.policy.candidate_passages
            or (
                best is not None
                and p.dense_score is not None
                and p.dense_score >= best - self.policy.close_score
            )
        }
        found: dict[tuple[str, int, int], _Candidate] = {}  # one per file span: chunks overlap
        for passage in passages:
            if passage not in pooled and not question.focus:
                continue  # beyond the pool only a sentence naming the asked noun counts
            chunk = passage.chunk
            spans = list(sentence_spans(chunk.text, chunk.start))
            for index, (start, end) in enumerate(spans):
                key = (chunk.source, start, end)
                sentence = _slice(passage, start, end)
                if key in found or len(sentence.split()) < MIN_SENTENCE_WORDS:
                    continue
                named = question.focus is not None and name_after(
                    question.focus, sentence, question.text
                )
                if passage not in pooled and not named:
                    continue
                coverage = self.coverage(
                    question.terms, terms(sentence), question.focus, question.names
                )
                credit = self.policy.credit_penalty if CREDIT.search(sentence) else 0.0
                score = coverage - self.policy.rank_penalty * (passage.rank - 1) - credit
                first = self._window_start(passage, spans, index)
                last = self._window_end(passage, spans, index)
                found[key] = _Candidate(
                    passage,
                    first,
                    last,
                    coverage,
                    score + (self.policy.named_focus if named else 0.0),
                    only_pending(_slice(passage, first, last), question.text),
                )
        return list(found.values())

    def _window_start(self, passage: Passage, spans: list[tuple[int, int]], index: int) -> int:
        """Start of the quote anchored at sentence `index`: earlier when it opens with a pronoun.

        The sentence before joins the quote when the pair is short enough and it is
        prose, not a credit line: "Hon leder arbetet." alone does not say who.
        """
        start, end = spans[index]
        if not self.policy.antecedent or index == 0:
            return start
        if not opens_with_pronoun(_slice(passage, start, end)):
            return start
        previous_start, _ = spans[index - 1]
        return (
            previous_start
            if self._joins(passage, spans[index - 1], end - previous_start)
            else start
        )

    def _window_end(self, passage: Passage, spans: list[tuple[int, int]], index: int) -> int:
        """End of the quote anchored at sentence `index`: the answer often follows the match.

        The following sentence joins the quote when the pair is short enough and it is
        prose, not a credit line or a heading.
        """
        start, end = spans[index]
        if index + 1 == len(spans):
            return end
        _, next_end = spans[index + 1]
        return next_end if self._joins(passage, spans[index + 1], next_end - start) else end

    def _joins(self, passage: Passage, neighbour: tuple[int, int], pair_chars: int) -> bool:
        """Whether a neighbouring sentence joins a quote: the pair fits, and it is prose."""
        sentence = _slice(passage, *neighbour)
        return (
            pair_chars <= self.policy.max_window_chars
            and len(sentence.split()) >= MIN_SENTENCE_WORDS
            and not CREDIT.search(sentence)
        )


def focus_of(question: str) -> str | None:
    """Stem of the noun `question` asks about, if it asks "which X" or "who was X".

    The sentence that answers names it ("Samtalsledare Petra West Stenkvist") more often
    than the sentences that merely share the question's other words.
    """
    match = _FOCUS.search(question)
    stems = terms(match.group(1)) if match else []
    return stems[0] if stems else None


def _holds(question: _Question, candidate: _Candidate) -> bool:
    """Whether the quote holds a value of the kind the question asks for."""
    quote = _quote(candidate)
    return question.asked is not None and holds_value(question.asked, quote, question.text)


def _named_first(question: _Question, candidates: list[_Candidate]) -> list[_Candidate]:
    """Quotes giving the asked name outrank the rest; none at all means no answer.

    Only the best quote must hold the name: the others may say more about it ("Vad heter
    utredningen, och vad är hennes invändning?").
    """
    named = [c for c in candidates if _holds(question, c)]
    if not named:
        return []
    return [replace(c, score=c.score + 1.0) for c in named] + [
        c for c in candidates if c not in named
    ]


def _says_more(question: _Question, candidate: _Candidate) -> bool:
    """Whether the quote holds a content word the question lacks.

    "Monica Persson, ordförande FSS" says nothing that "Vem efterträdde Monica Persson som
    ordförande i FSS?" does not.
    """
    quote = _quote(candidate)
    return any(not matches(t, question.terms) for t in terms(quote))


def _joins_subjects(question: str) -> bool:
    """Whether the question joins two subjects ("A och B"), so may draw on several articles."""
    return bool(_ACROSS_ARTICLES.search(_JOINED_QUESTION_WORDS.sub(" ", question)))


def _best_dense(passages: Sequence[Passage]) -> float | None:
    scores = [p.dense_score for p in passages if p.dense_score is not None]
    return max(scores) if scores else None


def _quote(candidate: _Candidate) -> str:
    return _slice(candidate.passage, candidate.start, candidate.end)


def _slice(passage: Passage, start: int, end: int) -> str:
    chunk = passage.chunk
    return chunk.text[start - chunk.start : end - chunk.start]


def _merge_adjacent(candidates: list[_Candidate]) -> list[_Candidate]:
    """Join quotes that overlap or follow each other in the same passage into one."""
    merged: list[_Candidate] = []
    for candidate in candidates:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and previous.passage is candidate.passage
            and (
                candidate.start <= previous.end
                or not _slice(candidate.passage, previous.end, candidate.start).strip()
            )
        ):
            merged[-1] = _Candidate(
                previous.passage,
                previous.start,
                max(previous.end, candidate.end),
                max(previous.coverage, candidate.coverage),
                max(previous.score, candidate.score),
            )
        else:
            merged.append(candidate)
    return merged
