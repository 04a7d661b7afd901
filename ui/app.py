"""Gradio web UI: ask, watch the answer stream in, check every citation in its article, rate it.

Presentation only: answers come from `Pipeline.ask_stream` (an LLM's text streams in, then
the checked answer replaces it), rendering from `ui.render` and `ui.answer_view`, ratings go
to `rag.feedback`, the Eval tab is `ui.eval_tab`. The API endpoint `fraga` takes
(question, history) and returns (answer text, answer record as in `rag ask --json`, chat,
sources panel HTML, copy text, cleared question box).
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections import deque

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# Gradio imports matplotlib around every event to pin its backend; a server has no screen,
# and naming the backend spares matplotlib probing for GUI toolkits (0.8 s on first answer).
os.environ.setdefault("MPLBACKEND", "agg")

from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import gradio as gr
import gradio.queueing as gradio_queueing
import gradio.routes as gradio_routes
import gradio.utils as gradio_utils
from starlette.middleware import Middleware

from rag.config import Settings
from rag.errors import CommentError, QuestionError, RagError
from rag.feedback import MAX_COMMENT_CHARS, FeedbackStore
from rag.logs import log_event
from rag.pii import mask_identity_numbers
from rag.pipeline import Pipeline
from rag.records import answer_record
from rag.types import Answer, Searched, TextDelta
from rag.validate import clean_question
from ui.answer_view import (
    VIEW_CSS,
    content_text,
    conversation_turns,
    notice_markdown,
    searched_html,
)
from ui.documents_tab import documents_tab
from ui.eval_tab import eval_tab
from ui.guard import HttpGuard
from ui.originals import OriginalFiles, OriginalLookup
from ui.render import (
    EMPTY_PANEL,
    PANEL_CSS,
    PANEL_JS,
    SEARCHING_PANEL,
    answer_footer,
    answer_pieces,
    copy_text,
    earlier_viewers,
    escape_markdown,
    sources_html,
)

TITLE = "Fråga socialtjänstartiklarna"
# Citation links in the chat: distinct, targets of at least 24 x 24 px (WCAG 2.2); the ask
# button in colours of enough contrast.
CHAT_CSS = """
#chatt a[href^="#k"] { display: inline-block; min-width: 24px; min-height: 24px;
  line-height: 24px; text-align: center; font-weight: 700; text-decoration: underline;
  border-radius: 4px; background: rgba(31, 111, 63, 0.12); }
