"""read_report (issue #15 item 2): what every renderer reads, a report whose fields have
their declared types. A report from an audit comes back as it is; a report dict is read
once, check by check; a hand-edited one field by field, never raising."""

from __future__ import annotations

import json
from pathlib import Path

from assay.core.audit_result import AuditResult
from assay.core.result import CheckResult, Finding
from assay.render._report import UNKNOWN, ParsedReport, gate_failed, read_report

FIXTURE = Path(__file__).parent / "fixtures" / "clustering_report.json"


def _report() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def test_an_audit_comes_back_as_it_is():
    audit = AuditResult.from_dict(_report())
    assert read_report(audit) is audit
    assert gate_failed(audit) == audit.gate_failed()


def test_a_report_dict_reads_as_its_audit():
    report = _report()
    parsed = read_report(report)
    audit = AuditResult.from_dict(report)
    assert isinstance(parsed, ParsedReport)
    assert parsed.checks == audit.checks
    assert (parsed.settings, parsed.inputs, parsed.fail_on) == (
        audit.settings,
        audit.inputs,
        audit.fail_on,
    )
    assert parsed.created_at == report["created_at"]


def test_a_hand_edited_report_reads_field_by_field():
    report = _report()
    good = report["checks"][1]
    odd = report["checks"][0]
    del odd["severity"]
    odd.update(status="weird", summary=None, duration_s="x", metrics={"a": "1", "b": 2})
    odd["findings"] = [None, {"message": 3, "rows": [1, "x", 2], "columns": "age"}]
    report["checks"].append("not a check")
    report["gate"] = "?"
    parsed = read_report(report)
    assert len(parsed.checks) == len(report["checks"]) - 1
    c = parsed.checks[0]
    assert (c.status, c.severity, c.summary, c.duration_s) == (UNKNOWN, "", "", None)
    assert dict(c.metrics) == {"a": None, "b": 2}
    assert c.findings == (
        Finding(status=UNKNOWN, message="3", columns=("age",), rows=(1, 2), metrics={}),
    )
    assert parsed.checks[1] == CheckResult.from_dict(good)  # the others parse as they are
    assert parsed.fail_on == "fail" and gate_failed(parsed)  # an unknown status fails


def test_an_audit_with_an_ill_typed_check_is_read_leniently():
    report = _report()
    report["checks"][0]["summary"] = None  # AuditResult.from_dict keeps it as it is
    audit = AuditResult.from_dict(report)
    parsed = read_report(audit)
    assert parsed is not audit and parsed.checks[0].summary == ""
    assert parsed.checks[1:] == audit.checks[1:]
    assert parsed.created_at == audit.created_at


def test_anything_else_is_an_empty_report():
    for odd in (None, 3, "x", [1]):
        assert read_report(odd) == ParsedReport()
