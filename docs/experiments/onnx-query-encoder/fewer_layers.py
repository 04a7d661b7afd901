"""Probe: questions embedded by the first N of e5's 12 layers (documents by all 12)."""
import dataclasses, sys, time, tempfile
from pathlib import Path
import numpy as np
from rag.config import Settings
from rag.pipeline import Pipeline
from rag.e5_onnx import OnnxEncoder, build
from rag.evaluate import load_questions
from rag.eval_report import run_eval
p = Pipeline(Settings())
emb = p.embedder
full = emb._onnx
qs = [j.question for j in load_questions(Path("eval/dev.jsonl"))]
ref = np.array([full.encode(q, 2) for q in qs])
for n in map(int, sys.argv[1:]):
    enc = OnnxEncoder.__new__(OnnxEncoder)
    enc.__dict__.update(full.__dict__)
    model = enc._model
    cfg = model.config
    model.config = dataclasses.replace(cfg, layers=n)
    path = Path(tempfile.mkdtemp()) / f"q{n}.onnx"
    build(model, path, False)
    model.config = cfg
    enc.path = path; enc._sessions = {}
    import threading; enc._loading = threading.Lock()
    emb.__dict__["_onnx"] = enc
    emb._query_cache.__init__(emb.query_cache_size) if hasattr(emb._query_cache, "__init__") else None
    vecs = np.array([enc.encode(q, 2) for q in qs])
    cos = (vecs * ref).sum(1)
    b = time.perf_counter()
    for q in qs[:40]: enc.encode(q, 2)
    ms = (time.perf_counter() - b) / 40 * 1000
    out = {}
    for s in ["dev", "questions"]:
        m = run_eval(p, load_questions(Path(f"eval/{s}.jsonl")), Path(f"/tmp/s8/layers/{n}-{s}"))
        out[s] = f"hit5 {m['hit@5']:.3f} mrr {m['mrr@10']:.3f} fa {m['fact_recall_answer']:.3f} fr {m['false_refusal_rate']:.3f}"
    print(f"layers {n}: cos to full {cos.mean():.3f} (min {cos.min():.3f}), {ms:.1f} ms/question | {out}", flush=True)
