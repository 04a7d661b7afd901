"""The Eval tab: run a question set from the UI with a progress bar; see metrics, plots, failures.

Presentation only: the run is `rag.evaluation.report.run_eval`, the same as `rag eval`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import gradio as gr
from PIL import Image

from rag.errors import RagError
from rag.evaluation.metrics import load_questions
from rag.evaluation.report import PLOTS, metrics_table, new_run_dir, report_failures, run_eval
from rag.pipeline import Pipeline


def eval_tab(
    pipeline: Pipeline, questions: Path, runs_dir: Path, allowed: Callable[[gr.Request], bool]
) -> None:
    """Add the Eval tab's components and event to the current Blocks context.

    Args:
        pipeline: The pipeline to evaluate.
        questions: The question set (JSONL) to run.
        runs_dir: Where each run's outputs go, one subfolder per run.
        allowed: Whether the request's user may run it (maintainers only).

    """
    gr.Markdown(
        f"Kör frågesamlingen `{questions.name}` genom hela kedjan (sökning och svar) och se "
        f"måtten, diagrammen och de frågor som misslyckades. Resultaten sparas i `{runs_dir}`."
    )
    run = gr.Button("Kör utvärdering", variant="primary", elem_id="kor-utvardering")
    metrics = gr.Markdown(elem_id="utvardering-matt")
    plots = gr.Gallery(
        label="Diagram",
        columns=3,
        format="png",
        object_fit="contain",
        interactive=False,
        visible=False,  # shown with a run's plots: an empty gallery is noise to a screen reader
        elem_id="utvardering-diagram",
    )
    failures = gr.Markdown(elem_id="utvardering-fel")

    def on_run(
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio injects it by default value)
    ) -> tuple[str, gr.Gallery, str]:
        if not allowed(request):
            raise gr.Error("Utvärderingen får bara köras av förvaltare (RAG_MAINTAINERS).")
        try:
            items = load_questions(questions)
            out = new_run_dir(runs_dir)
            progress((0, len(items)), desc="Utvärderar", unit="frågor")
            result = run_eval(
                pipeline,
                items,
                out,
                lambda done, total: progress((done, total), desc="Utvärderar", unit="frågor"),
            )
        except RagError as exc:
            raise gr.Error(str(exc)) from exc
        summary = f"**{len(items)} frågor**, resultat i `{out}`\n\n" + metrics_table(
            {"värde": result}
        )
        images: list[Image.Image] = [Image.open(out / name) for name in PLOTS]
        return summary, gr.Gallery(value=images, visible=True), report_failures(out)

    run.click(on_run, outputs=[metrics, plots, failures], api_visibility="private")
