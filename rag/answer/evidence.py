"""Evidence checks that word overlap misses: the asked kind of value, and the named subject.

Near-miss questions name someone the articles mention and ask what they never say
("Vad tjänar Harry Lönnebacke?", "Hur många invånare har Lund?"). A quote that merely
shares words with them is not an answer, so the answerer only quotes sentences that

- hold a value of the asked kind: a count of the asked thing for "hur många X" (a number
  right before X: "19 medlemmar"), a year for "vilket år", a clock time for "vilken tid",
  a point in time (date, month, season, year) for "när", an amount of money for "vad
  kostar", a length of time for "hur länge" (or when it ends: "till 2028"), a share for
  "hur stor andel", an age for "hur gammal", a number that is no date or year for "hur
  mycket", "hur stor" (and that value is not already in the question), a place for
  "var", a name for "vad heter X" (X followed by a capitalised word, a quoted title or a
  hashtag: "utredningen Ett fönster av möjligheter"), and
- do not merely say that what is asked about is still pending ("Vi inväntar besked om
  vem som blir …" does not answer "Vem blev …?"), and
- come from an article that mentions the names in the question.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from enum import Enum
from functools import lru_cache
from itertools import pairwise

from rag.ingest.dates import MONTHS
from rag.retrieve.glossary import has_swedish_word
from rag.retrieve.lexical import STOPWORDS, looks_english, matches, terms
from rag.types import Chunk


class Asked(Enum):
    """The kind of value a question asks for."""

    COUNT = "count"
    YEAR = "year"
    MONEY = "money"
    DURATION = "duration"
    SHARE = "share"
    TIME = "time"  # a time of day: "vilken tid börjar mötet?"
    DATE = "date"  # a point in time: "När hölls …?", "vilket datum"
    AGE = "age"  # "Hur gammal är …?", "How old is …?"
    NUMBER = "number"  # some number, kind unknown (e.g. "hur stor", "hur mycket")
    NAME = "name"  # "Vad heter utredningen …?", "What is the name of …?"
    PLACE = "place"  # "Var …?", "Från vilka kommuner …?", "Which city …?"


_ASKS: tuple[tuple[Asked, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        (Asked.SHARE, r"\b(hur stor (andel|del)|hur många procent|what (share|percentage))\b"),
        (Asked.TIME, r"\b(vilken tid|vilket klockslag|vilka klockslag|hur dags|"
                     r"när på dagen|what time|at what time)\b"),
        (Asked.DATE, r"^\W*(när|when)\b|"
                     r"\b(vilket datum|vilka datum|vilken dag|what dates?|which dates?)\b"),
        (Asked.YEAR, r"\b(vilket år|vilka år|what year|which year|in what year)\b"),
        (Asked.MONEY, r"\b(vad (kostar|kostade|tjänar|tjänade)|hur mycket (pengar|kostar)|"
                      r"hur många (miljoner |miljarder )?kronor|"
                      r"how many (million |billion )?(kronor|crowns|sek)|"
                      r"how much (does|did|money)|what does .* (cost|earn)|"
                      r"vilken budget|hur stor (är )?budget\w*|"
                      r"(what|how big) (is|was) .*budget)\b"),
        (Asked.DURATION, r"\b(hur (länge|lång tid)|hur många (år|månader|veckor|dagar|timmar)|"
                         r"how long|how many (years|months|weeks|days|hours))\b"),
        (Asked.AGE, r"\b(hur gammal|how old)\b"),
        (Asked.NUMBER, r"\b(hur (stor|mycket)|how much)\b"),
        (Asked.COUNT, r"\b(hur många|how many|antal(et)?)\b"),
        (Asked.PLACE, r"^\W*(var|where)\b|\b(where|vilken (stad|kommun|ort)|"
                      r"vilka (städer|kommuner|orter)|which (city|cities|town|municipalit\w*)|"
                      r"what (city|town))\b"),
        (Asked.NAME, r"\b(vad (heter|hette|kallas|kallades)|vilket namn|"
                     r"what (is|was) the name|what (is|was) .* called)\b"),
    )
)  # fmt: skip
_NUMBER_WORDS = (
    r"två|tre|fyra|fem|sex|sju|åtta|nio|tio|elva|tolv|tretton|fjorton|femton|tjugo|trettio|"
    r"fyrtio|femtio|hundra|tusen|miljon\w*|miljard\w*|dussin|halvt?|halva"
)
_QUANTITY = re.compile(rf"\d+(?:[.,]\d+)?|\b(?:{_NUMBER_WORDS})\b", re.IGNORECASE)
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
# A month written out or cut to three letters ("3 okt", "12–14 mars").
_MONTH = "|".join(sorted({*MONTHS, *(m[:3] for m in MONTHS)}, key=len, reverse=True))
_DATE_OR_TIME = re.compile(
    rf"\b\d{{1,2}}\s*(?:–\s*\d{{1,2}}\s*)?(?:{_MONTH})\b|\b\d{{1,2}}[.:]\d\d\b", re.IGNORECASE
)
_WHEN = re.compile(
    rf"\b({'|'.join(MONTHS)}|måndag\w*|tisdag\w*|onsdag\w*|torsdag\w*|fredag\w*|lördag\w*|söndag\w*|"
    r"vår(en|as)?|höst(en|as)?|sommar(en)?|vinter(n)?|idag|igår|imorgon|nyss|förra|nästa)\b",
    re.IGNORECASE,
)
_CLOCK = re.compile(r"\b(?:kl\.?|klockan)\s*\d{1,2}(?:[.:]\d\d)?\b|\b\d{1,2}[.:]\d\d\b", re.I)
_PERCENT = re.compile(r"(\d+(?:[.,]\d+)?|\b\w+)\s*(%|procent\b)", re.IGNORECASE)
_FRACTION = re.compile(  # "en tredjedel", "två femtedelar"; not any word ending in -del
    r"\b(halv\w*|hälften|(tredje|fjärde|femte|sjätte|sjunde|åtton|nion|tion|tjugon|hundra|tusen)"
    r"del(ar|en|arna)?|kvart\w*|majoritet\w*)\b",
    re.I,
)
_MONEY = re.compile(r"\b(kr|kronor|sek|euro|€|\$|miljon\w* kronor|lön\w*|arvode\w*)\b", re.I)
_TIME_UNIT = re.compile(r"\b(år|års|månad\w*|veck\w*|dag(ar)?|timm\w*|minut\w*|termin\w*)\b", re.I)
_TOKEN = re.compile(r"\w+")
# "58 år gammal", "Olivia Wigzell, 58 år,", "58-årige", "född 1966": an age, or its birth year.
_AGE = re.compile(
    r"\b(\d{1,3})(?:\s+år\s+gammal|-åri\w*|\s+years?\s+old)\b|,\s*(\d{1,3})\s+år\b|"
    r"\b(?:född|born)\s+(?:år\s+)?(\d{4})\b",
    re.I,
)
# "utlovade till 2028", "until 2028": how long, given as when it ends.
_UNTIL_YEAR = re.compile(
    r"\b(?:till|fram till|t\.o\.m\.|until|through)\s+(?:år\s+)?(\d{4})\b", re.I
)
# "Mellan vilka klockslag …", "between what times": a start and an end.
_TIME_RANGE = re.compile(r"\b(mellan vilka (klockslag|tider)|between what times)\b", re.I)


def asked_value(question: str) -> Asked | None:
    """The kind of value `question` asks for, or None when it asks for no number."""
    for kind, pattern in _ASKS:
        if pattern.search(question):
            return kind
    return None


def holds_value(kind: Asked, quote: str, question: str) -> bool:
    """Whether `quote` holds a value of `kind` that the question does not already give."""
    given = {m.group(0).lower() for m in _QUANTITY.finditer(question)}

    def new(values: Iterable[str]) -> bool:
        return any(v.lower() not in given for v in values)

    if kind is Asked.YEAR:
        return new(m.group(0) for m in _YEAR.finditer(quote))
    if kind is Asked.TIME:
        times = {m.group(0).lower() for m in _CLOCK.finditer(quote)} - given
        return len(times) >= (2 if _TIME_RANGE.search(question) else 1)
    if kind is Asked.DATE:
        points = (_YEAR, _DATE_OR_TIME, _CLOCK, _WHEN)
        return new(m.group(0) for pattern in points for m in pattern.finditer(quote))
    if kind is Asked.SHARE:
        return bool(_FRACTION.search(quote)) or new(m.group(1) for m in _PERCENT.finditer(quote))
    if kind is Asked.AGE:
        return new(next(g for g in m.groups() if g) for m in _AGE.finditer(quote))
    if kind is Asked.MONEY:
        return bool(_MONEY.search(quote)) and new(_quantities(quote))
    if kind is Asked.DURATION:
        spans = bool(_TIME_UNIT.search(quote)) and new(_quantities(quote, with_years=True))
        return spans or new(m.group(1) for m in _UNTIL_YEAR.finditer(quote))
    if kind is Asked.NAME:
        return names_named(quote, question)
    if kind is Asked.PLACE:
        given = _words_of(question)
        return any(
            next(g for g in m.groups() if g).lower() not in given for m in _PLACE.finditer(quote)
        )
    if kind is Asked.COUNT:
        counted = counted_noun(question)
        text = _PERCENT.sub(" ", _DATE_OR_TIME.sub(" ", quote))
        if counted is None:
            return new(_quantities(text))
        words = [m.group(0) for m in _TOKEN.finditer(text)]
        return any(
            _QUANTITY.fullmatch(words[i])
            and not _YEAR.fullmatch(words[i])
            and words[i].lower() not in given
            and any(_same_noun(counted, w) for w in words[i + 1 : i + 1 + _COUNT_REACH])
            for i in range(len(words))
        )
    # "Hur mycket / hur stor": an amount or a size, not a date or a year.
    return new(_quantities(_DATE_OR_TIME.sub(" ", quote)))


# "i Lund", "från Huddinge", "Malmö stad", "hemstad Karlstad": a place name the quote gives.
_PLACE = re.compile(
    r"\b(?:i|på|från|in|at|from)\s+([A-ZÅÄÖ][\w-]+)|\b([A-ZÅÄÖ][\w-]+?)s? (?:stad|kommun)\b|"
    r"\b\w*(?:stad|staden|kommun|kommunen|orten)\s+([A-ZÅÄÖ][\w-]+)|"
    r"\w \(([A-ZÅÄÖ][a-zåäöé][\w-]*)\)"  # "Petra West Stenkvist (Malmö)", not "(IVO)"
)
# "Vad heter utredningen som …", "Vad heter IVO:s generaldirektör?": the noun named.
# Its last word before a relative clause, a preposition or the end is the head noun.
_NAMED_NOUN = re.compile(
    r"\bvad (?:heter|hette|kallas|kallades)\s+([^?,.;]*?)"
    r"(?=\s+(?:som|om|i|på|för|från|till|av|med|hos|inom|vid|mot|under|efter|och|där|enligt)\b|\s*[?,.;]|\s*$)",
    re.I,
)
# "… som heter Ett fönster", "kallad ”Huset”": a name introduced by the verb.
_NAMING_VERBS = r"heter|hette|kallas|kallad|kallat|kallade|named|called"
_NAMING_VERB = re.compile(rf"\b({_NAMING_VERBS})$", re.I)  # the word before the name
_NAMES_BY_VERB = re.compile(rf"\b({_NAMING_VERBS})\b", re.I)
_QUOTE_MARKS = "\"”“„«'#"  # and a hashtag: "kampanj #SupportSocialCare"
_QUOTED_WORD = re.compile(rf"[{_QUOTE_MARKS}]?[\w:-]+")
_TITLE_START = re.compile(rf"^[{_QUOTE_MARKS}]|^[A-ZÅÄÖ]")


def _words_of(question: str) -> set[str]:
    """The question's words, lowercased: a name or place it already gives is no answer."""
    return {w.lower() for w in _TOKEN.findall(question)}


