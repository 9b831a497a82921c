"""``assay audit --task clustering|anomaly`` end to end: real files, a real model
file, the real command in a subprocess; report.json, report.html and exit codes."""

from __future__ import annotations

import json

import pytest

from ..cli.helpers import run_cli
from .helpers import blobs, isolation_forest, kmeans, transactions


def _save(model, path):
    import skops.io as sio

    sio.dump(model, path)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("unsup")
    blobs(600, seed=1).to_csv(d / "seg_test.csv", index=False)
    blobs(600, seed=3, split_first=True).to_csv(d / "seg_current.csv", index=False)
    _save(kmeans(blobs(600, seed=0), 4), d / "kmeans.skops")
    transactions(800, seed=2).to_csv(d / "tx_test.csv", index=False)
    transactions(800, seed=3, shift=1.5).to_csv(d / "tx_current.csv", index=False)
    _save(isolation_forest(transactions(1000, seed=1)), d / "iforest.skops")
    return d


def _report(out):
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


def test_clustering_audit_end_to_end(files):
    out = files / "seg_out"
    res = run_cli(
        "audit",
        "--task",
        "clustering",
        "--test",
        files / "seg_test.csv",
        "--current",
        files / "seg_current.csv",
        "--model",
        files / "kmeans.skops",
        "--sensitive",
        "region",
        "--n-bootstrap",
        "50",
        "--out",
        out,
    )
    assert res.returncode == 1, res.stderr  # the split cluster fails the gate
    rep = _report(out)
    by = {c["id"]: c for c in rep["checks"]}
    assert by["clustering.drift"]["status"] == "fail"
    assert "has split" in by["clustering.drift"]["summary"] or "split" in json.dumps(
        by["clustering.drift"]["findings"]
    )
    assert by["clustering.quality"]["status"] == "pass"
    assert rep["inputs"]["schema"]["task"] == "clustering"
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Clustering at a glance" in html
    assert "Map of a sample of rows" in html and html.count("<circle") > 100
    assert "Stability per cluster" in html
    assert "the clusters have drifted" in html


def test_anomaly_audit_end_to_end(files):
    out = files / "tx_out"
    res = run_cli(
        "audit",
        "--task",
        "anomaly",
        "--test",
        files / "tx_test.csv",
        "--current",
        files / "tx_current.csv",
        "--model",
        files / "iforest.skops",
        "--target",
        "label",
        "--n-bootstrap",
        "50",
        "--out",
        out,
    )
    assert res.returncode == 1, res.stderr
    by = {c["id"]: c for c in _report(out)["checks"]}
    assert by["anomaly.rate_drift"]["status"] == "fail"
    assert by["anomaly.detection"]["status"] == "pass"
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Anomaly detection at a glance" in html and "times the reference" in html


def test_clean_anomaly_audit_passes_with_a_score_column(files, tmp_path):
    test = transactions(800, seed=2)
    test["score"] = -isolation_forest(transactions(1000, seed=1)).decision_function(
        test.drop(columns="label")
    )
    test.to_csv(tmp_path / "scored.csv", index=False)
    res = run_cli(
        "audit",
        "--task",
        "anomaly",
        "--test",
        tmp_path / "scored.csv",
        "--score",
        "score",
        "--target",
        "label",
        "--n-bootstrap",
        "50",
        "--out",
        tmp_path / "out",
    )
    assert res.returncode == 0, res.stdout + res.stderr
    by = {c["id"]: c for c in _report(tmp_path / "out")["checks"]}
    assert by["anomaly.detection"]["status"] == "pass"
    assert by["anomaly.rate_drift"]["status"] == "skipped"


def test_clustering_without_model_or_column_is_a_usage_error(files, tmp_path):
    res = run_cli(
        "audit",
        "--task",
        "clustering",
        "--test",
        files / "seg_test.csv",
        "--out",
        tmp_path / "o",
    )
    assert res.returncode == 2
    assert res.stderr.startswith("error: no cluster assignment for the test data")
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_unknown_task_lists_the_new_ones(files, tmp_path):
    res = run_cli(
        "audit", "--task", "segmentation", "--test", files / "seg_test.csv", "--out", tmp_path / "o"
    )
    assert res.returncode == 2 and "clustering, anomaly" in res.stderr
