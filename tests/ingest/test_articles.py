from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from conftest import SEEDS
from rag.ingest.articles import ArticleIndex, age_warning
from rag.ingest.documents import MAX_FILE_BYTES, load_documents, seeds_lookup
from rag.pipeline import Pipeline
from rag.records import answer_record
from rag.types import ArticleDate, ArticleInfo, Chunk, Citation, Passage

KALAS = "004_69118e50f35d8edb.txt"  # its last article is dated "2 OKTOBER 2022"


def _section_chunks(seeds: Path) -> list[Chunk]:
    """One chunk per section of every article: enough for the index's offset checks."""
    corpus, documents = load_documents(seeds)
    texts = {s.name: s.text for s in corpus.sources}
    return [
        Chunk(f"{d.source}:{s.start}", d.source, d.title, s.title, s.start, s.end,
              texts[d.source][s.start : s.end], "")
        for d in documents
        for s in d.sections
    ]  # fmt: skip


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


def test_article_at_gives_the_whole_article_with_its_date(seeds_copy: Path) -> None:
    chunks = _section_chunks(seeds_copy)
    index = ArticleIndex(seeds_lookup(seeds_copy, MAX_FILE_BYTES), chunks, today=date(2025, 1, 1))
    text = (seeds_copy / KALAS).read_text(encoding="utf-8")
    offset = text.index("Till min stora glädje")
    article = index.article_at(KALAS, offset)
    assert article is not None
    assert article.document.title == "Det är gästerna som gör kalaset"
    assert article.text == text[article.document.start : article.document.end]
    assert article.document.start <= offset < article.document.end
    assert article.date == ArticleDate("2 OKTOBER 2022", 2022, 10, 2)
    assert index.article_at(KALAS, len(text) + 10) is None


def test_only_indexed_unchanged_files_are_read(seeds_copy: Path) -> None:
    chunks = [c for c in _section_chunks(seeds_copy) if c.source == KALAS]
    (seeds_copy.parent / "secret.txt").write_text("Hemligt\n\nInte indexerat.", encoding="utf-8")
    index = ArticleIndex(seeds_lookup(seeds_copy, MAX_FILE_BYTES), chunks)
    assert index.article_at("000_fbc066887050611f.txt", 0) is None  # in seeds, not indexed
    assert index.article_at("../secret.txt", 0) is None
    path = seeds_copy / KALAS
    path.write_text("Ny rad först.\n\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    assert (
        ArticleIndex(seeds_lookup(seeds_copy, MAX_FILE_BYTES), chunks).article_at(KALAS, 100)
        is None
    )  # offsets moved


def test_cited_groups_citations_by_article(seeds_copy: Path) -> None:
    chunks = [c for c in _section_chunks(seeds_copy) if c.source == KALAS]
    index = ArticleIndex(seeds_lookup(seeds_copy, MAX_FILE_BYTES), chunks)
    last, first = chunks[-1], chunks[0]
    citations = [
        Citation(n, Passage(chunk, n, 1.0), chunk.text[:20], chunk.start, chunk.start + 20)
        for n, chunk in enumerate([last, first, last], start=1)
    ]
    cited = index.cited(citations)
    assert [(a.title, a.citations) for a in cited] == [
        ("Det är gästerna som gör kalaset", (1, 3)),
        ("Håller tillitsfönstret på att stängas?", (2,)),
    ]
    assert cited[0].date is not None and cited[0].date.iso == "2022-10-02"
    assert cited[1].date is None
    (seeds_copy / KALAS).unlink()  # unreadable articles still count, undated
    gone = ArticleIndex(seeds_lookup(seeds_copy, MAX_FILE_BYTES), chunks).cited(citations)
    assert [(a.title, a.date, a.citations) for a in gone] == [
        (last.title, None, (1, 3)),
        (first.title, None, (2,)),
    ]
    assert "inget säkert datum" in age_warning(gone)


def _info(found: ArticleDate | None) -> ArticleInfo:
    return ArticleInfo("a.txt", "Titel", 0, 10, found, (1,))


def test_age_warning_names_the_new_act_for_older_articles() -> None:
    old = [_info(ArticleDate("2 oktober 2022", 2022, 10, 2)), _info(ArticleDate("2017", 2017))]
    warning = age_warning(old)
    assert "2 artiklar från 2017 och 2022" in warning
    assert "SFS 2025:400" in warning and "1 juli 2025" in warning and "inaktuella" in warning
    undated = age_warning([_info(None)])
    assert "inget säkert datum" in undated and "SFS 2025:400" in undated
    # A year that straddles 1 July 2025 is as unsure as no date.
    assert "inget säkert datum" in age_warning([_info(ArticleDate("2025", 2025))])


def test_no_age_warning_for_articles_under_the_new_act() -> None:
    assert age_warning([_info(ArticleDate("1 juli 2025", 2025, 7, 1))]) == ""
    assert age_warning([]) == ""


def test_answers_carry_their_articles_and_the_age_warning(seeded_pipeline: Pipeline) -> None:
    answer = seeded_pipeline.ask("Var hölls Socialchefsdagarna 2023?")
    assert answer.articles, "the answer cites articles"
    cited = sorted(n for a in answer.articles for n in a.citations)
    assert cited == sorted(c.n for c in answer.citations)
    assert "SFS 2025:400" in answer.age_warning
    record = answer_record(answer)
    assert record["age_warning"] == answer.age_warning
    chair = next(a for a in record["articles"] if a["source"] == "004_69118e50f35d8edb.txt")
    assert (chair["date"], chair["date_text"]) == ("2022-10-02", "2 OKTOBER 2022")
    refusal = seeded_pipeline.ask("Vad kostar ett pass på Liseberg?")
    assert refusal.abstained and refusal.articles == () and refusal.age_warning == ""
