from __future__ import annotations

from rag.types import Article, Document, Span


def test_section_at_names_the_section_begun_even_past_its_end() -> None:
    sections = (Span("", 0, 10), Span("Bakgrund", 10, 40), Span("Slutsatser", 40, 80))
    article = Article(Document("a.txt", "Titel", 0, 100, sections, 0), "x" * 100, None)
    assert article.section_at(5) == ""  # the lead
    assert article.section_at(20) == "Bakgrund"
    assert article.section_at(90) == "Slutsatser"  # a closing line after the last section