def names_named(quote: str, question: str) -> bool:
    """Whether `quote` gives a name the question asks for and does not already hold.

    The name follows the asked noun ("utredningen Ett fönster av möjligheter") or a
    naming verb ("som heter …"); it starts with a capital letter or a quotation mark.
    Without an asked noun (an English question), any capitalised word within a sentence.
    """
    match = _NAMED_NOUN.search(question)
    noun = terms(match.group(1).split()[-1]) if match and match.group(1).strip() else []
    return name_after(noun[0] if noun else None, quote, question)


def name_after(noun: str | None, quote: str, question: str) -> bool:
    """Whether `quote` writes a name the question lacks right after `noun` (a stem) or "heter".

    "ledningssystemet Stratsys" names the "ledningssystem"; with no noun, any name counts.
    """
    if noun is not None and noun not in quote.lower() and not _NAMES_BY_VERB.search(quote):
        return False  # a stem is part of its word: neither the noun nor "heter" is there
    given = _words_of(question)
    for before, word in pairwise(_QUOTED_WORD.finditer(quote)):
        bare = word.group(0).strip(_QUOTE_MARKS)
        gap = quote[before.end() : word.start()]
        if not _TITLE_START.match(word.group(0)) or bare.lower() in given or gap.strip(" ,\xa0"):
            continue  # not capitalised, already asked, or across a sentence's end
        named = before.group(0)
        if noun is None or _NAMING_VERB.search(named) or any(noun in t for t in terms(named)):
            return True
    return False


