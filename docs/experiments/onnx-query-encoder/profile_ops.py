"""Per-operator time of an ONNX encoder file (ORT profiling, 200 runs of 22 tokens, 2 threads).

Usage: python profile_ops.py FILE.onnx
"""
import json, sys, collections, numpy as np, onnxruntime as ort, glob, os
path = sys.argv[1]
o = ort.SessionOptions(); o.intra_op_num_threads=2; o.enable_profiling=True; o.profile_file_prefix="/tmp/s7prof"
o.add_session_config_entry("session.intra_op.allow_spinning","0")
s = ort.InferenceSession(path, o, providers=["CPUExecutionProvider"])
x = np.random.randn(1,22,384).astype(np.float32)
for _ in range(200): s.run(None, {"embeddings": x})
f = s.end_profiling()
ev = json.load(open(f))
agg = collections.Counter(); cnt=collections.Counter()
tot=0
for e in ev:
    if e.get("cat")=="Node" and e["name"].endswith("_kernel_time"):
        op = e["args"]["op_name"]; agg[op]+=e["dur"]; cnt[op]+=1
    if e.get("cat")=="Session" and e["name"]=="model_run": tot+=e["dur"]
print("per run ms", tot/200/1000)
for op,d in agg.most_common(): print(op, round(d/200/1000,3), cnt[op]//200)
os.remove(f)
