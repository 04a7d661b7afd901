"""Command line: `rag ingest`, `ask`, `serve`, `eval` and `feedback`, thin over the library."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Protocol

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from rag.auth import parse_users
from rag.config import Settings, load_settings
from rag.errors import RagError
from rag.logs import log_event, setup_logging
from rag.records import NO_SUPPORT_TITLE, answer_record, source_line
from rag.types import Answer, AskEvent, IngestReport, Searched, TextDelta

if TYPE_CHECKING:  # the pipeline loads Chroma and the models: only commands that need it
    from rag.pipeline import Pipeline

# No telemetry or analytics from any library we load.
for _name in ("ANONYMIZED_TELEMETRY", "GRADIO_ANALYTICS_ENABLED", "HF_HUB_DISABLE_TELEMETRY"):
    os.environ.setdefault(_name, "False" if _name != "HF_HUB_DISABLE_TELEMETRY" else "1")

app = typer.Typer(
    help="Ask questions about Swedish social-services articles, with citations.",
    no_args_is_help=True,
    add_completion=False,
)
err = Console(stderr=True)


def flag(names: str, text: str) -> Any:
    """A yes/no option, listed in --help without a type."""
    return typer.Option(names, help=text, metavar="")


out = Console()

SeedsOption = Annotated[Path | None, typer.Option("--seeds", help="Corpus folder (RAG_SEEDS_DIR).")]
DataOption = Annotated[Path | None, typer.Option("--data", help="Index folder (RAG_DATA_DIR).")]


def _pipeline(settings: Settings) -> Pipeline:
    """The pipeline, imported on first use so `rag --help` starts at once."""
    from rag.pipeline import Pipeline

    return Pipeline(settings)


def _settings(seeds: Path | None = None, data: Path | None = None, **values: object) -> Settings:
    settings = load_settings(seeds_dir=seeds, data_dir=data, **values)
    setup_logging(settings)
    return settings


class Advance(Protocol):
    """Moves a progress display to `done` of `total`, optionally naming another phase."""

    def __call__(self, done: int, total: int, phase: str = "") -> None:
        """Show `done` of `total` (of `phase`, when given)."""


@contextmanager
def _progress_bar(description: str, then: str = "") -> Iterator[Advance]:
    """A progress bar on stderr; yields the (done, total[, phase]) callback that advances it.

    `then` describes the work that follows once the bar is full; `phase` replaces the
    description for a stage before the main one. When stderr is not a terminal (a log,
    `nohup`), a plain line is printed at every tenth of the work instead.
    """
    if not err.is_terminal:
        yield _progress_lines(description, then)
        return
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=None)

        def advance(done: int, total: int, phase: str = "") -> None:
            full = phase or (then if then and done >= total else description)
            progress.update(task, completed=done, total=total, description=full)

        yield advance


def _progress_lines(description: str, then: str) -> Advance:
    """The callback that prints "description: done/total, rate, time left" every tenth."""
    began = time.monotonic()
    printed = (-1, "")  # (tenth, phase) last printed

    def advance(done: int, total: int, phase: str = "") -> None:
        nonlocal printed, began
        if phase != printed[1]:
            began = time.monotonic()  # a new phase: its own rate
        tenth = done * 10 // max(1, total)
        if (tenth, phase) == printed:
            return
        printed = (tenth, phase)
        elapsed = max(time.monotonic() - began, 1e-6)
        rate = done / elapsed
        left = (total - done) / rate if rate > 0 else 0.0
        line = f"{phase or description}: {done}/{total}, {rate:.1f}/s, {left:.0f} s kvar"
        if then and not phase and done >= total:
            line += f". {then} …"
        err.print(line, markup=False, highlight=False)

    return advance


def run_ingest(pipeline: Pipeline) -> IngestReport:
    """Ingest with a progress bar on stderr, then print what changed."""
    with _progress_bar("Bäddar in avsnitt", then="Förbereder sökindexet") as on_progress:

        def on_reading(done: int, total: int) -> None:
            on_progress(done, total, "Läser filer")

        report = pipeline.ingest(on_progress, on_reading)
    for line in report.skipped_files:
        err.print(f"[yellow]Skipped[/] {escape(line)}", highlight=False)
    for line in report.notes:
        err.print(f"[cyan]Note[/] {escape(line)}", highlight=False)
    if report.rebuilt:
        err.print("[yellow]The index was built with another embedder and has been rebuilt.[/]")
    sentences = ""
    if report.sentences:
        sentences = f", {report.sentences} sentences (+{report.sentences_added} new)"
    err.print(
        f"Indexed {report.files} files, {report.chunks} chunks "
        f"(+{report.added} new, -{report.deleted} removed, {report.unchanged} unchanged)"
        f"{sentences} in {report.seconds:.1f} s."
    )
    return report


@app.command()
def ingest(seeds: SeedsOption = None, data: DataOption = None) -> None:
    """Index the seeds folder; only new or changed text is embedded."""
    run_ingest(_pipeline(_settings(seeds, data)))


@app.command()
def documents(
    as_json: Annotated[bool, flag("--json", "One JSON object per line.")] = False,
    seeds: SeedsOption = None,
    data: DataOption = None,
) -> None:
    """List the indexed documents: title, kind, date, pages, chunks, when indexed."""
    pipeline = _pipeline(_settings(seeds, data))
    listed = pipeline.documents()
    if as_json:
        for info in listed:
            sys.stdout.write(json.dumps(asdict(info), ensure_ascii=False) + "\n")
        return
    for info in listed:
        pages = f", {info.pages} s." if info.pages else ""
        articles = f", {info.articles} artiklar" if info.articles > 1 else ""
        out.print(
            f"{info.name} ({info.kind}{pages}{articles}, {info.chunks} avsnitt, "
            f"{info.date or 'utan datum'}, indexerad {info.indexed or 'okänt'}): {info.title}",
            markup=False,
            soft_wrap=True,
        )
    err.print(f"{len(listed)} dokument i indexet.")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in Swedish or English.")],
    as_json: Annotated[bool, flag("--json", "Print one JSON object.")] = False,
    top_k: Annotated[
        int | None,
        typer.Option("--top-k", min=1, max=50, help="Passages to answer from (RAG_TOP_K)."),
    ] = None,
    previous: Annotated[
        list[str] | None,
        typer.Option(
            "--previous",
            help="An earlier question of the conversation (repeatable), answered first as the "
            "chat did.",
        ),
    ] = None,
    data: DataOption = None,
) -> None:
    """Answer a question from the index, with numbered citations (streamed with an LLM)."""
    pipeline = _pipeline(_settings(data=data))
    history = pipeline.conversation(previous or [])
    if as_json:
        answer = pipeline.ask(question, top_k, history)
        sys.stdout.write(json.dumps(answer_record(answer), ensure_ascii=False) + "\n")
        return
    answer, streamed = _stream(pipeline.ask_stream(question, history, top_k))
    _print_answer(answer, streamed)


def _stream(events: Iterator[AskEvent]) -> tuple[Answer, str]:
    """Print the searched query and the LLM's text as it comes; return the Answer and that text."""
    streamed = searched = ""
    for event in events:
        if isinstance(event, Searched):
            searched = event.query
        elif isinstance(event, TextDelta):
            out.print(event.text, end="", markup=False, highlight=False, soft_wrap=True)
            streamed += event.text
        else:
            if searched and searched != event.question:
                err.print(f"Sökte efter: {searched}", markup=False, highlight=False)
            return event, streamed
    raise RagError("The answer stream ended without an answer.")


