"""Bench output: a table of figures (ours, baseline, ratio) and `bench.json`."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table


@dataclass(frozen=True)
class Row:
    """One figure of ours beside the baseline's (None where it has no counterpart)."""

    figure: str
    unit: str
    ours: float | None
    peer: float | None = None

    @property
    def ratio(self) -> float | None:
        """Ours / baseline."""
        if self.ours is None or not self.peer or math.isnan(self.peer):
            return None
        return self.ours / self.peer


def _clean(value: float | None) -> float | None:
    """JSON has no NaN: missing figures are null."""
    return None if value is None or math.isnan(value) else round(value, 4)


def write_report(
    out: Path, figures: dict[str, float | None], rows: Sequence[Row], peer_model: str = ""
) -> Path:
    """Write `bench.json`: the headline figures at the top level, then every row."""
    out.mkdir(parents=True, exist_ok=True)
    payload: dict[str, object] = {key: _clean(value) for key, value in figures.items()}
    if peer_model:
        payload["peer_model"] = peer_model
    payload["rows"] = [
        {**{k: _clean(v) if isinstance(v, float) else v for k, v in asdict(row).items()},
         "ratio": _clean(row.ratio)}
        for row in rows
    ]  # fmt: skip
    path = out / "bench.json"
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _cell(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "–"
    return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"


def print_table(rows: Sequence[Row], console: Console, peer_model: str = "") -> None:
    """The rows as a table: figure, unit, ours, baseline, ours/baseline."""
    on = f" on {peer_model}" if peer_model else ""
    table = Table(title=f"bench: ours vs the LangChain tutorial baseline{on}")
    for name in ("figure", "unit", "ours", "baseline", "ours/baseline"):
        table.add_column(name, justify="left" if name in ("figure", "unit") else "right")
    for row in rows:
        table.add_row(row.figure, row.unit, _cell(row.ours), _cell(row.peer), _cell(row.ratio))
    console.print(table)
