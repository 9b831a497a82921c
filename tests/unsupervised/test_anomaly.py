"""Anomaly checks on planted problems: a rate that doubles under a shift is named,
a clean stream is quiet, detection is scored against known labels, and a
detector no better than random is failed."""

from __future__ import annotations

import numpy as np
import pytest

import assay

from .helpers import isolation_forest, transactions

CONFIG = {"n_bootstrap": 100, "seed": 0}


@pytest.fixture(scope="module")
def detector():
    return isolation_forest(transactions(1500, seed=1))


def audit(test, model=None, **kw):
    return assay.audit(test=test, model=model, task="anomaly", config=CONFIG, **kw)


def test_rate_doubling_under_shift_is_named(detector):
    test, current = transactions(1500, seed=2), transactions(1500, seed=3, shift=2.0)
    r = audit(test, detector, current=current)
    drift = r.check("anomaly.rate_drift")
    assert drift.status == "fail", drift.summary
    assert drift.metrics["rate_ratio"] >= 2
    assert drift.metrics["rate_change_low"] > 0
    assert "times as many" in drift.summary
    assert "f2" in drift.summary  # the shifted feature is named
    assert drift.details["moved_features"][0]["feature"] == "f2"


def test_clean_current_data_is_quiet(detector):
    test, current = transactions(1500, seed=2), transactions(1500, seed=4)
    r = audit(test, detector, current=current, target="label")
    for c in r.checks:
        if c.id in ("data.representativeness", "data.train_test_overlap"):  # need train
            assert c.status == "skipped", c.summary
            continue
        assert c.status == "pass", (c.id, c.summary)
    assert {c.id for c in r.checks} == {
        "anomaly.rate",
        "anomaly.rate_drift",
        "anomaly.detection",
        "anomaly.drivers",
        "drift.features",  # the checks that need no labels run for anomaly detection too
        "drift.multivariate",
        "security.pii",
        "data.representativeness",
        "data.integrity",  # and the data checks
        "data.train_test_overlap",
        "data.provenance",
    }


def test_detection_against_known_labels(detector):
    r = audit(transactions(1500, seed=2), detector, target="label")
    det = r.check("anomaly.detection")
    m = det.metrics
    assert det.status == "pass", det.summary
    assert m["pr_auc_low"] > 5 * m["prevalence"]
    assert m["recall"] > 0.8 and m["recall_low"] <= m["recall"] <= m["recall_high"]
    assert m["precision_low"] <= m["precision"] <= m["precision_high"]


def test_random_scores_are_no_better_than_chance():
    test = transactions(1500, seed=2)
    test["score"] = np.random.default_rng(0).random(len(test))
    r = audit(test, score="score", target="label")
    det = r.check("anomaly.detection")
    assert det.status == "fail", det.summary
    assert "no better than random" in det.summary
    # without a flag column, the top 5% of scores are flagged
    assert r.check("anomaly.rate").metrics["rate"] == pytest.approx(0.05, abs=0.002)


def test_stated_contamination_is_compared(detector):
    test = transactions(1500, seed=2)
    config = {**CONFIG, "thresholds": {"anomaly.rate": {"contamination": 0.01}}}
    r = assay.audit(test=test, model=detector, task="anomaly", config=config)
    rate = r.check("anomaly.rate")
    assert rate.status == "warn" and rate.metrics["ratio_to_contamination"] > 3
    config["thresholds"]["anomaly.rate"]["contamination"] = 0.05
    r = assay.audit(test=test, model=detector, task="anomaly", config=config)
    assert r.check("anomaly.rate").status == "pass"


def test_drivers_name_a_single_broken_column():
    """A detector fed one column with an entry error (100 rows with f4 near 8) flags
    those rows; the drivers check names that column alone."""
    from sklearn.ensemble import IsolationForest

    train = transactions(1500, seed=1, share=0.0).drop(columns="label")
    test = transactions(1500, seed=2, share=0.0).drop(columns="label")
    test.loc[:99, "f4"] = 8 + np.random.default_rng(0).normal(0, 0.1, 100)
    model = IsolationForest(random_state=0, contamination=0.04).fit(train)
    r = audit(test, model)
    drivers = r.check("anomaly.drivers")
    assert drivers.status == "warn", drivers.summary
    assert "f4" in drivers.summary and drivers.details["drivers"][0]["feature"] == "f4"


def test_flag_column_values_are_checked():
    test = transactions(300, seed=2)
    test["flag"] = "maybe"
    with pytest.raises(assay.InputError, match="anomaly flag column 'flag'"):
        audit(test, prediction="flag")