_COUNT_REACH = 3  # "19 medlemmar", "nio olika myndigheter", "omkring tusen personer"
_COUNTED = re.compile(r"\b(?:hur många|antal(?:et)?)\s+(\w+)", re.IGNORECASE)
# The same people are counted under other names: "hur många människor" is answered by
# "tusen personer", "invånare" by the corpus's spelling "innevånare", and by a verb:
# "hur många bor …" by "invånare", "hur många kom" by "besökare".
_SAME_PEOPLE = tuple(
    frozenset(terms(words))
    for words in (
        "personer människor folk besökare kom",
        "invånare innevånare medborgare bor bosatta",
        "anställda medarbetare personal jobbade arbetade",
        "deltagare deltog",
    )
)


def counted_noun(question: str) -> str | None:
    """The stem of the Swedish noun a "hur många X" question counts, if any.

    A quote holding "<number> X" is then direct evidence, whatever other words it shares.
    """
    match = _COUNTED.search(question)
    stems = terms(match.group(1)) if match else []
    return stems[0] if stems else None


def _same_noun(counted: str, word: str) -> bool:
    stems = terms(word)
    if not stems:
        return False
    return matches(counted, stems) or any(
        counted in group and stems[0] in group for group in _SAME_PEOPLE
    )


def _quantities(text: str, with_years: bool = False) -> list[str]:
    found = [m.group(0) for m in _QUANTITY.finditer(text)]
    return found if with_years else [q for q in found if not _YEAR.fullmatch(q)]


