"""Comparing two audits."""

from __future__ import annotations

import copy

from assay.governance import diff_reports, is_empty, regressions


def test_diff_of_a_report_with_itself_is_empty(report):
    d = diff_reports(report, copy.deepcopy(report))
    assert is_empty(d) and d == {"status_changes": [], "metric_changes": [], "input_changes": []}


def test_real_report_with_itself(audited):
    assert is_empty(diff_reports(audited, audited))


def test_planted_status_change_is_reported(report):
    new = copy.deepcopy(report)
    new["checks"][2]["status"] = "fail"  # data.provenance: pass -> fail
    new["checks"][3]["status"] = "pass"  # evaluation.calibration: fail -> pass
    d = diff_reports(report, new)
    changes = {s["check_id"]: (s["old"], s["new"], s["direction"]) for s in d["status_changes"]}
    assert changes == {
        "data.provenance": ("pass", "fail", "worse"),
        "evaluation.calibration": ("fail", "pass", "better"),
    }
    assert [s["check_id"] for s in regressions(d)] == ["data.provenance"]


def test_added_and_removed_checks(report):
    new = copy.deepcopy(report)
    removed = new["checks"].pop(0)
    new["checks"].append({"id": "security.pii", "status": "pass", "metrics": {}})
    d = diff_reports(report, new)
    got = {s["check_id"]: s["direction"] for s in d["status_changes"]}
    assert got == {removed["id"]: "removed", "security.pii": "added"}
    assert regressions(d) == []


def test_metrics_beyond_their_intervals(report):
    new = copy.deepcopy(report)
    m = new["checks"][5]["metrics"]  # evaluation.performance
    m.update(accuracy=0.85, accuracy_low=0.84, accuracy_high=0.86)  # moved: CIs disjoint
    m.update(roc_auc=0.955, roc_auc_low=0.945, roc_auc_high=0.965)  # within: not reported
    d = diff_reports(report, new)
    assert [(c["check_id"], c["metric"]) for c in d["metric_changes"]] == [
        ("evaluation.performance", "accuracy")
    ]
    moved = d["metric_changes"][0]
    assert moved["old"] == 0.91234567 and moved["new"] == 0.85
    assert moved["old_low"] == 0.9 and moved["new_high"] == 0.86
    assert d["status_changes"] == []


def test_changed_inputs_are_listed(report):
    new = copy.deepcopy(report)
    new["inputs"]["test"]["fingerprint"] = "sha256:" + "00" * 32
    new["inputs"]["model"]["path"] = "/models/m2.skops"
    d = diff_reports(report, new)
    assert [(c["input"], c["field"]) for c in d["input_changes"]] == [
        ("test", "fingerprint"),
        ("model", "path"),
    ]
