"""``evaluation.weak_segments``: labels flipped in one known slice are found and the slice
is named as a readable predicate; clean data passes."""

from __future__ import annotations

import numpy as np
import pytest

from assay.evaluation.segments import _bh

from .depth_helpers import frame, logistic, run_one

CHECK = "evaluation.weak_segments"


def flipped(test):
    """Flip the labels where b >= 0.25 and c = w (about 13% of rows)."""
    where = (test.b >= 0.25) & (test.c == "w")
    return test.assign(y=np.where(where, 1 - test.y, test.y)), where.to_numpy()


@pytest.fixture(scope="module")
def planted():
    train = frame(3000, 0)
    test, where = flipped(frame(3000, 1))
    return run_one(CHECK, train, test, logistic(train), n_bootstrap=100), where


def test_flipped_slice_is_found_and_named(planted):
    r, where = planted
    assert r.status == "fail", r.summary
    first = r.findings[0]
    assert set(first.columns) == {"b", "c"}
    assert "c = w" in first.group and "b >= " in first.group
    assert first.group in r.summary and first.split == "test"
    # The rows it lists are the planted ones.
    rows = np.array(first.rows)
    assert where[rows].mean() > 0.9
    assert first.metrics["accuracy"] < r.metrics["overall_accuracy"] - 0.3
    seg = r.details["segments"][0]
    assert seg["accuracy_low"] < seg["accuracy"] < seg["accuracy_high"]
    assert seg["q_value"] < 0.05 and seg["size"] >= 30
    assert "Benjamini" in r.details["false_discovery_control"]


def test_parents_are_not_reported_for_the_same_rows(planted):
    r, _ = planted
    groups = [f.group for f in r.findings]
    assert "c = w" not in groups  # its excess errors are those of the reported pair
    assert len(groups) == len(set(groups))


def test_charts_show_segments_against_overall(planted):
    r, _ = planted
    charts = r.details["charts"]
    assert charts[0]["kind"] == "intervals" and charts[0]["items"][0]["label"] == "overall"
    assert charts[1]["kind"] == "bars" and charts[1]["items"][0]["status"] == "fail"


def test_clean_model_passes():
    train, test = frame(3000, 2), frame(3000, 3)
    r = run_one(CHECK, train, test, logistic(train), n_bootstrap=60)
    assert r.status == "pass", r.summary
    assert r.summary.startswith("No segment of at least 30 rows is clearly worse")
    assert r.metrics["n_segments_tested"] > 100
    # The report still shows the worst segments found, none significant.
    assert r.details["worst_segments_not_significant"]
    assert r.details["charts"][0]["kind"] == "intervals"


def test_clean_regression_passes_and_planted_regression_slice_is_found():
    from sklearn.linear_model import LinearRegression

    from .depth_helpers import pipeline

    train, test = frame(2000, 4, task="regression"), frame(2000, 5, task="regression")
    model = pipeline(LinearRegression(), ["a", "b", "c"], ["c"])
    model.fit(train.drop(columns="y"), train["y"])
    r = run_one(CHECK, train, test, model, n_bootstrap=60)
    assert r.status == "pass", r.summary
    noisy = test.assign(y=np.where(test.f < -0.84, test.y + 6.0, test.y))
    r = run_one(CHECK, train, noisy, model, n_bootstrap=60)
    assert r.status == "fail" and r.findings[0].group.startswith("f < -0.8"), r.summary
    assert r.details["metric"] == "mae"


def test_raw_judging_blames_the_decision_boundary():
    """With ``judge: raw`` the region where the model is unsure by nature is reported."""
    train, test = frame(3000, 2), frame(3000, 3)
    r = run_one(CHECK, train, test, logistic(train), n_bootstrap=30, thresholds={"judge": "raw"})
    assert r.status in ("warn", "fail")


def test_benjamini_hochberg_matches_scipy():
    from scipy.stats import false_discovery_control

    p = np.random.default_rng(0).random(200) ** 3
    np.testing.assert_allclose(_bh(p), false_discovery_control(p, method="bh"))
