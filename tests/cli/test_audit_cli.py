"""End-to-end runs of the real ``assay`` command."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from .helpers import run_cli, run_cli_subprocess


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, binary_data, binary_model):
    import skops.io as sio

    d = tmp_path_factory.mktemp("cli")
    train, test, current = binary_data
    train.to_csv(d / "train.csv", index=False)
    test.to_csv(d / "test.csv", index=False)
    test.to_parquet(d / "test.parquet")
    current.to_csv(d / "current.csv", index=False)
    sio.dump(binary_model, d / "model.skops")
    scored = test.assign(
        pred=binary_model.predict(test.drop(columns="y")),
        p1=binary_model.predict_proba(test.drop(columns="y"))[:, 1],
    )
    scored.to_csv(d / "scored.csv", index=False)
    return d


def load(out):
    return json.loads((out / "report.json").read_text())


def test_audit_with_model_writes_three_outputs(workdir):
    out = workdir / "with_model"
    proc = run_cli_subprocess(  # audit through the installed script
        "audit",
        "--train",
        workdir / "train.csv",
        "--test",
        workdir / "test.parquet",
        "--current",
        workdir / "current.csv",
        "--target",
        "y",
        "--model",
        workdir / "model.skops",
        "--out",
        out,
        "--n-bootstrap",
        "50",
    )
    assert proc.returncode in (0, 1), proc.stderr
    from assay.core.audit_result import OUTPUT_FILES

    assert "datasheet.md" in OUTPUT_FILES
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_FILES)
    assert (out / "datasheet.md").read_text(encoding="utf-8").startswith("# Datasheet")
    rep = load(out)
    assert {"assay_version", "created_at", "inputs", "checks", "summary"} <= set(rep)
    assert rep["inputs"]["test"]["kind"] == "parquet"
    assert rep["inputs"]["model"]["kind"] == "skops"
    assert rep["settings"]["n_bootstrap"] == 50
    assert sum(rep["summary"][s] for s in ("pass", "warn", "fail", "error", "skipped")) == len(
        rep["checks"]
    )
    perf = next(c for c in rep["checks"] if c["id"] == "evaluation.performance")
    assert perf["status"] != "skipped"
    suite = ET.parse(out / "junit.xml").getroot()
    cases = suite.findall(".//testcase")
    assert len(cases) == len(rep["checks"])
    assert str((out / "report.html").resolve()) in proc.stdout.replace("\n", "")
    assert (proc.returncode == 1) == rep["gate"]["failed"]


def test_audit_with_prediction_columns(workdir):
    out = workdir / "with_columns"
    proc = run_cli(
        "audit",
        "--train",
        workdir / "train.csv",
        "--test",
        workdir / "scored.csv",
        "--target",
        "y",
        "--prediction",
        "pred",
        "--score",
        "p1",
        "--ignore",
        "pred,p1",
        "--out",
        out,
        "--check",
        "evaluation.performance",
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    perf = load(out)["checks"][0]
    assert perf["status"] == "pass"
    assert 0.5 < perf["metrics"]["roc_auc"] <= 1.0


def test_without_model_model_checks_skip_with_reason(workdir):
    out = workdir / "no_model"
    proc = run_cli("audit", "--test", workdir / "test.csv", "--target", "y", "--out", out)
    assert proc.returncode in (0, 1), proc.stderr
    perf = next(c for c in load(out)["checks"] if c["id"] == "evaluation.performance")
    assert perf["status"] == "skipped"
    assert "no model and no prediction columns" in perf["summary"]


def test_report_rebuilds_identical_html(workdir):
    src = workdir / "with_model"
    if not src.exists():
        pytest.skip("depends on test_audit_with_model_writes_three_outputs")
    out = workdir / "rebuilt"
    proc = run_cli_subprocess("report", src / "report.json", "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert (out / "report.html").read_text() == (src / "report.html").read_text()
    assert (out / "junit.xml").read_text() == (src / "junit.xml").read_text()


def test_report_rejects_non_report(workdir):
    bad = workdir / "bad.json"
    bad.write_text('{"hello": 1}')
    proc = run_cli("report", bad)
    assert proc.returncode == 2 and "not an Assay report" in proc.stderr


def test_gate_exit_codes_and_config_file(workdir, binary_data):
    """A planted problem (test rows copied from train) fails the gate: exit 1."""
    train, test, _ = binary_data
    leaky = test.copy()
    leaky.iloc[:400, :] = train.iloc[:400, :].to_numpy()
    leaky.to_csv(workdir / "leaky.csv", index=False)
    (workdir / "assay.yaml").write_text(
        "target: y\nchecks:\n  include: [data.train_test_overlap]\n"
    )
    out = workdir / "gate"
    proc = run_cli(
        "audit",
        "--train",
        workdir / "train.csv",
        "--test",
        workdir / "leaky.csv",
        "--out",
        out,
        cwd=workdir,
    )
    assert proc.returncode == 1, proc.stderr + proc.stdout
    rep = load(out)
    assert [c["id"] for c in rep["checks"]] == ["data.train_test_overlap"]
    assert rep["checks"][0]["status"] == "fail"
    (workdir / "assay.yaml").unlink()


def test_fail_on_warn_is_stricter(workdir, binary_data):
    _train, test, _ = binary_data
    test = test.copy()
    test.loc[np.arange(0, 900, 10), "x1"] = np.nan  # 10% missing: a warning, not a failure
    test.to_csv(workdir / "holes.csv", index=False)
    base = ["audit", "--test", workdir / "holes.csv", "--target", "y", "--check", "data.integrity"]
    lenient = run_cli(*base, "--out", workdir / "lenient")
    strict = run_cli(*base, "--out", workdir / "strict", "--fail-on", "warn")
    assert load(workdir / "lenient")["checks"][0]["status"] == "warn"
    assert lenient.returncode == 0, lenient.stderr
    assert strict.returncode == 1, strict.stderr


def test_checks_list_and_version():
    proc = run_cli_subprocess("checks", "--json")
    ids = [c["id"] for c in json.loads(proc.stdout)]
    assert "evaluation.performance" in ids and "data.integrity" in ids
    assert run_cli_subprocess("--version").stdout.startswith("assay ")
