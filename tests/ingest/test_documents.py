from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from conftest import MINI, SEEDS
from rag.errors import CorpusError
from rag.ingest.documents import load_documents, load_sources, split_articles


def _titles(name: str) -> list[str]:
    _, documents = load_documents(SEEDS)
    return [d.title for d in documents if d.source == name]


def test_seed_files_split_into_their_articles() -> None:
    corpus, documents = load_documents(SEEDS)
    counts = {s.name[:3]: sum(d.source == s.name for d in documents) for s in corpus.sources}
    assert counts == {"000": 1, "001": 6, "002": 1, "003": 1, "004": 4}
    assert corpus.skipped == corpus.notes == []


def test_article_titles_of_multi_article_files() -> None:
    assert _titles("001_9da2409787b5ed37.txt") == [
        "Socialtjänstens utmaningar är större än potentialen i minskad administration",
        "Javisst ligger kraften i mötet",
        "FSS första linjen-nätverk är igång igen",
        "Vad kan socialtjänsten lära av Yoda i Starwars?",
        "Se intervjuer om socionomutbildningen och första linjens socialtjänst",
        "Socialtjänstsveriges omställning",
    ]
    assert _titles("004_69118e50f35d8edb.txt") == [
        "Håller tillitsfönstret på att stängas?",
        "Mentisvar från FSS workshop om äldreomsorgslag",
        "Vad tycker du om förslaget till äldreomsorgslag?",
        "Det är gästerna som gör kalaset",
    ]


def test_sections_keep_headings_and_exact_offsets() -> None:
    corpus, documents = load_documents(SEEDS)
    text = {s.name: s.text for s in corpus.sources}
    huset = next(d for d in documents if d.source.startswith("003"))
    names = [s.title for s in huset.sections]
    assert "Utgångsläget 2021" in names
    assert "Frågor från publiken" in names
    for document in documents:
        body = text[document.source]
        assert body[document.start :].startswith(document.title)
        for section in document.sections:
            assert document.start <= section.start < section.end <= document.end
            assert body[section.start : section.end] == body[section.start : section.end].strip()


def test_articles_do_not_overlap_and_cover_the_file() -> None:
    corpus, documents = load_documents(SEEDS)
    for source in corpus.sources:
        docs = [d for d in documents if d.source == source.name]
        assert docs[0].start == 0
        for before, after in itertools.pairwise(docs):
            assert before.end <= after.start
            assert source.text[before.end : after.start].strip() == ""
        assert source.text[docs[-1].end :].strip() == ""


def test_markdown_headings_split_articles_and_sections() -> None:
    beta = next(s for s in load_sources(MINI).sources if s.name == "beta.md")
    documents = split_articles(beta)
    assert [d.title for d in documents] == ["Försörjningsstöd i Provstad", "Fältarbete"]
    assert [s.title for s in documents[0].sections] == ["", "Hur gick det till?"]


def test_unreadable_files_are_reported_and_skipped(tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text("Rubrik\n\nEn mening om socialtjänst.\n", encoding="utf-8")
    (tmp_path / "binary.txt").write_bytes(b"abc\x00def")
    (tmp_path / "latin1.txt").write_bytes("Västerås".encode("latin-1"))
    (tmp_path / "empty.md").write_text("  \n", encoding="utf-8")
    (tmp_path / "report.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "copy.txt").write_bytes((tmp_path / "ok.txt").read_bytes())
    (tmp_path / "huge.md").write_text("Rubrik\n\n" + "Lång text. " * 200, encoding="utf-8")
    outside = tmp_path.parent / f"{tmp_path.name}-secret.txt"
    outside.write_text("Hemlig\n\nUtanför mappen.\n", encoding="utf-8")
    (tmp_path / "link.txt").symlink_to(outside)
    corpus = load_sources(tmp_path, max_bytes=1000)
    assert [s.name for s in corpus.sources] == ["ok.txt"]
    reasons = dict(line.split(": ", 1) for line in corpus.skipped)
    assert reasons == {
        "binary.txt": "binary content of an unsupported type",
        "empty.md": "empty",
        "latin1.txt": "not valid UTF-8 (byte 1)",
        "report.doc": "not a supported format (.txt, .md, .pdf, .docx, .html, .htm)",
        "sub/copy.txt": "same content as ok.txt (indexed once)",
        "huge.md": "too large (2408 bytes; RAG_MAX_FILE_BYTES=1000)",
        "link.txt": "a link to a file outside the seeds folder",
    }


def test_crlf_files_keep_exact_offsets(tmp_path: Path) -> None:
    (tmp_path / "crlf.txt").write_bytes(
        "Nyheter i mars\r\n\r\nFörsta stycket.\r\n\r\nHälsningar Eva\r\n\r\n"
        "Boende för äldre\r\n\r\nAndra.\r\n".encode()
    )
    corpus, documents = load_documents(tmp_path)
    assert [d.title for d in documents] == ["Nyheter i mars", "Boende för äldre"]
    body = corpus.sources[0].text
    assert body[documents[1].sections[0].start : documents[1].sections[0].end] == "Andra."


@pytest.mark.parametrize("make", ["missing", "empty"])
def test_missing_or_empty_seeds_folder_is_a_clear_error(tmp_path: Path, make: str) -> None:
    folder = tmp_path / "seeds"
    if make == "empty":
        folder.mkdir()
    with pytest.raises(CorpusError, match="RAG_SEEDS_DIR"):
        load_documents(folder)
