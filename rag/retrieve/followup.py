"""Follow-up stage: a question plus the conversation so far -> a standalone search query.

With an LLM the model rewrites the question, in Swedish: the sources are Swedish, and
the bundled e5 ranks Swedish passages for an English question far worse (held-out MRR
0.654 in English against 0.894 for the same questions asked in Swedish). An English
question is therefore translated even when it opens a conversation. Without an LLM (or
when it fails) a deterministic rule puts the content words of the last turn's
standalone query in front of a question that leans on it: one with a word pointing back,
one that opens with "och"/"men"/"and", one with at most two content words, or one in
the other language with few content words (`needs_context`). Of a long chain's words the
rarest are carried (by the corpus' word weights; a word it lacks, a typo or
another language's, counts least), so the conversation's subject, named
in its first question, is not crowded out by the later questions' words. A personal
pronoun after a question that asked who is the person the answer named, carried first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from rag.answer.llm import ChatBackend
from rag.answer.prompts import NOT_COVERED, NOT_COVERED_EN, rewrite_messages
from rag.errors import LlmError
from rag.retrieve.lexical import (
    PRONOUNS,
    QUESTION_WORDS,
    STOPWORDS,
    asks_for_people,
    looks_english,
    terms,
)
from rag.types import Turn

_WORD = re.compile(r"\w+", re.UNICODE)
_HYPHENATED = re.compile(r"\w+(?:[-\u2011]\w+)*", re.UNICODE)  # "GD-panelen" is carried whole
# Pronouns, and the words that point back the way they do in a follow-up ("då", "samma").
_REFERRING = PRONOUNS | frozenset("dit då sådan sådant samma its them his her that those".split())
_CONTINUES = frozenset("och men än också även samt and but what how about".split())
# Words that point back to what was said before; "det"/"it" are left out, as they also
# stand in for nothing ("finns det", "is it true that").
_POINTING = _REFERRING - {"det", "it"}
# Personal pronouns: a first question using one names no one ("vad tyckte hon?").
_PERSONAL = frozenset("han hon hen honom henne hans hennes he she him her his they them".split())
# Two or three capitalised words ("Per Sandberg"); inside a sentence (`_PERSON`), a name.
_CAPITALISED = re.compile(r"\b[A-ZÅÄÖ][a-zåäöé]+(?:[ -][A-ZÅÄÖ][a-zåäöé]+){1,2}\b")
_PERSON = re.compile(r"(?<![.!?:]\s)(?<!^)" + _CAPITALISED.pattern)
_PLACE_AT_END = re.compile(r"\b(där|dit|då|there|then)\W*$", re.IGNORECASE)
MIN_STANDALONE_WORDS = 2  # a question of at most this many content words names no subject
MAX_SWITCH_WORDS = 5  # a question in the other language with at most this many leans on the last
MAX_CONTEXT_WORDS = 8  # content words carried over from earlier questions
MAX_BRIDGED = 2  # function words kept between two carried words
MAX_QUERY_CHARS = 300
MAX_TURNS = 6  # earlier turns a follow-up may lean on


def needs_context(question: str, history: Sequence[Turn] = ()) -> bool:
    """Whether `question` cannot be searched on its own words.

    General cues of a follow-up: a word pointing back ("hon", "där", "their"), an opening
    that continues ("och", "and"), too few content words to name a subject, or a switch of
    language from the turn before with few content words.
    """
    words = [w.lower() for w in _WORD.findall(question)]
    content = terms(question)
    if not words or len(content) <= MIN_STANDALONE_WORDS:
        return True
    if words[0] in _CONTINUES or any(w in _POINTING for w in words):
        return True
    return _switched(question, history) and len(content) <= MAX_SWITCH_WORDS


def _switched(question: str, history: Sequence[Turn]) -> bool:
    """Whether `question` is asked in the other language than the turn before."""
    return bool(history) and looks_english(question) != looks_english(history[-1].question)


def context_cues(question: str, history: Sequence[Turn]) -> list[float]:
    """The cues `needs_context` weighs, each on its own (for the learned decision).

    Whether the rule asks for context, a word pointing back, "det"/"it", an opening that
    continues, a switch of language from the turn before.
    """
    words = [w.lower() for w in _WORD.findall(question)]
    return [
        float(needs_context(question, history)),
        float(any(w in _POINTING for w in words)),
        float(bool({"det", "it"} & set(words))),
        float(bool(words) and words[0] in _CONTINUES),
        float(_switched(question, history)),
    ]


# "berätta mer", "något mer?", "tell me more", "what else": more of the same subject.
_MORE = re.compile(
    r"\b(berätta mer|mer om|något mer|vad mer|mer info\w*|mer detaljer|fortsätt|utveckla|"
    r"tell me more|more about|more details?|anything else|what else|go on|elaborate)\b|"
    r"^\W*(och )?(mer|more)\W*$",
    re.IGNORECASE,
)


def asks_for_more(question: str) -> bool:
    """Whether a follow-up asks for more than the last answer said ("berätta mer")."""
    return bool(_MORE.search(question))


def missing_referent(question: str) -> str:
    """The word by which a conversation's first question points to nothing, or "".

    A personal pronoun ("vad tyckte hon?"), or "där"/"dit"/"there" ending the question
    ("Vilka samarbetar där?"); elsewhere "där" often starts a clause ("kommunen där …").
    """
    personal = next((w for w in _WORD.findall(question) if w.lower() in _PERSONAL), "")
    place = _PLACE_AT_END.search(question)
    return personal or (place.group(1) if place else "")


WordWeight = Callable[[str], float]  # a stem's rarity in the corpus (idf; 0 if it lacks it)


def rule_query(question: str, history: Sequence[Turn], weight: WordWeight | None = None) -> str:
    """The standalone query by the deterministic rule (see the module docstring).

    Only the last MAX_TURNS turns count: a conversation of any length costs the same.
    Without `weight` the last carried words are kept.
    """
    history = history[-MAX_TURNS:]
    if not history or not needs_context(question, history):
        return question
    return carried_query(question, history, weight)


def carried_query(question: str, history: Sequence[Turn], weight: WordWeight | None) -> str:
    """`question` with the last turn's standalone words carried in front, needed or not.

    A personal pronoun whose person the last query does not name points to the person
    the last answer named ("vem ledde samtalet?" then "vad har hon för titel?").
    """
    history = history[-MAX_TURNS:]
    if not history:
        return question
    previous = last_query(history, weight)
    person = answered_person(question, history[-1], previous)
    return _carry(f"{person} {previous}" if person else previous, question, weight)


def answered_person(question: str, last: Turn, previous: str) -> str:
    """The first person the last answer names, if `question` points to the one it answered.

    That is when the last turn asked who, `question` has a personal pronoun ("hon",
    "he") and the last query (`previous`) names none of the answer's people (the pronoun
    may be theirs: "per sandberg, vem ska betala?" then "since when has he said so?");
    otherwise "".
    """
    if not last.answer or not asks_for_people(last.question):
        return ""
    if not any(w.lower() in _PERSONAL for w in _WORD.findall(question)):
        return ""
    named = previous.lower()
    if any(m.group(0).lower() in named for m in _CAPITALISED.finditer(last.answer)):
        return ""
    found = _PERSON.search(last.answer)
    return found.group(0) if found else ""


def last_query(history: Sequence[Turn], weight: WordWeight | None) -> str:
    """The query the last turn searched: as recorded, or made again by the rule."""
    last = history[-1]
    return last.searched or rule_query(last.question, history[:-1], weight)


def _carry(previous: str, question: str, weight: WordWeight | None) -> str:
    """`question`, with `previous`'s content words (the rarest, in their order) in front.

    Function words between two carried words stay ("Rådet för styrning med kunskap"), so
    a name that holds them is carried whole.
    """
    own = {w.lower() for w in _HYPHENATED.findall(question)}
    words = _HYPHENATED.findall(previous)
    first: dict[str, int] = {}
    for n, w in enumerate(words):
        if w.lower() not in STOPWORDS and w.lower() not in own and len(w) > 1:
            first.setdefault(w, n)
    carried = list(first.values())
    if weight is not None and len(carried) > MAX_CONTEXT_WORDS:
        rarity = [max((weight(t) for t in terms(words[n])), default=0.0) for n in carried]
        rarest = sorted(range(len(carried)), key=lambda i: (-rarity[i], -i))[:MAX_CONTEXT_WORDS]
        carried = [carried[i] for i in sorted(rarest)]
    carried = carried[-MAX_CONTEXT_WORDS:]
    kept: list[str] = []
    for before, n in zip([None, *carried], carried, strict=False):
        between = words[before + 1 : n] if before is not None else []
        if 0 < len(between) <= MAX_BRIDGED and all(_bridges(w.lower()) for w in between):
            kept.extend(between)
        kept.append(words[n])
    return " ".join([*kept, question])


def _bridges(word: str) -> bool:
    """Whether `word` may stay between two carried words: a function word that does not ask."""
    return word in STOPWORDS and word not in QUESTION_WORDS


def standalone_query(
    question: str,
    history: Sequence[Turn],
    chat: ChatBackend | None,
    weight: WordWeight | None = None,
) -> tuple[str, LlmError | None]:
    """The query to search for `question` after `history`, and the LLM's failure if any.

    With no history a Swedish question is searched as it is; an English one is
    translated when an LLM is configured. An LLM rewrite that fails, is empty or is the
    answer prompt's refusal (no query to search) falls back to the rule; the error is
    returned so the caller can skip the LLM for the answer too.
    """
    if chat is None or not (history or looks_english(question)):
        return rule_query(question, history, weight), None
    try:
        reply = chat.complete(rewrite_messages(question, history))
    except LlmError as exc:
        return rule_query(question, history, weight), exc
    line = next((ln.strip().strip("\"'«»”") for ln in reply.splitlines() if ln.strip()), "")
    if not line or line in (NOT_COVERED, NOT_COVERED_EN):
        return rule_query(question, history, weight), None
    return line[:MAX_QUERY_CHARS], None
