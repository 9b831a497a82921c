"""monitoring.estimated_performance and estimate_performance (CBPE)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import assay
from assay.monitoring import estimate_performance
from assay.monitoring.estimation import judge

from ..conftest import fit_logreg, make_binary

CHECK = "monitoring.estimated_performance"
CFG = {"n_bootstrap": 100, "seed": 0, "include": [CHECK]}
TOLERANCE = 0.04
"""Largest accepted gap between the estimated and the realized accuracy drop."""


def harder(n: int, seed: int) -> pd.DataFrame:
    """Rows drawn from the same concept, kept only near the decision boundary."""
    df = make_binary(n * 8, seed=seed)
    logit = 1.5 * df["x1"] - 1.0 * df["x2"] + (df["colour"] == "red") * 0.8
    return df[logit.abs() < 0.9].head(n).reset_index(drop=True)


@pytest.fixture(scope="module")
def setup():
    df = make_binary(4000, seed=11)
    train, test = df.iloc[:2000], df.iloc[2000:].reset_index(drop=True)
    return train, test, fit_logreg(train)


def run(setup, current):
    train, test, model = setup
    r = assay.audit(train=train, test=test, current=current, target="y", model=model, config=CFG)
    return r.check(CHECK)


def test_shift_toward_hard_region_is_caught_and_tracks_realized(setup):
    c = run(setup, harder(1500, seed=5))
    assert c.status == "fail", c.summary
    assert "accuracy" in c.summary and "dropped" in c.summary
    assert any(f.group == "estimated accuracy" for f in c.findings)
    realized = c.details["realized_current"]
    est_drop = c.metrics["estimated_accuracy_drop"]
    real_drop = c.metrics["reference_accuracy"] - realized["realized_accuracy"]
    assert real_drop > 0.1  # the planted problem is real
    assert abs(est_drop - real_drop) < TOLERANCE, (est_drop, real_drop)
    assert c.metrics["estimated_accuracy_low"] <= realized["realized_accuracy"]
    assert realized["realized_accuracy"] <= c.metrics["estimated_accuracy_high"]


def test_unshifted_current_passes(setup):
    current = make_binary(1500, seed=99)
    c = run(setup, current)
    assert c.status == "pass", c.summary
    assert abs(c.metrics["estimated_accuracy_drop"]) < 0.03
    assert not c.findings
    chart = c.details["charts"][0]
    assert chart["kind"] == "intervals" and chart["items"]


def test_unlabeled_current_runs_without_realized(setup):
    current = harder(800, seed=6).drop(columns="y")
    c = run(setup, current)
    assert c.status in ("warn", "fail")
    assert c.details["realized_current"] == {}
    assert "no target" in c.details["current_labels"]


def test_regression_is_skipped_with_reason():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=300)})
    df["y"] = 2 * df["x"] + rng.normal(size=300)
    from sklearn.linear_model import LinearRegression

    m = LinearRegression().fit(df[["x"]], df["y"])
    r = assay.audit(train=df, test=df, current=df, target="y", model=m, config=CFG)
    c = r.check(CHECK)
    assert c.status == "skipped" and "regression" in c.summary


def test_judge_levels():
    assert judge(0.01, 0.9, 0.9, warn_at=0.03, fail_at=0.05) == "pass"
    assert judge(0.04, 0.9, 0.9, warn_at=0.03, fail_at=0.05) == "warn"
    assert judge(0.06, 0.85, 0.9, warn_at=0.03, fail_at=0.05) == "fail"
    # the interval still reaches the reference: not a fail yet
    assert judge(0.06, 0.95, 0.9, warn_at=0.03, fail_at=0.05) == "warn"


def _binary_scores(rng, n, spread):
    x = rng.normal(scale=spread, size=n)
    p_true = 1 / (1 + np.exp(-2 * x))
    y = (rng.uniform(size=n) < p_true).astype(int)
    score = 1 / (1 + np.exp(-3 * x + 0.4))  # overconfident and biased: needs calibration
    return score, y


def test_estimate_performance_binary_tracks_realized():
    rng = np.random.default_rng(1)
    s_ref, y_ref = _binary_scores(rng, 3000, 1.0)
    for spread in (1.0, 0.3, 2.0):
        s_cur, y_cur = _binary_scores(rng, 2000, spread)
        out = estimate_performance(
            s_ref,
            y_ref,
            s_cur,
            classes=[0, 1],
            positive_class=1,
            n_bootstrap=100,
            seed=0,
            current_labels=y_cur,
        )
        m = out["metrics"]
        for name in ("accuracy", "f1", "roc_auc"):
            assert abs(m[f"estimation_error_{name}"]) < TOLERANCE, (spread, name, m)
        assert m["estimated_accuracy_low"] < m["estimated_accuracy"] < m["estimated_accuracy_high"]
    assert out["calibration"] == "isotonic"


def test_estimate_performance_multiclass_and_labels():
    rng = np.random.default_rng(2)
    n, k = 3000, 3
    x = rng.normal(size=(n, k))
    p = np.exp(2 * x) / np.exp(2 * x).sum(1, keepdims=True)
    y = (rng.uniform(size=(n, 1)) > np.cumsum(p, 1)[:, :-1]).sum(1)
    s = np.exp(3 * x) / np.exp(3 * x).sum(1, keepdims=True)
    names = np.array(["a", "b", "c"])
    out = estimate_performance(
        s[:2000],
        names[y[:2000]],
        s[2000:],
        classes=list(names),
        n_bootstrap=50,
        seed=0,
        current_labels=names[y[2000:]],
    )
    assert out["task"] == "multiclass"
    for name in ("accuracy", "f1", "roc_auc"):
        assert abs(out["metrics"][f"estimation_error_{name}"]) < TOLERANCE


def test_estimate_performance_deterministic_and_validates():
    rng = np.random.default_rng(3)
    s, y = _binary_scores(rng, 300, 1.0)
    a = estimate_performance(s, y, s[:100], classes=[0, 1], n_bootstrap=30, seed=4)
    b = estimate_performance(s, y, s[:100], classes=[0, 1], n_bootstrap=30, seed=4)
    assert a == b
    assert a["calibration"] == "sigmoid"  # few reference rows: Platt scaling
    with pytest.raises(ValueError, match="not in classes"):
        estimate_performance(s, y + 5, s, classes=[0, 1], n_bootstrap=0)
    with pytest.raises(ValueError, match="shape"):
        estimate_performance(s, y, np.ones((5, 3)), classes=[0, 1], n_bootstrap=0)
