"""The Dokument tab: maintainers list, add and remove the indexed documents.

Shown only to logged-in users of RAG_MAINTAINERS. File names and reasons are shown as text
(Markdown-escaped), never as markup. An added file is checked by its content
(the same readers as `rag ingest`), saved in the seeds folder under a safe name, and the
index is rebuilt in the background with a progress bar; readers keep answering from the
previous generation until the new one is complete. A removed file is moved to
`data_dir/removed/`, never deleted, and the index rebuilt without it.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import gradio as gr

from rag.errors import RagError
from rag.ingest.documents import MAX_UNPACKED_BYTES
from rag.ingest.formats import SUPPORTED_SUFFIXES, Unreadable, read_file
from rag.pipeline import Pipeline
from rag.types import DocumentInfo, IngestReport
from ui.render import escape_markdown

COLUMNS = ["Titel", "Fil", "Typ", "Datum", "Sidor", "Avsnitt", "Indexerad"]
KIND_LABELS = {
    "text": "Text",
    "markdown": "Markdown",
    "pdf": "PDF",
    "docx": "Word",
    "html": "Webbsida",
}
_UNSAFE = re.compile(r"[^\w.\- ]+")
MAX_NAME_CHARS = 120


def document_rows(documents: Sequence[DocumentInfo]) -> list[list[str]]:
    """The document list as table rows (Swedish labels)."""
    return [
        [
            d.title,
            d.name,
            KIND_LABELS.get(d.kind, d.kind),
            d.date or "utan datum",
            str(d.pages) if d.pages else "–",
            str(d.chunks),
            d.indexed.replace("T", " ").removesuffix("+00:00") + (" UTC" if d.indexed else ""),
        ]
        for d in documents
    ]


def safe_name(original: str, seeds_dir: Path, content: bytes) -> str | None:
    """A file name in `seeds_dir` for an upload: its own name made safe, never overwriting.

    None when a file with the same content is already there.
    """
    path = Path(original)
    stem = _UNSAFE.sub("_", path.stem).strip(" ._") or "dokument"
    stem = stem[:MAX_NAME_CHARS]
    suffix = path.suffix.lower()
    name, number = f"{stem}{suffix}", 1
    while (seeds_dir / name).exists():
        if (seeds_dir / name).read_bytes() == content:
            return None
        number += 1
        name = f"{stem}-{number}{suffix}"
    return name


def check_upload(original: str, content: bytes, max_bytes: int) -> str:
    """Why an uploaded file cannot be indexed, or "" when it can (checked by its content)."""
    suffix = Path(original).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        return f"inte ett format som stöds ({', '.join(SUPPORTED_SUFFIXES)})"
    if len(content) > max_bytes:
        return f"för stor ({len(content)} byte; högst {max_bytes})"
    try:
        read = read_file(suffix, content, MAX_UNPACKED_BYTES)
    except Unreadable as exc:
        return str(exc)
    if not read.extracted.text.strip():
        return "tom"
    return ""


def save_uploads(uploaded: Sequence[str], seeds_dir: Path, max_bytes: int) -> tuple[list[str], int]:
    """Check each uploaded file and save the good ones in `seeds_dir`.

    Returns a line per file for the maintainer, and how many were saved.
    """
    lines, saved = [], 0
    for temporary in uploaded:
        original = Path(temporary).name
        content = Path(temporary).read_bytes()
        reason = check_upload(original, content, max_bytes)
        name = safe_name(original, seeds_dir, content) if not reason else None
        if reason:
            lines.append(
                f"**{escape_markdown(original)}** lades inte till: {escape_markdown(reason)}."
            )
        elif name is None:
            lines.append(f"**{escape_markdown(original)}** finns redan i källmappen.")
        else:
            (seeds_dir / name).write_bytes(content)
            saved += 1
            lines.append(f"**{escape_markdown(original)}** sparades som {escape_markdown(name)}.")
    return lines, saved


def _report_lines(report: IngestReport) -> list[str]:
    lines = [
        f"Indexet har nu {report.files} filer och {report.chunks} avsnitt "
        f"(+{report.added} nya, −{report.deleted} borttagna) efter {report.seconds:.1f} s."
    ]
    lines += [f"Hoppade över {escape_markdown(line)}" for line in report.skipped_files]
    lines += [f"Obs: {escape_markdown(line)}" for line in report.notes]
    return lines


def documents_tab(pipeline: Pipeline, allowed: Callable[[gr.Request], bool], tab: gr.Tab) -> None:
    """Add the Dokument tab's components and events to `tab` (the current Blocks context).

    Args:
        pipeline: Its seeds folder is what the tab changes; it re-ingests after a change.
        allowed: Whether the request's user may manage documents (maintainers only).
        tab: The tab; the list is read again each time it is opened.

    """
    settings = pipeline.settings
    gr.Markdown(
        "Dokumenten som chatten svarar från. Lägg till PDF, Word, webbsidor (HTML), text "
        f"eller Markdown (högst {settings.max_file_bytes // 1_000_000} MB per fil): de "
        "kontrolleras, sparas i källmappen och indexeras medan chatten fortsätter svara."
    )
    table = gr.Dataframe(
        headers=COLUMNS, interactive=False, wrap=True, elem_id="dokument-lista", label="Indexerat"
    )
    with gr.Row():
        files = gr.File(
            label="Lägg till dokument",
            file_count="multiple",
            file_types=list(SUPPORTED_SUFFIXES),
            elem_id="dokument-filer",
        )
        with gr.Column():
            add = gr.Button("Indexera", variant="primary", elem_id="dokument-indexera")
            chosen = gr.Dropdown(label="Ta bort dokument", choices=[], elem_id="dokument-val")
            remove = gr.Button("Ta bort", variant="stop", elem_id="dokument-ta-bort")
    status = gr.Markdown(elem_id="dokument-status")

    def listing() -> tuple[list[list[str]], gr.Dropdown]:
        documents = pipeline.documents()
        names = [d.name for d in documents]
        return document_rows(documents), gr.Dropdown(choices=names, value=None)

    def reindex(lines: list[str], progress: gr.Progress) -> str:
        progress((0, 1), desc="Indexerar", unit="avsnitt")
        try:
            report = pipeline.ingest(
                lambda done, total: progress((done, total), desc="Bäddar in", unit="avsnitt"),
                lambda done, total: progress((done, total), desc="Läser", unit="filer"),
            )
        except RagError as exc:
            lines.append(
                f"Indexeringen misslyckades: {escape_markdown(str(exc))} "
                "Det tidigare indexet svarar som förut."
            )
        else:
            lines += _report_lines(report)
        return "\n\n".join(lines)

    def on_add(
        uploaded: list[str] | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio injects it by default value)
    ) -> tuple[str, list[list[str]], gr.Dropdown, None]:
        if not allowed(request):
            raise gr.Error("Bara förvaltare (RAG_MAINTAINERS) kan ändra dokumenten.")
        if not uploaded:
            raise gr.Error("Välj en eller flera filer först.")
        lines, saved = save_uploads(uploaded, settings.seeds_dir, settings.max_file_bytes)
        text = reindex(lines, progress) if saved else "\n\n".join(lines)
        return (text, *listing(), None)

    def on_remove(
        name: str | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio injects it by default value)
    ) -> tuple[str, list[list[str]], gr.Dropdown]:
        if not allowed(request):
            raise gr.Error("Bara förvaltare (RAG_MAINTAINERS) kan ändra dokumenten.")
        indexed = {d.name for d in pipeline.documents()}
        seeds = settings.seeds_dir.resolve()
        if not name or name not in indexed or not (seeds / name).resolve().is_relative_to(seeds):
            raise gr.Error("Välj ett dokument i listan.")
        removed = settings.data_dir / "removed"
        removed.mkdir(parents=True, exist_ok=True)
        target = removed / f"{time.strftime('%Y%m%d-%H%M%S')}-{Path(name).name}"
        shutil.move(settings.seeds_dir / name, target)
        removed_line = (
            f"**{escape_markdown(name)}** togs bort (sparad i {escape_markdown(str(target))})."
        )
        text = reindex([removed_line], progress)
        return (text, *listing())

    def on_open(request: gr.Request) -> tuple[list[list[str]], gr.Dropdown]:
        if not allowed(request):
            return [], gr.Dropdown(choices=[], value=None)
        return listing()

    tab.select(on_open, outputs=[table, chosen], api_visibility="private")
    add.click(
        on_add,
        inputs=files,
        outputs=[status, table, chosen, files],
        concurrency_limit=1,
        concurrency_id="dokument",
        api_visibility="private",
    )
    remove.click(
        on_remove,
        inputs=chosen,
        outputs=[status, table, chosen],
        concurrency_limit=1,
        concurrency_id="dokument",
        api_visibility="private",
    )
