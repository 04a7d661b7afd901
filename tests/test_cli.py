from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fake_llm import FakeChatServer
from rag.pipeline import Pipeline

QUESTION = "Var hölls Socialchefsdagarna 2023?"
RAG = str(Path(sys.executable).with_name("rag"))


def _run(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")} | env
    return subprocess.run(
        [RAG, *args], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=300
    )


def test_ask_json_has_the_documented_shape(seeded_pipeline: Pipeline, tmp_path: Path) -> None:
    env = {
        "RAG_DATA_DIR": str(seeded_pipeline.settings.data_dir),
        "RAG_SEEDS_DIR": str(seeded_pipeline.settings.seeds_dir),
    }
    result = _run("ask", "Var hölls Socialchefsdagarna 2023?", "--json", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert set(record) == {
        "question", "answer", "abstained", "citations", "passages", "articles", "age_warning",
        "timings_ms", "mode", "notice", "searched_query", "query_truncated", "uncertain",
        "unsupported_sentences", "flagged_sentences",
    }  # fmt: skip
    assert (record["mode"], record["notice"], record["unsupported_sentences"]) == (
        "extractive", "", 0,
    )  # fmt: skip
    assert record["uncertain"] is False
    assert "Karlstad" in record["answer"] and record["abstained"] is False
    citation = record["citations"][0]
    assert set(citation) == {
        "n", "source", "title", "section", "quote", "start", "end", "page", "url", "ocr",
    }  # fmt: skip
    assert set(record["passages"][0]) == {
        "rank", "source", "title", "section", "text", "start", "end", "score", "roles",
    }  # fmt: skip
    assert any("Karlstad" in c["quote"] for c in record["citations"])
    assert set(record["articles"][0]) == {
        "source", "title", "start", "end", "date", "date_text", "url", "ocr", "citations",
    }  # fmt: skip
    assert "SFS 2025:400" in record["age_warning"]
    for c in record["citations"]:
        text = (seeded_pipeline.settings.seeds_dir / c["source"]).read_text(encoding="utf-8")
        assert text[c["start"] : c["end"]] == c["quote"]


def test_ask_prints_answer_and_numbered_sources(seeded_pipeline: Pipeline, tmp_path: Path) -> None:
    env = {
        "RAG_DATA_DIR": str(seeded_pipeline.settings.data_dir),
        "RAG_SEEDS_DIR": str(seeded_pipeline.settings.seeds_dir),  # article dates come from here
    }
    result = _run("ask", "Vad kostar ett pass på Liseberg?", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Inget stöd i källorna.")  # headed as in the chat
    assert "inget i källorna" in result.stdout
    result = _run("ask", "Vilka samarbetar där?", env=env, cwd=tmp_path)
    assert "”där”" in result.stdout  # points to nothing: the notice asks what is meant
    result = _run("ask", "Var hölls Socialchefsdagarna 2023?", env=env, cwd=tmp_path)
    assert "Källor:" in result.stdout
    assert "[1] " in result.stdout
    assert "(004_69118e50f35d8edb.txt, 2 oktober 2022)" in result.stdout
    assert "SFS 2025:400" in result.stdout


def test_earlier_questions_are_answered_first_as_in_the_chat(
    seeded_pipeline: Pipeline, tmp_path: Path
) -> None:
    """ "berätta mer" reads the earlier answer: it quotes what that answer did not."""
    env = {"RAG_DATA_DIR": str(seeded_pipeline.settings.data_dir)}
    first = "Vad är Huset i Nordmaling?"
    result = _run("ask", "berätta mer", "--previous", first, "--json", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    more = json.loads(result.stdout)
    said = seeded_pipeline.ask(first).text
    assert more["citations"] and not any(c["quote"] in said for c in more["citations"])


def test_ingest_then_ask_on_a_fresh_folder(mini_seeds: Path, tmp_path: Path) -> None:
    env = {"RAG_SEEDS_DIR": str(mini_seeds), "RAG_DATA_DIR": str(tmp_path / "data")}
    first = _run("ingest", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "+4 new" in first.stderr
    assert "Läser filer: 2/2" in first.stderr  # reading, then embedding, as plain lines
    assert "Bäddar in avsnitt: 4/4" in first.stderr and " s kvar" in first.stderr  # not a tty
    again = _run("ingest", env=env, cwd=tmp_path)
    assert "+0 new, -0 removed, 4 unchanged" in again.stderr


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["ingest"], {"RAG_SEEDS_DIR": "nowhere"}, "RAG_SEEDS_DIR"),
        (["ask", "Hej?"], {"RAG_TOP_K": "x"}, "RAG_TOP_K"),
        (["ask", "Hej?"], {}, "rag ingest"),
        (["ask", " \t"], {}, "Skriv en fråga."),
        (["ask", "x" * 3000], {}, "Frågan är för lång (3000 tecken)"),
        (["ask", "Hej?"], {"RAG_LOG_QUESTIONS": "kanske"}, "RAG_LOG_QUESTIONS"),
        (["serve"], {"RAG_AUTH_USERS": "anna:hemligt,bo"}, "entry 2 is not user:password"),
    ],
)
def test_errors_are_one_clear_line(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    result = _run(*args, env={"RAG_DATA_DIR": str(tmp_path / "d")} | env, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().startswith("Fel: ")
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr and "hemligt" not in result.stderr


def _llm_env(seeded_pipeline: Pipeline, server: FakeChatServer) -> dict[str, str]:
    return {
        "RAG_DATA_DIR": str(seeded_pipeline.settings.data_dir),
        "RAG_LLM_PROVIDER": "openai",
        "RAG_LLM_BASE_URL": server.openai_url,
        "RAG_LLM_MODEL": "fake-model",
        "RAG_LLM_TIMEOUT_S": "5",
    }


def test_ask_streams_the_llm_answer_then_the_checked_one(
    seeded_pipeline: Pipeline, chat_server: FakeChatServer, tmp_path: Path
) -> None:
    """The CLI process talks to the scripted OpenAI-compatible server on 127.0.0.1."""
    passages = seeded_pipeline.search(QUESTION)
    n = next(i for i, p in enumerate(passages, 1) if "hemstad Karlstad" in p.chunk.text)
    held, crowd = (
        "Socialchefsdagarna 2023 hölls i Karlstad",
        "Dagarna i Karlstad hade 4200 deltagare",
    )
    chat_server.script(f"{held} [{n}][9]. {crowd} [{n}].")
    env = _llm_env(seeded_pipeline, chat_server)
    result = _run("ask", QUESTION, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"{held} [{n}][9]." in result.stdout  # streamed as written
    assert f"Kontrollerat svar:\n{held} [{n}]." in result.stdout
    assert f"⚠ Utan stöd: {crowd}." in result.stdout
    assert f"[{n}] " in result.stdout.split("Källor:")[1]

    chat_server.script(f"{held} [{n}]. {crowd} [{n}].")
    result = _run("ask", QUESTION, "--json", env=env, cwd=tmp_path)
    record = json.loads(result.stdout)
    assert (record["mode"], record["unsupported_sentences"]) == ("llm", 1)
    assert record["flagged_sentences"][0]["text"] == f"{crowd}."
    assert "fake-model" not in result.stdout  # no settings echoed


def test_bad_env_file_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("RAG_TOPK=3\nRAG_PORT=webb\n", encoding="utf-8")
    result = _run("ask", "Hej?", env={}, cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "RAG_TOPK" in line and "RAG_PORT" in line and ".env.example" in line


def test_serving_without_an_llm_leaves_langchain_prompts_unloaded() -> None:
    """Cold start: the prompt machinery (about 0.6 s of imports) loads only for an LLM."""
    code = "import sys, rag.cli, ui.app; print('langchain_core.prompts' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_documents_lists_what_the_index_holds(seeded_pipeline: Pipeline, tmp_path: Path) -> None:
    env = {"RAG_DATA_DIR": str(seeded_pipeline.settings.data_dir)}
    result = _run("documents", "--json", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    listed = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["name"][:3] for d in listed] == ["000", "001", "002", "003", "004"]
    assert sum(d["chunks"] for d in listed) == len(seeded_pipeline.indexed_chunks)
    assert {d["kind"] for d in listed} == {"text"} and listed[1]["articles"] == 6
    assert all(d["indexed"].endswith("+00:00") for d in listed)


def test_answers_keep_their_dates_away_from_the_seeds(
    seeded_pipeline: Pipeline, tmp_path: Path
) -> None:
    """The article text is stored with the index: the seeds folder is not read to answer."""
    env = {"RAG_DATA_DIR": str(seeded_pipeline.settings.data_dir)}  # default seeds/ is absent
    result = _run("ask", QUESTION, "--json", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["articles"] and all(a["date"] for a in record["articles"])


def test_flags_are_listed_without_a_type() -> None:
    from typer.testing import CliRunner

    from rag.cli import app

    shown = CliRunner().invoke(app, ["ask", "--help"], terminal_width=100).output
    json_line = next(line for line in shown.splitlines() if "--json" in line)
    assert "<bool>" not in json_line and "Print one JSON object." in json_line
