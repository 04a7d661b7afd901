"""Export fp32 model to ONNX (dynamic seq axis), make ORT-optimized + int8 variants."""
import torch, warnings, e5load, build
warnings.filterwarnings("ignore")
m, tok = build.make_model(attn="eager")
emb = build.Embed(m).eval()
x = torch.tensor([e5load.tokenize(tok, "query: how much protein should a female eat per day")])
import sys
dynamo = "--dynamo" in sys.argv
with torch.inference_mode():
    if dynamo:
        torch.onnx.export(emb, (x,), "e5_fp32.onnx", input_names=["input_ids"], output_names=["emb"],
                          dynamic_shapes={"input_ids": {1: torch.export.Dim("seq", min=2, max=512)}},
                          dynamo=True, external_data=False, optimize=True)
    else:
        torch.onnx.export(emb, (x,), "e5_fp32.onnx", input_names=["input_ids"], output_names=["emb"],
                          dynamic_axes={"input_ids": {1: "seq"}}, opset_version=17, dynamo=False)
print("exported")
from onnxruntime.quantization import quantize_dynamic, QuantType
from onnxruntime.transformers import optimizer
# ORT transformer-optimizer graph fusion (Attention/LayerNorm/Gelu fusions)
opt = optimizer.optimize_model("e5_fp32.onnx", model_type="bert", num_heads=12, hidden_size=384, opt_level=1)
print(opt.get_fused_operator_statistics())
opt.save_model_to_file("e5_fp32_opt.onnx")
for src in ["e5_fp32.onnx", "e5_fp32_opt.onnx"]:
    for pc in [False, True]:
        dst = src.replace("fp32", "int8" + ("_pc" if pc else ""))
        quantize_dynamic(src, dst, per_channel=pc, weight_type=QuantType.QInt8)
        print("wrote", dst)
