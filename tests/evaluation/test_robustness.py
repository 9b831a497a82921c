"""``evaluation.robustness``: a noise-sensitive feature is found and named; a smooth model
passes; missing-value support is tried, not assumed."""

from __future__ import annotations

import pytest
from sklearn.tree import DecisionTreeClassifier

from .depth_helpers import frame, logistic, pipeline, run_one

CHECK = "evaluation.robustness"


@pytest.fixture(scope="module")
def fragile():
    train, test = frame(4000, 0, fragile=True), frame(1500, 1, fragile=True)
    # A tree learns the pattern, and (scikit-learn >= 1.3) accepts missing values.
    est = DecisionTreeClassifier(min_samples_leaf=20, random_state=0)
    model = pipeline(est, ["a", "b", "f"]).fit(train.drop(columns="y"), train["y"])
    return run_one(CHECK, train, test, model, n_bootstrap=60)


def test_noise_sensitive_feature_is_named(fragile):
    r = fragile
    assert r.status in ("warn", "fail"), r.summary
    assert r.summary.startswith("The most fragile feature is 'f'"), r.summary
    first = r.findings[0]
    assert first.column == "f" and first.split == "test"
    assert first.metrics["flip_rate"] >= 0.1
    others = {f.column: f for f in r.findings if f.column in ("a", "b")}
    assert all(f.metrics["flip_rate"] < first.metrics["flip_rate"] / 3 for f in others.values())
    per_feature = {row["scope"]: row for row in r.details["features"] if row["kind"] == "noise"}
    assert per_feature["f"]["flip_rate"] > 3 * per_feature["a"]["flip_rate"]
    # The flip rate has a Wilson interval; the drop of the worst feature a bootstrap one.
    assert (
        first.metrics["flip_rate_low"]
        < first.metrics["flip_rate"]
        < first.metrics["flip_rate_high"]
    )
    assert first.metrics["drop_low"] is not None


def test_missing_values_are_tried_on_a_model_that_accepts_them(fragile):
    mv = fragile.details["missing_values"]
    # The tree takes NaN: the injection ran and is reported.
    assert mv["accepted"] and {"a", "b", "f"} <= set(mv["columns_accepted"])
    kinds = {row["kind"] for row in fragile.details["perturbations"]}
    assert kinds == {"noise", "shift", "swap", "missing"}
    # 'c' and 'group' reach the pipeline, which drops them: swapping them changes nothing.
    swaps = {row["scope"]: row for row in fragile.details["features"] if row["kind"] == "swap"}
    assert swaps["c"]["flip_rate"] == 0 and swaps["group"]["flip_rate"] == 0
    assert fragile.metrics["missing_accepted"] == 1
    charts = fragile.details["charts"]
    assert charts[0]["kind"] == "bars" and charts[0]["items"][0]["label"] == "f"
    assert charts[1]["kind"] == "intervals"


def test_smooth_model_passes_and_says_missing_values_are_refused():
    train, test = frame(3000, 2), frame(1500, 3)
    r = run_one(CHECK, train, test, logistic(train), n_bootstrap=60)
    assert r.status == "pass", r.summary
    assert r.summary.startswith("Predictions are stable under small perturbations")
    mv = r.details["missing_values"]
    # StandardScaler passes NaN on and LogisticRegression refuses it: said, not hidden.
    assert not set(mv["columns_accepted"]) & {"a", "b", "f"}
    refused = [f for f in r.findings if f.columns and "a" in f.columns]
    assert refused and "does not accept missing values" in refused[0].message
    swaps = [row for row in r.details["features"] if row["kind"] == "swap"]
    assert [row["scope"] for row in swaps] == ["c", "group"]
    assert r.metrics["n_rows"] == 1500 and not r.details["sampled"]


def test_sample_size_is_stated_and_row_order_does_not_matter():
    train, test = frame(2000, 4), frame(1200, 5)
    model = logistic(train)
    th = {"max_rows": 500}
    a = run_one(CHECK, train, test, model, n_bootstrap=30, thresholds=th)
    shuffled = test.sample(frac=1.0, random_state=1).reset_index(drop=True)
    b = run_one(CHECK, train, shuffled, model, n_bootstrap=30, thresholds=th)
    assert a.details["sampled"] and a.metrics["n_rows"] == 500
    assert a.metrics == b.metrics


def test_needs_the_model_itself():
    train, test = frame(600, 6), frame(400, 7)
    test = test.assign(pred=(test.a > 0).astype(int))
    r = run_one(CHECK, train, test, prediction="pred")
    assert r.status == "skipped" and "needs the model itself" in r.summary
