"""Checks that need no labels run for clustering and anomaly audits too:
drift.features, drift.multivariate, security.pii, data.representativeness and the data
checks (integrity, train/test overlap, provenance).
Each is run on a planted problem it must name and on clean data where it must
stay quiet, on a real unsupervised audit (real k-means / isolation forest)."""

from __future__ import annotations

import numpy as np
import pytest

import assay
from assay.core.audit import select_checks
from assay.core.config import AuditConfig

from .helpers import blobs, isolation_forest, kmeans, transactions

LABEL_FREE = [
    "drift.features",
    "drift.multivariate",
    "security.pii",
    "data.representativeness",
    "data.integrity",
    "data.train_test_overlap",
    "data.provenance",
]
CONFIG = {"n_bootstrap": 40, "seed": 0, "include": LABEL_FREE}


def _by_id(result):
    return {c.id: c for c in result.checks}


def _clustering(current, *, test=None, train=None):
    train = blobs(600, seed=0) if train is None else train
    return _by_id(
        assay.audit(
            train=train,
            test=blobs(600, seed=1) if test is None else test,
            current=current,
            model=kmeans(blobs(600, seed=0), 4),
            task="clustering",
            sensitive="region",
            config=CONFIG,
        )
    )


def _anomaly(shift, current_seed=4):
    # (current seed 3 is avoided for the clean case: its f0 happens to differ from the
    # seed-1 train by chance, KS p = 6e-5, which a drift test rightly reports)
    train = transactions(800, seed=1)
    return _by_id(
        assay.audit(
            train=train,
            test=transactions(600, seed=2),
            current=transactions(600, seed=current_seed, shift=shift),
            model=isolation_forest(train),
            target="label",
            task="anomaly",
            config=CONFIG,
        )
    )


@pytest.mark.parametrize("task", ["clustering", "anomaly"])
def test_label_free_checks_are_selected_for_unsupervised_tasks(task):
    ids = {s.id for s in select_checks(AuditConfig(task=task))}
    assert set(LABEL_FREE) <= ids
    assert "evaluation.performance" not in ids  # checks that need labels stay out


def test_clustering_clean_data_stays_quiet():
    by = _clustering(blobs(600, seed=2))
    assert {i: by[i].status for i in LABEL_FREE} == dict.fromkeys(LABEL_FREE, "pass"), {
        i: by[i].summary for i in LABEL_FREE
    }


def test_clustering_split_cluster_is_named_as_drift_and_out_of_range():
    by = _clustering(blobs(600, seed=2, split_first=True))  # x3 moved by +-3.5 in one blob
    drifted = [f.column for f in by["drift.features"].findings if f.status != "pass"]
    assert by["drift.features"].status in ("warn", "fail") and drifted == ["x3"]
    assert by["drift.multivariate"].status in ("warn", "fail")
    assert "'x3'" in by["drift.multivariate"].summary
    rep = by["data.representativeness"]
    assert rep.status in ("warn", "fail") and "'x3'" in rep.summary


def test_clustering_unseen_group_and_personal_data_are_named():
    train, test, current = blobs(600, seed=0), blobs(600, seed=1), blobs(600, seed=2)
    rng = np.random.default_rng(5)
    current["region"] = np.where(rng.random(600) < 0.2, "west", current["region"])
    for i, df in enumerate((train, test, current)):
        df["email"] = [f"person{i}_{j}@example.org" for j in range(len(df))]
    by = _clustering(current, test=test, train=train)
    rep = by["data.representativeness"]
    assert rep.status == "fail" and "region" in rep.summary and "west" in rep.summary
    pii = by["security.pii"]
    assert pii.status == "fail" and [f.column for f in pii.findings] == ["email"]


def test_anomaly_clean_data_stays_quiet():
    by = _anomaly(shift=0.0)
    assert {i: by[i].status for i in LABEL_FREE} == dict.fromkeys(LABEL_FREE, "pass"), {
        i: by[i].summary for i in LABEL_FREE
    }


def test_anomaly_shift_is_named():
    by = _anomaly(shift=1.5)
    feats = by["drift.features"]
    assert feats.status in ("warn", "fail") and "'f2'" in feats.summary
    assert by["drift.multivariate"].status == "fail" and "'f2'" in by["drift.multivariate"].summary
    # a shift of 1.5 SD stays inside the range the planted anomalies give train
    assert by["data.representativeness"].status == "pass"


def _data_checks(train, test, task="clustering"):
    model = kmeans(train, 4) if task == "clustering" else isolation_forest(train)
    ids = ["data.integrity", "data.train_test_overlap", "data.provenance"]
    return _by_id(
        assay.audit(
            train=train,
            test=test,
            model=model,
            task=task,
            target="label" if task == "anomaly" else None,
            config={"seed": 0, "include": ids},
        )
    )


def test_clustering_test_rows_copied_from_train_are_named():
    train, test = blobs(600, seed=0), blobs(600, seed=1)
    test.iloc[:60] = train.iloc[:60].to_numpy()
    by = _data_checks(train, test)
    assert by["data.train_test_overlap"].status in ("warn", "fail")
    assert "60 test rows" in by["data.train_test_overlap"].summary


def test_anomaly_sentinel_code_is_named_by_integrity():
    train, test = transactions(800, seed=1), transactions(600, seed=2)
    col = next(c for c in train.columns if c.startswith("f"))
    train.loc[train.index[:5], col] = -999.0  # a rare repeated code far outside the rest
    by = _data_checks(train, test, task="anomaly")
    integ = by["data.integrity"]
    assert integ.status in ("warn", "fail"), integ.summary
    assert any(f.column == col for f in integ.findings if f.status != "pass")
    assert by["data.train_test_overlap"].status == "pass"


def test_provenance_fingerprint_follows_the_data_in_an_unsupervised_audit():
    train, test = blobs(600, seed=0), blobs(600, seed=1)
    first = _data_checks(train, test)["data.provenance"]
    again = _data_checks(train.copy(), test.copy())["data.provenance"]
    test.iloc[0, 0] += 1.0
    changed = _data_checks(train, test)["data.provenance"]
    assert first.status == "pass"
    assert first.details["fingerprints"] == again.details["fingerprints"]
    assert first.details["fingerprints"]["test"] != changed.details["fingerprints"]["test"]
    assert first.details["fingerprints"]["train"] == changed.details["fingerprints"]["train"]
