from __future__ import annotations

import pytest

from rag.glossary import searched_text, swedish_words
from rag.lexical import terms
from rag.pipeline import Pipeline
from rag.retrieve import LexicalRetriever


@pytest.mark.parametrize(
    ("question", "swedish"),
    [
        ("What does the elderly care act say?", "äldreomsorgslag"),  # the longest phrase wins
        ("Which agencies supervise social services?", "myndighet socialtjänst socialtjänsten"),
        ("Which city digitised its services?", "stad digitalisera tjänst insats"),  # -ed, plural
        ("Who chaired the panel discussion?", "ordförande panelsamtal"),
        ("Vad säger äldreomsorgslagen om tillsyn?", ""),  # Swedish: nothing added
    ],
)
def test_swedish_words_of_an_english_question(question: str, swedish: str) -> None:
    assert swedish_words(question) == swedish


def test_searched_text_keeps_the_question() -> None:
    question = "How much income support was paid?"
    assert searched_text(question) == f"{question} försörjningsstöd"
    assert searched_text("Hur mycket försörjningsstöd?") == "Hur mycket försörjningsstöd?"


def test_an_english_question_finds_swedish_passages_lexically(seeded_pipeline: Pipeline) -> None:
    """Without the glossary no seed passage shares a word with this question."""
    chunks = seeded_pipeline.indexed_chunks
    lexical = LexicalRetriever(chunks, [terms(c.embed_text) for c in chunks])
    passages = lexical.search("How much income support did the municipality pay?", 5)
    assert passages and "försörjningsstöd" in passages[0].chunk.text
