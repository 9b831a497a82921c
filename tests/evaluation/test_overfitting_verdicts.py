"""``evaluation.overfitting`` verdicts (#14): a train/test gap alone warns; the gate fails
when the overfitting hurts (no better than a dummy, clearly worse than a linear model) or
the gap is enormous. The decision is a pure function, tested at its boundaries."""

from __future__ import annotations

import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.neighbors import KNeighborsClassifier

from .conftest import fit, make_frame, run

TH = {"gap_warn": 0.05, "gap_fail": 0.15, "gap_fail_alone": 0.4, "linear_loss_fail": 0.02}


def judge(*args, **kw):
    from assay.evaluation.overfitting import judge_overfitting

    return judge_overfitting(*args, **{**TH, **kw})


def test_judge_gap_alone_warns_until_its_interval_clears_gap_fail_alone():
    assert judge(0.30, 0.25, 0.35).status == "warn"
    assert judge(0.45, 0.40, 0.50).status == "warn"  # 0.40 is not above 0.40
    v = judge(0.45, 0.401, 0.50)
    assert (v.status, v.reason) == ("fail", "huge_gap")


def test_judge_fails_a_material_gap_that_hurts():
    # Not clearly better than the dummy on test.
    assert judge(0.3, 0.2, 0.4, model_minus_dummy_low=0.0).reason == "no_better_than_dummy"
    assert judge(0.3, 0.2, 0.4, model_minus_dummy_low=0.01).status == "warn"
    # Clearly and materially worse than the linear baseline.
    worse = judge(0.3, 0.2, 0.4, model_minus_linear=-0.02, model_minus_linear_high=-0.001)
    assert (worse.status, worse.reason) == ("fail", "worse_than_linear")
    # Worse, but not clearly (interval reaches 0) or not materially (0.019 < 0.02).
    assert judge(0.3, 0.2, 0.4, model_minus_linear=-0.05, model_minus_linear_high=0.0).status == (
        "warn"
    )
    assert judge(
        0.3, 0.2, 0.4, model_minus_linear=-0.019, model_minus_linear_high=-0.01
    ).status == ("warn")
    # A gap whose interval does not clear gap_fail never fails on the baselines.
    assert judge(0.3, 0.15, 0.4, model_minus_dummy_low=-0.1).status == "warn"


def test_judge_warn_needs_a_clear_gap_and_gives_a_p_value():
    assert judge(0.05, 0.01, 0.09).status == "warn"
    assert judge(0.049, 0.01, 0.09).status == "pass"
    assert judge(0.06, -0.01, 0.13).status == "pass"
    assert judge(0.06, 0.01, 0.11).p == pytest.approx(0.0092, abs=2e-4)
    assert judge(0.2, None, None).status == "warn" and judge(0.2, None, None).p == 0.0


def test_boosted_model_with_a_gap_but_well_above_the_baselines_warns():
    train = make_frame(1500, 0, kind="nonlinear", noise=0.1)
    test = make_frame(1500, 1, kind="nonlinear", noise=0.1)
    model = fit(
        HistGradientBoostingClassifier(
            max_iter=300, max_leaf_nodes=63, min_samples_leaf=2, random_state=0
        ),
        train,
    )
    r = run(train, test, model).check("evaluation.overfitting")
    assert r.status == "warn", r.summary
    assert r.metrics["gap_low"] > 0.15 and r.metrics["train"] > 0.99
    assert r.metrics["model_minus_linear_low"] > 0 and r.metrics["model_minus_dummy_low"] > 0
    assert r.metrics["p_value"] < 0.001
    assert "beats a plain linear model" in r.summary


def test_nearest_neighbour_on_noisy_labels_fails_as_worse_than_linear():
    train, test = make_frame(2000, 0, noise=0.25), make_frame(1500, 1, noise=0.25)
    r = run(train, test, fit(KNeighborsClassifier(n_neighbors=1), train))
    over = r.check("evaluation.overfitting")
    assert over.status == "fail", over.summary
    assert over.details["verdict_reason"] == "worse_than_linear"
    assert over.metrics["model_minus_linear_high"] < 0
    assert "worse on new data than a plain linear model" in over.summary
