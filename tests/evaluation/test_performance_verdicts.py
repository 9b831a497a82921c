"""``evaluation.performance`` verdicts (#14): an interval of ±0.05 on a thousand rows is
information, not an alarm; the check warns only when the interval is materially wide or
cannot tell the model from chance, and every sentence states the width and the test size.
The decision is a pure function of numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assay.evaluation.performance import chance_level, judge_precision

from .depth_helpers import run_one

CHECK = "evaluation.performance"
RULE = {"max_width": 0.15, "max_relative_width": 1.0}


# -- the decision: numbers in, verdict out ------------------------------------------


def test_judge_boundaries_absolute_width():
    # ROC-AUC 0.74 (0.69–0.79) on 1,200 rows: informative, not an alarm.
    assert judge_precision(0.74, 0.69, 0.79, 0.5, **RULE)[0] == "pass"
    # Exactly the largest width allowed passes; beyond it warns.
    assert judge_precision(0.80, 0.725, 0.875, 0.5, **RULE)[0] == "pass"
    status, reason = judge_precision(0.80, 0.72, 0.88, 0.5, **RULE)
    assert status == "warn" and "0.16 wide" in reason


def test_judge_boundaries_relative_to_chance():
    # Wider than the whole margin over chance: the gain is not known even roughly.
    status, reason = judge_precision(0.58, 0.52, 0.65, 0.5, **RULE)
    assert status == "warn" and "margin over chance" in reason
    assert judge_precision(0.60, 0.55, 0.65, 0.5, **RULE)[0] == "pass"  # width = margin
    # An interval reaching chance: the test set cannot tell the model from a dummy.
    status, reason = judge_precision(0.56, 0.50, 0.60, 0.5, **RULE)
    assert status == "warn" and "chance" in reason


def test_judge_r2_uses_the_relative_rule_only():
    # R² 0.40 (0.20–0.54) on 133 rows: wide in absolute terms, narrower than its margin.
    r2 = {"max_width": None, "max_relative_width": 1.0}
    assert judge_precision(0.40, 0.20, 0.54, 0.0, **r2)[0] == "pass"
    assert judge_precision(0.30, -0.05, 0.50, 0.0, **r2)[0] == "warn"
    assert judge_precision(0.30, 0.02, 0.58, 0.0, **r2)[0] == "warn"  # 0.56 > 0.30


def test_judge_without_an_interval_passes():
    assert judge_precision(0.74, None, None, 0.5, **RULE) == ("pass", "no interval computed")


def test_chance_levels():
    assert chance_level("roc_auc", n_classes=3) == 0.5
    assert chance_level("balanced_accuracy", n_classes=4) == 0.25
    assert chance_level("r2", n_classes=0) == 0.0


# -- clean data of the shape that fired on real datasets ------------------------------


def _bank_like(n, seed):
    """A 6% class a model separates moderately (ROC-AUC about 0.74), like bank."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    logit = -3.0 + 0.8 * x[:, 0] + 0.3 * x[:, 1]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "y": y})


def _fit_logistic(train):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression().fit(train[["a", "b", "c"]], train["y"])


def test_moderate_auc_on_a_thousand_rows_is_not_an_alarm():
    train, test = _bank_like(3000, 1), _bank_like(1200, 2)
    r = run_one(CHECK, train, test, _fit_logistic(train), n_bootstrap=200)
    assert r.status == "pass", r.summary
    width = r.metrics["roc_auc_high"] - r.metrics["roc_auc_low"]
    assert width > 0.10  # today's rule (max_ci_width 0.10) warned on this
    assert f"{width:.2f} wide" in r.summary and "over 1,200 rows" in r.summary


def test_small_regression_test_set_with_a_clear_r2_is_not_an_alarm():
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(3)
    n = 442  # diabetes-sized: 133 test rows
    x = rng.normal(size=(n, 3))
    df = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2]})
    df["y"] = 0.9 * df.a + 0.5 * df.b + rng.normal(size=n)
    train, test = df.iloc[:309], df.iloc[309:]
    model = LinearRegression().fit(train[["a", "b", "c"]], train["y"])
    r = run_one(CHECK, train, test, model, n_bootstrap=200)
    assert r.status == "pass", r.summary
    assert r.metrics["r2_high"] - r.metrics["r2_low"] > 0.15
    assert "over 133 rows" in r.summary and "wide" in r.summary


# -- planted: a test set too small to say anything ------------------------------------


def test_planted_weak_model_on_few_rows_cannot_be_told_from_chance():
    rng = np.random.default_rng(5)

    def data(n):
        x = rng.normal(size=(n, 3))
        y = (rng.random(n) < 1 / (1 + np.exp(-0.25 * x[:, 0]))).astype(int)
        return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "y": y})

    train, test = data(2000), data(120)
    r = run_one(CHECK, train, test, _fit_logistic(train), n_bootstrap=200)
    assert r.status == "warn", r.summary
    assert "120 test rows" in r.summary and "wide" in r.summary
    assert r.details["interval_too_wide"] is True


@pytest.mark.parametrize("bound", [{"min": {"roc_auc": 0.9}}, {"max": {"brier": 0.01}}])
def test_user_bounds_still_fail_the_gate(bound):
    train, test = _bank_like(3000, 1), _bank_like(1200, 2)
    r = run_one(CHECK, train, test, _fit_logistic(train), n_bootstrap=200, thresholds=bound)
    assert r.status == "fail", r.summary
