"""Ingest stage: a file's bytes -> its text, read by what the content is, not by its name.

Supported: plain text and Markdown (UTF-8), PDF with a text layer, Word (.docx) and saved
web pages (.html). A file whose name says one format but whose content is another is read
by its content, with a note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.ingest.formats.blocks import Extracted, Unreadable
from rag.types import SourceKind

SUFFIX_KINDS: dict[str, SourceKind] = {
    ".txt": "text",
    ".md": "markdown",
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
}
__all__ = ["SUFFIX_KINDS", "SUPPORTED_SUFFIXES", "Read", "Unreadable", "read_file", "sniff"]

SUPPORTED_SUFFIXES = tuple(SUFFIX_KINDS)
_HTML_START = re.compile(
    rb"\A\s*(<!--.*?-->\s*|<\?xml[^>]*>\s*)*<(!doctype\s+html|html|head|body)\b", re.I | re.S
)
_KIND_NAMES = {
    "text": "plain text",
    "markdown": "Markdown",
    "pdf": "a PDF",
    "docx": "a Word document",
    "html": "a web page",
}


@dataclass(frozen=True)
class Read:
    """A file's extracted content, what it was read as, and a note when its name misled."""

    extracted: Extracted
    kind: SourceKind
    note: str = ""


def sniff(raw: bytes) -> SourceKind | None:
    """The format the bytes hold: "pdf", "docx", "html", "text", or None (other binary)."""
    head = raw[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if raw.startswith(b"PK\x03\x04"):
        return "docx"
    if _HTML_START.match(raw[:4096].lstrip(b"\xef\xbb\xbf")):
        return "html"
    if b"\x00" in raw[:65536]:
        return None
    return "text"


def read_file(suffix: str, raw: bytes, max_unpacked_bytes: int) -> Read:
    """Read a file's bytes by their content; `suffix` (".pdf", …) only names the expectation.

    Raises:
        Unreadable: the content is no supported format, or its reader failed (the reason).

    """
    named = SUFFIX_KINDS[suffix.lower()]
    kind = sniff(raw)
    if kind is None:
        raise Unreadable("binary content of an unsupported type")
    if kind == "text" and named == "markdown":
        kind = "markdown"
    note = ""
    if kind != named and not (kind == "text" and named == "markdown"):
        note = f"named {suffix} but holds {_KIND_NAMES[kind]}: read as such"
    try:
        extracted = _extract(kind, raw, max_unpacked_bytes)
    except Unreadable as exc:
        raise Unreadable(f"{exc}" + (f" ({note})" if note else "")) from exc
    return Read(extracted, kind, note)


def _extract(kind: SourceKind, raw: bytes, max_unpacked_bytes: int) -> Extracted:
    """Run the reader of `kind` (each imports its library only when a file needs it)."""
    if kind == "pdf":
        from rag.ingest.formats.pdf import read_pdf

        return read_pdf(raw)
    if kind == "docx":
        from rag.ingest.formats.docx import read_docx

        return read_docx(raw, max_unpacked_bytes)
    if kind == "html":
        from rag.ingest.formats.html import read_html

        return read_html(raw)
    from rag.ingest.formats.text import read_text

    return read_text(raw)