def _print_answer(answer: Answer, streamed: str = "") -> None:
    if streamed:
        out.print()
    if answer.notice:
        out.print(answer.notice, style="yellow", markup=False, highlight=False, soft_wrap=True)
    if answer.abstained:
        out.print(f"{NO_SUPPORT_TITLE}.", style="bold")
    if streamed.strip() != answer.text:
        if streamed:
            out.print("\nKontrollerat svar:", style="bold")
        out.print(answer.text, markup=False, highlight=False, soft_wrap=True)
    for flag in answer.flagged:
        out.print(
            f"⚠ Utan stöd: {answer.text[flag.start : flag.end]} ({flag.reason})",
            style="yellow",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if answer.citations:
        out.print("\nKällor:", style="bold")
    for citation in answer.citations:
        out.print(source_line(answer, citation), markup=False, soft_wrap=True)
    if answer.age_warning:
        out.print(f"\n{answer.age_warning}", style="yellow", markup=False, soft_wrap=True)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (RAG_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (RAG_PORT).")] = None,
    seeds: SeedsOption = None,
    data: DataOption = None,
    skip_ingest: Annotated[bool, flag("--skip-ingest", "Serve the index as it is.")] = False,
) -> None:
    """Start the chat UI (ingesting new or changed seeds first)."""
    settings = _settings(seeds, data, host=host, port=port)
    users = parse_users(settings.auth_users)  # before the slow ingest: fail fast
    pipeline = _pipeline(settings)
    if not skip_ingest:
        run_ingest(pipeline)
    with err.status("Loading the index and models (a first run builds the question encoder)"):
        pipeline.warm_up()  # the first question is then as fast as the others
    os.environ["GRADIO_TEMP_DIR"] = str(settings.gradio_temp_dir)  # before Gradio loads
    from ui.app import build_app, start

    chat = pipeline.chat
    err.print(f"Answers: {chat.label if chat else 'extractive quotes (no LLM configured)'}")
    login = f", login for {len(users)} user(s)" if users else ", no login (RAG_AUTH_USERS)"
    err.print(f"Chat UI on http://{settings.host}:{settings.port}{login}")
    start(build_app(pipeline), settings, users, originals=pipeline.original_pdf)


@app.command(name="eval")
def evaluate(
    questions: Annotated[
        Path | None, typer.Option("--questions", help="Question set, JSONL (RAG_EVAL_QUESTIONS).")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output folder.")] = None,
    compare: Annotated[
        tuple[Path, Path] | None,
        typer.Option("--compare", help="Compare two earlier runs: --compare DIR_A DIR_B."),
    ] = None,
    legs: Annotated[
        bool,
        flag("--legs/--no-legs", "Also score each retrieval leg alone and fused (dense, BM25)."),
    ] = True,
    data: DataOption = None,
) -> None:
    """Score the system on a question set, or compare two runs with paired tests."""
    from rag.evaluation.metrics import load_questions
    from rag.evaluation.report import compare_runs, metrics_table, new_run_dir, run_eval

    if compare is not None:
        sys.stdout.write(compare_runs(*compare))
        return
    settings = load_settings(data_dir=data, eval_questions=questions)
    items = load_questions(settings.eval_questions)
    target = out or new_run_dir(settings.eval_runs_dir)
    pipeline = _pipeline(settings)
    with _progress_bar(f"Utvärderar {settings.eval_questions.name}") as on_progress:
        metrics = run_eval(pipeline, items, target, on_progress, legs)
    sys.stdout.write(metrics_table({"value": metrics}) + "\n")
    err.print(f"Report: {target / 'report.md'}")


@app.command()
def verification(
    benchmark: Annotated[
        Path, typer.Option("--benchmark", help="Verification benchmark, JSONL.")
    ] = Path("eval/verification/benchmark.jsonl"),
    part: Annotated[
        str | None,
        typer.Option(
            "--part",
            help="train (default), fresh, blind or all (fresh and blind are never trained "
            "on; blind, not read, gives the final figure); with --build, the part the new "
            "answers join (default: every third fresh, the rest train).",
        ),
    ] = None,
    build_from: Annotated[
        tuple[Path, Path] | None,
        typer.Option(
            "--build",
            help="Add answers to the benchmark first from recorded prompts and the answers "
            "written for them: --build PROMPTS.jsonl ANSWERS.json.",
        ),
    ] = None,
    fit: Annotated[
        bool, flag("--fit", "Train the check's support model on the train part and save it.")
    ] = False,
    as_json: Annotated[bool, flag("--json", "Each answer's outcome, JSONL.")] = False,
    data: DataOption = None,
) -> None:
    """Score the LLM answers' citation check on faithful answers and planted errors."""
    from rag.answer.verify import SUPPORT_MODEL
    from rag.evaluation.verification import (
        FAITHFUL,
        build_benchmark,
        fit_support_model,
        judge,
        load_benchmark,
        rates,
        support_rows,
        write_benchmark,
    )

    pipeline = _pipeline(_settings(data=data))
    if build_from is not None:
        existing = load_benchmark(benchmark) if benchmark.is_file() else []
        first = sum(i.kind == FAITHFUL for i in existing)
        built = build_benchmark(*build_from, pipeline.search, pipeline.indexed_chunks, first, part)
        write_benchmark([*existing, *built], benchmark)
        err.print(f"Added {len(built)} answers to {benchmark}")
    part = part or "train"
    items = [i for i in load_benchmark(benchmark) if part == "all" or i.part == part]
    if fit:
        with err.status("Training the support model (about three minutes)"):
            model, figures = fit_support_model(support_rows(items, pipeline.verifier))
        model.save(SUPPORT_MODEL)
        pipeline.verifier.use_model(model)
        err.print(f"Wrote {SUPPORT_MODEL}")
        err.print(" ".join(f"{k}={v:.3f}" for k, v in figures.items()))
    outcomes = [judge(item, pipeline.verifier.verify) for item in items]
    if as_json:
        for outcome in outcomes:
            sys.stdout.write(json.dumps(asdict(outcome), ensure_ascii=False) + "\n")
        return
    columns = {"all": rates(outcomes)}
    for language in ("sv", "en"):
        of_language = [o for o in outcomes if o.language == language]
        if of_language:
            columns[language] = rates(of_language)
    from rag.evaluation.report import metrics_table

    sys.stdout.write(metrics_table(columns) + "\n")


@app.command()
def train(
    questions: Annotated[
        Path, typer.Option("--questions", help="Training questions, JSONL (eval schema).")
    ] = Path("train/questions.jsonl"),
    conversations: Annotated[
        Path,
        typer.Option("--conversations", help="Training follow-ups with their history, JSONL."),
    ] = Path("train/conversations.jsonl"),
    out: Annotated[
        Path | None, typer.Option("--out", help="Model file (RAG_ANSWER_MODEL by default).")
    ] = None,
    only: Annotated[
        str | None,
        typer.Option(
            "--only",
            help="carry: only the follow-up model (a minute); answer: only the answer model.",
        ),
    ] = None,
    seeds: SeedsOption = None,
    data: DataOption = None,
) -> None:
    """Train the follow-up model and the answer model (quote choice, abstention)."""
    from rag.answer.train import train as fit
    from rag.evaluation.metrics import load_questions
    from rag.retrieve.carry import CARRY_MODEL, train_carry

    if only not in (None, "carry", "answer"):
        raise typer.BadParameter("--only takes carry or answer")
    settings = _settings(seeds, data)
    pipeline = _pipeline(settings)
    run_ingest(pipeline)  # the models are trained on what users' questions retrieve
    if only != "answer":
        with err.status("Training the follow-up model"):
            carry, figures = train_carry(
                load_questions(conversations),
                load_questions(questions),
                pipeline.search,
                pipeline.live.lexical.weights.rarity,
            )
        carry.save(CARRY_MODEL)
        err.print(f"Wrote {CARRY_MODEL}: " + " ".join(f"{k}={v:.3f}" for k, v in figures.items()))
    if only == "carry":
        return
    target = out or settings.answer_model
    fit(
        pipeline,
        questions,
        target,
        lambda line: err.print(f"[bold]train:[/] {line}"),
        conversations,
    )
    err.print(f"Wrote {target} and {target.parent / 'MODEL_CARD.md'}")


@app.command()
def feedback(
    as_json: Annotated[bool, flag("--json", "One JSON object per line.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Newest ratings to show.")] = 50,
    data: DataOption = None,
) -> None:
    """Show the users' ratings of answers (thumbs up/down and comments), newest first."""
    from dataclasses import asdict

    from rag.feedback import FeedbackStore

    rows = FeedbackStore(_settings(data=data).feedback_path).all()[:limit]
    if as_json:
        for row in rows:
            record = {**asdict(row), "citations": json.loads(row.citations)}
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        return
    if not rows:
        err.print("No feedback yet.")
    for row in rows:
        mark = "👍" if row.rating == "up" else "👎"
        out.print(f"{row.time} {mark} #{row.id} {row.question}", markup=False, soft_wrap=True)
        if row.comment:
            out.print(f"    Kommentar: {row.comment}", markup=False, soft_wrap=True)
        out.print(f"    Svar: {row.answer[:200]}", markup=False, soft_wrap=True)
        out.print(f"    Källor: {', '.join(row.sources) or '–'}", markup=False, soft_wrap=True)


def main() -> None:
    """Entry point: run the CLI, turning library errors into one line on stderr."""
    try:
        app()
    except RagError as exc:
        log_event("error", logging.ERROR, error=type(exc).__name__, message=str(exc))
        err.print(f"[red]Fel:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(1)
