"""``evaluation.weak_segments``: labels flipped in one known slice are found and the slice
is named as a readable predicate; clean data passes."""

from __future__ import annotations

import numpy as np
import pytest

from assay.evaluation._segments_search import bh

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
    np.testing.assert_allclose(bh(p), false_discovery_control(p, method="bh"))


def test_cut_points_keep_quantiles_of_offset_columns_apart():
    """Two significant digits would merge longitude's quintiles (-122.3, -121.9, -118.6)
    into one cut at -120; the cuts keep the precision their neighbours need."""
    from assay.evaluation._depth import cut_points as _cut_points

    cuts = _cut_points(np.array([-122.3, -121.89, -118.61, -118.02]), -124.3, -114.3, False)
    assert cuts == [-122.3, -121.9, -118.6, -118.0]
    # Columns near zero or of large magnitude still read with two significant digits.
    assert _cut_points(np.array([-0.8416, 0.2533]), -3.0, 3.0, False) == [-0.84, 0.25]
    assert _cut_points(np.array([26130.0, 52347.0]), 0.0, 1e6, False) == [26000.0, 52000.0]
    assert _cut_points(np.array([37.4, 52.6]), 17.0, 90.0, True) == [37.0, 53.0]


def offset_regression(n, seed):
    """A regression whose feature ``lon`` sits far from zero (like a longitude)."""
    rng = np.random.default_rng(seed)
    df = frame(n, seed, task="regression")
    df["lon"] = -124.0 + 10.0 * rng.random(n)
    return df


def test_noisy_slice_of_an_offset_column_is_found_and_named():
    from sklearn.linear_model import LinearRegression

    from .depth_helpers import pipeline

    train, test = offset_regression(2000, 6), offset_regression(2000, 7)
    model = pipeline(LinearRegression(), ["a", "b", "c", "lon"], ["c"])
    model.fit(train.drop(columns="y"), train["y"])
    where = ((test.lon >= -122.0) & (test.lon < -120.0)).to_numpy()
    noise = np.random.default_rng(8).normal(0.0, 6.0, len(test))
    noisy = test.assign(y=np.where(where & (np.arange(len(test)) % 5 < 2), test.y + noise, test.y))
    r = run_one(CHECK, train, noisy, model, n_bootstrap=60)
    assert r.status in ("warn", "fail"), r.summary
    first = r.findings[0]
    assert first.columns == ("lon",) and "lon <" in first.group, first.group
    assert where[np.array(first.rows)].mean() > 0.9
    assert r.details["segments"][0]["expected_mae"] > 0


def test_regression_errors_that_grow_with_the_prediction_are_not_a_weak_segment():
    """Noise proportional to the target: the rows with large predictions have larger
    absolute errors, as the rows given similar predictions do; ``judge: raw`` blames them."""
    from sklearn.linear_model import LinearRegression

    from .depth_helpers import pipeline

    def hetero(n, seed):
        rng = np.random.default_rng(seed + 100)  # independent of frame()'s columns
        a = rng.normal(size=n)
        y = 5.0 + 2.0 * a
        df = frame(n, seed, task="regression").assign(a=a)
        return df.assign(y=y + rng.normal(size=n) * 0.5 * np.abs(y))

    train, test = hetero(2000, 9), hetero(2000, 10)
    model = pipeline(LinearRegression(), ["a", "b", "c"], ["c"])
    model.fit(train.drop(columns="y"), train["y"])
    r = run_one(CHECK, train, test, model, n_bootstrap=30)
    assert r.status == "pass", r.summary
    assert "similar predictions" in r.summary
    raw = run_one(CHECK, train, test, model, n_bootstrap=30, thresholds={"judge": "raw"})
    assert raw.status in ("warn", "fail") and "a" in raw.findings[0].columns, raw.summary


def test_minimum_effect_test_needs_a_gap_beyond_the_floor():
    """A segment worse than the rest by exactly the warning gap is not evidence of a
    gap beyond it (p about one half); a clearly larger gap is."""
    from assay.evaluation._segments_search import welch

    rng = np.random.default_rng(0)
    n, N = 200, 2000
    rest = (rng.random(N - n) < 0.2).astype(float)

    def p_for(rate, floor):
        seg = (rng.random(n) < rate).astype(float)
        allv = np.concatenate([seg, rest])
        return float(welch(n, seg.sum(), (seg**2).sum(), N, allv.sum(), (allv**2).sum(), floor)[1])

    gap = rest.mean()
    assert p_for(gap + 0.06, 0.0) < 0.05  # plainly worse
    assert p_for(gap + 0.06, 0.05) > 0.05  # but not clearly worse by more than 0.05
    assert p_for(gap + 0.30, 0.05) < 1e-6
