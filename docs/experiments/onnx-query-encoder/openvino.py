# Session 11: the question encoder graph on ONNX Runtime vs OpenVINO (pip install openvino first).
import time, numpy as np, onnxruntime as ort, openvino as ov, sys
path = "/root/.cache/socialrag/e5-query-fp32-238480dab44cef89.onnx"
rng = np.random.default_rng(0)
def bench(run, L, n=200):
    x = rng.standard_normal((1, L, 384)).astype(np.float32)
    for _ in range(20): run(x)
    ts=[]
    for _ in range(n):
        t=time.perf_counter(); run(x); ts.append((time.perf_counter()-t)*1e3)
    return np.median(ts), np.percentile(ts,95)
o = ort.SessionOptions(); o.intra_op_num_threads=2; o.inter_op_num_threads=1
o.add_session_config_entry("session.intra_op.allow_spinning", "0")
s = ort.InferenceSession(path, o, providers=["CPUExecutionProvider"])
core = ov.Core()
m = core.read_model(path)
print([i.get_partial_shape() for i in m.inputs], [o.get_partial_shape() for o in m.outputs])
cfgs = {"lat": {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": 2},
        "lat_bf16off": {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": 2, "INFERENCE_PRECISION_HINT": "f32"}}
comp = {k: core.compile_model(m, "CPU", v) for k,v in cfgs.items()}
for L in (8, 22, 40):
    x = rng.standard_normal((1, L, 384)).astype(np.float32)
    a = s.run(None, {"embeddings": x})[0]
    for k,c in comp.items():
        b = c({0: x})[0]
        cos = (a*b).sum()/np.linalg.norm(a)/np.linalg.norm(b)
        print(L, k, "cos", round(float(cos),6))
    print(L, "ort", bench(lambda x: s.run(None, {"embeddings": x}), L))
    for k,c in comp.items():
        req = c.create_infer_request()
        print(L, "ov", k, bench(lambda x: req.infer({0: x}), L))
