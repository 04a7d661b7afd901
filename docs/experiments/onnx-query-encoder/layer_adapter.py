"""Probe: first N layers + a linear map fitted on corpus text (as queries) to the 12-layer vectors."""
import dataclasses, sys, time, tempfile, random, threading
from pathlib import Path
import numpy as np
from rag.config import Settings
from rag.pipeline import Pipeline
from rag.e5_onnx import OnnxEncoder, build
from rag.evaluate import load_questions
from rag.eval_report import run_eval
from rag.sentences import sentence_spans
p = Pipeline(Settings())
emb = p.embedder
full = emb._onnx
rng = random.Random(0)
texts = []
for c in p.indexed_chunks:
    for s, e in sentence_spans(c.text, c.start):
        sent = c.text[s - c.start:e - c.start]
        texts.append(sent)
        words = sent.split()
        for _ in range(3):
            if len(words) > 5:
                a = rng.randrange(0, len(words) - 4); b = rng.randrange(a + 4, min(len(words), a + 16) + 1)
                texts.append(" ".join(words[a:b]))
texts = list(dict.fromkeys(texts)); rng.shuffle(texts); texts = texts[:int(sys.argv[2])]
print(len(texts), "training texts", flush=True)
n = int(sys.argv[1])
enc = OnnxEncoder.__new__(OnnxEncoder); enc.__dict__.update(full.__dict__)
model = enc._model; cfg = model.config
model.config = dataclasses.replace(cfg, layers=n)
path = Path(tempfile.mkdtemp()) / f"q{n}.onnx"; build(model, path, False); model.config = cfg
enc.path = path; enc._sessions = {}; enc._loading = threading.Lock()
b = time.perf_counter()
Y = np.array([full.encode(t, 2) for t in texts]); X = np.array([enc.encode(t, 2) for t in texts])
print(f"encoded in {time.perf_counter()-b:.0f} s", flush=True)
X1 = np.hstack([X, np.ones((len(X), 1), np.float32)])
for lam in [0.01, 0.1, 1.0]:
    W = np.linalg.solve(X1.T @ X1 + lam * np.eye(X1.shape[1]), X1.T @ Y)
    qs = [j.question for f in ["dev", "questions"] for j in load_questions(Path(f"eval/{f}.jsonl"))]
    R = np.array([full.encode(q, 2) for q in qs]); Q = np.array([enc.encode(q, 2) for q in qs])
    Q1 = np.hstack([Q, np.ones((len(Q), 1), np.float32)]) @ W; Q1 /= np.linalg.norm(Q1, axis=1, keepdims=True)
    print(f"lambda {lam}: eval questions cos to full {np.mean((Q1*R).sum(1)):.3f} (min {np.min((Q1*R).sum(1)):.3f})", flush=True)
np.save(f"/tmp/s8/W{n}.npy", np.linalg.solve(X1.T @ X1 + 0.1 * np.eye(X1.shape[1]), X1.T @ Y))
