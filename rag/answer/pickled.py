"""Trained models stored as pickles beside the code: written atomically, read with checks.

`positive_chance` walks boosted trees all at once (`rag.answer.forest`); any other
classifier runs on one OpenMP thread: scikit-learn's boosted trees otherwise spread each
small prediction over every core, and two processes (or two chats) predicting at once then
spin against each other (2.9 s instead of 6 ms for a question's 40 sentences beside a
second busy process).
"""

from __future__ import annotations

import pickle
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from rag.answer.forest import table_chance, tree_tables
from rag.errors import RagError

T = TypeVar("T")


def save_model(model: object, path: Path, format_version: int) -> None:
    """Write `model` with its format number, atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_bytes(pickle.dumps({"format": format_version, "model": model}, protocol=5))
    partial.replace(path)


def load_model(
    path: Path, kind: type[T], format_version: int, error: type[RagError], name: str, fix: str
) -> T:
    """The `kind` object `save_model` wrote to `path` in this format.

    Raises:
        error: the file is missing, unreadable or of another format; the message names
            the model (`name`) and how to rebuild it (`fix`).

    """
    if not path.is_file():
        raise error(f"The {name} {path} is missing. {fix}")
    try:
        saved = pickle.loads(path.read_bytes())
    except Exception as exc:
        raise error(f"The {name} {path} cannot be read ({exc}). {fix}") from exc
    model = saved.get("model") if isinstance(saved, dict) else None
    if saved.get("format") != format_version or not isinstance(model, kind):
        raise error(f"The {name} {path} has an old format. {fix}")
    return model


@cache
def _threads() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def positive_chance(classifier: Any, rows: np.ndarray) -> np.ndarray:
    """`classifier`'s probability of class 1 for each row, computed on one thread."""
    tables = tree_tables(classifier)
    if tables is not None:
        return table_chance(tables, rows)
    with _threads().limit(limits=1, user_api="openmp"):
        return np.asarray(classifier.predict_proba(rows)[:, 1])
