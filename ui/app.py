"""Gradio web UI: ask a question, watch the answer stream in, check the cited passages.

Presentation only: every answer comes from `Pipeline.ask`. Article text and questions
are untrusted, so the sources panel escapes everything and the chat escapes Markdown.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import html
import re
from collections.abc import Iterator
from typing import Any

import gradio as gr

from rag.errors import RagError
from rag.pipeline import Pipeline
from rag.types import Answer, Citation

TITLE = "Fråga socialtjänstartiklarna"
DEFAULT_EXAMPLES = [
    "Var hölls Socialchefsdagarna 2023?",
    "Vad är Huset i Nordmalings kommun?",
    "Hur många medlemmar deltog i FSS workshop om äldreomsorgslag?",
    "Vad säger Anna Burston om tillit?",
]
EMPTY_PANEL = '<p class="tom">Källorna till svaret visas här.</p>'
SEARCHING_PANEL = '<p class="tom">Söker i källorna …</p>'
NO_SUPPORT_PANEL = '<p class="inget-stod"><strong>Inget stöd i källorna</strong></p>'
PANEL_CSS = """
.kalla { border-top: 1px solid var(--border-color-primary); padding: 0.5em 0; }
.kalla h4 { margin: 0 0 0.3em 0; font-size: 0.95em; }
.kalla .meta { font-weight: normal; color: var(--body-text-color-subdued); }
.kalla .stycke { white-space: pre-wrap; font-size: 0.9em; line-height: 1.45; margin: 0; }
.kalla mark { background: #ffe58a; color: #1a1a1a; padding: 0 0.1em; }
.tom { color: var(--body-text-color-subdued); }
"""

Message = dict[str, Any]
_MARKER = re.compile(r"\[(\d+)\]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#|~$&!])")


def _escape_markdown(text: str) -> str:
    """Backslash-escape Markdown and HTML syntax so untrusted text shows literally."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _markdown_piece(piece: str, cited: set[int]) -> str:
    """Render one piece of answer text, turning known markers into links to sources."""
    out: list[str] = []
    pos = 0
    for match in _MARKER.finditer(piece):
        n = int(match.group(1))
        if n not in cited:
            continue
        out.append(_escape_markdown(piece[pos : match.start()]))
        out.append(f"[\\[{n}\\]](#kalla-{n})")
        pos = match.end()
    out.append(_escape_markdown(piece[pos:]))
    return "".join(out)


def answer_pieces(answer: Answer) -> list[str]:
    """Split an answer into word-sized Markdown pieces whose concatenation is the answer.

    Args:
        answer: The pipeline's answer; its citation markers become `#kalla-n` links.

    Returns:
        Pieces (each word with its trailing whitespace) ready to be streamed.

    """
    cited = {c.n for c in answer.citations} if not answer.abstained else set()
    # Quotes keep the source's line breaks; the chat shows them as plain spaces.
    words = [re.sub(r"\s+", " ", w) for w in re.findall(r"\s*\S+\s*", answer.text)]
    words = words or [answer.text]
    return [_markdown_piece(word, cited) for word in words]


def _highlighted(citation: Citation) -> str:
    """Render the cited chunk as escaped HTML, with the quoted span in `<mark>`."""
    chunk = citation.passage.chunk
    text = chunk.text
    a, b = citation.start - chunk.start, citation.end - chunk.start
    if not (0 <= a <= b <= len(text)) or text[a:b] != citation.quote:
        a = text.find(citation.quote) if citation.quote else -1
        b = a + len(citation.quote)
    if a < 0:
        return html.escape(text)
    esc = html.escape
    return f"{esc(text[:a])}<mark>{esc(text[a:b])}</mark>{esc(text[b:])}"


def sources_html(answer: Answer) -> str:
    """Render the sources panel for an answer.

    Args:
        answer: The pipeline's answer.

    Returns:
        Escaped HTML: one block per citation (id `kalla-n`), or "Inget stöd i källorna".

    """
    if answer.abstained or not answer.citations:
        return NO_SUPPORT_PANEL
    blocks = []
    for citation in sorted(answer.citations, key=lambda c: c.n):
        chunk = citation.passage.chunk
        meta = " — ".join(html.escape(p) for p in (chunk.source, chunk.section or "ingress"))
        blocks.append(
            f'<section class="kalla" id="kalla-{citation.n}">'
            f"<h4>[{citation.n}] {html.escape(chunk.title)} "
            f'<span class="meta">— {meta}</span></h4>'
            f'<p class="stycke">{_highlighted(citation)}</p></section>'
        )
    return "".join(blocks)


def respond(
    pipeline: Pipeline, question: str, history: list[Message]
) -> Iterator[tuple[str, list[Message], str]]:
    """Ask the pipeline and stream the answer into the chat, word by word.

    Args:
        pipeline: The pipeline that answers.
        question: The user's question, as typed.
        history: The chat so far, in Gradio's messages format.

    Yields:
        (new textbox value, chat messages, sources panel HTML).

    """
    question = question.strip()
    if not question:
        yield "", [*history, {"role": "assistant", "content": "Skriv en fråga."}], EMPTY_PANEL
        return
    history = [*history, {"role": "user", "content": _escape_markdown(question)}]
    yield "", [*history, {"role": "assistant", "content": "…"}], SEARCHING_PANEL
    try:
        answer = pipeline.ask(question)
    except RagError as exc:
        message = f"**Något gick fel:** {_escape_markdown(str(exc))}"
        yield "", [*history, {"role": "assistant", "content": message}], EMPTY_PANEL
        return
    panel = sources_html(answer)
    shown = ""
    for piece in answer_pieces(answer):
        shown += piece
        yield "", [*history, {"role": "assistant", "content": shown}], panel


def build_app(pipeline: Pipeline, examples: list[str] | None = None) -> gr.Blocks:
    """Build the chat UI around a pipeline.

    Args:
        pipeline: Answers the questions; it must already have an index.
        examples: Example questions shown under the input (Swedish defaults if None).

    Returns:
        The Gradio app, not yet launched.

    """

    def on_ask(question: str, history: list[Message]) -> Iterator[tuple[str, list[Message], str]]:
        yield from respond(pipeline, question, history)

    app = gr.Blocks(title=TITLE)
    with app:
        gr.Markdown(
            f"# {TITLE}\nSvaren citerar artiklarna ordagrant; siffran [n] visar källan "
            "och det citerade stycket markeras i källpanelen."
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Samtal",
                    height=520,
                    buttons=["copy"],
                    feedback_options=None,
                    latex_delimiters=[],
                    placeholder="Ställ en fråga om artiklarna.",
                    elem_id="chatt",
                )
                with gr.Row():
                    question = gr.Textbox(
                        placeholder="Skriv din fråga här …",
                        show_label=False,
                        lines=1,
                        max_lines=4,
                        scale=5,
                        elem_id="fraga",
                    )
                    ask = gr.Button("Fråga", variant="primary", scale=1, elem_id="fraga-knapp")
                gr.Examples(
                    examples=[[q] for q in (examples or DEFAULT_EXAMPLES)],
                    inputs=[question],
                    label="Exempelfrågor",
                    cache_examples=False,
                )
            with gr.Column(scale=2):
                gr.Markdown("### Källor")
                sources = gr.HTML(EMPTY_PANEL, css_template=PANEL_CSS, elem_id="kallor")
        gr.on(
            triggers=[question.submit, ask.click],
            fn=on_ask,
            inputs=[question, chatbot],
            outputs=[question, chatbot, sources],
            api_name="fraga",
            show_progress="hidden",
        )
    return app


def launch(pipeline: Pipeline, host: str, port: int, concurrency: int = 2) -> None:
    """Serve the UI locally; never creates a share link.

    Args:
        pipeline: Answers the questions.
        host: Address to bind, e.g. "127.0.0.1".
        port: Port to listen on.
        concurrency: Questions answered at once; more wait in Gradio's queue.

    """
    build_app(pipeline).queue(default_concurrency_limit=concurrency).launch(
        server_name=host, server_port=port, show_error=False, share=False
    )
