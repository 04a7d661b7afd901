from __future__ import annotations

import pytest

from rag.answer.about import LeadFirst, article_leads
from rag.pipeline import Pipeline
from rag.types import Chunk, Passage


def _chunk(chunk_id: str, title: str, start: int) -> Chunk:
    text = f"Text {chunk_id}."
    return Chunk(chunk_id, "a.txt", title, "", start, start + len(text), text, text)


LEAD, MIDDLE, OTHER = (
    _chunk("lead", "Huset", 0),
    _chunk("mid", "Huset", 500),
    _chunk("x", "Tillit", 900),
)


class _Ranked:
    """A retriever that always returns the same ranking."""

    def __init__(self, chunks: list[Chunk]) -> None:
        self._chunks = chunks

    def search(self, question: str, k: int) -> list[Passage]:
        return [Passage(c, rank, 1.0 / rank) for rank, c in enumerate(self._chunks[:k], start=1)]


def test_article_leads_are_first_chunks() -> None:
    assert article_leads([OTHER, MIDDLE, LEAD]) == {
        ("a.txt", "Huset"): LEAD,
        ("a.txt", "Tillit"): OTHER,
    }


@pytest.mark.parametrize(
    ("question", "first"),
    [
        ("Vad handlar artikeln om Huset om?", "lead"),
        ("What is the House article about?", "lead"),
        ("Vad sa föreläsarna om Huset?", "mid"),  # not about the whole article
    ],
)
def test_a_question_about_an_article_gets_its_lead_first(question: str, first: str) -> None:
    retriever = LeadFirst(_Ranked([MIDDLE, OTHER]), article_leads([LEAD, MIDDLE, OTHER]))
    passages = retriever.search(question, 2)
    assert passages[0].chunk.id == first
    assert [p.rank for p in passages] == [1, 2]


def test_a_retrieved_lead_keeps_its_scores() -> None:
    retriever = LeadFirst(_Ranked([MIDDLE, OTHER, LEAD]), article_leads([LEAD, MIDDLE, OTHER]))
    passages = retriever.search("Vad handlar det om?", 3)
    assert [p.chunk.id for p in passages] == ["lead", "mid", "x"]
    assert passages[0].score == pytest.approx(1 / 3)


def test_the_seeded_pipeline_ranks_the_lead_first(seeded_pipeline: Pipeline) -> None:
    """Without the rule the GD panel article's opening ranks sixth for this question."""
    passages = seeded_pipeline.search("vad handlar artikeln om GD-panelen om?")
    top = passages[0].chunk
    article = [c for c in seeded_pipeline.indexed_chunks if c.title == top.title]
    assert top.start == min(c.start for c in article if c.source == top.source)


def test_an_about_question_quotes_the_lead_up_to_its_length(seeded_pipeline: Pipeline) -> None:
    """The GD panel article says where the panel met in its third sentence."""
    answer = seeded_pipeline.ask("vad handlar artikeln om GD-panelen om?")
    first = answer.citations[0]
    assert first.passage.chunk.start == min(
        c.start for c in seeded_pipeline.indexed_chunks if c.title == first.passage.chunk.title
    )
    assert "Östersund" in first.quote
