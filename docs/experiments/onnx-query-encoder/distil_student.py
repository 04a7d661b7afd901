"""Probe: distil e5-small's question encoder into its first K layers (torch, CPU)."""
import random, sys, time, threading
from pathlib import Path
import numpy as np
import torch
from torch import nn
from rag.config import Settings
from rag.pipeline import Pipeline
from rag.evaluate import load_questions
from rag.sentences import sentence_spans

K, STEPS, N = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
torch.manual_seed(0); rng = random.Random(0)
p = Pipeline(Settings()); emb = p.embedder; full = emb._onnx; model = full._model; c = model.config

def prepared(text: str) -> np.ndarray:
    ids = full.token_ids(text)[: c.max_positions]
    x = model.word_vectors(ids) + full._positions[: len(ids)]
    mean = x.mean(axis=1, keepdims=True); spread = np.sqrt(x.var(axis=1, keepdims=True) + c.eps)
    return ((x - mean) / spread * full._norm[0] + full._norm[1]).astype(np.float32)

class Layer(nn.Module):
    def __init__(self, l):
        super().__init__()
        P = lambda a: nn.Parameter(torch.tensor(np.array(a), dtype=torch.float32))
        W = lambda part, rows, width: P(model.q4_rows(f"l{l}.{part}.w", rows, width).T)
        F = lambda name: P(model.floats(f"l{l}.{name}"))
        h, f = c.hidden, c.ffn
        self.q, self.k, self.v, self.o = W("q", h, h), W("k", h, h), W("v", h, h), W("ao", h, h)
        self.qb, self.kb, self.vb, self.ob = F("q.b"), F("k.b"), F("v.b"), F("ao.b")
        self.n1w, self.n1b, self.fi, self.fib = F("aln.w"), F("aln.b"), W("fi", f, h), F("fi.b")
        self.fo, self.fob, self.n2w, self.n2b = W("fo", h, f), F("fo.b"), F("oln.w"), F("oln.b")
    def forward(self, x, mask):
        B, L, H = x.shape; nh = c.heads; d = H // nh
        split = lambda t: t.view(B, L, nh, d).transpose(1, 2)
        q, k, v = split(x @ self.q + self.qb), split(x @ self.k + self.kb), split(x @ self.v + self.vb)
        a = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None, None, :])
        a = a.transpose(1, 2).reshape(B, L, H) @ self.o + self.ob
        x = nn.functional.layer_norm(a + x, (H,), self.n1w, self.n1b, c.eps)
        y = nn.functional.gelu(x @ self.fi + self.fib) @ self.fo + self.fob
        return nn.functional.layer_norm(y + x, (H,), self.n2w, self.n2b, c.eps)

class Student(nn.Module):
    def __init__(self, k):
        super().__init__(); self.layers = nn.ModuleList(Layer(l) for l in range(k))
    def forward(self, xs):
        L = max(len(x) for x in xs)
        x = torch.zeros(len(xs), L, c.hidden); mask = torch.zeros(len(xs), L, dtype=torch.bool)
        for i, e in enumerate(xs): x[i, : len(e)] = torch.from_numpy(e); mask[i, : len(e)] = True
        for layer in self.layers: x = layer(x, mask)
        m = mask[..., None].float()
        pooled = (x * m).sum(1) / m.sum(1)
        return nn.functional.normalize(pooled, dim=-1)

# Training texts: corpus sentences, pieces, and question-like pieces.
heads = ["Vad", "Vem", "Hur", "Vilken", "Vilka", "Varför", "När", "Var", "What", "Who", "How", "Which", "Sammanfatta"]
texts = []
for ch in p.indexed_chunks:
    for s, e in sentence_spans(ch.text, ch.start):
        words = ch.text[s - ch.start:e - ch.start].split(); texts.append(" ".join(words))
        for _ in range(4):
            if len(words) > 4:
                a = rng.randrange(0, len(words) - 3); b = rng.randrange(a + 3, min(len(words), a + 14) + 1)
                piece = " ".join(words[a:b]).strip(".,:;!?”\"")
                texts.append(piece if rng.random() < 0.4 else f"{rng.choice(heads)} {piece.lower() if rng.random() < 0.5 else piece}?")
texts = list(dict.fromkeys(texts)); rng.shuffle(texts); texts = texts[:N]
b = time.perf_counter()
X = [prepared(t) for t in texts]; Y = torch.tensor(np.array([full.encode(t, 2) for t in texts]))
print(f"{len(texts)} texts, targets in {time.perf_counter()-b:.0f} s", flush=True)
qs = [j.question for f in ["dev", "questions"] for j in load_questions(Path(f"eval/{f}.jsonl"))]
QX = [prepared(q) for q in qs]; QY = torch.tensor(np.array([full.encode(q, 2) for q in qs]))
student = Student(K)
def val():
    with torch.no_grad(): v = (student(QX) * QY).sum(1)
    return v.mean().item(), v.min().item()
print("before", val(), flush=True)
opt = torch.optim.AdamW(student.parameters(), lr=float(sys.argv[4]) if len(sys.argv) > 4 else 5e-5, weight_decay=0.0)
b = time.perf_counter()
for step in range(1, STEPS + 1):
    idx = rng.sample(range(len(X)), 32)
    out = student([X[i] for i in idx]); loss = (1 - (out * Y[idx]).sum(1)).mean()
    opt.zero_grad(); loss.backward(); opt.step()
    if step % 200 == 0: print(f"step {step} loss {loss.item():.4f} val {val()} {time.perf_counter()-b:.0f} s", flush=True)
torch.save(student.state_dict(), f"/tmp/s8/student{K}.pt")
