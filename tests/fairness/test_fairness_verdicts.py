"""``fairness.group_metrics`` verdicts (#14): a selection-rate gap that mirrors the labels'
base rates warns; clear, material error-rate gaps conditional on the truth fail; the
decision itself is a pure function of numbers, tested at its boundaries."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tests.evaluation.depth_helpers import logistic, run_one

CHECK = "fairness.group_metrics"


# -- the judge: numbers in, verdict out ----------------------------------------------


def judge_gap(*args, **kw):
    from assay.fairness.group_metrics import judge_gap

    return judge_gap(*args, **kw)


def test_judge_fails_only_when_the_adjusted_interval_clears_the_material_level():
    # z for 95% with one comparison is 1.96: 0.30 - 1.96 * 0.05 = 0.202 > 0.2 -> fail.
    assert judge_gap(0.30, 0.05, warn=0.1, fail=0.2).status == "fail"
    # 0.29 - 0.098 = 0.192 < 0.2: clear, but not clearly material -> warn.
    assert judge_gap(0.29, 0.05, warn=0.1, fail=0.2).status == "warn"
    # With 10 comparisons the same gap no longer clears the fail level.
    assert judge_gap(0.30, 0.05, warn=0.1, fail=0.2, m=10).status == "warn"


def test_judge_warns_only_on_a_gap_clear_of_zero_and_past_the_warn_level():
    assert judge_gap(0.12, 0.05, warn=0.1, fail=0.2).status == "warn"  # 0.12-0.098 > 0
    assert judge_gap(0.09, 0.01, warn=0.1, fail=0.2).status == "pass"  # below warn
    assert judge_gap(0.12, 0.07, warn=0.1, fail=0.2).status == "pass"  # 0.12-0.137 < 0
    # Multiplicity: 0.12 - z(0.05/20) * 0.05 < 0 with twenty comparisons.
    assert judge_gap(0.12, 0.05, warn=0.1, fail=0.2, m=20).status == "pass"


def test_selection_rate_gaps_must_clear_half_the_warn_level():
    """floor_share 0.5 (selection-rate gaps): clear of zero is not enough. Near the
    four-fifths line, gaps between small groups (german's sex, selection ratio 0.68 with
    interval 0.47 to 0.99) warned on one sample and not on the next."""
    assert judge_gap(0.12, 0.03, warn=0.1, fail=0.2, floor_share=0.5).status == "warn"
    assert judge_gap(0.12, 0.05, warn=0.1, fail=0.2, floor_share=0.5).status == "pass"
    assert judge_gap(0.12, 0.03, warn=0.1, fail=0.2, m=20, floor_share=0.5).status == "pass"


def test_judge_can_be_told_not_to_fail_and_states_its_evidence():
    v = judge_gap(0.5, 0.05, warn=0.1, fail=0.2, can_fail=False)
    assert v.status == "warn"
    assert v.p < 1e-10 and v.low == pytest.approx(0.5 - 1.959964 * 0.05, abs=1e-5)
    # Bonferroni: the p value is multiplied by the number of comparisons (capped at 1).
    one = judge_gap(0.1, 0.05, warn=0.05, fail=None)
    assert judge_gap(0.1, 0.05, warn=0.05, fail=None, m=3).p == pytest.approx(3 * one.p)
    assert judge_gap(0.0, 0.05, warn=0.05, fail=None, m=3).p == 1.0


def test_judge_without_an_interval_uses_the_point():
    assert judge_gap(0.25, None, warn=0.1, fail=0.2).status == "fail"
    assert judge_gap(0.15, None, warn=0.1, fail=0.2).status == "warn"
    assert judge_gap(math.nan, 0.1, warn=0.1, fail=0.2).status == "pass"


# -- on data --------------------------------------------------------------------------


def adult_like(n: int, seed: int) -> pd.DataFrame:
    """Two groups whose label base rates differ (about 0.11 and 0.31, as in Adult): the
    features carry the difference, the model never sees the group."""
    rng = np.random.default_rng(seed)
    group = np.where(rng.random(n) < 0.33, "Female", "Male")
    shift = np.where(group == "Male", 0.0, -1.3)
    a = rng.normal(size=n) + 0.8 * shift
    b = rng.normal(size=n)
    f = rng.normal(size=n)
    logit = -1.2 + 1.6 * a - 0.8 * b + 0.6 * f + 0.6 * shift
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    c = rng.choice(["u", "v", "w"], n)
    return pd.DataFrame({"a": a, "b": b, "f": f, "c": c, "group": group, "y": y})


@pytest.fixture(scope="module")
def adult():
    train, test = adult_like(4000, 0), adult_like(3000, 1)
    return train, test, logistic(train)


def test_selection_gap_that_mirrors_the_base_rates_warns_not_fails(adult):
    train, test, model = adult
    rates = test.groupby("group").y.mean()
    assert rates["Female"] < 0.6 * rates["Male"]  # the labels themselves differ
    r = run_one(CHECK, train, test, model, sensitive="group")
    assert r.status == "warn", r.summary
    assert r.metrics["selection_rate_ratio"] < 0.8  # the four-fifths rule is still reported
    assert "four-fifths" in r.summary and "base rate" in r.summary
    assert r.metrics["p_value"] is not None and r.metrics["p_value"] < 0.05
    # Users who gate on the four-fifths rule can still make it fail.
    strict = run_one(
        CHECK, train, test, model, sensitive="group", thresholds={"fail_on_selection_rate": True}
    )
    assert strict.status == "fail", strict.summary


class NoisyFor:
    """Wraps a fitted pipeline: for rows of ``group``, noisy upward jitter is added to the
    score's logit, which multiplies that group's false positive rate (an error planted in
    the model, not in the data)."""

    def __init__(self, model, group: str, scale: float = 2.5, shift: float = 2.0):
        self.model, self.group, self.scale, self.shift = model, group, scale, shift
        self.classes_ = model.classes_

    def predict_proba(self, X):
        p = self.model.predict_proba(X)[:, 1]
        logit = np.log(p / (1 - p))
        noise = np.random.default_rng(0).normal(scale=self.scale, size=len(X)) + self.shift
        logit = np.where(X["group"].to_numpy() == self.group, logit + noise, logit)
        q = 1 / (1 + np.exp(-logit))
        return np.column_stack([1 - q, q])

    def predict(self, X):
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]


def test_planted_unequal_false_positive_rates_fail(adult):
    train, test, model = adult
    r = run_one(CHECK, train, test, NoisyFor(model, "Male"), sensitive="group")
    assert r.status == "fail", r.summary
    fpr = [
        f
        for f in r.findings
        if f.status == "fail" and f.group == "group=Male" and "false positive rate" in f.message
    ]
    assert fpr, [f.message for f in r.findings]
    assert fpr[0].metrics["difference_low"] > 0.2  # clearly beyond the fail level
    assert r.metrics["equalized_odds_difference_low"] > 0.2
    assert r.metrics["p_value"] < 0.001
