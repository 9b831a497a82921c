"""Efficiency checks: latency, throughput, quantization, distillation, cost."""
