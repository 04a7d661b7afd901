from __future__ import annotations

import pytest

from rag.pipeline import Pipeline
from rag.retrieve.lexical import Decompounder, matches, terms
from rag.retrieve.retrievers import LexicalRetriever, fuse
from rag.types import Chunk, Passage


def _chunk(chunk_id: str, text: str) -> Chunk:
    return Chunk(chunk_id, "a.txt", "Titel", "", 0, len(text), text, text)


@pytest.mark.parametrize(
    ("word", "parts"),
    [
        ("bostadsbidrag", ["bostad", "bidrag"]),
        ("socialtjänstlagen", ["socialtjänst", "lag"]),
        ("äldreomsorgslag", ["äldr", "omsorg", "lag"]),
        ("karlstad", []),
    ],
)
def test_compounds_split_into_known_stems(word: str, parts: list[str]) -> None:
    known = Decompounder(terms("bostaden bidraget socialtjänsten lagen omsorg äldre"))
    assert known.parts(terms(word)[0]) == parts


def test_expanding_a_corpus_at_once_equals_one_document_at_a_time() -> None:
    documents = [
        terms("Bostadsbidrag och äldreomsorgslagen i socialtjänsten"),
        terms("bostaden bidraget lagen omsorg äldre"),
        [],
        terms("Karlstad 2024 socialtjänstlagen bostadsbidrag"),
    ]
    known = Decompounder(set().union(*documents))
    expanded = known.expand_all(documents)
    assert expanded == [known.expand(doc) for doc in documents]
    assert expanded[0][len(documents[0]) :] == ["bostad", "bidrag", "äldr", "omsorg", "lag"]


def test_lexical_leg_matches_compounds_written_apart() -> None:
    chunks = [
        _chunk("a", "Kommunen betalar ut bostadsbidrag till unga."),
        _chunk("b", "Hemtjänsten har nyckelfria lås."),
    ]
    retriever = LexicalRetriever(chunks, [terms(c.embed_text) for c in chunks])
    hits = retriever.search("Får unga bidrag till bostaden?", 5)
    assert [p.chunk.id for p in hits] == ["a"]
    assert retriever.search("Vad kostar Liseberg?", 5) == []


def test_fusion_rewards_agreement_and_keeps_dense_scores() -> None:
    a, b, c = _chunk("a", "A"), _chunk("b", "B"), _chunk("c", "C")
    dense = [Passage(a, 1, 0.9, 0.9), Passage(b, 2, 0.8, 0.8)]
    lexical = [Passage(b, 1, 7.0), Passage(c, 2, 3.0)]
    fused = fuse([dense, lexical], 3)
    assert [p.chunk.id for p in fused] == ["b", "a", "c"]
    assert [p.rank for p in fused] == [1, 2, 3]
    assert [p.dense_score for p in fused] == [0.8, 0.9, None]


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_every_mode_finds_the_huset_article(seeded_pipeline: Pipeline, mode: str) -> None:
    pipeline = Pipeline(
        seeded_pipeline.settings.model_copy(update={"retrieval_mode": mode}),
        embedder=seeded_pipeline.embedder,
    )
    passages = pipeline.search("Hur arbetade Nordmaling med kvalitetsledning i huset?", 3)
    assert passages[0].chunk.source == "003_7b0b9db67c0573bb.txt"


def test_stem_matching_remembers_pairs_without_mixing_texts() -> None:
    """A query stem compared with one text's stems is judged afresh against the next."""
    assert not matches("karlstad", ["göteborg", "stad"])
    assert matches("karlstad", ["göteborg", "kalstad"])  # one edit apart
    assert not matches("karlstad", ["göteborg"])  # remembered as not matching
    assert matches("karlstad", ("karlstadsbor",))  # part of a compound
    assert matches("bostad", iter(["bostadsbidrag"]))  # any iterable of stems
    assert not matches("bo", ["bostadsbidrag"])  # too short to be a part
