"""`python -m bench`: speed and quality against a LangChain tutorial baseline.

Run from a checkout with the bench extra: `pip install -e '.[bench]'`, then
`python -m bench --out DIR [--sizes seeds,10k,100k] …`; it writes DIR/bench.json.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bench.report import print_table, write_report
from bench.run import BenchOptions, parse_sizes, run_bench
from rag.cli import _settings, err, out
from rag.errors import RagError

app = typer.Typer(add_completion=False, no_args_is_help=True)


@app.command()
def main(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for bench.json.")],
    sizes: Annotated[
        str, typer.Option(help="Query sizes in chunks, e.g. seeds,10k,100k.")
    ] = "seeds,10k",
    ingest_chunks: Annotated[
        int, typer.Option(help="Synthetic ingest corpus, in chunks (0 = skip).", min=0)
    ] = 2000,
    users: Annotated[int, typer.Option(help="Simulated chat users (0 = no load test).")] = 20,
    load_seconds: Annotated[float, typer.Option(help="Load test duration.")] = 60.0,
    think: Annotated[float, typer.Option(help="Mean seconds between a user's questions.")] = 5.0,
    questions: Annotated[Path, typer.Option(help="Timed and scored questions.")] = Path(
        "eval/questions.jsonl"
    ),
    warmup: Annotated[Path, typer.Option(help="Questions asked before timing.")] = Path(
        "eval/dev.jsonl"
    ),
    peer_model: Annotated[
        str,
        typer.Option(
            help="The baseline's model: e5 (multilingual-e5-small, ours's family) or minilm "
            "(all-MiniLM-L6-v2, LangChain's default)."
        ),
    ] = "e5",
    passes: Annotated[
        int,
        typer.Option(
            help="Rounds of the timed questions on the seeds, ours and the baseline's in turn.",
            min=1,
        ),
    ] = 3,
) -> None:
    """Measure speed and quality against a LangChain tutorial baseline; write DIR/bench.json."""
    options = BenchOptions(
        out_dir,
        parse_sizes(sizes),
        ingest_chunks,
        users,
        load_seconds,
        think,
        questions,
        warmup,
        peer_model=peer_model,
        passes=passes,
    )
    results = run_bench(
        _settings(),
        options,
        lambda line: err.print(f"[bold]bench:[/] {line}"),
        lambda partial: write_report(out_dir, partial.figures, partial.rows, peer_model),
    )
    print_table(results.rows, out, peer_model)
    err.print(f"Wrote {write_report(out_dir, results.figures, results.rows, peer_model)}")


if __name__ == "__main__":
    try:
        app()
    except RagError as exc:
        err.print(f"[red]Error:[/] {exc}", highlight=False, soft_wrap=True)
        raise SystemExit(1) from exc
