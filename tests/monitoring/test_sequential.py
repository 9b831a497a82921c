"""Always-valid champion/challenger comparison (assay.monitoring.sequential): false
alarms under no difference while checking after every batch, detection of a 2-point AUC
difference on 20k labels, and the promotion gate it feeds.

The 500-replication measurement is bench/human_loop.py (docs/benchmarks.md); here 100
replications of 5,000 labels, checked after every batch of 250."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from assay.core.audit_result import AuditResult
from assay.core.result import CheckResult
from assay.errors import InputError
from assay.monitoring.sequential import (
    ConfidenceSequence,
    SequentialResult,
    compare_sequential,
    paired_differences,
    promotion_decision,
)


def shadow_stream(n, auc_champion, auc_challenger, *, seed, prevalence=0.3, rho=0.5):
    """Labels and calibrated scores of two binormal models with known AUCs whose noise is
    correlated ``rho`` (both score the same rows, as in shadow mode)."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < prevalence).astype(float)
    e1 = rng.normal(size=n)
    e2 = rho * e1 + np.sqrt(1 - rho**2) * rng.normal(size=n)
    scores = []
    for auc, e in ((auc_champion, e1), (auc_challenger, e2)):
        delta = np.sqrt(2) * norm.ppf(auc)  # AUC = Phi(delta / sqrt 2)
        logit = np.log(prevalence / (1 - prevalence)) + delta * (delta * y + e) - delta**2 / 2
        scores.append(1 / (1 + np.exp(-logit)))
    return y, scores[0], scores[1]


def test_paired_differences_are_bounded_and_signed():
    y = np.array([1, 0, 1, 0])
    d = paired_differences(y, [0.0, 1.0, 0.5, 0.5], [1.0, 0.0, 0.5, 0.5], metric="brier")
    assert d.tolist() == [1.0, 1.0, 0.0, 0.0]  # the challenger is right where the champion is not
    ll = paired_differences(y, [0.0, 1.0, 0.9, 0.1], [1.0, 0.0, 0.9, 0.1], metric="log_loss")
    assert ll[:2].tolist() == pytest.approx([1.0, 1.0], abs=1e-3) and ll[2:].tolist() == [0.0, 0.0]
    with pytest.raises(InputError, match="metric must be one of"):
        paired_differences(y, y, y, metric="auc")
    with pytest.raises(InputError, match="0/1 outcomes"):
        paired_differences([2, 0, 1, 0], y, y)
    with pytest.raises(InputError, match="probabilities in"):
        paired_differences(y, [0, 1, 2, 0], y)


def test_interval_covers_a_known_mean_and_shrinks():
    rng = np.random.default_rng(0)
    d = rng.choice([-1.0, 0.0, 1.0], p=[0.1, 0.75, 0.15], size=20_000)  # mean 0.05
    cs = ConfidenceSequence(alpha=0.05)
    widths = []
    for batch in np.array_split(d, 40):
        cs.update(batch)
        assert cs.lower <= 0.05 <= cs.upper
        widths.append(cs.upper - cs.lower)
    assert widths[-1] < widths[0] / 4 and widths[-1] < 0.04  # fixed-n 95% CI: 0.014
    assert cs.decision == "challenger_better" and cs.lower > 0


def test_false_alarm_rate_under_no_difference_checked_after_every_batch():
    """No difference (both AUC 0.80): a decision at any of 20 looks is a false alarm.
    100 replications; the bound 0.10 is the binomial 99% upper limit for a 5% rate."""
    alarms = 0
    for seed in range(100):
        r = compare_sequential(*shadow_stream(5_000, 0.80, 0.80, seed=seed), batch_size=250, grid=0)
        alarms += r.decision != "continue"
    assert alarms / 100 <= 0.10


def test_two_point_auc_difference_on_20k_labels_is_detected():
    """AUC 0.80 vs 0.82 (binormal, calibrated); per-row log-loss difference, since AUC is
    not a mean of per-row terms (see the module notes)."""
    y, champ, chal = shadow_stream(20_000, 0.80, 0.82, seed=1, rho=0.7)
    r = compare_sequential(y, champ, chal, batch_size=500)
    assert r.decision == "challenger_better" and r.decided_at <= 20_000
    assert r.n == r.decided_at  # stopped early: the rows after the decision are not used
    assert 0 < r.lower <= r.estimate <= r.upper
    reversed_ = compare_sequential(y, chal, champ, batch_size=500)
    assert reversed_.decision == "champion_better" and reversed_.upper < 0
    detected = sum(
        compare_sequential(*shadow_stream(20_000, 0.80, 0.82, seed=s), grid=0).decision
        == "challenger_better"
        for s in range(10)
    )
    assert detected >= 7  # rho 0.5: 94% of 50 runs in the benchmark


def test_margin_lets_an_equal_challenger_through_only_when_asked():
    y, a, b = shadow_stream(20_000, 0.80, 0.80, seed=3, rho=0.9)
    strict = compare_sequential(y, a, b, grid=0)
    lenient = compare_sequential(y, a, b, margin=0.01, grid=0)
    assert strict.decision == "continue"
    assert lenient.decision == "challenger_better"


def performance(status="pass"):
    return CheckResult(
        id="data.integrity",
        area="data",
        title="t",
        status=status,
        severity="high",
        summary="s",
        explanation="e",
    )


def test_promotion_gate_takes_the_live_result():
    y, champ, chal = shadow_stream(20_000, 0.80, 0.82, seed=1, rho=0.7)
    live = compare_sequential(y, champ, chal)
    ok = promotion_decision(live, candidate_audit=AuditResult((performance(),), {}, {}, {}, "", ""))
    assert ok.promote and "clearly better than the champion" in ok.reasons[0]
    assert ok.candidate["difference_low"] > 0
    bad_audit = AuditResult((performance("fail"),), {}, {}, {}, "", "")
    blocked = promotion_decision(live, candidate_audit=bad_audit)
    assert not blocked.promote and blocked.failed_checks == ("data.integrity",)
    unclear = SequentialResult("log_loss", 800, 0.001, -0.02, 0.03, "continue", None, 0.05, 0.0)
    wait = promotion_decision(unclear)
    assert not wait.promote and "not yet clear" in wait.reasons[0]
    assert wait.to_dict()["promote"] is False
