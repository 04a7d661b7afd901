"""Word documents (.docx) -> blocks: headings by paragraph style, tables as text (python-docx)."""

from __future__ import annotations

import io
import zipfile

import docx
from docx.document import Document as WordDocument
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from docx.text.paragraph import Paragraph

from rag.ingest.formats.blocks import Extracted, TextBuilder, Unreadable, clean_line
from rag.types import SourceMeta

_HEADING_STYLES = ("heading", "rubrik", "title", "subtitle", "underrubrik")


def read_docx(raw: bytes, max_unpacked_bytes: int) -> Extracted:
    """Extract a .docx file's paragraphs and tables in document order.

    Raises:
        Unreadable: not a valid .docx, or its parts unpack to more than
            `max_unpacked_bytes` (a zip bomb).

    """
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            if unpacked > max_unpacked_bytes:
                raise Unreadable(
                    f"unpacks to {unpacked} bytes, over the limit of {max_unpacked_bytes} "
                    "(a zip bomb?)"
                )
            if "word/document.xml" not in archive.namelist():
                raise Unreadable("a ZIP archive, not a Word document")
        document = docx.Document(io.BytesIO(raw))
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError) as exc:
        if isinstance(exc, Unreadable):
            raise
        raise Unreadable(f"a damaged Word document ({type(exc).__name__}: {exc})") from exc
    builder = TextBuilder()
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            builder.block(item.text, heading=_is_heading(item))
        elif isinstance(item, Table):
            builder.block(_table_text(item))
    return builder.build(_meta(document))


def _is_heading(paragraph: Paragraph) -> bool:
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    return style.lower().startswith(_HEADING_STYLES)


def _table_text(table: Table) -> str:
    """One line per row, cells separated by " | " (a merged cell once)."""
    rows = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = clean_line(cell.text.replace("\n", " "))
            if text and (not cells or cells[-1] != text):
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return "\n".join(rows)


def _meta(document: WordDocument) -> SourceMeta:
    """Title and author from the document's properties (its dates say when the file was saved)."""
    properties = document.core_properties
    return SourceMeta(
        title=clean_line(properties.title or ""), author=clean_line(properties.author or "")
    )
