"""Ingest stage: seeds folder -> SourceFiles -> Documents (articles with sections and offsets).

The seed files are web pages saved as plain text, several articles one after
another with no explicit separator. An article starts at a one-line heading
that follows a *trailer*: the block that closes the previous article (a
sign-off such as "Varma hälsningar", a "PS:", photo/text credits, a contact
e-mail, or a "Läs …"/"Hämta …" link line). Any other one-line heading starts a
section of the current article, as does a heading that only repeats words of
the current title (an article announcing its own parts). Markdown files use
their `#` headings instead: `# ` starts an article, deeper levels a section.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.errors import CorpusError
from rag.types import Document, SourceFile, Span

SUPPORTED_SUFFIXES = (".txt", ".md")
MAX_HEADING_CHARS = 100
MAX_FILE_BYTES = 5_000_000  # default of RAG_MAX_FILE_BYTES

_SIGNOFF = re.compile(r"hälsningar|^PS:", re.IGNORECASE | re.MULTILINE)
# Photo captions and credits: they name people and places but say nothing.
CREDIT = re.compile(
    r"©|\((foto|bild):|^(Text|Foto|Film|Dokumentation|Illustrationer):",
    re.IGNORECASE | re.MULTILINE,
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
_CALL_TO_ACTION = re.compile(r"^(Läs |Hämta |Här kan du |Välkommen!)", re.MULTILINE)
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class _Block:
    """A run of consecutive non-blank lines; `start`/`end` are offsets into the file text."""

    start: int
    end: int
    text: str

    @property
    def is_single_line(self) -> bool:
        return "\n" not in self.text


def load_sources(
    seeds_dir: Path, max_bytes: int = MAX_FILE_BYTES
) -> tuple[list[SourceFile], list[str]]:
    """Read every supported file under `seeds_dir`, each distinct content once.

    Returns:
        The decoded files sorted by name, and "name: reason" lines for files skipped
        (other formats, binary, invalid UTF-8, empty, over `max_bytes`, duplicates, links
        out of the folder).

    Raises:
        CorpusError: the folder does not exist, is not a folder or cannot be listed.

    """
    if not seeds_dir.is_dir():
        raise CorpusError(
            f"Seeds folder {seeds_dir} does not exist or is not a folder: create it with "
            ".txt/.md articles or set RAG_SEEDS_DIR."
        )
    root = seeds_dir.resolve()
    try:
        found = sorted(seeds_dir.rglob("*"))
        paths = [p for p in found if p.is_file()]
        linked_folders = [p for p in found if p.is_symlink() and p.is_dir()]
    except OSError as exc:
        raise CorpusError(
            f"Cannot list the seeds folder {seeds_dir} ({exc.strerror}): check its permissions "
            "or set RAG_SEEDS_DIR."
        ) from exc
    sources: list[SourceFile] = []
    skipped: list[str] = []
    seen: dict[str, str] = {}  # content sha256 -> name of the file indexed with it
    for folder in linked_folders:  # rglob does not follow them: say so instead of skipping
        name = folder.relative_to(seeds_dir).as_posix()
        if not (name.startswith(".") or "/." in name):
            skipped.append(f"{name}: a linked folder (links to folders are not followed)")
    for path in paths:
        name = path.relative_to(seeds_dir).as_posix()
        if name.startswith(".") or "/." in name:
            continue
        source, reason = _read_source(path, name, root, max_bytes)
        if source is None:
            skipped.append(f"{name}: {reason}")
        elif source.sha256 in seen:
            skipped.append(f"{name}: same content as {seen[source.sha256]} (indexed once)")
        else:
            seen[source.sha256] = name
            sources.append(source)
    return sources, skipped


def _read_source(
    path: Path, name: str, root: Path, max_bytes: int
) -> tuple[SourceFile | None, str]:
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        return None, "not a .txt or .md file"
    try:
        if not path.resolve().is_relative_to(root):
            return None, "a link to a file outside the seeds folder"
        size = path.stat().st_size
        if size > max_bytes:
            return None, f"too large ({size} bytes; RAG_MAX_FILE_BYTES={max_bytes})"
        raw = path.read_bytes()
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror})"
    if b"\x00" in raw:
        return None, "binary content"
    try:
        text = raw.decode("utf-8-sig")  # newlines kept as-is so offsets match the file
    except UnicodeDecodeError as exc:
        return None, f"not valid UTF-8 (byte {exc.start})"
    if not text.strip():
        return None, "empty"
    return SourceFile(name=name, text=text, sha256=hashlib.sha256(raw).hexdigest()), ""


def split_articles(source: SourceFile) -> list[Document]:
    """Split one source file into its articles, each with titled sections."""
    blocks = list(_blocks(source.text))
    if not blocks:
        return []
    markdown = source.name.lower().endswith(".md")
    groups: list[list[_Block]] = [[blocks[0]]]
    for previous, block in itertools.pairwise(blocks):
        title = _heading_text(groups[-1][0], markdown) or ""
        if _starts_article(previous, block, title, markdown):
            groups.append([block])
        else:
            groups[-1].append(block)
    return [
        _document(source.name, group, position, markdown) for position, group in enumerate(groups)
    ]


def _starts_article(previous: _Block, block: _Block, current_title: str, markdown: bool) -> bool:
    if markdown:
        match = _MD_HEADING.match(block.text)
        return bool(match and len(match.group(1)) == 1)
    heading = _heading_text(block, markdown)
    if heading is None or not _is_trailer(previous):
        return False
    return not _echoes_title(heading, current_title)


def _document(source: str, group: list[_Block], position: int, markdown: bool) -> Document:
    first = group[0]
    title = _heading_text(first, markdown)
    body = group[1:] if title is not None else group
    if title is None:  # no heading: name the article after its first line
        title = first.text.split("\n", 1)[0].strip()[:MAX_HEADING_CHARS]
    sections: list[Span] = []
    heading = ""
    current: list[_Block] = []
    for block in body:
        block_heading = _heading_text(block, markdown)
        if block_heading is not None:
            if current:
                sections.append(Span(heading, current[0].start, current[-1].end))
                heading, current = block_heading, []
            else:  # consecutive headings (e.g. a subtitle): keep both as the section's name
                heading = f"{heading} › {block_heading}" if heading else block_heading
        else:
            current.append(block)
    if current:
        sections.append(Span(heading, current[0].start, current[-1].end))
    return Document(
        source=source,
        title=title,
        start=first.start,
        end=group[-1].end,
        sections=tuple(sections),
        position=position,
    )


def _blocks(text: str) -> Iterator[_Block]:
    """Yield runs of non-blank lines with their exact offsets (trailing spaces trimmed)."""
    for match in re.finditer(r"[^\r\n]*\S[^\r\n]*(?:\r?\n[^\r\n]*\S[^\r\n]*)*", text):
        raw = match.group(0)
        lead = len(raw) - len(raw.lstrip())
        trimmed = raw.strip()
        start = match.start() + lead
        yield _Block(start=start, end=start + len(trimmed), text=trimmed.replace("\r\n", "\n"))


def _heading_text(block: _Block, markdown: bool) -> str | None:
    """The heading a block stands for, or None when it is body text."""
    if not block.is_single_line:
        return None
    line = block.text.strip()
    if markdown:
        match = _MD_HEADING.match(line)
        return match.group(2) if match else None
    if not 2 <= len(line) <= MAX_HEADING_CHARS or line[-1] in ".:,;!":
        return None
    if not (line[0].isupper() or line[0].isdigit()):
        return None
    if CREDIT.search(line) or _SIGNOFF.search(line) or _CALL_TO_ACTION.match(line):
        return None
    return line


def _is_trailer(block: _Block) -> bool:
    """True when a block reads like the end of an article."""
    text = block.text
    return bool(
        _SIGNOFF.search(text)
        or CREDIT.search(text)
        or _EMAIL.search(text)
        or _CALL_TO_ACTION.match(text)
    )


def _echoes_title(heading: str, title: str) -> bool:
    """True when every longer word of `heading` occurs in `title` (a part the title announced)."""
    words = [w for w in _WORD.findall(heading.lower()) if len(w) > 3]
    lowered = title.lower()
    return bool(words) and all(w in lowered for w in words)


def load_documents(
    seeds_dir: Path, max_bytes: int = MAX_FILE_BYTES
) -> tuple[list[SourceFile], list[Document], list[str]]:
    """Read the seeds folder (files up to `max_bytes`) and split every file into articles.

    Raises:
        CorpusError: the folder is missing or holds no readable article.

    """
    sources, skipped = load_sources(seeds_dir, max_bytes)
    if not sources:
        detail = f" (skipped: {'; '.join(skipped)})" if skipped else ""
        raise CorpusError(
            f"No readable .txt or .md article in {seeds_dir}{detail}. "
            "Add UTF-8 text files or set RAG_SEEDS_DIR."
        )
    documents = [doc for source in sources for doc in split_articles(source)]
    return sources, documents, skipped
