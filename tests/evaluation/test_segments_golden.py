"""``evaluation.weak_segments`` pinned whole (#15: the split into search, judge and describe
modules changed no number). Three cases: labels flipped in a slice of two conditions
(a fail naming the pair), a clean classifier (a pass listing the worst segments found),
and a regression with a noisy slice, judged against rows given similar predictions. The
golden files were written by the code before the split. Regenerate with
``ASSAY_UPDATE_GOLDEN=1`` (see tests/golden.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.golden import assert_golden

from .depth_helpers import frame, logistic, pipeline, run_one

CHECK = "evaluation.weak_segments"
HERE = Path(__file__).parent / "fixtures"


def test_flipped_slice_matches_the_golden_result():
    train, test = frame(3000, 0), frame(3000, 1)
    where = (test.b >= 0.25) & (test.c == "w")
    test = test.assign(y=np.where(where, 1 - test.y, test.y))
    r = run_one(CHECK, train, test, logistic(train), n_bootstrap=40)
    assert r.status == "fail" and set(r.findings[0].columns) == {"b", "c"}
    assert_golden(r, HERE / "weak_segments_golden_flipped.json")


def test_clean_classifier_matches_the_golden_result():
    train, test = frame(2000, 2), frame(2000, 3)
    r = run_one(CHECK, train, test, logistic(train), n_bootstrap=40)
    assert r.status == "pass" and r.details["worst_segments_not_significant"]
    assert_golden(r, HERE / "weak_segments_golden_clean.json")


def test_noisy_regression_slice_matches_the_golden_result():
    from sklearn.linear_model import LinearRegression

    train, test = frame(2000, 4, task="regression"), frame(2000, 5, task="regression")
    model = pipeline(LinearRegression(), ["a", "b", "c"], ["c"])
    model.fit(train.drop(columns="y"), train["y"])
    noisy = test.assign(y=np.where(test.f < -0.84, test.y + 6.0, test.y))
    r = run_one(CHECK, train, noisy, model, n_bootstrap=40)
    assert r.status == "fail" and r.details["metric"] == "mae"
    assert_golden(r, HERE / "weak_segments_golden_regression.json")
