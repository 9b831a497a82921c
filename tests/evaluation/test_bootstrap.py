"""The vectorized bootstrap: counts, intervals, pairing, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from assay.evaluation._bootstrap import (
    clear_cache,
    metric_intervals,
    paired_comparison,
    percentile_interval,
    resample_counts,
)
from assay.evaluation._metrics import EvalData, MetricPlan


def _data(n: int, seed: int = 0) -> EvalData:
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.4
    s = np.clip(rng.normal(0.4 + 0.25 * y, 0.2), 0, 1)
    proba = np.column_stack([1 - s, s])
    return EvalData.from_arrays(
        "binary", y, s > 0.5, proba, classes=[False, True], positive_class=True
    )


def test_counts_are_resamples_of_n_rows():
    chunks = list(resample_counts(1000, 250, seed=1, max_cells=60_000))
    counts = np.vstack(chunks)
    assert len(chunks) > 1 and counts.shape == (250, 1000)
    assert (counts.sum(axis=1) == 1000).all()
    assert counts.min() >= 0
    # Each row is drawn about once per resample on average.
    assert counts.mean(axis=0).mean() == pytest.approx(1.0)


def test_counts_are_deterministic_and_cached_identically():
    clear_cache()
    first = np.vstack(list(resample_counts(500, 40, seed=3, stream=1)))
    again = np.vstack(list(resample_counts(500, 40, seed=3, stream=1)))  # from the cache
    clear_cache()
    fresh = np.vstack(list(resample_counts(500, 40, seed=3, stream=1)))
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first, fresh)
    other = np.vstack(list(resample_counts(500, 40, seed=4, stream=1)))
    assert not np.array_equal(first, other)


def test_bootstrap_matches_explicit_resamples():
    """Counts-as-weights gives exactly what sklearn gives on the resampled rows."""
    data = _data(300)
    counts = next(resample_counts(300, 5, seed=0))
    got = MetricPlan(data, ["accuracy", "roc_auc", "log_loss"])(counts)
    y = data.y == 1
    s = data.proba[:, 1]
    for b in range(5):
        idx = np.repeat(np.arange(300), counts[b])
        assert got["accuracy"][b] == pytest.approx(skm.accuracy_score(data.y[idx], data.pred[idx]))
        assert got["roc_auc"][b] == pytest.approx(skm.roc_auc_score(y[idx], s[idx]), abs=1e-12)
        assert got["log_loss"][b] == pytest.approx(
            skm.log_loss(y[idx], data.proba[idx], labels=[False, True]), abs=1e-12
        )


def test_interval_contains_point_and_narrows_with_n():
    small = metric_intervals(_data(200), n_resamples=300, seed=0)
    large = metric_intervals(_data(5000), n_resamples=300, seed=0)
    for ivs in (small, large):
        for name, iv in ivs.items():
            assert iv.low <= iv.value <= iv.high, name
    for name in ("accuracy", "roc_auc", "brier"):
        assert large[name].width < small[name].width / 2, name


def test_same_seed_same_numbers():
    data = _data(800)
    a = metric_intervals(data, n_resamples=100, seed=7)
    clear_cache()
    b = metric_intervals(data, n_resamples=100, seed=7)
    c = metric_intervals(data, n_resamples=100, seed=8)
    assert a == b
    assert a["roc_auc"].low != c["roc_auc"].low


def test_no_resamples_means_no_interval():
    iv = metric_intervals(_data(100), ["accuracy"], n_resamples=0, seed=0)["accuracy"]
    assert iv.low is None and iv.high is None and iv.value is not None


def test_paired_difference_of_identical_models_is_exactly_zero():
    data = _data(600)
    scores, diffs = paired_comparison(
        {"model": data, "copy": data}, "roc_auc", reference="model", n_resamples=100, seed=0
    )
    assert scores["model"] == scores["copy"]
    assert (diffs["copy"].value, diffs["copy"].low, diffs["copy"].high) == (0.0, 0.0, 0.0)


def test_paired_interval_is_narrower_than_unpaired():
    """A slightly noisier copy of the model: pairing cancels the shared row noise."""
    data = _data(1000)
    rng = np.random.default_rng(9)
    s2 = np.clip(data.proba[:, 1] + rng.normal(0, 0.05, data.n), 0, 1)
    other = EvalData.from_arrays(
        "binary", data.y, s2 > 0.5, np.column_stack([1 - s2, s2]), classes=[0, 1], positive_class=1
    )
    scores, diffs = paired_comparison(
        {"model": data, "other": other}, "roc_auc", reference="model", n_resamples=200, seed=0
    )
    unpaired = np.hypot(scores["model"].width, scores["other"].width)
    assert diffs["other"].width < unpaired / 2


def test_percentile_interval_includes_the_point():
    samples = np.linspace(0.9, 1.0, 101)
    assert percentile_interval(samples, 0.85, confidence=0.9)[0] == 0.85
    assert percentile_interval(np.array([np.nan]), 0.5) == (None, None)
