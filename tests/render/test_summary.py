"""The Markdown summary (``assay report --format summary``) for CI pages and PR comments."""

from __future__ import annotations

import json
import re

from assay.governance import remediation_plan
from assay.render.summary import MAX_STEPS, render_summary
from tests.cli.helpers import run_cli
from tests.render.report_samples import IMG, SCRIPT


def _all_pass(report: dict) -> dict:
    for c in report["checks"]:
        if c["status"] in ("warn", "fail", "error"):
            c["status"] = "pass"
    report["gate"] = {"fail_on": "fail", "failed": False}
    return report


def test_failing_report_names_gate_counts_headline_and_first_steps(clean_report):
    text = render_summary(clean_report)
    counts = {s: sum(c["status"] == s for c in clean_report["checks"]) for s in ("fail", "warn")}
    assert counts["fail"] > 0
    assert text.splitlines()[0] == "### ❌ Assay audit: quality gate failed"
    assert f"**{counts['fail']}** failed" in text
    assert f"**{counts['warn']}** warnings" in text
    perf = next(c for c in clean_report["checks"] if c["id"] == "evaluation.performance")
    m = perf["metrics"]
    assert "main_metric" not in perf["details"]  # an older report: ROC-AUC by default
    assert f"ROC AUC **{m['roc_auc']:.3f}** (95% interval {m['roc_auc_low']:.3f}–" in text
    assert "on 5,000 test rows" in text
    perf["details"]["main_metric"] = "accuracy"
    perf["details"]["metric_labels"] = {"accuracy": "accuracy"}
    again = render_summary(clean_report)
    assert f"accuracy **{m['accuracy']:.3f}** (95% interval {m['accuracy_low']:.3f}–" in again
    plan = remediation_plan(clean_report)
    steps = re.findall(r"^(\d+)\. \*\*", text, flags=re.M)
    assert steps == [str(i) for i in range(1, min(len(plan), MAX_STEPS) + 1)]
    for s in plan[:MAX_STEPS]:
        assert f"`{s['check_id']}`" in text
    for s in plan[MAX_STEPS:]:
        assert f"`{s['check_id']}`" not in text
    assert f"and {len(plan) - MAX_STEPS} more step" in text
    assert "Run it again: `assay audit" in text
    assert len(text) < 4000  # short enough for a comment


def test_clean_report_passes_quietly(clean_report):
    text = render_summary(_all_pass(clean_report))
    assert text.startswith("### ✅ Assay audit: quality gate passed")
    assert "**0** failed, **0** warnings" in text
    assert "Next steps" not in text and "Nothing to fix" in text


def test_gate_on_warnings_is_stated(clean_report):
    report = _all_pass(clean_report)
    report["checks"][0]["status"] = "warn"
    report["gate"] = {"fail_on": "warn", "failed": True}
    text = render_summary(report)
    assert "quality gate failed" in text and "a failed check or a warning" in text


def test_hostile_strings_stay_text(report):
    text = render_summary(report, max_steps=50)
    assert "PII" in text  # the hostile check is listed
    assert "\x00" not in text and "\x1b" not in text
    # inside a code span (the rerun command) nothing is markup; outside, nothing is raw
    spans = re.findall(r"(`+)(.+?)\1", text)
    assert any(SCRIPT in body for _, body in spans)
    prose = re.sub(r"(`+).+?\1", "", text)
    for bad in (SCRIPT, IMG, "<script", "<img", "]("):
        assert bad not in prose
    assert "&lt;script>" in prose


def test_bad_fields_do_not_raise():
    assert "quality gate passed" in render_summary({"checks": []})
    weird = {"checks": [{"id": 3, "status": "fail"}, "x", None], "gate": "?", "settings": 1}
    assert "quality gate failed" in render_summary(weird)


def test_cli_prints_the_summary(tmp_path, clean_report):
    path = tmp_path / "report.json"
    path.write_text(json.dumps(clean_report), encoding="utf-8")
    proc = run_cli("report", path, "--format", "summary")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == render_summary(clean_report)  # unwrapped, exactly the renderer's
    assert not (tmp_path / "report.html").exists()  # summary only, no files rebuilt
    bad = run_cli("report", path, "--format", "pdf")
    assert bad.returncode == 2 and "--format must be" in bad.stderr
    assert "Traceback" not in bad.stderr
