"""Golden answers: every eval set's extractive answers, so a change to them is reviewable.

`tests/golden/<set>.jsonl` holds, per question, whether the answer abstained and its
quotes (file, start, end, text). The test names every question whose answer moved.
After a deliberate change to retrieval or answering, rewrite the files with
`UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/evaluation/test_golden.py` and review the diff.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from conftest import GOLDEN, ROOT
from rag.evaluation.metrics import load_questions
from rag.pipeline import Pipeline

pytestmark = pytest.mark.slow

SETS = sorted(p.stem for p in (ROOT / "eval").glob("*.jsonl"))


def _answers(pipeline: Pipeline, name: str) -> list[dict[str, Any]]:
    rows = []
    for item in load_questions(ROOT / "eval" / f"{name}.jsonl"):
        answer = pipeline.ask(item.question, history=pipeline.conversation(item.history))
        quotes = [[c.passage.chunk.source, c.start, c.end, c.quote] for c in answer.citations]
        row = {"id": item.id, "abstained": answer.abstained, "quotes": quotes}
        if item.history:
            row["searched"] = answer.searched_query
        rows.append(row)
    return rows


@pytest.mark.parametrize("name", SETS)
def test_answers_match_the_golden_file(seeded_pipeline: Pipeline, name: str) -> None:
    rows = _answers(seeded_pipeline, name)
    path = GOLDEN / f"{name}.jsonl"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
        )
    golden = {r["id"]: r for r in map(json.loads, path.read_text(encoding="utf-8").splitlines())}
    moved = [r["id"] for r in rows if golden.get(r["id"]) != r]
    assert not moved, f"{len(moved)} answers moved in {name}: {', '.join(moved)}"
