"""`assay demo --task clustering|anomaly` end to end, offline, on the bundled UCI
Adult data: the real command in a subprocess, its report, card and model file."""

from __future__ import annotations

import json

import pytest

from .cli.helpers import run_cli_subprocess


def _run(tmp_path, task):
    out = tmp_path / task
    proc = run_cli_subprocess(
        "demo", "--task", task, "--out", out, "--n-bootstrap", "40", timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    for name in ("report.json", "report.html", "model_card.md", "datasheet.md", "model.skops"):
        assert (out / name).exists(), name
    assert "evidence.zip" in proc.stdout and "report.html" in proc.stdout
    assert f"Demo ({task})" in proc.stdout
    rep = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert rep["inputs"]["schema"]["task"] == task
    assert (out / "report.html").stat().st_size < 1_000_000
    by = {c["id"]: c for c in rep["checks"]}
    assert not [i for i, c in by.items() if c["status"] == "error"]
    # the current data over-sample people aged 50+: the label-free drift check sees it
    drifted = [f["column"] for f in by["drift.features"]["findings"] if f["status"] != "pass"]
    assert "age" in drifted, by["drift.features"]["summary"]
    card = (out / "model_card.md").read_text(encoding="utf-8")
    assert "**In one sentence:**" in card and "The headline metric" not in card
    return out, rep, by, card


def test_clustering_demo(tmp_path):
    out, rep, by, card = _run(tmp_path, "clustering")
    assert rep["inputs"]["train"]["rows"] == 32561
    assert rep["inputs"]["test"]["rows"] == 8140 and rep["inputs"]["current"]["rows"] == 4000
    assert by["clustering.sizes"]["metrics"]["n_clusters"] == 4
    # older people are drawn 4x as often: the segments' shares move
    assert by["clustering.drift"]["status"] in ("warn", "fail")
    assert by["clustering.fairness"]["status"] != "skipped"  # sex and race are given
    assert "- **Task:** clustering" in card
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Clustering at a glance" in html and html.count("<circle") > 100


def test_anomaly_demo(tmp_path):
    out, _rep, by, card = _run(tmp_path, "anomaly")
    det = by["anomaly.detection"]
    # 1% planted data-entry errors: the detector is measured against them and
    # does far better than flagging at random
    assert det["status"] != "skipped"
    assert det["metrics"]["prevalence"] == pytest.approx(0.01, abs=0.001)
    assert det["metrics"]["pr_auc_low"] > 5 * det["metrics"]["prevalence"]
    assert by["anomaly.rate"]["metrics"]["contamination"] == 0.02
    assert "known anomaly labels in `planted_error`" in card
    assert "Anomaly detection at a glance" in (out / "report.html").read_text(encoding="utf-8")


def test_unknown_demo_task_is_a_usage_error(tmp_path):
    proc = run_cli_subprocess("demo", "--task", "segments", "--out", tmp_path / "x")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: --task must be binary, clustering, anomaly")
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()
