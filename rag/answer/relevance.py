"""How often a passage holds the answer, from its e5 similarity: a calibration learned in training.

The sources panel shows this instead of a score relative to the best hit (which reads
90-100 % even when nothing matches). `rag train` fits it with isotonic regression on the
training questions' retrieved passages (relevant when a passage overlaps a gold quote)
and writes `relevance.json` beside the answer model: a monotone step table, small and
readable.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RELEVANCE_FILE = "relevance.json"
# Below this chance for the best passage, the panel says nothing matches well. On the eval
# sets' answered questions it fires on 6 % of answerable ones and 23 % of unanswerable ones
# (at 0.3: 57 % and 62 %, no signal).
WEAK_MATCH = 0.15


@dataclass(frozen=True)
class RelevanceCalibration:
    """A monotone map from a passage's e5 cosine to the chance that it holds the answer."""

    cosines: tuple[float, ...]  # increasing breakpoints
    chances: tuple[float, ...]  # the chance at each breakpoint

    def chance(self, cosine: float | None) -> float | None:
        """The chance for a cosine (None for a passage the dense search did not score)."""
        if cosine is None or not self.cosines:
            return None
        return float(np.interp(cosine, self.cosines, self.chances))

    @classmethod
    def fit(cls, cosines: Sequence[float], relevant: Sequence[bool]) -> RelevanceCalibration:
        """Isotonic regression of relevance on cosine (deterministic)."""
        from sklearn.isotonic import IsotonicRegression

        model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        model.fit(np.asarray(cosines, dtype=float), np.asarray(relevant, dtype=float))
        return cls(
            tuple(round(float(x), 4) for x in model.X_thresholds_),
            tuple(round(float(y), 4) for y in model.y_thresholds_),
        )

    def save(self, path: Path) -> None:
        """Write the table as JSON."""
        table = {"cosines": list(self.cosines), "chances": list(self.chances)}
        path.write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> RelevanceCalibration | None:
        """The table beside the answer model, or None when there is none.

        Without one the panel shows scores relative to the best hit.
        """
        if not path.is_file():
            return None
        table = json.loads(path.read_text(encoding="utf-8"))
        return cls(tuple(table["cosines"]), tuple(table["chances"]))
