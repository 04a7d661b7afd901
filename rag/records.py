"""JSON-ready records of answers, shared by `rag ask --json` and the eval runner."""

from __future__ import annotations

from typing import Any

from rag.answer.roles import span_roles
from rag.ingest.dates import date_label
from rag.ingest.sentences import sentence_spans
from rag.types import Answer, ArticleInfo, Citation

NO_SUPPORT_TITLE = "Inget stöd i källorna"  # heads an abstaining answer, in the chat and CLI


def answer_record(answer: Answer) -> dict[str, Any]:
    """The public JSON shape of an answer."""
    return {
        "question": answer.question,
        "answer": answer.text,
        "abstained": answer.abstained,
        "citations": [_citation_record(c, _article_of(answer, c)) for c in answer.citations],
        "passages": [
            {
                "rank": p.rank,
                "source": p.chunk.source,
                "title": p.chunk.title,
                "section": p.chunk.section,
                "text": p.chunk.text,
                "start": p.chunk.start,
                "end": p.chunk.end,
                "score": round(p.score, 4),
                "roles": passage_roles(p.chunk.text, p.chunk.start),
            }
            for p in answer.passages
        ],
        "articles": [
            {
                "source": a.source,
                "title": a.title,
                "start": a.start,
                "end": a.end,
                "date": a.date.iso if a.date else None,
                "date_text": a.date.text if a.date else None,
                "url": a.url or None,
                "ocr": a.ocr,
                "citations": list(a.citations),
            }
            for a in answer.articles
        ],
        "age_warning": answer.age_warning,
        "timings_ms": answer.timings_ms,
        "mode": answer.mode,
        "notice": answer.notice,
        "searched_query": answer.searched_query,
        "query_truncated": answer.query_truncated,
        "uncertain": answer.uncertain,
        "unsupported_sentences": answer.unsupported_sentences,
        "flagged_sentences": [
            {"text": answer.text[f.start : f.end], "reason": f.reason} for f in answer.flagged
        ],
    }


def source_line(answer: Answer, citation: Citation) -> str:
    """How a citation is listed as text: "[n] title › section (file, s. page, date) url"."""
    chunk = citation.passage.chunk
    section = f" › {chunk.section}" if chunk.section else ""
    article = _article_of(answer, citation)
    when = date_label(article.date) if article is not None else "utan datum"
    page = f", s. {citation.page}" if citation.page else ""
    url = f" {article.url}" if article is not None and article.url else ""
    ocr = ", OCR" if article is not None and article.ocr else ""
    return f"[{citation.n}] {chunk.title}{section} ({chunk.source}{page}{ocr}, {when}){url}"


def _article_of(answer: Answer, citation: Citation) -> ArticleInfo | None:
    return next((a for a in answer.articles if citation.n in a.citations), None)


def _citation_record(c: Citation, article: ArticleInfo | None) -> dict[str, Any]:
    """One citation of `answer_record`, with the URL and OCR mark of its article."""
    return {
        "n": c.n,
        "source": c.passage.chunk.source,
        "title": c.passage.chunk.title,
        "section": c.passage.chunk.section,
        "quote": c.quote,
        "start": c.start,
        "end": c.end,
        "page": c.page,
        "url": (article.url or None) if article is not None else None,
        "ocr": article is not None and article.ocr,
    }


def passage_roles(text: str, offset: int) -> list[dict[str, Any]]:
    """The passage's sentences that are not body text (headings, bylines, captions …).

    Each as {start, end, role} with file offsets; body sentences are left out.
    """
    spans = list(sentence_spans(text))
    return [
        {"start": start + offset, "end": end + offset, "role": role}
        for (start, end), role in zip(spans, span_roles(text, spans), strict=True)
        if role != "body"
    ]
