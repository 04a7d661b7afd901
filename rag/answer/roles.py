"""Text roles: what part of an article a sentence is (body, heading, byline, caption …).

Web articles carry more than their text: headings, bylines and credits ("Text: …",
"Föreläsare: …"), photo captions ("… (foto: Frozentime)"), sign-offs ("Varma hälsningar
Anna"), contact and download lines ("Hämta presentationen", addresses) and asides ("PS:
…"). An answer's claims come from the body; the other roles answer only questions that
ask for them (who wrote it, who took the photos, how to get in touch). The cues are
general ones of Swedish and English web text (position on its own line, length,
punctuation, a "Label:" opening, greetings, e-mail and web addresses), not names of
this corpus.
"""

from __future__ import annotations

import re
from typing import Literal

Role = Literal["body", "heading", "byline", "caption", "signature", "contact", "aside"]
ROLES: tuple[Role, ...] = ("body", "heading", "byline", "caption", "signature", "contact", "aside")
# Roles that credit people rather than say anything: quoted only when a question asks who.
CREDIT_ROLES: frozenset[Role] = frozenset({"byline", "caption", "signature"})

_CAPTION = re.compile(r"\((?:foto|bild|photo|ill)\w*[:.]|\b(?:foto|bild|photo)\s*:|©", re.I)
_CONTACT = re.compile(
    r"https?://|www\.|\S+@\S+\.\w+|^\W*(?:hämta|ladda ner|läs mer|klicka|anmäl|kontakt|"
    r"se (?:hela|filmen|intervju\w*|presentation\w*)|download|read more|click|contact)\b",
    re.I,
)
_GREETING = re.compile(
    r"^\W*(?:(?:varma|vänliga|bästa|många|kärleksfulla)\s+)?(?:hälsningar|hälsning)\b|"
    r"^\W*med vänlig hälsning|^\W*(?:kind|best|warm)\s+regards\b|^\W*(?:hälsar|mvh)\b",
    re.I,
)
_ASIDE = re.compile(r"^\W*p\.?\s?s\.?\b", re.I)
# "Text: Jenny Asp, …", "Föreläsare: …", "Moderator: …": a one- or two-word label, then names.
_LABEL = re.compile(r"^\W*([A-ZÅÄÖ][\wåäö-]*(?:\s[\wåäö-]+)?)\s*:\s*(.*)$", re.S)
_BYLINE_LABEL = re.compile(
    r"^(?:text|av|foto|bild|film|föreläsare|föreläsarna|moderator|samtalsledare|intervju|"
    r"skribent|författare|medverkande|talare|dokumentation|illustration\w*|redaktör|"
    r"by|author|speakers?|photo|illustrations?|editor)$",
    re.I,
)
_NAME_AND_TITLE = re.compile(r"^[A-ZÅÄÖ][\wåäöé-]+(?:\s[A-ZÅÄÖ][\wåäöé-]+)+\s*,\s")
_CAPITALISED = re.compile(r"\b[A-ZÅÄÖ][\wåäöé-]+")
_WORD = re.compile(r"\w+")
_END = re.compile(r"[.!…:;,]\W*$")  # a heading ends in none of these ("?" it may)
MAX_SIGN_OFF_WORDS = 30  # a sign-off's title line, unpunctuated, is at most this long
_LIST_ITEM = re.compile(r"^\s*(?:[•\-–*]|\d+[.)])\s")  # a list line is body text


def sentence_role(text: str, own_line: bool, after_greeting: bool = False) -> Role:
    """The role of one sentence.

    Args:
        text: The sentence.
        own_line: It fills its line alone (nothing else on the lines it spans).
        after_greeting: The sentence before it is a greeting ("Varma hälsningar").

    """
    words = _WORD.findall(text)
    if _ASIDE.search(text):
        return "aside"
    if _GREETING.search(text):
        return "signature"
    if after_greeting and own_line and _sign_off_line(text, words):
        return "signature"  # the name, then a title line ("Verksamhetschef inom …")
    credit = _CAPTION.search(text)
    if credit and (credit.start() >= 0.6 * len(text) or len(words) <= 12):
        return "caption"  # a credit inside a long sentence leaves it body text
    label = _LABEL.match(text)
    if label and _BYLINE_LABEL.match(label.group(1)) and len(words) <= 40:
        return "byline"
    if (
        own_line
        and _NAME_AND_TITLE.match(text)
        and not text.rstrip().endswith(".")
        and len(words) <= 30
    ):
        return "byline"  # "Anna Burston, ordförande FSS Skåneregion och verksamhetschef …"
    if _CONTACT.search(text) and len(words) <= 30:
        return "contact"
    if own_line and len(words) <= 14 and not _END.search(text) and not _LIST_ITEM.match(text):
        return "heading"
    return "body"


def _sign_off_line(text: str, words: list[str]) -> bool:
    """Whether a line after a greeting continues the sign-off: a name, or a title line."""
    if len(words) <= 12 and _mostly_names(text, words):
        return True
    unpunctuated = not _END.search(text) and not text.rstrip().endswith("?")
    return unpunctuated and len(words) <= MAX_SIGN_OFF_WORDS


def _mostly_names(text: str, words: list[str]) -> bool:
    """Whether most words are capitalised or short function words (a name, a title)."""
    return len(_CAPITALISED.findall(text)) * 2 >= len(words)


def span_roles(file_text: str, spans: list[tuple[int, int]]) -> list[Role]:
    """The role of each sentence span (in file order) of `file_text`."""
    roles: list[Role] = []
    previous_greeting = False
    previous_end = -1
    for start, end in spans:
        text = file_text[start:end]
        own_line = _line_start(file_text, start) and _line_end(file_text, end)
        role = sentence_role(text, own_line, previous_greeting)
        same_line = previous_end >= 0 and "\n" not in file_text[previous_end:start]
        if roles and roles[-1] == "byline" and same_line and _NAME_AND_TITLE.match(text):
            role = "byline"  # "Föreläsare: A, chef. B, enhetschef." names more people
        previous_end = end
        roles.append(role)
        previous_greeting = bool(_GREETING.search(text)) or (
            previous_greeting and role == "signature"
        )
    return roles


def _line_start(text: str, start: int) -> bool:
    before = text[max(0, start - 200) : start]
    return start == 0 or before.rstrip(" \t").endswith("\n") or not before.strip(" \t")


def _line_end(text: str, end: int) -> bool:
    after = text[end : end + 200]
    stripped = after.lstrip(" \t")
    return not stripped or stripped.startswith("\n") or stripped.startswith("\r")
