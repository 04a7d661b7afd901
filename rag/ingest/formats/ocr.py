"""Text recognition for scanned PDFs: each page's images read by tesseract (optional).

Used only when Debian's `tesseract-ocr` and its Swedish data (`tesseract-ocr-swe`) are
installed; otherwise a scanned PDF is reported as having no text layer. tesseract runs
as a subprocess per image, bounded in time and in pages.
"""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
from collections.abc import Sequence
from typing import Any

from rag.ingest.formats.blocks import Unreadable, clean_line, join_lines

OCR_LANGUAGES = "swe+eng"
OCR_TIMEOUT_S = 120  # per image
OCR_MAX_PAGES = 300


@functools.cache
def ocr_missing() -> str:
    """Why OCR cannot run here ("" when tesseract with Swedish is installed)."""
    tesseract = shutil.which("tesseract")
    if tesseract is None:
        return "text recognition (OCR) needs Debian's tesseract-ocr and tesseract-ocr-swe"
    try:
        listed = subprocess.run(
            [tesseract, "--list-langs"], capture_output=True, text=True, timeout=30, check=False
        ).stdout.split()
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"tesseract does not run ({exc})"
    if "swe" not in listed:
        return "text recognition (OCR) needs Swedish data: install tesseract-ocr-swe"
    return ""


def read_scanned(pages: Sequence[Any]) -> list[list[str]]:
    """Each page's paragraphs, read from its images.

    Raises:
        Unreadable: OCR is not installed, the scan has too many pages, or nothing was read.

    """
    reason = ocr_missing()
    if reason:
        raise Unreadable(f"no text layer in its {len(pages)} page(s) (a scanned PDF?); {reason}")
    if len(pages) > OCR_MAX_PAGES:
        raise Unreadable(f"a scanned PDF of {len(pages)} pages (OCR reads at most {OCR_MAX_PAGES})")
    read = [
        [p for image in page.images for p in _paragraphs(_recognise(image.image))] for page in pages
    ]
    if not any(read):
        raise Unreadable(f"no text layer in its {len(pages)} page(s), and OCR found no text")
    return read


def _recognise(image: Any) -> str:
    """The text tesseract reads in a PIL image ("" when it fails or times out)."""
    png = io.BytesIO()
    image.save(png, format="PNG")
    try:
        result = subprocess.run(
            ["tesseract", "stdin", "stdout", "-l", OCR_LANGUAGES],
            input=png.getvalue(),
            capture_output=True,
            timeout=OCR_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return result.stdout.decode("utf-8", errors="replace") if result.returncode == 0 else ""


def _paragraphs(text: str) -> list[str]:
    """Tesseract's blank-line separated paragraphs, wrapped lines joined."""
    paragraphs = []
    for block in text.split("\n\n"):
        lines = [line for raw in block.splitlines() if (line := clean_line(raw))]
        if lines:
            paragraphs.append(join_lines(lines))
    return paragraphs
