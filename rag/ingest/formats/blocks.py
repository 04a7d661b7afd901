"""Extracted text as blank-line separated blocks, with the offsets of headings and pages."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.types import SourceMeta

# Typographic ligatures a PDF font may map one glyph to; readers search for the letters.
_LIGATURES = str.maketrans(
    {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st", "\u00ad": ""}
)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u3000]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_HYPHENATED = re.compile(r"\b(\w*[a-zåäöéü])-$")
_CONJUNCTIONS = frozenset(("och", "eller", "samt", "respektive", "till", "som", "and", "or", "to"))


def clean_line(text: str) -> str:
    """One line of extracted text: ligatures spelled out, soft hyphens dropped, spaces single."""
    return _SPACES.sub(" ", text.translate(_LIGATURES)).strip()


def clean_block(text: str) -> str:
    """A block's lines cleaned, with no blank line inside (a blank line ends a block)."""
    lines = (clean_line(line) for line in _BLANK_LINES.sub("\n", text).split("\n"))
    return "\n".join(line for line in lines if line)


class Unreadable(ValueError):
    """A file that cannot be indexed; the message is the reason, for the ingest report."""


def join_lines(lines: list[str]) -> str:
    """The wrapped lines of a paragraph as one line, with a line-end hyphen read in context.

    "social-" + "tjänsten" is one hyphenated word; "e-" + "hälsa" keeps its hyphen (a
    one- or two-letter prefix); "vård-" + "och omsorg" is a shortened compound.
    """
    text = lines[0]
    for line in lines[1:]:
        hyphen = _HYPHENATED.search(text)
        shortened = line.split(" ", 1)[0] in _CONJUNCTIONS  # "vård- och omsorg"
        if hyphen is None or not line[:1].islower() or shortened:
            text = f"{text} {line}"
        elif len(hyphen.group(1)) <= 2:
            text += line
        else:
            text = text[:-1] + line
    return text


@dataclass(frozen=True)
class Extracted:
    """What a format reader found in a file: text, heading and page offsets, metadata."""

    text: str
    headings: tuple[int, ...] = ()  # start offsets of heading blocks in `text`
    pages: tuple[int, ...] = ()  # start offset of each page in `text` (page 1 at 0)
    meta: SourceMeta = field(default_factory=SourceMeta)
    ocr: bool = False  # read from page images by text recognition


class TextBuilder:
    """Appends blocks to one text, separated by a blank line, remembering where things start."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self._headings: list[int] = []
        self._pages: list[int] = []
        self._pages_pending = 0  # pages begun whose first text is not written yet

    def block(self, text: str, heading: bool = False) -> None:
        """Add a block (cleaned; nothing is added when it is empty)."""
        text = clean_block(text)
        if not text:
            return
        if self._length:
            self._append("\n\n")
        self._start_pages()
        if heading:
            self._headings.append(self._length)
        self._append(text)

    def extend(self, text: str) -> None:
        """Continue the last block with `text` after a space (a paragraph over a page break)."""
        text = clean_block(text)
        if not text:
            return
        if not self._length:
            self.block(text)
            return
        self._append(" ")
        self._start_pages()
        self._append(text)

    def page(self) -> None:
        """Begin a new page: it starts where the next text is written."""
        self._pages_pending += 1

    def build(self, meta: SourceMeta | None = None) -> Extracted:
        """The text with its heading and page offsets (pages with no text start at the end)."""
        self._start_pages()
        return Extracted(
            "".join(self._parts), tuple(self._headings), tuple(self._pages), meta or SourceMeta()
        )

    def _start_pages(self) -> None:
        self._pages.extend([self._length] * self._pages_pending)
        self._pages_pending = 0

    def _append(self, text: str) -> None:
        self._parts.append(text)
        self._length += len(text)
