"""PDF with a text layer -> blocks with page offsets (pypdf, BSD licence).

pypdf gives each piece of text with its position and font size. Lines are grouped into
paragraphs by layout: a paragraph ends where the gap to the next line is clearly wider
than the page's usual line pitch, or the font size changes. A paragraph in a larger font
than the body text, or a short bold line, is a heading. Words hyphenated at a line end
are joined, running page numbers dropped, and a paragraph that runs over a page break
is kept whole (the next page starts inside it). A PDF without a text layer (a scan) is
read by OCR when tesseract is installed (`rag.ingest.formats.ocr`).
"""

from __future__ import annotations

import io
import itertools
import logging
import re
import statistics
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError, PyPdfError

from rag.ingest.formats.blocks import Extracted, TextBuilder, Unreadable, clean_line, join_lines
from rag.ingest.formats.ocr import read_scanned
from rag.types import SourceMeta

_PAGE_NUMBER = re.compile(r"^\W*(sida|page|s\.)?\s*\d{1,4}(\s*(av|of|/)\s*\d{1,4})?\W*$", re.I)
_SENTENCE_END = re.compile(r"[.!?:;”\"»)]$")
_PARAGRAPH_GAP = 1.35  # a gap this many line pitches wide ends a paragraph
_HEADING_MAX_CHARS = 150

# pypdf logs each repair of a damaged file; the ingest report gives one line per file instead
logging.getLogger("pypdf").setLevel(logging.ERROR)


@dataclass
class _Line:
    y: float  # baseline height on the page (PDF user space: larger is higher)
    size: float  # font size in points
    bold: bool
    text: str


def read_pdf(raw: bytes) -> Extracted:
    """Extract a PDF's text page by page.

    Raises:
        Unreadable: damaged, encrypted with a password, or no page has a text layer.

    """
    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted and not reader.decrypt(""):
            raise Unreadable("an encrypted PDF (it needs a password)")
        pages = [_page_lines(page) for page in reader.pages]
        info = reader.metadata
    except (DependencyError, FileNotDecryptedError, NotImplementedError) as exc:
        raise Unreadable(f"an encrypted PDF that cannot be opened ({exc})") from exc
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError) as exc:
        if isinstance(exc, Unreadable):
            raise
        raise Unreadable(f"a damaged PDF ({type(exc).__name__}: {exc})") from exc
    builder = TextBuilder()
    if not any(line.text for lines in pages for line in lines):  # scanned: read the images
        for recognised in read_scanned(reader.pages):
            builder.page()
            for paragraph in recognised:
                builder.block(paragraph)
        return replace(builder.build(_meta(info)), ocr=True)
    open_paragraph = False  # the last block may continue on the next page
    for lines in pages:
        builder.page()
        paragraphs = _paragraphs(_without_page_numbers(lines))
        for index, (text, heading) in enumerate(paragraphs):
            if index == 0 and open_paragraph and not heading and text[:1].islower():
                builder.extend(text)
            else:
                builder.block(text, heading)
        if paragraphs:
            last, heading = paragraphs[-1]
            open_paragraph = not heading and not _SENTENCE_END.search(last)
    return builder.build(_meta(info))


def _page_lines(page: Any) -> list[_Line]:
    """The page's text lines, in reading order, with position, size and weight."""
    lines: list[_Line] = []
    current: _Line | None = None

    def visit(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        nonlocal current
        pieces = text.split("\n")
        for number, piece in enumerate(pieces):
            if number and current is not None:  # pypdf saw a line change
                lines.append(current)
                current = None
            if not piece:
                continue
            if current is None:
                scale = abs(tm[3] * cm[3]) or 1.0
                name = str((font or {}).get("/BaseFont", ""))
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                current = _Line(y, round(size * scale, 1), "bold" in name.lower(), piece)
            else:
                current.text += piece

    page.extract_text(visitor_text=visit)
    if current is not None:
        lines.append(current)
    kept = []
    for line in lines:
        line.text = clean_line(line.text)
        if line.text:
            kept.append(line)
    return kept


def _without_page_numbers(lines: list[_Line]) -> list[_Line]:
    """The lines without a running page number as the page's first or last line."""
    while lines and _PAGE_NUMBER.match(lines[-1].text):
        lines = lines[:-1]
    while lines and _PAGE_NUMBER.match(lines[0].text):
        lines = lines[1:]
    return lines


def _paragraphs(lines: list[_Line]) -> list[tuple[str, bool]]:
    """Group a page's lines into (paragraph text, is heading)."""
    if not lines:
        return []
    weights: Counter[float] = Counter()
    for line in lines:
        weights[line.size] += len(line.text)
    body = weights.most_common(1)[0][0]
    gaps = [
        a.y - b.y
        for a, b in itertools.pairwise(lines)
        if a.size == b.size == body and a.y - b.y > 0
    ]
    pitch = statistics.median(gaps) if gaps else None
    widest = max(len(line.text) for line in lines)
    groups: list[list[_Line]] = [[lines[0]]]
    for previous, line in itertools.pairwise(lines):
        if pitch is not None:
            gap = previous.y - line.y
            ends = gap > _PARAGRAPH_GAP * pitch or gap < 0 or abs(line.size - previous.size) > 0.5
        else:  # no usable positions: a short line ending a sentence ends a paragraph
            ends = bool(_SENTENCE_END.search(previous.text)) and len(previous.text) < 0.8 * widest
        ends = ends or previous.bold != line.bold
        if ends:
            groups.append([line])
        else:
            groups[-1].append(line)
    return [
        (join_lines([line.text for line in group]), _is_heading(group, body)) for group in groups
    ]


def _is_heading(group: list[_Line], body: float) -> bool:
    text = " ".join(line.text for line in group)
    if len(text) > _HEADING_MAX_CHARS or len(group) > 3:
        return False
    larger = all(line.size > body + 0.5 for line in group)
    bold = len(group) == 1 and group[0].bold and not text.endswith(".")
    return larger or bold


def _meta(info: Any) -> SourceMeta:
    """Title and author from the PDF's document information, when it has them.

    Its creation date is left out: it tells when the file was made (often a print of an
    older page), not when the text was written, and the age warning must not trust it.
    """
    if info is None:
        return SourceMeta()
    return SourceMeta(
        title=clean_line(str(info.title or "")), author=clean_line(str(info.author or ""))
    )
