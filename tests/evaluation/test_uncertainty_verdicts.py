"""``evaluation.uncertainty`` verdicts (#14): class-conditional (Mondrian) sets and
prediction-level-adaptive intervals keep their promise per class and per region on honest
models, so the check stays quiet there; broken exchangeability is still caught; the
decision is a pure function of numbers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import betabinom

import assay.evaluation.uncertainty as unc
from assay.evaluation.uncertainty import (
    coverage_p_value,
    holm,
    judge_coverage,
    overall_p_value,
)

from .depth_helpers import frame, logistic, pipeline, run_one

CHECK = "evaluation.uncertainty"
JUDGE = {"alpha": 0.05, "gap": 0.05, "min_rows": 30}


# -- the decision: numbers in, verdict out ------------------------------------------


def test_judge_warns_only_when_clear_and_material():
    assert judge_coverage(0.80, 100, 0.9, 0.001, **JUDGE)[0] == "warn"
    # Material but not clear (q at alpha is not below it).
    assert judge_coverage(0.80, 100, 0.9, 0.05, **JUDGE)[0] == "pass"
    assert judge_coverage(0.80, 100, 0.9, 0.0499, **JUDGE)[0] == "warn"
    # Clear but not material: a shortfall of exactly the gap is not beyond it.
    assert judge_coverage(0.85, 10_000, 0.9, 1e-9, **JUDGE)[0] == "pass"
    assert judge_coverage(0.8499, 10_000, 0.9, 1e-9, **JUDGE)[0] == "warn"
    # Too few rows to judge, whatever the numbers.
    status, reason = judge_coverage(0.0, 29, 0.9, 1e-9, **JUDGE)
    assert status == "pass" and "29 rows" in reason
    assert judge_coverage(0.0, 30, 0.9, 1e-9, **JUDGE)[0] == "warn"
    # Over-coverage is never an alarm.
    assert judge_coverage(1.0, 500, 0.9, 1.0, **JUDGE)[0] == "pass"


def test_judge_reason_states_the_evidence():
    status, reason = judge_coverage(0.70, 200, 0.9, 0.0003, **JUDGE)
    assert status == "warn"
    assert "20.0 points" in reason and "q = 0.0003" in reason


def test_p_value_is_the_exact_conformal_null():
    # Under exchangeability the count covered is beta-binomial(m, k, n + 1 − k) with
    # k = ⌈(n + 1)·level⌉.
    n, m, level = 99, 150, 0.9
    k = 90
    assert coverage_p_value(120, m, level, n) == pytest.approx(betabinom.cdf(120, m, k, n + 1 - k))
    # No finite threshold (too few calibration rows): every set holds everything.
    assert coverage_p_value(10, 10, 0.95, 10) == 1.0
    assert coverage_p_value(150, 150, 0.9, 99) == pytest.approx(1.0)


def test_overall_p_value_of_one_group_is_that_group():
    assert overall_p_value(120, [(150, 99)], 0.9) == pytest.approx(
        coverage_p_value(120, 150, 0.9, 99)
    )
    # Two groups: the null of the total is their convolution (here checked by simulation).
    rng = np.random.default_rng(0)
    groups = [(150, 99), (60, 40)]
    totals = np.zeros(20_000)
    for m, n in groups:
        k = int(np.ceil((n + 1) * 0.9))
        totals += betabinom.rvs(m, k, n + 1 - k, size=totals.size, random_state=rng)
    assert overall_p_value(180, groups, 0.9) == pytest.approx((totals <= 180).mean(), abs=0.01)


def test_holm():
    q = holm(np.array([0.01, 0.04, 0.03, 0.5]))
    assert q.tolist() == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert holm(np.array([])).size == 0


def test_clean_alarm_rate_under_the_null_is_at_most_alpha():
    """Exchangeable scores, many (small) groups: the per-group test rejects at most alpha."""
    rng = np.random.default_rng(1)
    n_cal, m, level, sims = 60, 60, 0.9, 4000
    rejected = 0
    for _ in range(sims):
        cal, ev = rng.random(n_cal), rng.random(m)
        q = unc.conformal_threshold(cal, level)
        covered = int((ev <= q).sum())
        rejected += coverage_p_value(covered, m, level, n_cal) < 0.05
    assert rejected / sims <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / sims)


# -- clean data of the shape that fired on real datasets ------------------------------


def _rare_class(n, seed):
    """A binary target with a 12% class the model barely separates (adult, bank, credit)."""
    rng = np.random.default_rng(seed)
    d = frame(n, seed)
    rare = rng.random(n) < 0.12
    return d.assign(y=np.where(rare, 1, 0), a=d.a + 0.3 * rare)


def test_rare_class_on_an_honest_model_is_covered_as_promised():
    train, test = _rare_class(3000, 11), _rare_class(3000, 12)
    r = run_one(CHECK, train, test, logistic(train))
    assert r.status == "pass", r.summary
    assert r.metrics["worst_class_coverage_90"] >= 0.85
    assert "class-conditional" in r.details["method"]
    assert r.metrics["q_value"] is not None and r.metrics["p_value"] is not None


def _heteroscedastic(n, seed):
    """Noise that grows with the target's level (bike, beijing, california)."""
    rng = np.random.default_rng(seed)
    d = frame(n, seed, task="regression")
    mean = 3 * d.a - 2 * d.b
    return d.assign(y=mean + rng.normal(size=n) * 0.2 * np.exp(0.5 * mean))


