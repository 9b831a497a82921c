"""Efficiency checks: latency, throughput, quantization, distillation, cost.

All three are opt-in (they take time): ``enable=["efficiency"]`` or
``assay audit --efficiency``; ``assay bench`` runs them alone. Their heavy
libraries (ONNX Runtime, skl2onnx, onnxmltools) are imported only when they run.
"""

from assay.efficiency import distillation, inference, quantization

__all__ = ["distillation", "inference", "quantization"]
