"""Each evaluation check catches the problem planted for it, and stays quiet on clean data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.neighbors import KNeighborsClassifier

import assay
from assay.core.registry import get_check

from .conftest import EVAL_IDS, Wrapped, fit, make_frame, run


@pytest.fixture(scope="module")
def clean():
    """A boosted model on a nonlinear signal, with enough data: every check passes."""
    train, test = make_frame(4000, 0, kind="nonlinear"), make_frame(2000, 1, kind="nonlinear")
    model = fit(HistGradientBoostingClassifier(max_iter=60, max_depth=3, random_state=0), train)
    return run(train, test, model)


@pytest.mark.parametrize("check_id", EVAL_IDS)
def test_clean_model_passes(clean, check_id):
    r = clean.check(check_id)
    assert r.status == "pass", r.summary


def test_clean_summaries_are_plain_sentences(clean):
    perf = clean.check("evaluation.performance")
    assert perf.summary.startswith("ROC-AUC on test is 0.")
    assert "(95% CI " in perf.summary and perf.summary.endswith("over 2,000 rows.")
    base = clean.check("evaluation.baseline_comparison")
    assert "most common class" in base.summary and "linear model" in base.summary
    over = clean.check("evaluation.overfitting")
    assert "on train and" in over.summary and "on test" in over.summary


def test_overconfident_scores_fail_calibration(linear_data, logistic):
    class Overconfident(Wrapped):
        def predict_proba(self, X):
            p = super().predict_proba(X)[:, 1]
            q = 1 / (1 + np.exp(-4 * np.log(p / (1 - p))))  # pushed toward 0 and 1
            return np.column_stack([1 - q, q])

    model = Overconfident(logistic.est, logistic.columns)
    r = run(*linear_data, model).check("evaluation.calibration")
    assert r.status in ("warn", "fail"), r.summary
    assert r.metrics["ece"] > 0.05
    assert r.details["direction"] == "overconfident"
    assert "overconfident" in r.summary
    assert r.findings and r.findings[0].group.startswith("scores ")
    good = run(*linear_data, logistic).check("evaluation.calibration")
    assert good.status == "pass" and good.metrics["ece"] < r.metrics["ece"]


def test_shifted_scores_are_named_too_high(linear_data, logistic):
    class TooHigh(Wrapped):
        def predict_proba(self, X):
            q = np.clip(super().predict_proba(X)[:, 1] + 0.25, 0, 1)
            return np.column_stack([1 - q, q])

    r = run(*linear_data, TooHigh(logistic.est, logistic.columns)).check("evaluation.calibration")
    assert r.status == "fail"
    assert r.details["direction"] == "too_high" and "overstate" in r.summary


def test_majority_class_model_fails_baseline(linear_data):
    model = fit(DummyClassifier(strategy="most_frequent"), linear_data[0])
    r = run(*linear_data, model).check("evaluation.baseline_comparison")
    assert r.status == "fail", r.summary
    assert r.metrics["dummy"] == 0.5  # constant scores: ROC-AUC exactly one half
    assert r.metrics["model_minus_dummy_low"] <= 0
    assert "most common class" in r.summary
    dummy_finding = next(f for f in r.findings if f.group == "dummy baseline")
    assert dummy_finding.status == "fail"


def test_linear_model_matching_the_linear_baseline_is_compared_like_with_like(
    linear_data, logistic
):
    # This test used to require a warning: a logistic model "no better than" the
    # logistic baseline, difference +0.000 (0 to 0). That was the false alarm of #14.
    r = run(*linear_data, logistic).check("evaluation.baseline_comparison")
    assert r.status == "pass", r.summary
    assert "itself a linear model" in r.summary
    assert r.metrics["model_minus_dummy_low"] > 0
    assert "linear model" in r.summary
    assert {f.group for f in r.findings} == {"dummy baseline", "linear baseline"}


def test_memorising_model_fails_overfitting():
    train = make_frame(2000, 0, noise=0.25)
    test = make_frame(1500, 1, noise=0.25)
    r = run(train, test, fit(KNeighborsClassifier(n_neighbors=1), train))
    over = r.check("evaluation.overfitting")
    assert over.status == "fail", over.summary
    assert over.metrics["train"] == 1.0 and over.metrics["gap"] > 0.15
    assert over.metrics["gap_low"] > 0
    assert "1.00 on train" in over.summary


def test_tiny_test_set_warns_performance(linear_data, logistic):
    train, test = linear_data
    r = run(train, test.iloc[:60], logistic).check("evaluation.performance")
    assert r.status == "warn", r.summary
    assert r.details["interval_too_wide"] is True
    assert r.details["main_interval_width"] > 0.10
    assert "60 test rows" in r.summary


def test_required_minimum_fails_only_beyond_the_interval(linear_data, logistic):
    cfg = {"thresholds": {"evaluation.performance": {"min": {"roc_auc": 0.95}}}}
    r = run(*linear_data, logistic, config=cfg).check("evaluation.performance")
    assert r.status == "fail" and "required minimum of 0.95" in r.summary
    assert r.details["limits"][0]["status"] == "fail"
    auc_high = r.metrics["roc_auc_high"]
    cfg = {"thresholds": {"evaluation.performance": {"min": {"roc_auc": auc_high - 1e-6}}}}
    assert run(*linear_data, logistic, config=cfg).check("evaluation.performance").status == "pass"


def test_limit_on_an_unknown_metric_is_a_clear_error(linear_data, logistic):
    cfg = {"thresholds": {"evaluation.performance": {"min": {"auc": 0.8}}}}
    r = run(*linear_data, logistic, config=cfg).check("evaluation.performance")
    assert r.status == "error" and "'auc'" in r.summary and "roc_auc" in r.summary


def test_registration():
    for check_id in EVAL_IDS:
        assert check_id in assay.list_checks()
        spec = get_check(check_id)
        assert spec.area == "evaluation"
        assert 2 <= spec.explanation.count(". ") + 1 <= 5
        assert all(s.startswith("MEASURE 2.") for s in spec.standards)
    assert get_check("evaluation.calibration").tasks == ("binary", "multiclass")
    assert get_check("evaluation.overfitting").thresholds == {
        "gap_warn": 0.05,
        "gap_fail": 0.15,
        "gap_fail_alone": 0.4,
        "linear_loss_fail": 0.02,
    }
