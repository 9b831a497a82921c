"""``drift.prediction`` and ``drift.target``: planted shifts named, clean data quiet."""

from __future__ import annotations

import numpy as np
import pytest

from assay.drift import drift

from ..conftest import make_binary
from .helpers import run


@pytest.fixture(scope="module")
def fresh():
    """Current rows from the training distribution, with labels."""
    return make_binary(800, seed=11)


def test_prediction_drift_from_the_model(binary_data, binary_model, fresh):
    train, test, _ = binary_data
    moved = fresh.drop(columns="y").assign(x1=fresh["x1"] + 1.5)
    r = run("drift.prediction", train=train, test=test, current=moved, model=binary_model)
    assert r.status == "fail", r.summary
    assert r.details["main_series"] == "score P(1)"
    assert "score P(1)" in r.summary and "from train" in r.summary
    [f, *_] = r.findings
    assert f.status == "fail" and f.column == "score P(1)"
    assert r.details["charts"] and r.details["charts"][0]["kind"] == "distribution"


def test_prediction_drift_quiet_on_clean_data(binary_data, binary_model, fresh):
    train, test, _ = binary_data
    r = run(
        "drift.prediction",
        train=train,
        test=test,
        current=fresh.drop(columns="y"),
        model=binary_model,
    )
    assert r.status == "pass", r.summary
    assert r.metrics["drifted"] == 0 and r.findings and r.findings[0].status == "pass"


def test_prediction_drift_from_columns():
    rng = np.random.default_rng(3)
    ref = make_binary(3000, seed=1).assign(p=lambda d: rng.beta(2, 5, len(d)))
    cur = make_binary(2000, seed=2).assign(p=lambda d: rng.beta(4, 3, len(d)))
    r = drift(ref, cur, score="p", config={"include": ["drift.prediction"]})
    check = r.check("drift.prediction")
    assert check.status == "fail" and check.findings[0].column == "p"
    assert check.details["predictions_from"] == "columns"
    assert "Wasserstein" in check.findings[0].message
    no_scores = drift(
        ref, cur.drop(columns="p"), score="p", config={"include": ["drift.prediction"]}
    )
    skipped = no_scores.check("drift.prediction")
    assert skipped.status == "skipped" and "lacks the prediction column" in skipped.summary


def test_target_drift_found(binary_data, fresh):
    train, test, _ = binary_data
    rng = np.random.default_rng(4)
    flipped = fresh.assign(y=np.where(rng.random(len(fresh)) < 0.4, 1, fresh["y"]))
    r = run("drift.target", train=train, test=test, current=flipped)
    assert r.status == "fail", r.summary
    assert r.findings[0].column == "y" and "'1'" in r.findings[0].message
    assert r.metrics["drifted"] == 1


def test_target_drift_quiet_and_skipped(binary_data, fresh):
    train, test, current = binary_data
    assert run("drift.target", train=train, test=test, current=fresh).status == "pass"
    skipped = run("drift.target", train=train, test=test, current=current.drop(columns="y"))
    assert skipped.status == "skipped"
    assert "no target column 'y'" in skipped.summary


def test_regression_target_drift():
    rng = np.random.default_rng(5)
    ref = make_binary(2500, seed=3).assign(y=lambda d: rng.normal(10, 2, len(d)))
    cur = make_binary(1500, seed=4).assign(y=lambda d: rng.normal(11, 2, len(d)))
    check = drift(ref, cur, target="y", config={"include": ["drift.target"]}).check("drift.target")
    assert check.status == "fail"
    assert check.details["series"][0]["method"] == "wasserstein"
