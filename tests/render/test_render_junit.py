"""JUnit XML: parses, counts right, gate level honoured, text escaped and clean."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from assay.core.audit_result import AuditResult
from assay.render.junit import MAX_FINDINGS, render_junit
from tests.render.report_samples import IMG, SCRIPT


def parse(xml: str) -> tuple[ET.Element, ET.Element]:
    root = ET.fromstring(xml.encode("utf-8"))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1 and suites[0].get("name") == "assay"
    return root, suites[0]


def counts(node: ET.Element) -> tuple[int, int, int, int]:
    return tuple(int(node.get(k)) for k in ("tests", "failures", "errors", "skipped"))


def test_counts_and_cases(report):
    root, suite = parse(render_junit(report))
    assert counts(suite) == counts(root) == (14, 3, 1, 2)
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [c["id"] for c in report["checks"]]
    case = cases[0]
    assert case.get("classname") == "assay.data" and case.get("time") == "0.012"
    assert float(suite.get("time")) == pytest.approx(0.012 * 14, abs=0.01)
    assert suite.get("timestamp") == report["created_at"]
    # children agree with the counts
    assert sum(len(c.findall("failure")) for c in cases) == 3
    assert sum(len(c.findall("error")) for c in cases) == 1
    assert sum(len(c.findall("skipped")) for c in cases) == 2


def test_failure_carries_summary_findings_and_advice(report):
    _, suite = parse(render_junit(report))
    case = suite.find("testcase[@name='data.integrity']")
    failure = case.find("failure")
    assert failure.get("type") == "fail"
    assert failure.get("message") == report["checks"][0]["summary"]
    assert "- [fail] (column=income; split=test) 31% of values are missing." in failure.text
    assert "What to do: Find out why income is missing" in failure.text
    error = suite.find("testcase[@name='evaluation.overfitting']/error")
    assert "Exception: ValueError at overfitting.py:88" in error.text
    skipped = suite.find("testcase[@name='drift.features']/skipped")
    assert skipped.get("message").startswith("Skipped: no current")


def test_findings_text_is_capped(report):
    _, suite = parse(render_junit(report, fail_on="warn"))
    text = suite.find("testcase[@name='data.label_errors']/failure").text
    assert text.count("\n- [warn]") == MAX_FINDINGS
    assert "... and 87 more in report.json" in text
    rows = suite.find("testcase[@name='data.duplicates']/failure").text
    assert "rows=100,101,102,103,104,105,106,107,108,109 (+27 more)" in rows


def test_warnings_pass_unless_the_gate_fails_on_them(report):
    _, suite = parse(render_junit(report))
    warn_case = suite.find("testcase[@name='evaluation.calibration']")
    assert warn_case.find("failure") is None
    assert "does not fail the gate" in warn_case.find("system-out").text

    _, suite = parse(render_junit(report, fail_on="warn"))
    assert counts(suite) == (14, 7, 1, 2)
    assert suite.find("testcase[@name='evaluation.calibration']/failure").get("type") == "warn"


def test_fail_on_defaults_to_the_report_gate(report):
    report["gate"]["fail_on"] = "warn"
    assert counts(parse(render_junit(report))[1])[1] == 7
    assert counts(parse(render_junit(report, fail_on="fail"))[1])[1] == 3
    props = {p.get("name"): p.get("value") for p in parse(render_junit(report))[1].iter("property")}
    assert props["fail_on"] == "warn" and props["assay_version"] == "0.1.0"


def test_hostile_and_illegal_characters(report):
    xml = render_junit(report)
    assert SCRIPT not in xml and "\x00" not in xml and "\x1b" not in xml
    _, suite = parse(xml)
    failure = suite.find("testcase[@name='security.pii']/failure")
    assert failure.get("message") == f"Found personal data in column {SCRIPT}."
    assert IMG in failure.text


def test_through_audit_result(report):
    rebuilt = AuditResult.from_dict(report).to_dict()
    assert render_junit(rebuilt) == render_junit(report)


@pytest.mark.parametrize(
    "odd",
    [
        {},
        {"checks": None, "gate": None},
        {"checks": [None, 1, {}]},
        {
            "checks": [
                {
                    "status": "weird",
                    "id": None,
                    "area": None,
                    "duration_s": "x",
                    "findings": [None, {"rows": "ab", "metrics": None}],
                    "metrics": [],
                    "details": None,
                    "summary": None,
                }
            ]
        },
        {
            "checks": [
                {
                    "status": "fail",
                    "id": "a\x00b",
                    "area": "x\ud800y",
                    "duration_s": -3,
                    "summary": "\x0c" * 5000,
                    "findings": [{"message": "\x01"}],
                }
            ]
        },
    ],
)
def test_odd_reports_still_give_valid_xml(odd):
    _, suite = parse(render_junit(odd))
    n = len([c for c in (odd.get("checks") or []) if isinstance(c, dict)])
    assert int(suite.get("tests")) == n
    for case in suite.findall("testcase"):
        assert float(case.get("time")) >= 0


def test_unknown_status_is_an_error():
    _, suite = parse(render_junit({"checks": [{"id": "a.b", "area": "a", "status": "odd"}]}))
    assert counts(suite) == (1, 0, 1, 0)
