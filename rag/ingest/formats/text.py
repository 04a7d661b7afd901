"""Plain text and Markdown: UTF-8, with optional front matter giving the source's metadata.

Front matter is a block of `key: value` lines between two `---` lines at the very start
(title, date, url, author); it is metadata, not article text, so it is left out.
"""

from __future__ import annotations

import re

from rag.ingest.formats.blocks import Extracted, Unreadable
from rag.types import SourceMeta

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n((?:[^\n]*\n){0,40}?)---[ \t]*(?:\r?\n|\Z)")
_FIELD = re.compile(r"^\s*(title|date|url|author)\s*:\s*(.*?)\s*$", re.IGNORECASE | re.MULTILINE)


def read_text(raw: bytes) -> Extracted:
    """Decode a UTF-8 text file (newlines kept as they are) and read its front matter.

    Raises:
        Unreadable: binary content or invalid UTF-8.

    """
    if b"\x00" in raw:
        raise Unreadable("binary content")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unreadable(f"not valid UTF-8 (byte {exc.start})") from exc
    match = _FRONT_MATTER.match(text)
    if match is None:
        return Extracted(text)
    fields = {key.lower(): value.strip("\"'") for key, value in _FIELD.findall(match.group(1))}
    return Extracted(text[match.end() :], meta=SourceMeta(**fields))
