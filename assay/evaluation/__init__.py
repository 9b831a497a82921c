"""Evaluation checks: performance with intervals, calibration, baselines, overfitting,
robustness, weak segments, ablation and uncertainty.

Importing this package registers its checks:

- ``evaluation.performance`` — the task's metrics on test (and train), each with
  a bootstrap confidence interval;
- ``evaluation.calibration`` — expected calibration error and reliability bins;
- ``evaluation.baseline_comparison`` — the model against a dummy and a linear
  baseline, by a paired bootstrap;
- ``evaluation.overfitting`` — the gap between train and test performance;
- ``evaluation.robustness`` — metric drop and prediction flips under noise,
  shifts, category swaps and missing values;
- ``evaluation.weak_segments`` — slices of one or two feature conditions where
  the model is significantly worse, with false-discovery control;
- ``evaluation.ablation`` — permutation importance with intervals, unused and
  harmful features, drop-column refits;
- ``evaluation.uncertainty`` — split-conformal prediction sets and intervals
  with their empirical coverage.

The metric kernels (:mod:`assay.evaluation._metrics`) and the vectorized
bootstrap (:mod:`assay.evaluation._bootstrap`) are private; the checks are
reached through the registry.
"""

from assay.evaluation import (
    ablation,
    baseline,
    calibration,
    overfitting,
    performance,
    robustness,
    segments,
    uncertainty,
)

__all__ = [
    "ablation",
    "baseline",
    "calibration",
    "overfitting",
    "performance",
    "robustness",
    "segments",
    "uncertainty",
]
