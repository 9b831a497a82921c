"""``fairness.group_metrics``: errors concentrated in one group are found and the group and
metric named; groups alike pass; small groups are reported, not judged."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from tests.evaluation.depth_helpers import frame, logistic, pipeline, run_one

CHECK = "fairness.group_metrics"


@pytest.fixture(scope="module")
def data():
    train, test = frame(3000, 0), frame(3000, 1)
    # 'group' is in the data but not a model feature: the pipeline drops it.
    return train, test, logistic(train)


def concentrated(test: pd.DataFrame, group: str = "g2", share: float = 0.4, seed: int = 0):
    """Flip the labels of ``share`` of the rows of ``group``: the model errs there."""
    rng = np.random.default_rng(seed)
    flip = (test.group == group).to_numpy() & (rng.random(len(test)) < share)
    return test.assign(y=np.where(flip, 1 - test.y, test.y))


def test_errors_concentrated_in_one_group_are_named(data):
    train, test, model = data
    r = run_one(CHECK, train, concentrated(test), model, sensitive="group")
    assert r.status == "fail", r.summary
    first = r.findings[0]
    assert first.group == "group=g2" and first.column == "group" and first.split == "test"
    assert "group=g2" in r.summary
    named = {m for f in r.findings if f.group == "group=g2" for m in f.metrics}
    assert {"error_rate", "false_positive_rate"} & named or {"true_positive_rate"} & named
    assert r.metrics["equalized_odds_difference"] > 0.2
    assert r.metrics["error_rate_difference"] > 0.2
    assert r.metrics["equalized_odds_difference_low"] > 0.1
    assert "Fairlearn" in r.recommendation


def test_groups_treated_alike_pass(data):
    train, test, model = data
    r = run_one(CHECK, train, test, model, sensitive="group")
    assert r.status == "pass", r.summary
    assert r.summary.startswith("No gap between groups crosses its threshold")
    assert r.metrics["selection_rate_ratio"] > 0.8
    charts = r.details["charts"]
    assert [c["kind"] for c in charts] == ["intervals", "bars", "intervals"]
    assert charts[1]["threshold"] == 0.8


def test_metric_frame_numbers_match_a_direct_computation(data):
    train, test, model = data
    r = run_one(CHECK, train, test, model, sensitive="group")
    pred = model.predict(test.drop(columns="y"))
    groups = {g["group"]: g for g in r.details["sets"][0]["groups"]}
    for g, rows in test.groupby("group"):
        p, y = pred[rows.index], rows.y.to_numpy()
        got = groups[f"group={g}"]
        assert got["count"] == len(rows)
        assert got["selection_rate"] == pytest.approx(p.mean())
        assert got["accuracy"] == pytest.approx((p == y).mean())
        assert got["true_positive_rate"] == pytest.approx(p[y == 1].mean())
        assert got["false_positive_rate"] == pytest.approx(p[y == 0].mean())
        assert got["selection_rate_low"] < got["selection_rate"] < got["selection_rate_high"]


def test_intersections_and_small_groups(data):
    train, test, model = data
    test = test.assign(region=np.where(np.arange(len(test)) < 12, "islands", "mainland"))
    train = train.assign(region="mainland")
    r = run_one(CHECK, train, test, model, sensitive=["group", "region"])
    attrs = [tuple(s["attributes"]) for s in r.details["sets"]]
    assert attrs == [("group",), ("region",), ("group", "region")]
    inter = {g["group"] for g in r.details["sets"][2]["groups"]}
    assert "group=g1 & region=mainland" in inter
    small = [f for f in r.findings if f.status == "pass" and "too small" in f.message]
    assert any(f.group == "region=islands" for f in small)
    assert all(f.columns == ("group", "region") for f in small if "&" in f.group)
    assert r.metrics["n_groups_too_small"] >= 2
    # Too small to judge: the islands never appear in a judged gap.
    judged = [d for s in r.details["sets"] for d in s["disparities"]]
    assert all("islands" not in d["worst_group"] for d in judged)


def test_regression_errors_concentrated_in_one_group(data):
    from sklearn.linear_model import LinearRegression

    train, test = frame(2000, 2, task="regression"), frame(2000, 3, task="regression")
    model = pipeline(LinearRegression(), ["a", "b", "c"], ["c"])
    model.fit(train.drop(columns="y"), train["y"])
    rng = np.random.default_rng(0)
    noisy = test.assign(
        y=np.where(test.group == "g3", test.y + rng.normal(scale=2.0, size=len(test)), test.y)
    )
    r = run_one(CHECK, train, noisy, model, sensitive="group")
    assert r.status == "fail", r.summary
    assert r.findings[0].group == "group=g3" and "MAE" in r.findings[0].message
    assert r.metrics["mae_ratio"] > 1.5
    clean = run_one(CHECK, train, test, model, sensitive="group")
    assert clean.status == "pass", clean.summary


def test_numeric_sensitive_attribute_is_cut_into_groups(data):
    train, test, model = data
    r = run_one(CHECK, train, test, model, sensitive="a")
    groups = [g["group"] for g in r.details["sets"][0]["groups"]]
    assert len(groups) == 4 and any(g.startswith("a < ") for g in groups)


def test_skips_without_a_sensitive_attribute(data):
    train, test, model = data
    r = run_one(CHECK, train, test, model)
    assert r.status == "skipped"
    assert "no sensitive attribute was given (--sensitive COL)" in r.summary


def test_skips_naming_the_extra_without_fairlearn(data, monkeypatch):
    train, test, model = data
    monkeypatch.setitem(sys.modules, "fairlearn", None)
    monkeypatch.setitem(sys.modules, "fairlearn.metrics", None)
    r = run_one(CHECK, train, test, model, sensitive="group")
    assert r.status == "skipped" and "pip install 'assay[fairness]'" in r.summary


def test_numeric_attribute_far_from_zero_keeps_its_quartiles_apart():
    """Quartiles of a longitude-like attribute (-121.9, -118.5, -117.9) must not all
    round to -120 and merge the groups; an age-like attribute still reads in whole
    years."""
    import polars as pl

    from assay.core.registry import get_check
    from assay.fairness.group_metrics import _attribute_labels

    th = get_check("fairness.group_metrics").thresholds
    rng = np.random.default_rng(0)
    lon = np.concatenate([rng.uniform(-124.3, -121.0, 500), rng.uniform(-119.0, -114.3, 500)])
    labels = _attribute_labels(pl.DataFrame({"lon": lon}), "lon", th)
    assert len(set(labels)) == 4, sorted(set(labels))
    age = rng.integers(18, 90, 1000).astype(float)
    groups = sorted(set(_attribute_labels(pl.DataFrame({"age": age}), "age", th)))
    assert len(groups) == 4 and all("." not in g for g in groups), groups
