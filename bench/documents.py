"""Real PDF, Word and HTML files written from articles, for the format tests and the eval.

`python -m bench.documents` writes the mixed-format eval of `eval/formats/`: the seeds
with three whole-file articles saved as a PDF, a Word document and a web page
(`seeds/`), and `eval/questions.jsonl` with its gold files renamed (`questions.jsonl`).
"""

from __future__ import annotations

import html
import io
import json
import shutil
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import docx
import matplotlib
from fpdf import FPDF

from rag.ingest.documents import load_documents
from rag.types import Document, SourceFile

FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"  # DejaVu: å, ä, ö and ligatures
_FIXED_DATE = datetime(2025, 1, 1, tzinfo=UTC)  # byte-identical output on every run
_LIGATURES = {"fi": "ﬁ", "fl": "ﬂ"}


@dataclass(frozen=True)
class Block:
    """A heading or a paragraph of an article."""

    text: str
    heading: bool = False


def article_blocks(source: SourceFile, document: Document) -> list[Block]:
    """An indexed article as its title, section headings and paragraphs."""
    blocks = [Block(document.title, heading=True)]
    for section in document.sections:
        if section.title:
            blocks += [Block(part, heading=True) for part in section.title.split(" › ")]
        text = source.text[section.start : section.end]
        blocks += [Block(p.strip()) for p in text.split("\n\n") if p.strip()]
    return blocks


