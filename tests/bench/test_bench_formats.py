"""The format bench: each seed article written as PDF, DOCX and HTML, read back and timed."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bench.formats import app
from conftest import SEEDS


def test_format_bench_reads_every_format_and_writes_its_figures(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["--out", str(tmp_path), "--copies", "1", "--scan-pages", "0", "--seeds", str(SEEDS)]
    )
    assert result.exit_code == 0, result.output
    figures = json.loads((tmp_path / "formats.json").read_text(encoding="utf-8"))
    assert set(figures) == {"txt", "pdf", "docx", "html"}
    assert all(f["files"] == 13 and f["files_per_s"] > 0 for f in figures.values())
    assert figures["pdf"]["pages"] >= 13 and figures["pdf"]["pages_per_s"] > 0
    assert figures["pdf"]["peak_rss_mb"] > 0
    assert "| pdf | 13 |" in result.output