button.primary { background: #1f5f3a; color: #ffffff; }  /* 4.5:1 or more */
"""
DEFAULT_EXAMPLES = [
    "Var hölls Socialchefsdagarna 2023?",
    "Vad är Huset i Nordmalings kommun?",
    "Hur många medlemmar deltog i FSS workshop om äldreomsorgslag?",
    "Vad säger Anna Burston om tillit?",
]
INTRO = (
    f"# {TITLE}\nSvaren citerar artiklarna ordagrant. Klicka på en källhänvisning **[n]** "
    "för att läsa artikeln med det citerade stycket markerat. Betygsätt svaret med tummarna "
    "under det."
)

# Words per streamed update of a quoted answer: every update costs the server a few ms of
# CPU (one per word was most of an answer's cost under load), and a sentence at a time
# still reads as streaming.
STREAM_WORDS = 12
SAVED_KEY = "socialrag-samtal"  # the browser's copy of the conversation's questions
MAX_SAVED_QUESTIONS = 10  # a reload asks at most this many again
MAX_SAVED_CHARS = 2_000

Message = dict[str, Any]
Answers = dict[int, Answer]  # chat message index -> the answer shown there
MAX_HISTORY_MESSAGES = 20  # of a chat a client sends (API clients; the UI's is server state)
MAX_HISTORY_CHARS = 4000  # of each of its messages


class Step(NamedTuple):
    """One streamed update of the `fraga` event, in its output order."""

    answer: str  # the answer text with [n] markers (first output, for API clients)
    record: dict[str, Any] | None  # `rag ask --json` shape
    chat: list[Message]
    panel: str
    copy: str
    question: Any  # the question box: cleared once, then left to what the user types next
    answers: Answers


def _bot(content: str) -> Message:
    return {"role": "assistant", "content": content}


def respond(
    pipeline: Pipeline, question: str, history: list[Message], answers: Answers
) -> Iterator[Step]:
    """Ask the pipeline and stream the answer into the chat: the LLM's text, or the quotes.

    Args:
        pipeline: The pipeline that answers.
        question: The user's question, as typed.
        history: The chat so far, in Gradio's messages format; it makes follow-ups standalone.
        answers: Answers already in the chat, by message index.

    Yields:
        Steps; the sources panel shows once the whole answer is in the chat. The question
        box is cleared once, so a next question typed while the answer streams is kept.

    """
    try:
        question = clean_question(question, pipeline.settings.max_question_chars)
    except QuestionError as exc:  # shown in the chat; the question is not echoed
        yield Step("", None, [*history, _bot(str(exc))], EMPTY_PANEL, "", question, answers)
        return
    turns = conversation_turns(history, answers)
    shown_question = escape_markdown(mask_identity_numbers(question).text)
    history = [*history, {"role": "user", "content": shown_question}]
    turn = len(history)  # index of the answer's message
    waiting = Step("", None, [*history, _bot("…")], SEARCHING_PANEL, "", "", answers)
    yield waiting
    streamed = ""
    try:
        for event in pipeline.ask_stream(question, turns):
            if isinstance(event, Searched):
                waiting = waiting._replace(panel=searched_html(event.query) + SEARCHING_PANEL)
                yield waiting
            elif isinstance(event, TextDelta):  # the LLM writing; checked when it is done
                streamed += event.text
                yield waiting._replace(chat=[*history, _bot(escape_markdown(streamed))])
            else:
                answer = event
    except RagError as exc:
        message = f"**Något gick fel:** {escape_markdown(str(exc))}"
        yield Step("", None, [*history, _bot(message)], EMPTY_PANEL, "", "", answers)
        return
    panel = (
        searched_html(answer.searched_query)
        + sources_html(answer, turn, pipeline.article_at, pipeline.passage_chance)
        + earlier_viewers(answers, turn, pipeline.article_at)
    )
    answers = {**answers, turn: answer}
    done = Step(
        answer.text, answer_record(answer), [], panel, copy_text(answer), gr.skip(), answers
    )
    pieces = answer_pieces(answer, turn)
    shown = notice_markdown(answer)
    # An LLM's streamed text is replaced at once; quotes appear STREAM_WORDS words at a time.
    size = max(1, len(pieces)) if streamed else STREAM_WORDS
    for start in range(0, len(pieces), size):
        shown += "".join(pieces[start : start + size])
        yield done._replace(chat=[*history, _bot(shown)], panel=waiting.panel)
    warned = any(a.age_warning and not a.abstained for t, a in answers.items() if t != turn)
    footer = answer_footer(answer, turn, warned)  # the age note in full once per chat
    yield done._replace(chat=[*history, _bot(shown + footer)])


def text_history(history: Any) -> list[Message]:
    """A client-supplied chat as plain text turns: never anything the chat would render live.

    Only user and assistant messages with text survive, escaped as Markdown, the last
    MAX_HISTORY_MESSAGES of them, each cut to MAX_HISTORY_CHARS: components, files and
    HTML a client sends are dropped.
    """
    if not isinstance(history, list):
        return []
    turns: list[Message] = []
    for message in history[-MAX_HISTORY_MESSAGES:]:
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            continue
        content = content_text(message.get("content"))
        if content.strip():
            text = mask_identity_numbers(content[:MAX_HISTORY_CHARS]).text
            turns.append({"role": message["role"], "content": escape_markdown(text)})
    return turns


def _chat_column(
    examples: list[str], answers: gr.State, feedback: FeedbackStore
) -> tuple[gr.Chatbot, gr.Textbox, gr.Button, gr.Button, gr.Textbox]:
    """The chat with its feedback box under it, the question box, buttons, copy box, examples."""
    chatbot = gr.Chatbot(
        label="Samtal",
        height=520,
        buttons=[],
        feedback_options=("Like", "Dislike"),
        latex_delimiters=[],
        placeholder="Ställ en fråga om artiklarna.",
        elem_id="chatt",
    )
    _feedback_events(chatbot, answers, feedback)  # confirmed right under the rated answers
    with gr.Row():
        question = gr.Textbox(
            label="Din fråga",
            placeholder="Skriv din fråga här …",
            show_label=False,
            lines=1,
            max_lines=4,
            scale=5,
            min_width=200,
            elem_id="fraga",
        )
        ask = gr.Button("Fråga", variant="primary", scale=1, min_width=80, elem_id="fraga-knapp")
    new_chat = gr.Button("Ny konversation", size="sm", elem_id="ny-konversation")
    with gr.Accordion("Kopiera svaret med källor", open=False, elem_id="kopiera-panel"):
        copy = gr.Textbox(  # the label row holds the copy button: it must show
            label="Svaret med källor",
            lines=6,
            interactive=False,
            buttons=["copy"],
            elem_id="kopiera",
        )
    gr.Examples(examples=[[q] for q in examples], inputs=[question], label="Exempelfrågor")
    return chatbot, question, ask, new_chat, copy


def _feedback_events(chatbot: gr.Chatbot, answers: gr.State, store: FeedbackStore) -> None:
    """Thumbs on an answer store a rating at once; an optional comment is added after."""
    rows = gr.State({})  # chat message index -> feedback row id
    current = gr.State(None)  # row id the comment box belongs to
    with gr.Group(visible=False) as box:
        status = gr.Markdown(elem_id="omdome")
        comment = gr.Textbox(
            label="Kommentar till ditt omdöme (valfritt)",
            lines=2,
            max_length=MAX_COMMENT_CHARS,
            elem_id="kommentar",
        )
        save = gr.Button("Spara kommentar", size="sm", elem_id="spara-kommentar")

    def on_like(
        answers: Answers, rows: dict[int, int], data: gr.LikeData
    ) -> tuple[dict[int, int], int | None, gr.Group, str]:
        index = data.index if isinstance(data.index, int) else data.index[0]
        answer = answers.get(index)
        if answer is None or not isinstance(data.liked, bool):
            return rows, None, gr.Group(visible=False), ""
        try:
            row = store.rate(answer, "up" if data.liked else "down", rows.get(index))
        except RagError as exc:
            raise gr.Error(str(exc)) from exc
        asked = escape_markdown(answer.question[:120])
        thanks = (
            f"Tack för ditt omdöme om svaret på ”{asked}”! Lägg gärna till en kommentar om vad "
            "som var bra eller fel; den sparas till just det svaret."
        )
        return {**rows, index: row}, row, gr.Group(visible=True), thanks

    def on_comment(row: int | None, text: str) -> tuple[str, str]:
        if row is None or not text.strip():
            return text, "Skriv en kommentar först."
        try:
            store.comment(row, text)
        except CommentError as exc:  # too long: shown beside the box, nothing stored
            return text, escape_markdown(str(exc))
        except RagError as exc:
            raise gr.Error(str(exc)) from exc
        return "", "Kommentaren är sparad. Tack!"

    chatbot.like(on_like, [answers, rows], [rows, current, box, status], api_visibility="private")
    gr.on(
        [save.click, comment.submit],
        on_comment,
        [current, comment],
        [comment, status],
        api_visibility="private",
    )


def build_app(
    pipeline: Pipeline,
    examples: list[str] | None = None,
    eval_questions: Path | None = None,
    eval_runs_dir: Path | None = None,
    eval_open: bool | None = None,
) -> gr.Blocks:
    """Build the UI: a chat tab and, for maintainers, the Eval and Dokument tabs.

    The conversation lives in server state; the chat component is output only. The
    `fraga` endpoint's history (an API client's earlier turns) is a JSON value used only
    when the session has no conversation yet, and then only as escaped text turns.

    Args:
        pipeline: Answers the questions; it must already have an index.
        examples: Example questions shown under the input (Swedish defaults if None).
        eval_questions: Question set of the Eval tab (settings' `eval_questions` if None).
        eval_runs_dir: Where Eval tab runs are written (settings' `eval_runs_dir` if None).
        eval_open: Eval tab for everyone without login (settings' `ui_eval_tab` if None);
            with login it is for the users of RAG_MAINTAINERS.

    Returns:
        The Gradio app, not yet launched.

    """
    settings = pipeline.settings
    open_to_all = settings.ui_eval_tab if eval_open is None else eval_open
    maintainers = settings.maintainer_names

    def may_evaluate(request: gr.Request | None) -> bool:
        user = _user(request)
        return user in maintainers if user else open_to_all

    def may_manage(request: gr.Request | None) -> bool:  # documents: logged-in maintainers only
        user = _user(request)
        return bool(user) and user in maintainers

    def on_ask(
        question: str, history: Any, answers: Answers, chat: list[Message]
    ) -> Iterator[tuple[Any, ...]]:
        history = chat if chat else text_history(history)
        if not chat:
            answers = {}
        for step in respond(pipeline, question, history, answers):
            yield (*step, step.chat, saved_questions(step.answers))

    app = gr.Blocks(title=TITLE)
    with app:
        gr.Markdown(INTRO)
        with gr.Tabs():
            with gr.Tab("Fråga", id="chatt-flik"):
                answers = gr.State({})
                chat = gr.State([])  # the conversation as the server wrote it
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=300):
                        chatbot, question, ask, new_chat, copy = _chat_column(
                            examples or DEFAULT_EXAMPLES,
                            answers,
                            FeedbackStore(settings.feedback_path),
                        )
                    with gr.Column(scale=2, min_width=300):
                        gr.Markdown("### Källor")
                        sources = gr.HTML(
                            EMPTY_PANEL,
                            css_template=PANEL_CSS + VIEW_CSS,
                            js_on_load=PANEL_JS,
                            elem_id="kallor",
                        )
                answer_text = gr.Textbox(visible=False, label="Svar")
                record = gr.JSON(visible=False, label="Svar med källor")
            if open_to_all or maintainers:
                with gr.Tab("Utvärdering", id="utvardering-flik", visible=False) as eval_page:
                    eval_tab(
                        pipeline,
                        eval_questions or settings.eval_questions,
                        eval_runs_dir or settings.eval_runs_dir,
                        may_evaluate,
                    )

                def show_eval(request: gr.Request) -> gr.Tab:
                    return gr.Tab(visible=may_evaluate(request))

                app.load(show_eval, outputs=eval_page, api_visibility="private")
            if maintainers:
                with gr.Tab("Dokument", id="dokument-flik", visible=False) as documents_page:
                    documents_tab(pipeline, may_manage, documents_page)

                def show_documents(request: gr.Request) -> gr.Tab:
                    return gr.Tab(visible=may_manage(request))

                app.load(show_documents, outputs=documents_page, api_visibility="private")
        # API clients may pass earlier turns here; it is data, never rendered as it comes.
        client_history = gr.JSON([], visible=False, label="Tidigare samtal")
        # The browser keeps the conversation's questions (masked), so a reload asks them again.
        saved = gr.BrowserState([], storage_key=SAVED_KEY)
        gr.on(
            triggers=[question.submit, ask.click],
            fn=on_ask,
            inputs=[question, client_history, answers, chat],
            outputs=[answer_text, record, chatbot, sources, copy, question, answers, chat, saved],
            api_name="fraga",
            show_progress="hidden",
        )
        # A new conversation: nothing earlier is carried into the next question.
        # The chat's own clear button does the same: nothing hidden is carried on.
        gr.on(
            [new_chat.click, chatbot.clear],
            lambda: ([], {}, [], EMPTY_PANEL, "", "", []),
            outputs=[chat, answers, chatbot, sources, copy, question, saved],
            api_visibility="private",
        )

        def restore(questions: Any) -> tuple[Any, ...]:
            """The saved conversation asked again, as a reload should show it."""
            asked = _kept_questions(questions)
            if not asked:
                return (gr.skip(),) * 5
            last = Step("", None, [], EMPTY_PANEL, "", "", {})
            for question_text in asked:  # each answer complete: its last step
                last = deque(respond(pipeline, question_text, last.chat, last.answers), 1)[0]
            return last.chat, last.answers, last.chat, last.panel, last.copy

        app.load(
            restore,
            inputs=saved,
            outputs=[chat, answers, chatbot, sources, copy],
            api_visibility="private",
        )
    return app


def _user(request: gr.Request | None) -> str | None:
    """The logged-in user of a request (None without a login)."""
    return getattr(request, "username", None) if request is not None else None


def saved_questions(answers: Answers) -> list[str]:
    """The conversation's questions (as masked by the pipeline), oldest first, for the browser."""
    return [answers[turn].question for turn in sorted(answers)][-MAX_SAVED_QUESTIONS:]


def _kept_questions(questions: Any) -> list[str]:
    """What the browser handed back, kept only as the questions it can be: bounded text."""
    if not isinstance(questions, list):
        return []
    kept = [q[:MAX_SAVED_CHARS] for q in questions if isinstance(q, str) and q.strip()]
    return kept[-MAX_SAVED_QUESTIONS:]


class _TypeOnlyTraceback:
    """Gradio's `traceback` module, but a failed event logs its error type, not its values."""

    def __getattr__(self, name: str) -> Any:
        return getattr(traceback, name)

    @staticmethod
    def print_exc(*_: Any, **__: Any) -> None:
        error = sys.exc_info()[1]
        log_event("ui_event_failed", logging.WARNING, error=type(error).__name__)


def quiet_gradio_tracebacks() -> None:
    """Stop Gradio printing a failed request's traceback (with the request's text) to stderr.

    A malformed request's traceback can quote what was sent, a personnummer included;
    the log gets the error's type instead.
    """
    for module in (gradio_queueing, gradio_routes, gradio_utils):
        module.traceback = _TypeOnlyTraceback()  # type: ignore[attr-defined]


def start(
    app: gr.Blocks,
    settings: Settings,
    auth: list[tuple[str, str]] | None = None,
    *,
    host: str | None = None,
    port: int | None = None,
    block: bool = True,
    originals: OriginalLookup | None = None,
) -> None:
    """Serve `app` locally behind the HTTP guard; never creates a share link.

    Gradio's files go to its own folder under the data dir; uploads are for the logged-in
    maintainers only (the Dokument tab); deep links and the monitoring dashboard are off;
    request bodies are bounded; logins are throttled.

    Args:
        app: The UI of `build_app`.
        settings: Host, port, concurrency, data dir and request limit.
        auth: (user, password) pairs that may log in; None serves without login.
        host: Address to bind (settings' `host` if None).
        port: Port to listen on (settings' `port` if None).
        block: Wait until the server stops (False returns once it listens, for tests).
        originals: The indexed PDFs by content hash, served at `/dokument/<sha256>.pdf`.

    """
    os.environ["GRADIO_TEMP_DIR"] = str(settings.gradio_temp_dir)
    quiet_gradio_tracebacks()
    uploaders = settings.maintainer_names if auth else frozenset()  # the Dokument tab's users
    upload_limit = settings.max_file_bytes + 1_000_000  # a file and its form around it
    middleware = [
        Middleware(
            HttpGuard,
            max_body_bytes=settings.max_request_bytes,
            uploaders=uploaders,
            max_upload_bytes=upload_limit,
        )
    ]
    if originals is not None:
        middleware.append(Middleware(OriginalFiles, lookup=originals))
    app.queue(default_concurrency_limit=settings.ui_concurrency).launch(
        server_name=host or settings.host,
        server_port=port or settings.port,
        show_error=False,
        share=False,
        auth=auth,
        quiet=True,  # `rag serve` prints the address; no "share=True" hint
        footer_links=[],  # no API, Gradio or settings links a user cannot use
        prevent_thread_lock=not block,
        max_file_size=settings.max_file_bytes if uploaders else 1,  # the guard refuses others
        enable_monitoring=False,
        css=CHAT_CSS,
        app_kwargs={"middleware": middleware},
    )
