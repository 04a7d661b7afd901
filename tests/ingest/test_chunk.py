from __future__ import annotations

import itertools

from conftest import SEEDS
from rag.index.embed import RagEmbeddings
from rag.ingest.chunk import ChunkSizing, chunk_documents, parent_id, sentence_units
from rag.ingest.documents import load_documents
from rag.ingest.sentences import sentence_spans


def _seed_chunks(e5: RagEmbeddings, sizing: ChunkSizing | None = None):  # type: ignore[no-untyped-def]
    corpus, documents = load_documents(SEEDS)
    sources = corpus.sources
    return sources, chunk_documents(sources, documents, e5.count_tokens, sizing or ChunkSizing())


def test_chunk_text_is_the_exact_file_slice(e5: RagEmbeddings) -> None:
    sources, chunks = _seed_chunks(e5)
    text = {s.name: s.text for s in sources}
    assert len(chunks) > 40
    for chunk in chunks:
        assert text[chunk.source][chunk.start : chunk.end] == chunk.text
        assert chunk.embed_text.startswith(chunk.title)
        assert chunk.embed_text.endswith(chunk.text)


def test_chunks_respect_the_token_budget(e5: RagEmbeddings) -> None:
    sizing = ChunkSizing(max_tokens=320, min_tokens=200)
    _, chunks = _seed_chunks(e5, sizing)
    sizes = sorted(e5.count_tokens(c.text) for c in chunks)
    assert sizes[-1] <= sizing.max_tokens
    median = sizes[len(sizes) // 2]
    assert 200 <= median <= 350


def test_neighbouring_chunks_overlap_by_at_most_one_sentence(e5: RagEmbeddings) -> None:
    _, chunks = _seed_chunks(e5)
    for before, after in itertools.pairwise(chunks):
        if before.source != after.source or after.start >= before.end:
            continue
        overlap = before.text[after.start - before.start :]
        assert len(list(sentence_spans(overlap))) == 1


def test_ids_are_deterministic_and_unique(e5: RagEmbeddings) -> None:
    _, first = _seed_chunks(e5)
    _, second = _seed_chunks(e5)
    assert [c.id for c in first] == [c.id for c in second]
    assert len({c.id for c in first}) == len(first)


def test_context_names_article_and_section(e5: RagEmbeddings) -> None:
    _, chunks = _seed_chunks(e5)
    huset = [c for c in chunks if "Utgångsläget 2021" in c.section]
    assert len(huset) == 1
    # A small section is merged with the next one; the context names both.
    assert huset[0].embed_text.startswith(
        "Huset – en helhetsmodell för kvalitetsarbete i socialtjänsten › "
        "Utgångsläget 2021 / Timglaset – komplexiteten uppdraget\n"
    )


def test_every_sentence_of_every_section_is_in_some_chunk(e5: RagEmbeddings) -> None:
    sources, chunks = _seed_chunks(e5)
    _, documents = load_documents(SEEDS)
    text = {s.name: s.text for s in sources}
    for document in documents:
        spans = [(c.start, c.end) for c in chunks if c.source == document.source]
        for section in document.sections:
            body = text[document.source][section.start : section.end]
            for start, end in sentence_spans(body, section.start):
                assert any(a <= start and end <= b for a, b in spans), (start, end)


def test_sentence_units_are_exact_sentences_of_their_chunk(e5: RagEmbeddings) -> None:
    sources, chunks = _seed_chunks(e5)
    text = {s.name: s.text for s in sources}
    by_id = {c.id: c for c in chunks}
    units = sentence_units(chunks)
    assert len(units) > 5 * len(chunks)
    assert len({u.id for u in units}) == len(units)
    for unit in units:
        parent = by_id[parent_id(unit.id)]
        assert text[unit.source][unit.start : unit.end] == unit.text
        assert parent.start <= unit.start < unit.end <= parent.end
        assert unit.embed_text == f"{parent.title}: {unit.text}"
        assert len(unit.text.split()) >= 4