# A sentence saying the outcome is not known yet, and a question asking about plans.
_PENDING = re.compile(
    r"\b(inväntar|påbörja[rs]?|återstår att se|vi får se|får vi se|ännu inte|"
    r"inte (är )?klart|inte bestämt|not yet|yet to be|remains to be seen)\b",
    re.IGNORECASE,
)
_ASKS_AHEAD = re.compile(
    r"\b(ska|skall|kommer|planer\w*|väntas|inväntar|will|going to|plan\w*|expected)\b", re.I
)


def only_pending(quote: str, question: str) -> bool:
    """Whether `quote` only says that what the question asks about is not known yet.

    "Nu kommer FSS att påbörja remissvaret" does not say what the reply said; it answers
    "Vad ska FSS göra?" though, so a question about plans is never refused this way.
    """
    return bool(_PENDING.search(quote)) and not _ASKS_AHEAD.search(question)


class Names:
    """Proper names of the corpus, and which articles mention which words.

    A word is a name when the corpus writes it capitalised mid-sentence more often
    than not ("Nordmaling", "Lund", "FSS"); a capitalised word in the question that is
    not its first word counts as a name too, so names the corpus lacks are caught.
    """

    def __init__(self, chunks: Sequence[Chunk], chunk_terms: Sequence[Sequence[str]]) -> None:
        written: Counter[str] = Counter()  # each form as written, counted in C
        for chunk in chunks:
            written.update(_MID_SENTENCE_WORD.findall(chunk.text))
        capitalised: Counter[str] = Counter()
        lower: Counter[str] = Counter()
        for word, count in written.items():
            (capitalised if word[0].isupper() else lower)[word.lower()] += count
        self._names = frozenset(
            w for w, n in capitalised.items() if n > lower[w] and w not in STOPWORDS
        )
        articles: dict[tuple[str, str], list[str]] = defaultdict(list)
        for chunk, stems in zip(chunks, chunk_terms, strict=True):
            articles[(chunk.source, chunk.title)].extend(stems)
        self._articles = {key: sorted(set(stems)) for key, stems in articles.items()}
        self.__setstate__(self.__getstate__())

    def __getstate__(self) -> dict[str, object]:
        """What is saved with the lexical data: names and articles, not the cache of lookups."""
        return {"_names": self._names, "_articles": self._articles}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        # A question's candidate quotes come from a few articles: each (article, name) is
        # checked once (a miss scans every stem of the article, fuzzily).
        self._mentions = lru_cache(maxsize=65_536)(self._mentions_name)

    def in_question(self, question: str) -> list[str]:
        """Stems of the names in `question`.

        In an English question only the corpus's own names count, as written capitalised
        and not a domain term: its other capitalised words are mostly Swedish names put
        into English ("the House model", "the eHealth Agency", "the Council for …"), which
        no Swedish article mentions as written, and a lowercase word is no name ("social
        services", though the corpus names a "European Social Services Conference").
        """
        english = looks_english(question)

        def is_name(position: int, word: str) -> bool:
            known = word.lower() in self._names
            if english:
                return known and word[0].isupper() and not has_swedish_word(word)
            return known or (position > 0 and word[0].isupper())  # as names, known or not

        words = [m.group(0) for m in _TOKEN.finditer(question)]
        found = [
            w
            for i, w in enumerate(words)
            if w.lower() not in STOPWORDS and len(w) > 1 and not w.isdigit() and is_name(i, w)
        ]
        return list(dict.fromkeys(t for w in found for t in terms(w)))

    def mentioned(self, chunk: Chunk, names: Sequence[str]) -> list[str]:
        """The `names` that the article holding `chunk` mentions."""
        return [name for name in names if self._mentions(chunk.source, chunk.title, name)]

    def _mentions_name(self, source: str, title: str, name: str) -> bool:
        article = self._articles.get((source, title), [])
        return matches(name, article) or any(t.startswith(name) for t in article)


# A word not at the start of a sentence, a line or a quote: its case says whether it is a name.
_MID_SENTENCE_WORD = re.compile(r"(?<=[\w,;)] )(\w+)")
