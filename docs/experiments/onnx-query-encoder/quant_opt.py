import onnx
from onnxruntime.quantization import quantize_dynamic, QuantType
for pc in [False, True]:
    dst = "e5_int8%s_opt.onnx" % ("_pc" if pc else "")
    quantize_dynamic("e5_fp32_opt.onnx", dst, per_channel=pc, weight_type=QuantType.QInt8,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    print("wrote", dst)
