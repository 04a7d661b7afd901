"""Sentence segmentation for Swedish text, with exact character offsets.

sentencex does the segmentation; we repair its one weakness on this corpus,
splits after Swedish abbreviations ("t.ex.", "kl.", "kap.") and before a
lowercase continuation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from sentencex import segment

# Abbreviations after which a period does not end a sentence (lowercase, with the period).
_ABBREVIATIONS = frozenset(
    (
        "t.ex. bl.a. m.m. s.k. d.v.s. dvs. o.s.v. osv. m.fl. ca. kl. kap. st. nr. jfr. resp. "
        "inkl. exkl. fr.o.m. t.o.m. p.g.a. pga. ev. tel. prof. dr. jan. feb. mar. apr. jun. "
        "jul. aug. sep. sept. okt. nov. dec. e.g. i.e. etc. vs."
    ).split()
)
_LINE = re.compile(r"[^\r\n]+")
MIN_SENTENCE_WORDS = 4  # shorter "sentences" are headings or list labels


def sentence_spans(text: str, offset: int = 0) -> Iterator[tuple[int, int]]:
    """Yield (start, end) offsets of the sentences of `text`, shifted by `offset`.

    A blank line ends a sentence, and so does a line break unless the next line
    continues in lowercase;
    whitespace around sentences is excluded, so `text[start - offset:end - offset]`
    is the stripped sentence.
    """
    run: tuple[int, int] | None = None  # (start, end) of consecutive lines forming one unit
    for line in _LINE.finditer(text):
        stripped = line.group(0).lstrip()
        if not stripped.strip():
            continue
        blank_line_before = run is not None and text.count("\n", run[1], line.start()) > 1
        if run is not None and (blank_line_before or not stripped[0].islower()):
            yield from _paragraph_sentences(text[run[0] : run[1]], offset + run[0])
            run = None
        run = (run[0] if run else line.start(), line.end())
    if run is not None:
        yield from _paragraph_sentences(text[run[0] : run[1]], offset + run[0])


def _paragraph_sentences(paragraph: str, offset: int) -> Iterator[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    cursor = 0
    for piece in segment("sv", paragraph):
        start, end = cursor, cursor + len(piece)
        cursor = end
        stripped = piece.strip()
        if not stripped:
            continue
        start += len(piece) - len(piece.lstrip())
        end = start + len(stripped)
        if spans and _continues(paragraph[spans[-1][0] : spans[-1][1]], stripped):
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    for start, end in spans:
        yield offset + start, offset + end


def _continues(previous: str, following: str) -> bool:
    """True when `following` continues the sentence `previous` rather than starting one.

    A lowercase word, a comma or a closing bracket continues it, and so does a bracketed
    aside in lowercase: a quoted title ending in "?" splits nothing ("... ?”, anger").
    """
    aside = following.startswith("(") and following[1:2].islower()
    if following[0].islower() or following[0] in ",;:)" or aside:
        return True
    last_word = previous.rsplit(maxsplit=1)[-1].lower()
    return last_word in _ABBREVIATIONS
