"""LLM answers end to end: the real LangChain OpenAI client streams from the scripted server
on 127.0.0.1 (tests/fake_llm.py), then citations are verified against the seeded index."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from conftest import LLM_TIMEOUT_S, ROOT
from fake_llm import FakeChatServer, Reply
from rag.answer.prompts import NOT_COVERED
from rag.evaluation.metrics import aggregate, load_questions
from rag.pipeline import Pipeline
from rag.records import answer_record
from rag.types import Answer, Passage, Searched, TextDelta, Turn

QUESTION = "Var hölls Socialchefsdagarna 2023?"
HUSET = "003_7b0b9db67c0573bb.txt"


def _number_of(passages: Sequence[Passage], needle: str) -> int:
    """The prompt number [n] of the first passage containing `needle`."""
    return next(n for n, p in enumerate(passages, start=1) if needle in p.chunk.text)


def _file_text(pipeline: Pipeline, source: str) -> str:
    return (pipeline.settings.seeds_dir / source).read_bytes().decode("utf-8-sig")


def test_streams_then_verifies_and_drops_a_bogus_marker(
    llm_pipeline: Pipeline, chat_server: FakeChatServer
) -> None:
    n = _number_of(llm_pipeline.search(QUESTION), "hemstad Karlstad")
    reply = f"Socialchefsdagarna 2023 hölls i Karlstad. [{n}][9]"
    chat_server.script(reply)
    searched, *deltas, answer = list(llm_pipeline.ask_stream(QUESTION))

    assert isinstance(searched, Searched) and searched.query == QUESTION
    assert all(isinstance(d, TextDelta) for d in deltas) and len(deltas) > 3
    assert "".join(d.text for d in deltas if isinstance(d, TextDelta)) == reply
    assert isinstance(answer, Answer)
    assert (answer.mode, answer.abstained, answer.notice) == ("llm", False, "")
    assert answer.text == f"Socialchefsdagarna 2023 hölls i Karlstad [{n}]."
    (citation,) = answer.citations
    assert citation.n == n and "Karlstad" in citation.quote
    text = _file_text(llm_pipeline, citation.passage.chunk.source)
    assert text[citation.start : citation.end] == citation.quote
    assert answer.unsupported_sentences == 0 and answer.searched_query == QUESTION

    (request,) = chat_server.requests
    assert request["stream"] is True and request["model"] == "fake-model"
    system, user = request["messages"]
    assert system["role"] == "system" and "enbart utifrån" in system["content"]
    assert f'<kalla nr="{n}"' in user["content"] and f"<fraga>{QUESTION}</fraga>" in user["content"]


def test_a_number_missing_from_the_cited_passage_is_flagged(
    llm_pipeline: Pipeline, chat_server: FakeChatServer
) -> None:
    n = _number_of(llm_pipeline.search(QUESTION), "hemstad Karlstad")
    chat_server.script(
        f"Socialchefsdagarna 2023 hölls i Karlstad [{n}]. "
        f"Socialchefsdagarna 2023 i Karlstad hade 4200 deltagare [{n}]."
    )
    answer = llm_pipeline.ask(QUESTION)
    assert answer.mode == "llm" and answer.unsupported_sentences == 1
    (flag,) = answer.flagged
    flagged = answer.text[flag.start : flag.end]
    assert flagged == "Socialchefsdagarna 2023 i Karlstad hade 4200 deltagare."
    assert "4200" in flag.reason
    assert answer.text.count(f"[{n}]") == 1  # the flagged sentence lost its marker
    record = answer_record(answer)
    assert record["unsupported_sentences"] == 1
    assert record["flagged_sentences"][0]["reason"] == flag.reason


def test_a_reply_saying_the_sources_do_not_cover_it_abstains(
    llm_pipeline: Pipeline, chat_server: FakeChatServer
) -> None:
    chat_server.script(NOT_COVERED)
    answer = llm_pipeline.ask("Vad kostar ett pass på Liseberg?")
    assert (answer.mode, answer.abstained, answer.citations) == ("llm", True, ())
    assert answer.text == NOT_COVERED and answer.notice == ""


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply("för sent", delay_s=LLM_TIMEOUT_S * 3), f"svarade inte inom {LLM_TIMEOUT_S:g} s"),
        (Reply("internal error", status=500), "HTTP 500"),
        (Reply("slow down", status=429), "HTTP 429"),
        (Reply(""), "tomt svar"),
        (Reply("Jag vet inte riktigt."), "inget svar med giltiga källor"),
    ],
    ids=["timeout", "error-500", "rate-limit-429", "empty", "no-citations"],
)
def test_llm_failure_falls_back_to_quotes_within_the_timeout(
    llm_pipeline: Pipeline,
    seeded_pipeline: Pipeline,
    chat_server: FakeChatServer,
    reply: Reply,
    reason: str,
) -> None:
    passages = llm_pipeline.search(QUESTION)
    chat_server.script(reply)
    began = time.perf_counter()
    answer = llm_pipeline.answer_from(QUESTION, passages)
    elapsed = time.perf_counter() - began
    quoted = seeded_pipeline.answer_from(QUESTION, passages)
    assert answer.mode == "extractive" and reason in answer.notice
    assert (answer.text, answer.citations) == (quoted.text, quoted.citations)
    retries = llm_pipeline.settings.llm_max_retries
    assert elapsed < LLM_TIMEOUT_S * (retries + 1) + 5.0  # timeout, plus quoting on a busy CPU


def test_follow_up_is_rewritten_by_the_llm_and_retrieves_the_article(
    llm_pipeline: Pipeline, chat_server: FakeChatServer
) -> None:
    standalone = "Hur många invånare har Nordmalings kommun?"
    chat_server.script(standalone, "Nordmalings kommun har cirka 7500 invånare [1].")
    history = [Turn("Vad är Huset i Nordmalings kommun?", "En helhetsmodell för kvalitet [1].")]
    searched, *_, answer = list(llm_pipeline.ask_stream("Hur många har den?", history))

    assert isinstance(searched, Searched) and searched.query == standalone
    assert searched.passages[0].chunk.source == HUSET
    assert isinstance(answer, Answer) and answer.searched_query == standalone
    assert answer.question == "Hur många har den?" and answer.unsupported_sentences == 0
    assert "7500" in answer.citations[0].quote
    rewrite, generate = chat_server.requests
    assert "Vad är Huset i Nordmalings kommun?" in rewrite["messages"][1]["content"]
    assert standalone in generate["messages"][1]["content"]


def test_an_english_question_is_searched_in_swedish(
    llm_pipeline: Pipeline, chat_server: FakeChatServer
) -> None:
    """Eval item q003: the LLM's Swedish translation is what is searched and answered.

    (The glossary's Swedish terms rank its passage first without an LLM too.)
    """
    english = (
        "Which city did Anna Burston mention as having digitised its social services"
        " with users involved from the start?"
    )
    swedish = (
        "Vilken stad nämnde Anna Burston som har digitaliserat sina sociala tjänster"
        " med brukarna med från början?"
    )
    chat_server.script(swedish, "Helsingborg [1].")
    searched, *_, answer = list(llm_pipeline.ask_stream(english))

    assert isinstance(searched, Searched) and searched.query == swedish
    assert "Helsingborg" in searched.passages[0].chunk.text
    assert isinstance(answer, Answer) and answer.question == english
    assert answer.searched_query == swedish and answer.mode == "llm"
    translate, generate = chat_server.requests
    assert english in translate["messages"][1]["content"]
    assert "översätt den till svenska" in translate["messages"][0]["content"]
    assert english in generate["messages"][1]["content"]
    assert swedish in generate["messages"][1]["content"]


def test_a_swedish_question_is_searched_as_asked(
    llm_pipeline: Pipeline, chat_server: FakeChatServer
) -> None:
    chat_server.script("Socialchefsdagarna 2023 hölls i Karlstad [1].")
    answer = llm_pipeline.ask(QUESTION)
    assert answer.searched_query == QUESTION and len(chat_server.requests) == 1


def test_failed_rewrite_uses_the_rule_and_skips_the_llm(
    llm_pipeline: Pipeline, chat_server: FakeChatServer
) -> None:
    chat_server.script(Reply("down", status=503))
    history = [Turn("Vad är Huset i Nordmalings kommun?")]
    answer = llm_pipeline.ask("Hur många invånare har den?", history=history)
    assert "Nordmalings" in answer.searched_query and "HTTP 503" in answer.notice
    assert answer.mode == "extractive" and len(chat_server.requests) == 1
    assert answer.passages[0].chunk.source == HUSET


def test_a_rewrite_that_refuses_is_not_searched(
    llm_pipeline: Pipeline, chat_server: FakeChatServer
) -> None:
    """A model that answers the rewrite prompt with the refusal leaves the query to the rule."""
    chat_server.script(NOT_COVERED, "Nordmaling har cirka 7500 innevånare [1].")
    history = [Turn("Vad är Huset i Nordmalings kommun?")]
    answer = llm_pipeline.ask("Hur många invånare har den?", history=history)
    assert NOT_COVERED not in answer.searched_query and "Nordmalings" in answer.searched_query
    assert answer.passages[0].chunk.source == HUSET and len(chat_server.requests) == 2


def test_eval_runs_in_llm_mode_with_the_same_metrics(
    llm_pipeline: Pipeline, chat_server: FakeChatServer, tmp_path: Path
) -> None:
    items = {i.id: i for i in load_questions(ROOT / "eval" / "questions.jsonl")}
    fact, unanswerable = items["q001"], items["q007"]
    n = _number_of(llm_pipeline.search(fact.question), "började i FSS 1999")
    chat_server.script(f"Per Sandberg började i FSS 1999 [{n}].", NOT_COVERED)
    from rag.evaluation.report import run_eval

    metrics = run_eval(llm_pipeline, [fact, unanswerable], tmp_path)
    assert set(metrics) == set(aggregate([]))
    assert metrics["fact_recall_answer"] == 1.0 and metrics["citation_precision"] == 1.0
    assert metrics["refusal_recall"] == 1.0 and metrics["false_refusal_rate"] == 0.0
    rows = [json.loads(line) for line in (tmp_path / "answers.jsonl").read_text().splitlines()]
    assert [r["mode"] for r in rows] == ["llm", "llm"]
