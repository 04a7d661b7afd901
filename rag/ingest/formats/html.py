"""Saved web pages -> the main text as blocks, with the page's own metadata (trafilatura).

trafilatura drops navigation, cookie banners, footers and share buttons, and reads the
title, publication date, canonical URL and author from the page's metadata. Its XML
output keeps the structure: headings, paragraphs, lists and tables.
"""

from __future__ import annotations

import trafilatura
from lxml import etree

from rag.ingest.formats.blocks import Extracted, TextBuilder, Unreadable, clean_line
from rag.types import SourceMeta


def read_html(raw: bytes) -> Extracted:
    """Extract a web page's main content and metadata.

    Raises:
        Unreadable: the page has no main text.

    """
    xml = trafilatura.extract(
        raw,
        output_format="xml",
        include_tables=True,
        include_comments=False,
        with_metadata=True,
        favor_precision=True,  # also drops share and "read more" links inside the article
        # the date from the page's markup only: a year found in the text is no publication date
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if not xml:
        raise Unreadable("a web page with no main text found")
    root = etree.fromstring(xml.encode("utf-8"))
    builder = TextBuilder()
    main = root.find("main")
    for element in main if main is not None else ():
        if element.tag == "head":
            builder.block(_text(element), heading=True)
        elif element.tag == "list":
            builder.block("\n".join(_text(item) for item in element.iter("item")))
        elif element.tag == "table":
            builder.block(_table_text(element))
        else:
            builder.block(_text(element))
    meta = SourceMeta(
        title=clean_line(root.get("title") or ""),
        date=root.get("date") or "",
        url=root.get("url") or "",
        author=clean_line(root.get("author") or ""),
    )
    return builder.build(meta)


def _text(element: etree._Element) -> str:
    return clean_line(" ".join("".join(element.itertext()).split("\n")))


def _table_text(table: etree._Element) -> str:
    """One line per row, cells separated by " | "."""
    rows = (
        " | ".join(text for cell in row.iter("cell") if (text := _text(cell)))
        for row in table.iter("row")
    )
    return "\n".join(row for row in rows if row)
