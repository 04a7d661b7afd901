"""Messages that ask nothing of the articles: greetings, thanks, "which articles are there?".

Retrieving for such a message quotes a sentence that happens to share a word with it
("Hej!" once answered "Här hittar du bilder för nedladdning! [1]"). Instead it gets a
short reply saying what the chat does; a question about the sources lists the articles.
Only whole messages of these few words are read so: "Hej, hur många invånare har
Nordmaling?" is a question like any other.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from rag.retrieve.lexical import looks_english
from rag.types import Article

# The words a message of pure courtesy is made of, and which kind of reply each asks for.
_SWEDISH_COURTESY = {"hej", "hejsan", "hallå", "tja", "tjena", "tjenare", "morsning", "god",
                     "morgon", "dag", "eftermiddag", "kväll", "där", "tack", "tackar", "tusen",
                     "så", "mycket", "ok", "okej", "bra", "toppen", "perfekt", "fint", "super",
                     "kanon", "då", "adjö", "vi", "ses"}  # fmt: skip
_ENGLISH_COURTESY = {"hello", "hi", "hey", "good", "morning", "afternoon", "evening", "there",
                     "thanks", "thank", "you", "thx", "ty", "many", "very", "much", "okay",
                     "great", "nice", "cool", "bye", "goodbye", "see", "ya"}  # fmt: skip
_COURTESY = _SWEDISH_COURTESY | _ENGLISH_COURTESY
_GREETINGS = {"hej", "hejsan", "hallå", "tja", "tjena", "tjenare", "morsning", "god", "hello",
              "hi", "hey", "good"}  # fmt: skip
_THANKS = {"tack", "tackar", "thanks", "thank", "thx", "ty"}
_FAREWELLS = {"då", "adjö", "ses", "bye", "goodbye"}
# Questions about the chat or its sources, asked as a whole message.
_ABOUT_SOURCES = re.compile(
    r"^(?:vilka|vad för|what|which) (?:artiklar|källor|texter|dokument|articles|sources|"
    r"documents|texts)(?: (?:finns(?: det)?|har (?:du|ni)|kan (?:du|ni) svara på|"
    r"do you have|are there|can you answer))?$|"
    r"^vad kan (?:du|ni)(?: (?:svara på|hjälpa (?:mig |oss )?med|göra))?$|"
    r"^what can you (?:do|answer|help (?:me |us )?with)$|"
    r"^(?:vad|vem) är (?:du|ni)$|^(?:what|who) are you$|^hjälp$|^help$"
)
_WORD = re.compile(r"[^\W\d_]+")
SHOWN_ARTICLES = 20  # a longer list names this many and how many more


def is_small_talk(message: str) -> bool:
    """Whether the message asks nothing of the articles (courtesy, or about the chat)."""
    words, about_sources = _read(message)
    return about_sources or set(words) <= _COURTESY


def _read(message: str) -> tuple[set[str], bool]:
    """The message's words, and whether it asks what the chat or its sources cover."""
    words = _WORD.findall(message.lower())
    return set(words), bool(_ABOUT_SOURCES.match(" ".join(words)))


def small_talk_reply(message: str, indexed: Callable[[], Sequence[Article]]) -> str | None:
    """The reply to a message that asks nothing of the articles, None for a real question.

    `indexed` gives the indexed articles in file order (read only for a reply): the reply
    says how many there are, and a question about the sources lists their titles and dates.
    """
    words, about_sources = _read(message)
    if not about_sources and not words <= _COURTESY:
        return None  # a real question: the articles are not read
    articles = indexed()
    english = looks_english(message) or bool(words and words <= _ENGLISH_COURTESY)
    if about_sources:
        return _sources(articles, english)
    example = _example(articles, english)
    if words & _FAREWELLS:
        opening = "Goodbye!" if english else "Hej då!"
    elif words & _THANKS:
        opening = "You're welcome!" if english else "Varsågod!"
    elif words and not words & _GREETINGS:
        opening = "Good." if english else "Bra."
    else:
        opening = "Hello!" if english else "Hej!"
    if english:
        return (
            f"{opening} I answer questions about {len(articles)} Swedish articles on social "
            f"services, quoting and citing them. Ask, for example: {example}"
        )
    return (
        f"{opening} Jag svarar på frågor om {len(articles)} artiklar om socialtjänst och "
        f"citerar källan till varje svar. Fråga till exempel: {example}"
    )


def _example(articles: Sequence[Article], english: bool) -> str:
    """A question the user could ask: what the first article is about."""
    title = articles[0].document.title if articles else ""
    if english:
        return f"What is “{title}” about?" if title else "What are the articles about?"
    return f"Vad handlar ”{title}” om?" if title else "Vad handlar artiklarna om?"


def _sources(articles: Sequence[Article], english: bool) -> str:
    """The indexed articles in one sentence: their titles and dates."""
    if not articles:
        return "No articles are indexed yet." if english else "Inga artiklar är indexerade ännu."
    named = [
        f"”{a.document.title}”" + (f" ({a.date.text})" if a.date is not None else "")
        for a in articles[:SHOWN_ARTICLES]
    ]
    more = len(articles) - SHOWN_ARTICLES
    if more > 0:
        named.append(f"and {more} more" if english else f"och {more} till")
    opening = "I answer from" if english else "Jag svarar utifrån"
    noun = "articles" if english else "artiklar"
    return f"{opening} {len(articles)} {noun}: {'; '.join(named)}."
