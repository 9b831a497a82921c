"""The remediation plan and the report's governance sections."""

from __future__ import annotations

from assay.governance import remediation_plan, rerun_command
from assay.render.html import render_html


def test_plan_order_status_then_severity_then_effort(report):
    plan = remediation_plan(report)
    assert [s["check_id"] for s in plan] == [
        "data.target_leakage",  # fail, critical
        "evaluation.calibration",  # fail, medium
        "evaluation.overfitting",  # could not run
        "data.integrity",  # warn, high, low effort
        "fairness.group_metrics",  # warn, high, high effort
    ]
    step = plan[3]
    assert step["recommendation"] == "Fix data.integrity." and step["effort"] == "low"
    assert step["findings"] == [{"status": "warn", "message": "Column 'age' is 12% missing."}]
    assert plan[2]["recommendation"].startswith("Fix the input")  # errors get a next step


def test_effort_breaks_ties(report):
    for c in report["checks"]:
        if c["id"] in ("data.integrity", "fairness.group_metrics"):
            c["severity"] = "medium"
    report["extra"]["governance"]["checks"]["data.integrity"]["effort"] = "high"
    report["extra"]["governance"]["checks"]["fairness.group_metrics"]["effort"] = "low"
    ids = [s["check_id"] for s in remediation_plan(report) if s["status"] == "warn"]
    assert ids == ["fairness.group_metrics", "data.integrity"]


def test_rerun_command_uses_the_inputs(report):
    cmd = rerun_command(report, "data.integrity")
    assert cmd == (
        "assay audit --test /data/test.csv --train /data/train.csv --target y "
        "--model /models/m.skops --sensitive colour --n-bootstrap 200 --check data.integrity"
    )
    report["inputs"]["test"] = {"kind": "pandas", "rows": 3}
    assert rerun_command(report, "x.y").startswith("assay audit … ")


def test_plan_comes_first_in_the_html(report):
    page = render_html(report)
    plan = page.index("<h2>What to do next</h2>")
    assert page.index("</header>") < plan < page.index("<h2>What was audited</h2>")
    steps = page.split('<ol class="ay-steps">', 1)[1].split("</ol>", 1)[0]
    assert steps.count('<li class="ay-step ') == 5
    assert steps.index("Target leakage") < steps.index("Calibration")
    assert "--check data.target_leakage</code>" in steps
    assert "Quick fix (hours)" in steps and "What to do:</b> Fix data.integrity." in steps
    assert "2 problems must" not in steps and "The first 3 must be fixed" in page


def test_governance_section(report):
    page = render_html(report)
    gov = page.split('<section class="ay-section ay-governance">', 1)[1].split("</section>", 1)[0]
    assert "NIST AI 100-1" in gov and "ISO/IEC 42001:2023" in gov
    evidence = gov.split('<table class="ay-gov-table">', 1)[1].split("</table>", 1)[0]
    assert "MEASURE 2.5" in evidence and "Validity and reliability" in evidence
    row = evidence.split("MEASURE 2.11", 1)[1].split("</tr>", 1)[0]
    assert "Group metrics" in row  # the fairness check is its evidence
    checklist = gov.split("For people: what no check can cover", 1)[1]
    assert "GOVERN 1.1" in checklist and "MANAGE 2.4" in checklist
    assert "MEASURE 2.5" not in checklist
    assert "Not covered by this audit" in gov and "<code>drift.features</code>" in gov
    assert "Not stated yet" in gov  # owner fields missing: said plainly


def test_sections_without_a_governance_block(report):
    """An older report (no governance block) gets the same sections from the packaged data."""
    with_block = render_html(report)
    del report["extra"]
    assert render_html(report) == with_block


def test_nothing_to_fix():
    page = render_html({"checks": [{"id": "data.integrity", "area": "data", "status": "pass"}]})
    assert "Nothing to fix" in page and 'class="ay-steps"' not in page


def test_hostile_strings_are_escaped_in_the_sections(report):
    bad = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
    report["checks"][1]["title"] = bad
    report["checks"][1]["recommendation"] = bad
    report["inputs"]["test"]["path"] = bad
    report["extra"]["governance"]["owner"] = {"licence": bad}
    page = render_html(report)
    assert "<script>alert" not in page and "<img src=x" not in page