def test_heteroscedastic_regression_is_covered_in_every_region():
    from sklearn.linear_model import LinearRegression

    train, test = _heteroscedastic(3000, 13), _heteroscedastic(3000, 14)
    model = pipeline(LinearRegression(), ["a", "b"])
    model.fit(train.drop(columns="y"), train["y"])
    r = run_one(CHECK, train, test, model)
    assert r.status == "pass", r.summary
    assert r.metrics["worst_bin_coverage_90"] >= 0.85
    # The intervals adapt to the region: the widest is several times the narrowest.
    widths = [p["width"] for p in r.details["levels"][0]["parts"]]
    assert len(widths) == 4 and max(widths) > 3 * min(widths)


# -- planted: the calibration and evaluation rows are not alike -----------------------


def _broken_halves(monkeypatch):
    """The first rows calibrate and the last rows evaluate (no seeded shuffle)."""
    monkeypatch.setattr(unc, "sample_positions", lambda ctx, n: np.arange(ctx.frame("test").height))


def test_planted_shift_in_the_held_out_half_is_caught_classification(monkeypatch):
    _broken_halves(monkeypatch)
    train = frame(3000, 21)
    clean, shifted = frame(1000, 22), frame(1000, 23)
    rng = np.random.default_rng(24)
    flip = rng.random(1000) < 0.35
    shifted = shifted.assign(y=np.where(flip, 1 - shifted.y, shifted.y))
    test = __import__("pandas").concat([clean, shifted], ignore_index=True)
    r = run_one(CHECK, train, test, logistic(train))
    assert r.status in ("warn", "fail"), r.summary
    assert r.metrics["q_value"] < 0.001
    assert r.findings and all(f.metrics["shortfall"] > 0.05 for f in r.findings)
    assert "q = " in r.findings[0].message or "q < " in r.findings[0].message


def test_planted_shift_in_the_held_out_half_is_caught_regression(monkeypatch):
    from sklearn.linear_model import LinearRegression

    _broken_halves(monkeypatch)
    train = frame(2000, 31, task="regression")
    clean, shifted = frame(800, 32, task="regression"), frame(800, 33, task="regression")
    rng = np.random.default_rng(34)
    shifted = shifted.assign(y=shifted.y + rng.normal(scale=1.5, size=800))
    test = __import__("pandas").concat([clean, shifted], ignore_index=True)
    model = pipeline(LinearRegression(), ["a", "b", "c"], ["c"])
    model.fit(train.drop(columns="y"), train["y"])
    r = run_one(CHECK, train, test, model)
    assert r.status == "fail", r.summary
    assert r.metrics["coverage_90"] < 0.6
    assert r.metrics["q_value"] < 0.001
