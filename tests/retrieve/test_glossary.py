from __future__ import annotations

from typing import cast

import numpy as np
import pytest

from rag.index.embed import RagEmbeddings
from rag.index.store import VectorStore
from rag.pipeline import Pipeline
from rag.retrieve.glossary import is_term_word, searched_text, swedish_words
from rag.retrieve.lexical import terms
from rag.retrieve.retrievers import DenseRetriever, LexicalRetriever
from rag.types import Chunk


@pytest.mark.parametrize(
    ("question", "swedish"),
    [
        ("What does the elderly care act say?", "äldreomsorgslag"),  # the longest phrase wins
        ("Which agencies supervise social services?", "myndighet socialtjänst socialtjänsten"),
        ("Which city digitised its services?", "stad digitalisera tjänst insats"),  # -ed, plural
        ("Who chaired the panel discussion?", "ordförande panelsamtal"),
        ("Vad säger äldreomsorgslagen om tillsyn?", ""),  # Swedish: nothing added
        # the longest entry, six words: a fixed five-word limit never matched it
        ("What did the ministry of health and social affairs say?", "socialdepartementet"),
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


class _RecordingEmbedder:
    """Records the text the dense leg embeds."""

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def encode_query(self, text: str) -> np.ndarray:
        self.embedded.append(text)
        return np.ones(4, dtype=np.float32)


class _EmptyStore:
    def search(self, vector: np.ndarray, k: int) -> list[tuple[Chunk, float]]:
        return []


def test_the_dense_leg_embeds_the_swedish_words_too() -> None:
    """e5 ranks Swedish passages better for "question + its Swedish terms" (eval/README.md)."""
    embedder = _RecordingEmbedder()
    dense = DenseRetriever(cast(VectorStore, _EmptyStore()), cast(RagEmbeddings, embedder))
    dense.search("How much income support was paid?", 5)
    dense.search("Hur mycket försörjningsstöd betalades?", 5)
    assert embedder.embedded == [
        "How much income support was paid? försörjningsstöd",
        "Hur mycket försörjningsstöd betalades?",
    ]


def test_words_of_domain_terms_are_known_in_any_case_and_number() -> None:
    assert is_term_word("Services") and is_term_word("Act") and is_term_word("municipalities")
    assert not is_term_word("Burston") and not is_term_word("Nordmaling")
