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
from rag.evaluation.report import (
    FAILURES_HEADING,
    PLOTS,
    new_run_dir,
    report_failures,
    run_eval,
)
from rag.pipeline import Pipeline

# Each metric in Swedish, with what it measures in one line.
METRIC_LABELS = {
    "items": ("Frågor", "antal frågor i samlingen"),
    "hit@1": ("Träff@1", "andel besvarbara frågor där första stycket är relevant"),
    "hit@3": ("Träff@3", "… där ett relevant stycke finns bland de 3 första"),
    "hit@5": ("Träff@5", "… bland de 5 första (de som svaret bygger på)"),
    "hit@10": ("Träff@10", "… bland de 10 första"),
    "mrr@10": ("MRR@10", "hur högt det första relevanta stycket rankas (1 = först)"),
    "ndcg@10": ("nDCG@10", "hur högt alla relevanta stycken rankas"),
    "fact_recall_context": ("Fakta i styckena", "andel nyckelfakta som finns i de 10 styckena"),
    "fact_recall_answer": ("Fakta i svaret", "andel nyckelfakta som svaret innehåller"),
    "citation_precision": ("Källprecision", "andel citerade stycken som innehåller svaret"),
    "citation_recall": ("Källtäckning", "andel facitcitat som något citerat stycke täcker"),
    "answers_with_unsupported_numbers": ("Tal utan stöd", "svar med ett tal som källan saknar"),
    "uncertain_answers": ("Osäkra svar", "svar märkta osäkra: inget citat besvarar troligen"),
    "facts_when_uncertain": ("Fakta i osäkra svar", "andel nyckelfakta i svaren märkta osäkra"),
    "refusal_recall": ("Rätt avböjda", "andel obesvarbara frågor som avböjdes"),
    "false_refusal_rate": ("Fel avböjda", "andel besvarbara frågor som avböjdes"),
    "latency_p50_ms": ("Svarstid, median (ms)", "hälften av frågorna besvaras snabbare"),
    "latency_p95_ms": ("Svarstid, p95 (ms)", "95 % av frågorna besvaras snabbare"),
}


# The report's failure list, in Swedish for the tab.
_FAILURE_WORDS = (
    (FAILURES_HEADING, "## Frågor som misslyckades"),
    ("  - expected: ", "  - väntat svar: "),
    ("  - answered (abstained): ", "  - svarade (avböjde): "),
    ("  - answered: ", "  - svarade: "),
    ("  - searched: ", "  - sökte efter: "),
    ("- earlier: ", "- tidigare fråga: "),
    ("  - first relevant rank: ", "  - första relevanta stycke på plats: "),
    ("; facts in answer: ", "; fakta i svaret: "),
    ("; retrieved: ", "; hämtade: "),
)


def swedish_failures(report: str) -> str:
    """The failure list of a run's report, its labels in Swedish."""
    for english, swedish in _FAILURE_WORDS:
        report = report.replace(english, swedish)
    return report


def swedish_table(metrics: dict[str, float]) -> str:
    """The run's metrics as a Markdown table in Swedish, each explained in one line."""
    lines = ["| mått | värde | vad det mäter |", "| --- | ---: | --- |"]
    for key, value in metrics.items():
        label, meaning = METRIC_LABELS.get(key, (key, ""))
        shown = f"{value:.0f}" if key == "items" else f"{value:.3f}"
        lines.append(f"| {label} | {shown} | {meaning} |")
    return "\n".join(lines)


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
        summary = f"**{len(items)} frågor**, resultat i `{out}`\n\n" + swedish_table(result)
        images: list[Image.Image] = [Image.open(out / name) for name in PLOTS]
        return (
            summary,
            gr.Gallery(value=images, visible=True),
            swedish_failures(report_failures(out)),
        )

    run.click(on_run, outputs=[metrics, plots, failures], api_visibility="private")
