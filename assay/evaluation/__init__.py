"""Evaluation checks: performance with intervals, calibration, baselines, overfitting.

Importing this package registers its checks:

- ``evaluation.performance`` — the task's metrics on test (and train), each with
  a bootstrap confidence interval;
- ``evaluation.calibration`` — expected calibration error and reliability bins;
- ``evaluation.baseline_comparison`` — the model against a dummy and a linear
  baseline, by a paired bootstrap;
- ``evaluation.overfitting`` — the gap between train and test performance.

The metric kernels (:mod:`assay.evaluation._metrics`) and the vectorized
bootstrap (:mod:`assay.evaluation._bootstrap`) are private; the checks are
reached through the registry.
"""

from assay.evaluation import baseline, calibration, overfitting, performance

__all__ = ["baseline", "calibration", "overfitting", "performance"]
