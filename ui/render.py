"""Presentation of an Answer: chat Markdown, the sources panel with the article viewer, copy text.

Article text and questions are untrusted: HTML is built with every piece escaped, and chat
Markdown backslash-escapes everything it did not produce itself. Citation number n of the
answer in chat message `turn` is the element id `k{turn}-{n}`: a link to `#k{turn}-{n}` makes
the browser show that article (CSS `:has(:target)`) and scroll the quoted span into view.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping

from rag.answer.relevance import WEAK_MATCH
from rag.ingest.dates import date_label
from rag.records import NO_SUPPORT_TITLE, source_line
from rag.types import Answer, Article, Citation, Passage, SourceFile
from ui.originals import original_link

ArticleLookup = Callable[[str, int], Article | None]  # (source, file offset) -> article
_WEB_ADDRESS = re.compile(r"^https?://[^\s\"'<>]+$")  # a page's own URL, linked only if plain

EMPTY_PANEL = '<p class="tom">Källorna till svaret visas här.</p>'
SEARCHING_PANEL = '<p class="tom">Söker i källorna …</p>'
PANEL_CSS = """
.tom, .tips, .meta { color: var(--body-text-color); }
h3, h4 { margin: 0.6em 0 0.3em 0; font-size: 1em; }
a { color: var(--link-text-color); }
.svag { margin: 0 0 0.4em 0; font-weight: 600; }
.inget-stod { padding: 0.5em 0.7em; border-left: 4px solid #8a1c1c; background: #fdecec;
  color: #3b0d0d; margin: 0 0 0.6em 0; }
.tips { margin: 0.2em 0; }
.visare:has(:target) .tips { display: none; }
.artikel { display: none; border: 1px solid var(--border-color-primary); padding: 0.5em; }
.artikel:has(:target) { display: block; }
.artikel dl { display: grid; grid-template-columns: auto 1fr; gap: 0 0.6em; margin: 0.2em 0;
  font-size: 0.9em; }
.artikel dt { font-weight: 600; }
.artikel dd { margin: 0; overflow-wrap: anywhere; }
.artikeltext { white-space: pre-wrap; line-height: 1.5; max-height: 55vh; overflow-y: auto;
  margin: 0.4em 0 0 0; font-size: 0.95em; }
.kallhuvud { padding-bottom: 0.2em; border-bottom: 1px solid var(--border-color-primary); }
.tillbaka { margin: 0.2em 0; font-size: 0.9em; }
mark { background: #ffe58a; color: #1a1a1a; padding: 0 0.1em; scroll-margin: 3em; }
mark:target { outline: 3px solid #9a4a00; background: #ffd43b; }
.stycken { list-style: none; padding: 0; margin: 0; }
.stycke { border-top: 1px solid var(--border-color-primary); padding: 0.4em 0; }
.stycke.citerad { border-left: 4px solid #1f6f3f; padding-left: 0.5em; }
.rad { display: flex; flex-wrap: wrap; gap: 0.5em; align-items: center; font-size: 0.9em; }
.rad meter { width: 5em; }
.citerad-tag { font-weight: 600; color: #1f6f3f; }
.meta { font-size: 0.85em; overflow-wrap: anywhere; }
.stycketext { white-space: pre-wrap; font-size: 0.9em; margin: 0.3em 0; }
"""

# Opening a citation: the page scrolls to the article's header (title, section, file, date),
# and the article text scrolls inside its box to the marked quote, so both are in view.
PANEL_JS = """
const show = () => {
  const mark = element.querySelector('.artikel mark:target');
  if (!mark) return;
  const box = mark.closest('.artikeltext');
  mark.closest('.artikel').scrollIntoView({block: 'start'});
  const below = mark.getBoundingClientRect().top - box.getBoundingClientRect().top;
  box.scrollTop += below - box.clientHeight / 3;
};
window.addEventListener('hashchange', () => requestAnimationFrame(show));
"""

SHORT_AGE_WARNING = "Bygger på text från före SFS 2025:400: kontrollera mot gällande lag."
MAX_EARLIER_ANSWERS = 10  # earlier answers whose citations the panel can still open
_MARKER = re.compile(r"\[(\d+)\]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#|~$&!])")
esc = html.escape


def flag_markdown(reason: str, turn: int = 0, cited: set[int] | None = None) -> str:
    """The mark put after a sentence its sources do not support; a source it names links."""
    return f" ⚠️ *{_markdown_piece(f'(ej belagt: {reason})', turn, cited or set())}*"


def escape_markdown(text: str) -> str:
    """Backslash-escape Markdown and HTML syntax so untrusted text shows literally."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def anchor(turn: int, n: int) -> str:
    """The element id of citation `n` of the answer in chat message `turn`."""
    return f"k{turn}-{n}"


def _link(turn: int, n: int) -> str:
    return f"[\\[{n}\\]](#{anchor(turn, n)})"


def _markdown_piece(piece: str, turn: int, cited: set[int]) -> str:
    """One piece of answer text as Markdown, known citation markers made links."""
    out: list[str] = []
    pos = 0
    for match in _MARKER.finditer(piece):
        n = int(match.group(1))
        if n in cited:
            out.append(escape_markdown(piece[pos : match.start()]) + _link(turn, n))
            pos = match.end()
    out.append(escape_markdown(piece[pos:]))
    return "".join(out)


def answer_pieces(answer: Answer, turn: int) -> list[str]:
    """Split an answer into word-sized Markdown pieces whose concatenation is the answer.

    Args:
        answer: The pipeline's answer; its citation markers become links to the sources.
        turn: Index of the answer's message in the chat.

    Returns:
        Pieces (each word with its trailing whitespace) ready to be streamed; a sentence
        the sources do not support ends with a warning mark.

    """
    cited = {c.n for c in answer.citations} if not answer.abstained else set()
    flags = {f.end: flag_markdown(f.reason, turn, cited) for f in answer.flagged}
    pieces = []
    for match in re.finditer(r"\s*\S+\s*", answer.text):
        # Quotes keep the source's line breaks; the chat shows them as plain spaces.
        word = re.sub(r"\s+", " ", match.group(0))
        end = match.start() + len(match.group(0).rstrip())
        piece = _markdown_piece(word.rstrip(), turn, cited) + flags.get(end, "")
        pieces.append(piece + word[len(word.rstrip()) :])
    pieces = pieces or [_markdown_piece(answer.text, turn, cited)]
    if answer.abstained:
        pieces.insert(0, f"**{NO_SUPPORT_TITLE}.** ")
    return pieces


def answer_footer(answer: Answer, turn: int, warned: bool = False) -> str:
    """Markdown under a finished answer: the articles it rests on, their dates, the age note.

    Once the chat has `warned` in full, later answers get the note in one short line.
    """
    if answer.abstained or not answer.articles:
        return ""
    rests_on = "; ".join(
        f"{' '.join(_link(turn, n) for n in a.citations)} {escape_markdown(a.title)} "
        f"({escape_markdown(date_label(a.date))})"
        for a in answer.articles
    )
    footer = f"\n\n*Bygger på:* {rests_on}"
    if answer.age_warning:
        note = SHORT_AGE_WARNING if warned else answer.age_warning
        footer += f"\n\n> ⚠️ {escape_markdown(note)}"
    return footer


def copy_text(answer: Answer) -> str:
    """The answer as plain text with its numbered sources, for copying."""
    if answer.abstained:
        return f"{NO_SUPPORT_TITLE}. {answer.text}"
    lines = [answer.text, "", "Källor:"] if answer.citations else [answer.text]
    for c in answer.citations:
        lines.append(f"{source_line(answer, c)}: ”{' '.join(c.quote.split())}”")
    if answer.age_warning:
        lines += ["", answer.age_warning]
    return "\n".join(lines)


def _marked(text: str, offset: int, citation: Citation, turn: int) -> str | None:
    """`text` (starting at file offset `offset`) escaped, the citation's quote in `<mark>`."""
    a, b = citation.start - offset, citation.end - offset
    if not (0 <= a <= b <= len(text)) or text[a:b] != citation.quote:
        return None
    mark = f'<mark id="{anchor(turn, citation.n)}" tabindex="-1">{esc(text[a:b])}</mark>'
    return f"{esc(text[:a])}{mark}{esc(text[b:])}"


def _viewer_article(citation: Citation, turn: int, article: Article | None, asked: str = "") -> str:
    """The article of a citation, whole and escaped, with the quote marked, and its metadata.

    `asked` is the question whose answer cites it, shown so the reader knows which one.
    """
    chunk = citation.passage.chunk
    body = None
    span = article.page_span(citation.start, citation.end) if article else None
    if article is not None and article.file is not None and span is not None:
        _, start, end = span  # a paged file: only the cited page(s)
        body = _marked(article.file.text[start:end], start, citation, turn)
    elif article is not None:
        body = _marked(article.text, article.document.start, citation, turn)
    note = ""
    if body is None:  # the file changed since indexing: show the indexed passage only
        body = _marked(chunk.text, chunk.start, citation, turn) or esc(chunk.text)
        note = (
            '<p class="tom">Bara det indexerade stycket kan visas; kör <code>rag ingest</code>.</p>'
        )
    section = (article.section_at(citation.start) if article else chunk.section) or "Ingress"
    date = date_label(article.date) if article else "utan datum"
    rows = [("Avsnitt", section), ("Datum", date), ("Fil", chunk.source)]
    if asked:
        rows.insert(0, ("Svar på", asked))
    file = article.file if article else None
    if file is not None and file.pages and citation.page:
        rows.append(("Sida", f"{citation.page} av {len(file.pages)}"))
    if file is not None and file.ocr:
        rows.append(("Text", "tolkad med OCR från en skannad sida: jämför med originalet"))
    meta = "".join(f"<dt>{k}</dt><dd>{esc(v)}</dd>" for k, v in rows)
    links = _original_links(file, citation)
    back = '<p class="tillbaka"><a href="#chatt">↑ Tillbaka till svaret</a></p>'
    return (
        f'<article class="artikel" aria-label="Källa {citation.n}"><div class="kallhuvud">'
        f"<h4>[{citation.n}] {esc(chunk.title)}</h4><dl>{meta}</dl>{links}{back}</div>"
        f'{note}<div class="artikeltext" tabindex="0">{body}</div></article>'
    )


def _original_links(file: SourceFile | None, citation: Citation) -> str:
    """Links to the original: the web page it came from, the PDF at the cited page."""
    if file is None:
        return ""
    links = []
    if file.kind == "pdf":
        where = f" på sidan {citation.page}" if citation.page else ""
        href = original_link(file.sha256, citation.page)
        links.append(f'<a href="{href}" target="_blank" rel="noopener">Öppna PDF:en{where}</a>')
    if _WEB_ADDRESS.match(file.meta.url):
        links.append(
            f'<a href="{esc(file.meta.url)}" target="_blank" rel="noopener noreferrer">'
            "Originalsidan på webben</a>"
        )
    return f'<p class="original">{" · ".join(links)}</p>' if links else ""


def _passage_item(
    passage: Passage, share: float, label: str, cited: list[int], turn: int, date: str
) -> str:
    """One retrieved passage; `share` (0-1) is shown as `label` ("träffsäkerhet", "relevans")."""
    chunk = passage.chunk
    detail = f"poäng {passage.score:.4f}" + (
        f", cosinus {passage.dense_score:.3f}" if passage.dense_score is not None else ""
    )
    links = " ".join(f'<a href="#{anchor(turn, n)}">[{n}]</a>' for n in cited)
    tag = f'<span class="citerad-tag">Citerad {links}</span>' if cited else ""
    section = f" › {esc(chunk.section)}" if chunk.section else ""
    return (
        f'<li class="stycke{" citerad" if cited else ""}">'
        f'<div class="rad"><span class="rang">#{passage.rank}</span>'
        f'<meter min="0" max="1" value="{share:.2f}" title="{detail}" '
        f'aria-label="{label.capitalize()}">{share:.0%}</meter>'
        f'<span class="relevans">{label} {share:.0%}</span>{tag}</div>'
        f"<div><strong>{esc(chunk.title)}</strong>{section}</div>"
        f'<div class="meta">{esc(date)} · {esc(chunk.source)}</div>'
        f"<details><summary>Visa stycket</summary>"
        f'<p class="stycketext">{esc(chunk.text)}</p></details></li>'
    )


def _viewers(answer: Answer, turn: int, article_at: ArticleLookup) -> str:
    """The article viewer of each citation of an answer (each shown when targeted)."""
    return "".join(
        _viewer_article(c, turn, article_at(c.passage.chunk.source, c.start), answer.question)
        for c in answer.citations
    )


def earlier_viewers(answers: Mapping[int, Answer], current: int, article_at: ArticleLookup) -> str:
    """The cited articles of earlier answers, so a citation in any answer still opens.

    Only the last MAX_EARLIER_ANSWERS answers with citations are kept in the panel.
    """
    earlier = [
        (turn, a)
        for turn, a in sorted(answers.items())
        if turn != current and a.citations and not a.abstained
    ][-MAX_EARLIER_ANSWERS:]
    if not earlier:
        return ""
    viewers = "".join(_viewers(a, turn, article_at) for turn, a in earlier)
    label = "Källor till tidigare svar"
    return f'<section class="visare tidigare" aria-label="{label}">{viewers}</section>'


def sources_html(
    answer: Answer,
    turn: int,
    article_at: ArticleLookup,
    chance: Callable[[Passage], float | None] | None = None,
) -> str:
    """The sources panel: age note, article viewer, and every retrieved passage.

    Args:
        answer: The pipeline's answer.
        turn: Index of the answer's message in the chat (makes the ids unique).
        article_at: Finds the indexed article around a file offset.
        chance: How often a passage like it holds the answer (calibrated in training);
            without it, each passage's score relative to the best one is shown.

    Returns:
        Escaped HTML. A citation's article is shown when its id is the URL fragment.

    """
    if not answer.passages and not answer.abstained:  # a greeting or thanks: no search
        return '<p class="tips">Inget söktes: meddelandet frågade inget om artiklarna.</p>'
    parts: list[str] = []
    if answer.abstained:
        parts.append(
            f'<div class="inget-stod" role="status"><strong>{NO_SUPPORT_TITLE}</strong>'
            "<p>Artiklarna besvarar inte frågan, så inget svar ges. De närmaste träffarna "
            "visas nedan; ingen av dem citeras.</p></div>"
        )
    if answer.citations and not answer.abstained:
        viewers = _viewers(answer, turn, article_at)
        parts.append(
            '<section class="visare" aria-label="Källartikel"><p class="tips">Klicka på en '
            "källhänvisning [n] för att läsa artikeln med det citerade stycket markerat.</p>"
            f"{viewers}</section>"
        )
    best = max((p.score for p in answer.passages), default=0.0)
    chances = [chance(p) if chance else None for p in answer.passages]
    known = [c for c in chances if c is not None]
    if known and max(known) < WEAK_MATCH:
        parts.append(
            '<p class="svag" role="note">Inget stycke matchar frågan väl: de bästa träffarna '
            f"innehåller svaret bara i omkring {max(known):.0%} av fallen.</p>"
        )
    items = []
    for passage, likely in zip(answer.passages, chances, strict=True):
        cited = [c.n for c in answer.citations if c.passage.chunk.id == passage.chunk.id]
        article = article_at(passage.chunk.source, passage.chunk.start)
        date = date_label(article.date) if article else "utan datum"
        shown = likely if likely is not None else (passage.score / best if best > 0 else 0.0)
        label = "träffsäkerhet" if likely is not None else "relevans"
        items.append(
            _passage_item(passage, shown, label, [] if answer.abstained else cited, turn, date)
        )
    parts.append(
        f'<h3>Hämtade stycken ({len(items)})</h3><ol class="stycken">{"".join(items)}</ol>'
    )
    return "".join(parts)
