"""The verdict of :func:`assay.monitoring.feedback.feedback_loop` (:func:`judge_loop`)
and its words (:func:`describe_loop`) on numbers built by hand: a window counts as
drifted at p <= 0.05 / windows (Bonferroni), the performance where the model declines
is reported once estimated, and the exploration advice follows whether it is reachable.
No decision logs: each case runs in microseconds."""

from __future__ import annotations

import time
from typing import Any

import polars as pl

from assay.monitoring.feedback import LoopMeasured, describe_loop, judge_loop

SHARES = {
    "n": 4000,
    "labelled_share": 0.6,
    "observable_only_by_model": 0.55,
    "never_observable": 0.4,
    "exploration_share": 0.05,
    "labels_chosen_by_model": 0.92,
}
ESTIMATE = {"n": 200, "n_observed": 90, "estimate": 0.71, "low": 0.62, "high": 0.8}
NONE = {"n": 200, "n_observed": 1, "estimate": None, "low": None, "high": None}
REACHABLE = {
    "share": 0.12,
    "reachable": True,
    "approved_against_model": 96.0,
    "expected_bad_outcomes": 30.0,
}


def measured(
    p: list[float | None], unobserved: dict[str, Any] = ESTIMATE, rec: dict[str, Any] = REACHABLE
) -> LoopMeasured:
    drift = pl.DataFrame(
        {"window": list(range(len(p))), "p": p}, schema_overrides={"p": pl.Float64}
    )
    return LoopMeasured(
        SHARES, drift, unobserved, {"estimate": 0.3}, 0.9, rec, "accuracy", 0.05, 0.95
    )


def test_clean_windows_are_not_drifted():
    v = judge_loop(measured([0.4, 0.9, None, 0.2]))
    assert (v.drifted_windows, v.estimated, v.reachable) == (0, True, True)
    text = describe_loop(measured([0.4, 0.9, None, 0.2]), v)
    assert "differ from the scored ones" not in text
    assert "its accuracy there is 0.710 (95% interval 0.620 to 0.800" in text


def test_a_window_drifts_at_the_bonferroni_level():
    four = 0.05 / 4
    assert judge_loop(measured([four, 0.9, 0.9, 0.9])).drifted_windows == 1  # p <= level
    assert judge_loop(measured([four * 1.001, 0.9, 0.9, 0.9])).drifted_windows == 0
    assert judge_loop(measured([1e-9, 1e-6, None, 0.9])).drifted_windows == 2
    m = measured([1e-9, 1e-6, None, 0.9])
    assert "in 2 of 4 windows" in describe_loop(m, judge_loop(m))


def test_one_window_is_tested_at_alpha():
    assert judge_loop(measured([0.05])).drifted_windows == 1
    assert judge_loop(measured([0.0501])).drifted_windows == 0
    assert judge_loop(measured([0.01]), alpha=0.005).drifted_windows == 0


def test_unknown_performance_and_unreachable_exploration_are_said():
    rec = {**REACHABLE, "reachable": False}
    m = measured([0.5, 0.5], unobserved=NONE, rec=rec)
    v = judge_loop(m)
    assert (v.estimated, v.reachable) == (False, False)
    text = describe_loop(m, v)
    assert "performance there is unknown" in text
    assert "all of a window's 2,000 cases" in text  # 4,000 rows over 2 windows


def test_judging_takes_microseconds():
    m = measured([0.01, 0.2, 0.5])
    start = time.perf_counter()
    for _ in range(200):
        judge_loop(m)
    assert (time.perf_counter() - start) / 200 < 1e-3  # tens of us (a Polars filter)
