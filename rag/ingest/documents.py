"""Ingest stage: seeds folder -> SourceFiles -> Documents (articles with sections and offsets).

Each file is read by its content (`rag.ingest.formats`): text, Markdown, PDF, Word or a
web page. A PDF, Word document or web page is one article, its sections the headings its
format marks. The plain-text seeds are web pages saved as text, several articles one
after another with no explicit separator. An article starts at a one-line heading
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
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from rag.errors import CorpusError
from rag.ingest.formats import SUPPORTED_SUFFIXES, Unreadable, read_file
from rag.types import Document, SourceFile, SourceMeta, Span

MAX_HEADING_CHARS = 100
MAX_FILE_BYTES = 50_000_000  # default of RAG_MAX_FILE_BYTES
MAX_UNPACKED_BYTES = 200_000_000  # a .docx unpacking to more is refused (a zip bomb)
MAX_SIDECAR_BYTES = 65_536
SIDECAR_SUFFIX = ".meta.json"  # "report.pdf.meta.json" gives report.pdf's title, date, url
DUPLICATE_SHARE = 0.9

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


@dataclass(frozen=True)
class Corpus:
    """The readable files of a seeds folder, and what the ingest report says about the rest."""

    sources: list[SourceFile]  # sorted by name, each distinct text once
    skipped: list[str]  # "name: reason" for files not indexed
    notes: list[str]  # "name: note" for files indexed with a remark (e.g. a misleading name)


def load_sources(
    seeds_dir: Path,
    max_bytes: int = MAX_FILE_BYTES,
    on_file: Callable[[int, int], None] | None = None,
) -> Corpus:
    """Read every supported file under `seeds_dir`, each distinct text once.

    `on_file(done, total)` is called after each file (OCR of a scan can take minutes).

    Skipped, each with its reason: other formats, unreadable content (binary, invalid
    UTF-8, a damaged or encrypted PDF, a PDF without a text layer, a zip bomb), empty
    files, files over `max_bytes`, links out of the folder, and files whose text another
    file already gives (the same bytes, or the same article in another format).

    Raises:
        CorpusError: the folder does not exist, is not a folder or cannot be listed.

    """
    if not seeds_dir.is_dir():
        raise CorpusError(
            f"Seeds folder {seeds_dir} does not exist or is not a folder: create it with "
            "articles (.txt, .md, .pdf, .docx, .html) or set RAG_SEEDS_DIR."
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
    corpus = Corpus([], [], [])
    for folder in linked_folders:  # rglob does not follow them: say so instead of skipping
        name = folder.relative_to(seeds_dir).as_posix()
        if not (name.startswith(".") or "/." in name):
            corpus.skipped.append(f"{name}: a linked folder (links to folders are not followed)")
    duplicates = DuplicateFinder()
    for done, path in enumerate(paths, start=1):
        if on_file is not None:
            on_file(done - 1, len(paths))
        name = path.relative_to(seeds_dir).as_posix()
        if name.startswith(".") or "/." in name or name.endswith(SIDECAR_SUFFIX):
            continue
        try:
            source, note = read_source(path, name, root, max_bytes)
        except Unreadable as exc:
            corpus.skipped.append(f"{name}: {exc}")
            continue
        if (same := duplicates.same_as(source)) is not None:
            corpus.skipped.append(f"{name}: {same} (indexed once)")
            continue
        corpus.sources.append(source)
        if note:
            corpus.notes.append(f"{name}: {note}")
    if on_file is not None:
        on_file(len(paths), len(paths))
    return corpus


def read_source(path: Path, name: str, root: Path, max_bytes: int) -> tuple[SourceFile, str]:
    """Read one file of the seeds folder by its content, with its sidecar metadata.

    Returns the file and a note for the report ("" when there is none).

    Raises:
        Unreadable: the file cannot be indexed (the message says why).

    """
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise Unreadable(f"not a supported format ({', '.join(SUPPORTED_SUFFIXES)})")
    try:
        if not path.resolve().is_relative_to(root):
            raise Unreadable("a link to a file outside the seeds folder")
        size = path.stat().st_size
        if size > max_bytes:
            raise Unreadable(f"too large ({size} bytes; RAG_MAX_FILE_BYTES={max_bytes})")
        raw = path.read_bytes()
    except OSError as exc:
        raise Unreadable(f"cannot be read ({exc.strerror})") from exc
    read = read_file(path.suffix, raw, MAX_UNPACKED_BYTES)
    extracted = read.extracted
    if not extracted.text.strip():
        raise Unreadable("empty")
    source = SourceFile(
        name=name,
        text=extracted.text,
        sha256=hashlib.sha256(raw).hexdigest(),
        kind=read.kind,
        pages=extracted.pages,
        headings=extracted.headings,
        meta=_with_sidecar(extracted.meta, path),
        ocr=extracted.ocr,
    )
    return source, read.note


def seeds_lookup(seeds_dir: Path, max_bytes: int) -> Callable[[str], SourceFile | None]:
    """File name -> the file read from `seeds_dir` now (None when it cannot be read)."""
    root = seeds_dir.resolve()

    def source_of(name: str) -> SourceFile | None:
        try:
            return read_source(seeds_dir / name, name, root, max_bytes)[0]
        except Unreadable:
            return None

    return source_of


def _with_sidecar(meta: SourceMeta, path: Path) -> SourceMeta:
    """`meta` with the fields a sidecar `<file>.meta.json` sets (they win over the file's own)."""
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    try:
        if not sidecar.is_file() or sidecar.stat().st_size > MAX_SIDECAR_BYTES:
            return meta
        fields = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return meta
    if not isinstance(fields, dict):
        return meta
    known = {k: str(v).strip() for k, v in fields.items() if k in SourceMeta.__dataclass_fields__}
    return replace(meta, **{k: v for k, v in known.items() if v})


class DuplicateFinder:
    """Recognises a file whose text an earlier file already gives.

    The same bytes, or the same article in another format: nearly all (90 %) of its
    eight-word runs occur in one earlier file.
    """

    def __init__(self) -> None:
        self._hashes: dict[str, str] = {}  # content sha256 -> name
        self._shingles: dict[int, str] = {}  # hash of an eight-word run -> first file with it

    def same_as(self, source: SourceFile) -> str | None:
        """Why `source` repeats an earlier file, or None (and remember it) when it does not."""
        if source.sha256 in self._hashes:
            return f"same content as {self._hashes[source.sha256]}"
        shingles = _shingles(source.text)
        if shingles:
            hits = Counter(self._shingles[s] for s in shingles if s in self._shingles)
            if hits:
                earlier, count = hits.most_common(1)[0]
                if count >= DUPLICATE_SHARE * len(shingles):
                    return f"the same text as {earlier}"
        self._hashes[source.sha256] = source.name
        for shingle in shingles:
            self._shingles.setdefault(shingle, source.name)
        return None


def _shingles(text: str) -> set[int]:
    words = _WORD.findall(text.lower())
    return {hash(tuple(words[i : i + 8])) for i in range(max(len(words) - 7, 0))}


def split_articles(source: SourceFile) -> list[Document]:
    """Split one source file into its articles, each with titled sections.

    A plain-text file may hold several articles; a Markdown file starts one at each `# `
    heading; a PDF, Word document or web page is one article, titled by its first heading
    (or its metadata), with the headings its format marks as sections.
    """
    blocks = list(_blocks(source.text))
    if not blocks:
        return []
    if source.kind in ("pdf", "docx", "html"):
        marked = frozenset(source.headings)

        def heading_of(block: _Block) -> str | None:
            return block.text.replace("\n", " ") if block.start in marked else None

        title = None if heading_of(blocks[0]) else source.meta.title or None
        return [_document(source.name, blocks, 0, heading_of, title)]
    markdown = source.kind == "markdown" or source.name.lower().endswith(".md")

    def heading(block: _Block) -> str | None:
        return _heading_text(block, markdown)

    groups: list[list[_Block]] = [[blocks[0]]]
    for previous, block in itertools.pairwise(blocks):
        title = heading(groups[-1][0]) or ""
        if _starts_article(previous, block, title, markdown):
            groups.append([block])
        else:
            groups[-1].append(block)
    return [
        _document(source.name, group, position, heading) for position, group in enumerate(groups)
    ]


def _starts_article(previous: _Block, block: _Block, current_title: str, markdown: bool) -> bool:
    if markdown:
        match = _MD_HEADING.match(block.text)
        return bool(match and len(match.group(1)) == 1)
    heading = _heading_text(block, markdown)
    if heading is None or not _is_trailer(previous):
        return False
    return not _echoes_title(heading, current_title)


def _document(
    source: str,
    group: list[_Block],
    position: int,
    heading_of: Callable[[_Block], str | None],
    title: str | None = None,
) -> Document:
    """The article made of `group`, titled by its first block when that is a heading.

    `title` (e.g. from the file's metadata) names an article that opens with body text.
    """
    first = group[0]
    opening = heading_of(first)
    body = group[1:] if opening is not None else group
    if opening is not None:
        title = opening
    elif title is None:  # no heading: name the article after its first line
        title = first.text.split("\n", 1)[0].strip()[:MAX_HEADING_CHARS]
    sections: list[Span] = []
    heading = ""
    current: list[_Block] = []
    for block in body:
        block_heading = heading_of(block)
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
    seeds_dir: Path,
    max_bytes: int = MAX_FILE_BYTES,
    on_file: Callable[[int, int], None] | None = None,
) -> tuple[Corpus, list[Document]]:
    """Read the seeds folder (files up to `max_bytes`) and split every file into articles.

    `on_file(done, total)` follows the reading (see `load_sources`).

    Raises:
        CorpusError: the folder is missing or holds no readable article.

    """
    corpus = load_sources(seeds_dir, max_bytes, on_file)
    if not corpus.sources:
        detail = f" (skipped: {'; '.join(corpus.skipped)})" if corpus.skipped else ""
        raise CorpusError(
            f"No readable article in {seeds_dir}{detail}. Add text, Markdown, PDF, Word "
            "or HTML files, or set RAG_SEEDS_DIR."
        )
    return corpus, [doc for source in corpus.sources for doc in split_articles(source)]
