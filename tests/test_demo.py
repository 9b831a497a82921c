"""`assay demo` end to end, offline, on the bundled UCI Adult data."""

from __future__ import annotations

import json

from .cli.helpers import run_cli_subprocess


def test_demo_writes_report(tmp_path):
    out = tmp_path / "demo"
    proc = run_cli_subprocess("demo", "--out", out, "--n-bootstrap", "100", timeout=600)
    assert proc.returncode == 0, proc.stderr
    for name in ("report.json", "report.html", "junit.xml", "model.skops"):
        assert (out / name).exists(), name
    rep = json.loads((out / "report.json").read_text())
    assert rep["inputs"]["train"]["rows"] == 32561 and rep["inputs"]["test"]["rows"] == 16281
    assert rep["inputs"]["schema"]["target"] == "income"
    perf = next(c for c in rep["checks"] if c["id"] == "evaluation.performance")
    assert perf["status"] == "pass" and perf["metrics"]["roc_auc"] > 0.9
    assert (out / "report.html").stat().st_size < 1_000_000
    assert "report.html" in proc.stdout
