"""Evaluation checks: performance with intervals, calibration, baselines, overfitting."""
