"""``evaluation.uncertainty``: split-conformal sets and intervals keep their coverage on
exchangeable data; a class covered much less often than promised is named."""

from __future__ import annotations

import math

import numpy as np
import pytest

from assay.evaluation.uncertainty import conformal_threshold

from .depth_helpers import frame, logistic, pipeline, run_one

CHECK = "evaluation.uncertainty"


def test_threshold_arithmetic():
    scores = np.arange(1.0, 20.0)  # 19 scores
    # ⌈(19 + 1) · 0.9⌉ = 18th smallest.
    assert conformal_threshold(scores, 0.9) == 18.0
    assert conformal_threshold(scores, 0.95) == 19.0
    assert math.isinf(conformal_threshold(scores[:5], 0.9))


def test_classifier_sets_cover_as_promised():
    train, test = frame(3000, 0), frame(4000, 1)
    r = run_one(CHECK, train, test, logistic(train))
    assert r.status == "pass", r.summary
    assert r.summary.startswith("Conformal prediction sets keep their promise")
    for level, key in ((0.9, "90"), (0.95, "95")):
        cov = r.metrics[f"coverage_{key}"]
        assert abs(cov - level) < 0.03
        assert r.metrics[f"coverage_{key}_low"] < cov < r.metrics[f"coverage_{key}_high"]
    assert 1.0 <= r.metrics["set_size_90"] <= r.metrics["set_size_95"] <= 2.0
    assert r.metrics["n_calibration"] == r.metrics["n_evaluation"] == 2000
    assert "MAPIE is not used" in r.details["implementation"]
    assert [c["kind"] for c in r.details["charts"]] == ["intervals", "bars", "bars"]


def test_regression_intervals_cover_and_are_narrower_than_without_the_model():
    from sklearn.linear_model import LinearRegression

    train, test = frame(2000, 2, task="regression"), frame(2000, 3, task="regression")
    model = pipeline(LinearRegression(), ["a", "b", "c"], ["c"])
    model.fit(train.drop(columns="y"), train["y"])
    r = run_one(CHECK, train, test, model)
    assert r.status == "pass", r.summary
    assert abs(r.metrics["coverage_90"] - 0.9) < 0.04
    # Noise sd 0.5: the 90% interval is about ±1.645 · 0.5 wide.
    assert r.metrics["width_90"] == pytest.approx(2 * 1.645 * 0.5, rel=0.15)
    assert r.metrics["width_ratio_90"] < 0.3


def test_rare_class_gets_its_own_threshold():
    """A rare class the model barely separates: marginal sets covered it far less often
    than promised on every honest model (#14); class-conditional sets keep the promise
    there too, at the price of larger sets, which the result reports."""
    rng = np.random.default_rng(4)

    def data(n):
        d = frame(n, int(rng.integers(1000)))
        rare = rng.random(n) < 0.12
        return d.assign(y=np.where(rare, 1, 0), a=d.a + 0.3 * rare)

    train, test = data(3000), data(3000)
    r = run_one(CHECK, train, test, logistic(train))
    assert r.status == "pass", r.summary
    parts = {p["part"]: p for p in r.details["levels"][0]["parts"]}
    assert set(parts) == {"class 0", "class 1"}
    assert parts["class 1"]["coverage"] >= 0.85 and parts["class 1"]["judged"]
    assert r.metrics["set_size_90"] > 1.2


def test_needs_scores_for_classification():
    train, test = frame(600, 6), frame(400, 7)
    test = test.assign(pred=(test.a > 0).astype(int))
    r = run_one(CHECK, train, test, prediction="pred")
    assert r.status == "skipped" and "class probabilities" in r.summary