def write_pdf(path: Path, title: str, blocks: Sequence[Block], ligatures: bool = True) -> int:
    """Write `blocks` as a justified A4 PDF (headings bold and larger); returns its pages.

    With `ligatures`, "fi" and "fl" in the body are set as single ligature glyphs, as
    typesetting software does.
    """
    pdf = FPDF(format="A4")
    pdf.set_creation_date(_FIXED_DATE)
    pdf.add_font("body", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("body", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_title(title)
    pdf.add_page()
    for block in blocks:
        if block.heading:
            pdf.set_font("body", "B", 14)
            pdf.multi_cell(0, 8, block.text)
            pdf.ln(2)
        else:
            text = block.text
            if ligatures:
                for letters, glyph in _LIGATURES.items():
                    text = text.replace(letters, glyph)
            pdf.set_font("body", "", 11)
            pdf.multi_cell(0, 6, text, align="J")
            pdf.ln(4)
    pdf.output(str(path))
    return pdf.pages_count


def write_docx(
    path: Path, title: str, blocks: Sequence[Block], table: Sequence[Sequence[str]] = ()
) -> None:
    """Write `blocks` as a Word document: the title, Heading 1 sections, then `table`."""
    document = docx.Document()
    document.core_properties.title = title
    document.core_properties.created = _FIXED_DATE
    document.core_properties.modified = _FIXED_DATE
    first, *rest = blocks
    document.add_heading(first.text, 0)
    for block in rest:
        if block.heading:
            document.add_heading(block.text, 1)
        else:
            document.add_paragraph(block.text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, cells in zip(grid.rows, table, strict=True):
            for cell, text in zip(row.cells, cells, strict=True):
                cell.text = text
    buffer = io.BytesIO()
    document.save(buffer)
    with zipfile.ZipFile(buffer) as packed, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in packed.infolist():  # fixed entry times: the same bytes on every run
            entry = zipfile.ZipInfo(info.filename, _FIXED_DATE.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(entry, packed.read(info))


def write_html(
    path: Path, title: str, blocks: Sequence[Block], url: str = "", date: str = "", author: str = ""
) -> None:
    """Write `blocks` as a saved web page, with navigation, a cookie banner and a footer."""
    head = [f"<title>{html.escape(title)} | Föreningen Sveriges socialchefer</title>"]
    if url:
        head.append(f'<link rel="canonical" href="{html.escape(url)}">')
    if author:
        head.append(f'<meta name="author" content="{html.escape(author)}">')
    if date:
        head.append(f'<meta property="article:published_time" content="{date}">')
    first, *rest = blocks
    body = [f"<h1>{html.escape(first.text)}</h1>"]
    body += [
        f"<h2>{html.escape(b.text)}</h2>" if b.heading else f"<p>{html.escape(b.text)}</p>"
        for b in rest
    ]
    page = f"""<!DOCTYPE html>
<html lang="sv"><head><meta charset="utf-8">{"".join(head)}</head><body>
<div id="cookie-consent">Vi använder kakor (cookies) för att webbplatsen ska fungera.
<button>Godkänn alla kakor</button></div>
<header><nav><ul><li><a href="/">Start</a></li>
<li><a href="/om-oss">Om föreningen</a></li><li><a href="/medlemskap">Bli medlem</a></li>
<li><a href="/kontakt">Kontakt</a></li></ul></nav></header>
<main><article>{"".join(body)}
<div class="share">Dela: <a href="#">Facebook</a> <a href="#">LinkedIn</a>
<a href="#">E-post</a></div>
</article></main>
<footer><p>Föreningen Sveriges socialchefer · Box 1234 · 111 22 Stockholm</p>
<p>Prenumerera på vårt nyhetsbrev</p></footer>
</body></html>
"""
    path.write_text(page, encoding="utf-8")


# Whole-file seed articles saved in another format for the mixed-format eval corpus.
MIXED_FORMATS = {
    "000_fbc066887050611f.txt": "html",
    "002_420daa53d5a0d1a5.txt": "pdf",
    "003_7b0b9db67c0573bb.txt": "docx",
}


def mixed_corpus(seeds_dir: Path, out_dir: Path) -> dict[str, str]:
    """Copy the seeds to `out_dir`, the files of `MIXED_FORMATS` saved in their format.

    Returns the renames, seed file name -> new file name.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    corpus, documents = load_documents(seeds_dir)
    renames = {}
    for source in corpus.sources:
        kind = MIXED_FORMATS.get(source.name)
        if kind is None:
            shutil.copyfile(seeds_dir / source.name, out_dir / source.name)
            continue
        (document,) = [d for d in documents if d.source == source.name]
        blocks = article_blocks(source, document)
        name = Path(source.name).with_suffix(f".{kind}").name
        if kind == "pdf":
            write_pdf(out_dir / name, document.title, blocks)
        elif kind == "docx":
            write_docx(out_dir / name, document.title, blocks)
        else:
            slug = name.split("_")[1].split(".")[0]
            write_html(
                out_dir / name, document.title, blocks, url=f"https://socialchefer.example/{slug}"
            )
        renames[source.name] = name
    return renames


def renamed_items(questions: Path, renames: dict[str, str]) -> list[str]:
    """The JSONL lines of `questions`, gold files renamed.

    A converted file's text has plain spaces for no-break spaces, so its quotes do too.
    """
    lines = []
    for line in questions.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        gold = item.get("gold_file")
        files = gold if isinstance(gold, list) else [gold] if gold else []
        if any(f in renames for f in files):
            renamed = [renames.get(f, f) for f in files]
            item["gold_file"] = renamed if isinstance(gold, list) else renamed[0]
            item["gold_quotes"] = [q.replace("\u00a0", " ") for q in item["gold_quotes"]]
        lines.append(json.dumps(item, ensure_ascii=False))
    return lines


def main(out_dir: Path = Path("eval/formats")) -> None:
    """Write the mixed-format corpus and its question set to `out_dir`."""
    shutil.rmtree(out_dir / "seeds", ignore_errors=True)
    renames = mixed_corpus(Path("seeds"), out_dir / "seeds")
    lines = renamed_items(Path("eval/questions.jsonl"), renames)
    (out_dir / "questions.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for seed, name in renames.items():
        print(f"{seed} -> {name}")


if __name__ == "__main__":
    main(*(Path(a) for a in sys.argv[1:2]))
