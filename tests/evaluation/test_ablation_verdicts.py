"""``evaluation.ablation`` verdicts (#14): 'harmful' needs a clear and material effect,
Holm-adjusted over the features; 'unused' needs the whole interval inside the small band.

The judge is a pure function of numbers, tested at its boundaries; the synthetic cases
are the shapes of the false alarms seen on real data, plus a planted harmful feature
that must still be named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assay.evaluation.ablation import harmful_p, holm, judge_importance

from .depth_helpers import pipeline, run_one

CHECK = "evaluation.ablation"
TH = {"unused_max": 0.005, "harmful_min": 0.002, "alpha": 0.05}


# -- the judge: numbers in, verdict out -------------------------------------------------
@pytest.mark.parametrize(
    ("imp", "low", "high", "q", "change", "verdict"),
    [
        (None, None, None, None, 1.0, "unknown"),
        (0.0, 0.0, 0.0, 1.0, 0.0, "ignored"),
        (-0.0001, -0.0013, 0.0015, 0.9, 0.1, "unused"),  # the observed "harmful" noise column
        (-0.02, -0.03, -0.01, 0.05, 0.1, "harmful"),  # q exactly at alpha
        (-0.02, -0.03, -0.01, 0.0501, 0.1, "unclear"),  # q just above alpha
        (-0.02, -0.03, 0.0, 0.001, 0.1, "unclear"),  # the interval touches zero
        (0.0025, 0.0004, 0.0047, 1.0, 0.1, "used"),  # weak but real: interval excludes zero
        (0.0, -0.005, 0.004, 1.0, 0.1, "unclear"),  # low on the band's edge: not within
        (0.0, -0.0049, 0.0049, 1.0, 0.1, "unused"),
        (0.004, -0.001, 0.009, 1.0, 0.1, "unclear"),  # may matter, may not
        (0.02, -0.001, 0.04, 1.0, 0.1, "used"),  # material point estimate
        (0.003, None, None, None, 0.1, "unused"),  # no interval: point estimate only
    ],
)
def test_judge_boundaries(imp, low, high, q, change, verdict):
    assert judge_importance(imp, low, high, q, change, **TH) == verdict


def test_harmful_p_tests_beyond_the_margin():
    assert harmful_p(-0.002, 0.001, 0.002) == pytest.approx(0.5)
    assert harmful_p(-0.0055, 0.002, 0.002) == pytest.approx(0.0401, abs=1e-3)
    assert harmful_p(0.01, 0.0, 0.002) == 1.0 and harmful_p(-0.01, 0.0, 0.002) == 0.0
    assert harmful_p(None, 0.1, 0.002) is None


def test_holm_is_monotone_and_capped():
    assert holm([0.01, 0.04, None, 0.03]) == [0.03, 0.06, None, 0.06]
    assert holm([0.5, 0.9]) == [1.0, 1.0]
    assert holm([]) == []


# -- synthetic data of the shapes seen on real data --------------------------------------
def _frame(n: int, seed: int, *, weak: float = 0.0, flip: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({k: rng.normal(size=n) for k in ("a", "b", "w", "h", "n1", "n2", "n3", "n4")})
    logit = 1.5 * df.a - df.b + weak * df.w + flip * df.h
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return df


def _audit(train, test, cols, estimator):
    model = pipeline(estimator, cols).fit(train[cols], train.y)
    r = run_one(
        CHECK,
        train[[*cols, "y"]],
        test[[*cols, "y"]],
        model,
        n_bootstrap=200,
        thresholds={"refit": False},
    )
    return r, {row["feature"]: row for row in r.details["features"]}


def test_pure_noise_columns_are_not_harmful():
    """A forest that fits four pure-noise columns: on test, shuffling one of them moves
    AUC by chance either way. Before #14 one came out 'harmful' (interval from one set
    of shuffles, no multiplicity control)."""
    from sklearn.ensemble import RandomForestClassifier

    cols = ["a", "b", "n1", "n2", "n3", "n4"]
    forest = RandomForestClassifier(n_estimators=100, min_samples_leaf=1, random_state=0, n_jobs=1)
    r, rows = _audit(_frame(3000, 6), _frame(2000, 106), cols, forest)
    assert r.details["harmful"] == [], r.summary
    assert r.metrics["n_harmful"] == 0 and r.metrics["harmful_q"] is None
    for c in ("n1", "n2", "n3", "n4"):
        assert rows[c]["verdict"] != "harmful"
        assert rows[c]["q_harmful"] > 0.05


def test_weak_but_real_column_is_not_unused():
    """A column with a small real effect whose interval excludes zero is used, not
    'unused' (before #14: unused because the top of its interval was below 0.005)."""
    from sklearn.linear_model import LogisticRegression

    cols = ["a", "b", "w"]
    r, rows = _audit(
        _frame(6000, 4, weak=0.18),
        _frame(2000, 104, weak=0.18),
        cols,
        LogisticRegression(max_iter=500),
    )
    assert rows["w"]["importance_low"] > 0, rows["w"]
    assert rows["w"]["verdict"] == "used"
    assert "w" not in r.details["unused"] and r.status == "pass", r.summary


def test_feature_whose_relation_flips_is_harmful():
    """Planted: 'h' raises the odds in train and lowers them in test; shuffling it on test
    helps a lot. It must still be named harmful, with its q value in the metrics."""
    from sklearn.linear_model import LogisticRegression

    cols = ["a", "b", "h"]
    r, rows = _audit(
        _frame(3000, 0, flip=1.0),
        _frame(2000, 100, flip=-1.0),
        cols,
        LogisticRegression(max_iter=500),
    )
    assert r.status == "warn" and r.details["harmful"] == ["h"], r.summary
    assert rows["h"]["verdict"] == "harmful" and rows["h"]["importance_high"] < -0.05
    assert r.metrics["harmful_q"] < 0.001
    assert r.metrics["harmful_importance_high"] < 0
    assert "Shuffling 'h' makes the model better" in r.summary and "q = " in r.summary
