"""`python -m bench.formats --out DIR`: how fast each format is read, and at what memory.

Every seed article is written as PDF, Word and HTML (`bench.documents`), `--copies` times
over; each format's files are then read by the ingest readers in a fresh process (text
extraction only: embedding costs the same per character whatever the format). Scanned
PDFs (pages as pictures) are read by OCR when tesseract is installed. Prints a table and
writes DIR/formats.json.
"""

from __future__ import annotations

import json
import multiprocessing
import resource
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from bench.documents import FONTS, article_blocks, write_docx, write_html, write_pdf
from rag.ingest.documents import load_documents, read_source
from rag.ingest.formats.ocr import ocr_missing

app = typer.Typer(add_completion=False)


def write_corpus(seeds: Path, out: Path, copies: int) -> dict[str, list[Path]]:
    """Each seed article `copies` times as .pdf, .docx and .html, plus the text files."""
    corpus, documents = load_documents(seeds)
    texts = {s.name: s for s in corpus.sources}
    written: dict[str, list[Path]] = {"txt": [], "pdf": [], "docx": [], "html": []}
    for copy in range(copies):
        for number, document in enumerate(documents):
            blocks = article_blocks(texts[document.source], document)
            stem = out / f"{copy:03d}-{number:02d}"
            write_pdf(stem.with_suffix(".pdf"), document.title, blocks)
            write_docx(stem.with_suffix(".docx"), document.title, blocks)
            write_html(stem.with_suffix(".html"), document.title, blocks)
            text = texts[document.source].text[document.start : document.end]
            stem.with_suffix(".txt").write_text(text, encoding="utf-8")
            for kind in written:
                written[kind].append(stem.with_suffix(f".{kind}"))
    return written


def write_scans(out: Path, pages: int) -> list[Path]:
    """A scanned PDF of `pages` pages of printed Swedish text (pictures, no text layer)."""
    import io

    from fpdf import FPDF
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(FONTS / "DejaVuSans.ttf"), 30)
    pdf = FPDF()
    for page in range(pages):
        picture = Image.new("L", (1700, 2200), 255)
        draw = ImageDraw.Draw(picture)
        for line in range(30):
            text = f"Rad {line + 1} på sidan {page + 1}: handläggaren dokumenterar beslutet."
            draw.text((100, 100 + 65 * line), text, fill=0, font=font)
        png = io.BytesIO()
        picture.save(png, format="PNG")
        pdf.add_page()
        pdf.image(png, x=0, y=0, w=210)
    path = out / "skannad.pdf"
    pdf.output(str(path))
    return [path]


def _read_all(paths: list[Path]) -> dict[str, Any]:
    """Read every file as ingest does (in a fresh process); time, pages, peak memory."""
    before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the imports
    began = time.perf_counter()
    pages = chars = 0
    for path in paths:
        source, _ = read_source(path, path.name, path.parent.resolve(), 500_000_000)
        pages += len(source.pages)
        chars += len(source.text)
    seconds = time.perf_counter() - began
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "seconds": seconds,
        "pages": pages,
        "chars": chars,
        "peak_rss_mb": peak_mb,
        "added_mb": peak_mb - before_mb,
    }


def measure(paths: list[Path]) -> dict[str, float]:
    """Throughput and peak memory of reading `paths`, measured in a child process."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        result = pool.apply(_read_all, (paths,))
    megabytes = sum(p.stat().st_size for p in paths) / 1e6
    seconds = max(result["seconds"], 1e-9)
    return {
        "files": len(paths),
        "megabytes": round(megabytes, 2),
        "pages": result["pages"],
        "seconds": round(seconds, 3),
        "files_per_s": round(len(paths) / seconds, 1),
        "pages_per_s": round(result["pages"] / seconds, 1),
        "mb_per_s": round(megabytes / seconds, 2),
        "chars_per_s": round(result["chars"] / seconds),
        "peak_rss_mb": round(result["peak_rss_mb"], 1),
        "reading_added_mb": round(result["added_mb"], 1),  # peak growth while reading
    }


@app.command()
def main(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the files and formats.json.")],
    copies: Annotated[int, typer.Option(help="Copies of each seed article per format.", min=1)] = 4,
    scan_pages: Annotated[int, typer.Option(help="Pages of the scanned PDF (0 = none).")] = 3,
    seeds: Annotated[Path, typer.Option(help="The seed articles.")] = Path("seeds"),
) -> None:
    """Write the corpus, read each format in a fresh process, print and save the figures."""
    files = out_dir / "files"
    files.mkdir(parents=True, exist_ok=True)
    written = write_corpus(seeds, files, copies)
    if scan_pages and not ocr_missing():
        scans = out_dir / "scans"
        scans.mkdir(exist_ok=True)
        written["scanned pdf (OCR)"] = write_scans(scans, scan_pages)
    figures = {kind: measure(paths) for kind, paths in written.items()}
    (out_dir / "formats.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    typer.echo(
        "| format | files | MB | pages | files/s | pages/s | MB/s | peak RSS MB (+reading) |"
    )
    typer.echo("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for kind, f in figures.items():
        typer.echo(
            f"| {kind} | {f['files']} | {f['megabytes']} | {f['pages'] or '–'} | "
            f"{f['files_per_s']} | {f['pages_per_s'] or '–'} | {f['mb_per_s']} | "
            f"{f['peak_rss_mb']} (+{f['reading_added_mb']}) |"
        )


if __name__ == "__main__":
    app()
