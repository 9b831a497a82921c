"""The pytest plug-in, run for real in a child pytest session (``pytester``).

The child session finds the plug-in through its ``pytest11`` entry point (no
``-p`` option), audits a clean model (the gate passes) and one with a planted
leaking column (the gate fails and the message names the finding), and keeps
the reports with ``--assay-report``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assay.core.audit_result import OUTPUT_FILES, AuditResult
from assay.integrations.pytest_plugin import AuditOutcome

pytest_plugins = ["pytester"]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "test_model_with_assay.py"

CHILD_TESTS = """
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

CHECKS = ["evaluation.performance", "data.target_leakage"]


def frames(leak):
    rng = np.random.default_rng(0)
    n = 900
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    y = (1.5 * x1 - x2 + rng.logistic(size=n) > 0).astype(int)
    df = pd.DataFrame({"x1": x1, "x2": x2, "y": y})
    if leak:
        df["refund_issued"] = y + rng.normal(0, 0.05, n)
    train, test = df.iloc[:600], df.iloc[600:]
    model = LogisticRegression().fit(train[["x1", "x2"]], train["y"])
    return train, test, model


def test_clean_model(assay_audit):
    train, test, model = frames(leak=False)
    result = assay_audit(train=train, test=test, target="y", model=model,
                         config={"include": CHECKS, "n_bootstrap": 50})
    result.assert_gate()
    assert result.check("data.target_leakage").status == "pass"


def test_leaking_column(assay_audit):
    train, test, model = frames(leak=True)
    result = assay_audit(train=train, test=test, target="y", model=model,
                         config={"include": CHECKS, "n_bootstrap": 50})
    result.assert_gate()
"""


@pytest.fixture
def child(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_model=CHILD_TESTS)
    return pytester


def test_gate_passes_on_clean_data_and_fails_on_a_leak_with_reports(child):
    """A fresh pytest process; the example file from examples/ runs in the same session."""
    shutil.copy(EXAMPLE, child.path / EXAMPLE.name)
    res = child.runpytest_subprocess("-p", "no:randomly", "--assay-report", "reports")
    res.assert_outcomes(passed=2, failed=1)
    out = res.stdout.str()
    # the failure message is the plan's first step, naming the check and the column
    assert "Assay quality gate failed (fails on fail): 1 failed" in out
    assert "1. data.target_leakage (fail):" in out
    assert "refund_issued" in out
    assert "What to do:" in out
    assert "Traceback" not in out and "def run(" not in out  # pytrace=False: the message only
    assert "test_leaking_column" in out and "FAILED test_model.py::test_clean_model" not in out
    reports = child.path / "reports"
    folders = sorted(p.name for p in reports.iterdir())
    assert folders == sorted(
        [
            f"{EXAMPLE.name}_test_model_passes_the_assay_gate",
            "test_model.py_test_clean_model",
            "test_model.py_test_leaking_column",
        ]
    )
    for name in folders:
        assert sorted(p.name for p in (reports / name).iterdir()) == sorted(OUTPUT_FILES)
    leak = json.loads(
        (reports / "test_model.py_test_leaking_column" / "report.json").read_text(encoding="utf-8")
    )
    assert leak["gate"]["failed"] is True
    clean = json.loads(
        (reports / "test_model.py_test_clean_model" / "report.json").read_text(encoding="utf-8")
    )
    assert clean["gate"]["failed"] is False
    assert f"Reports: {reports / 'test_model.py_test_leaking_column'}" in out.replace("\n", "")


def test_without_the_option_nothing_is_written(child):
    # a subprocess: an in-process run restores sys.modules afterwards, which leaves
    # modules such as yaml half re-imported for the rest of this session
    res = child.runpytest_subprocess("-p", "no:randomly", "-k", "leaking")
    res.assert_outcomes(failed=1)
    assert "Keep the full report with: pytest --assay-report DIR" in res.stdout.str()
    assert not (child.path / "reports").exists()
    assert not list(child.path.glob("**/report.json"))


def _result(statuses: list[str], fail_on: str = "fail") -> AuditResult:
    checks = [
        {
            "id": f"data.c{i}",
            "area": "data",
            "title": f"C{i}",
            "status": s,
            "severity": "medium",
            "summary": f"Check {i} is {s}.",
            "recommendation": f"Fix {i}.",
        }
        for i, s in enumerate(statuses)
    ]
    report = {
        "checks": checks,
        "created_at": "2026-01-01T00:00:00+00:00",
        "assay_version": "0",
        "gate": {"fail_on": fail_on},
    }
    return AuditResult.from_dict(report)


def test_assert_gate_levels_and_step_cap():
    warn_only = AuditOutcome(_result(["pass", "warn"]))
    warn_only.assert_gate()  # a warning does not fail the default gate
    with pytest.raises(pytest.fail.Exception, match=r"1\. data\.c1 \(warn\)"):
        warn_only.assert_gate(fail_on="warn")
    many = AuditOutcome(_result(["fail"] * 5 + ["warn"]))
    with pytest.raises(pytest.fail.Exception) as info:
        many.assert_gate(max_steps=2)
    msg = str(info.value)
    assert "2. data.c1 (fail)" in msg and "3." not in msg
    assert "and 3 more step(s)" in msg  # the warning is not a gate problem at level fail
    with pytest.raises(ValueError, match="fail_on"):
        many.assert_gate(fail_on="error")
    assert many.summary()["fail"] == 5  # attributes fall through to the AuditResult
