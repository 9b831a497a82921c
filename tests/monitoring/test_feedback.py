"""Feedback-loop measures (assay.monitoring.feedback) on a simulated credit model whose
approvals decide which repayments are ever observed, with a known truth."""

from __future__ import annotations

import numpy as np
import pytest

from assay.errors import InputError
from assay.monitoring.feedback import (
    feedback_loop,
    ipw_estimate,
    labelled_vs_scored,
    loop_shares,
    psi,
    recommend_exploration,
)


def credit_stream(n, *, seed, explore_share=0.1, windows=4, random_labels=False):
    """Applicants with a known default probability; the model approves scores below 0.4.
    The exploration slice approves with a logged probability that favours low scores (so
    plain averages of explored outcomes are biased and weighting is needed)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y_full = (rng.random(n) < 1 / (1 + np.exp(-(-1.0 + 1.5 * x)))).astype(float)
    score = 1 / (1 + np.exp(-(-1.0 + 1.2 * x + 0.5 * rng.normal(size=n))))
    model_approve = score < 0.4
    explore = rng.random(n) < explore_share
    q = np.clip(0.8 - score, 0.1, 0.9)
    decision = np.where(explore, rng.random(n) < q, model_approve)
    if random_labels:  # a deployment whose approvals do not depend on the model
        decision = rng.random(n) < 0.6
    propensity = np.where(explore, np.where(decision, q, 1 - q), 1.0)
    logs = {
        "score": score,
        "model_decision": model_approve,
        "decision": decision,
        "explore": explore,
        "propensity": propensity,
        "label": np.where(decision, y_full, np.nan),
        "window": np.arange(n) * windows // n,
    }
    return logs, y_full


@pytest.fixture(scope="module")
def truth():
    """The model's accuracy (bad predicted when score >= 0.5) on the cases it declines."""
    logs, y = credit_stream(1_000_000, seed=12345)
    declined = ~logs["model_decision"]
    return float(np.mean(((logs["score"] >= 0.5) == (y == 1))[declined]))


def test_loop_shares_on_known_counts():
    s = loop_shares([1, 1, 0, 0, 1, 1], [0, 0, 0, 1, 1, 0], [1, 1, 0, 0, 1, 0])
    assert s["observable_only_by_model"] == pytest.approx(3 / 6)
    assert s["never_observable"] == pytest.approx(1 / 6)
    assert s["labels_chosen_by_model"] == pytest.approx(2 / 3)
    assert s["exploration_share"] == pytest.approx(2 / 6)


def test_ipw_reweights_to_the_sampled_population():
    v = np.array([1.0, np.nan, np.nan, np.nan, 0.0])  # row 0 stands for 4 cases, row 4 for 1
    e = ipw_estimate(v, np.array([0.25, 0.5, 0.5, 0.5, 1.0]))
    assert e["estimate"] == pytest.approx(0.8)
    assert e["n_observed"] == 2 and e["low"] < 0.8 < e["high"]
    with pytest.raises(InputError, match="propensity must be in"):
        ipw_estimate(v, np.array([0.0, 0.5, 0.5, 0.5, 1.0]))


def test_ipw_interval_covers_the_true_performance_in_200_replications(truth):
    """The stated target: coverage >= 90% over 200 seeded replications (95% intervals);
    the unweighted average of explored outcomes is biased low in the same runs."""
    covered, ipw, naive = 0, [], []
    for seed in range(200):
        logs, _ = credit_stream(20_000, seed=seed)
        r = feedback_loop(**logs)
        covered += r.unobserved["low"] <= truth <= r.unobserved["high"]
        ipw.append(r.unobserved["estimate"])
        naive.append(r.naive_unobserved)
    assert covered / 200 >= 0.90
    assert abs(np.mean(ipw) - truth) < 0.01
    assert np.mean(naive) < truth - 0.015  # what a plain average would report


def test_censoring_shows_as_labelled_vs_scored_drift_and_random_labels_do_not():
    logs, _ = credit_stream(20_000, seed=1)
    r = feedback_loop(**logs)
    assert r.shares["labels_chosen_by_model"] > 0.85
    assert (r.drift["p"] < 0.01).all() and (r.drift["psi"] > 0.25).all()
    assert "chosen by the model" in r.finding and "inverse-propensity weighted" in r.finding
    logs, _ = credit_stream(20_000, seed=1, random_labels=True)
    clean = labelled_vs_scored(logs["score"], ~np.isnan(logs["label"]), logs["window"])
    assert (clean["p"] > 0.05 / 4).all() and (clean["psi"] < 0.02).all()


def test_recommended_exploration_share_reaches_the_precision_it_promises(truth):
    logs, _ = credit_stream(40_000, seed=3, windows=1)
    r = feedback_loop(**logs, half_width=0.05)
    share = r.recommendation["share"]
    assert r.recommendation["reachable"] and 0.1 < share < 1
    assert f"decide {100 * share:.0f}% of traffic without the model" in r.finding
    assert r.recommendation["expected_bad_outcomes"] > 0
    halves = []
    for seed in range(20):
        logs, _ = credit_stream(40_000, seed=100 + seed, windows=1, explore_share=share)
        u = feedback_loop(**logs).unobserved
        halves.append((u["high"] - u["low"]) / 2)
    assert np.mean(halves) == pytest.approx(0.05, abs=0.01)


def test_unreachable_precision_is_said_plainly():
    rec = recommend_exploration(
        volume=1_000, unobserved_share=0.1, approve_probability=0.2, variance=0.25
    )
    assert rec["share"] == 1.0 and not rec["reachable"]
    logs, _ = credit_stream(8_000, seed=4, windows=8)
    assert "would not estimate it to within" in feedback_loop(**logs).finding


def test_psi_is_zero_on_identical_samples_and_large_on_a_half():
    x = np.random.default_rng(0).normal(size=5_000)
    assert psi(x, x) == pytest.approx(0.0, abs=1e-9)
    assert psi(x, x[x > 0]) > 1


def test_bad_input_is_refused():
    logs, _ = credit_stream(2_000, seed=5)
    leaked = dict(logs, label=np.where(logs["decision"], logs["label"], 1.0))
    with pytest.raises(InputError, match="declined case has an outcome"):
        feedback_loop(**leaked)
    with pytest.raises(InputError, match="metric must be"):
        feedback_loop(**logs, metric="auc")
    with pytest.raises(InputError, match="explore must hold true/false"):
        feedback_loop(**dict(logs, explore=np.full(2_000, 0.5)))


def test_a_share_s_interval_stays_within_0_and_1():
    """Few explored cases, most of them right: the normal interval would pass 1."""
    values = np.full(200, np.nan)
    values[:12] = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]
    prop = np.full(200, 0.06)
    r = ipw_estimate(values, prop)
    assert r["estimate"] > 0.9
    assert 0.0 <= r["low"] <= r["estimate"] <= r["high"] <= 1.0
