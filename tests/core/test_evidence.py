"""Evidence strength: graded from a result's p or q value, round-trips, orders the plan."""

from __future__ import annotations

import pytest

from assay.core.evidence import grade
from assay.core.result import CheckResult
from assay.governance import remediation_plan


@pytest.mark.parametrize(
    ("metrics", "status", "strength"),
    [
        ({"q_value": 0.0009}, "warn", "strong"),
        ({"q_value": 0.001}, "warn", "moderate"),
        ({"p_value": 0.0099}, "fail", "moderate"),
        ({"p_value": 0.01}, "fail", "weak"),
        ({"min_q": 0.2, "p_value": 1e-9}, "warn", "weak"),  # q wins over p
        ({"ks_p_value": 0.3, "chi_square_p_value": 0.0001}, "warn", "strong"),
        ({"p_value": 0.0001}, "pass", None),  # a pass is never graded
        ({"auc": 0.9, "gap": 0.2}, "warn", None),  # no p or q: not graded
        ({"p_value": float("nan")}, "warn", None),
        ({"p_value": True}, "warn", None),
        ({"top_p": 0.5, "group": 3}, "warn", "weak"),
    ],
)
def test_grade(metrics, status, strength):
    assert grade(metrics, status)[0] == strength


def _result(cid: str, status: str, metrics: dict) -> CheckResult:
    return CheckResult(
        id=cid,
        area=cid.split(".")[0],
        title=cid,
        status=status,
        severity="medium",
        summary="s",
        explanation="e",
        metrics=metrics,
    )


def test_evidence_is_in_report_json_and_round_trips():
    r = _result("data.x", "warn", {"q_value": 0.004})
    d = r.to_dict()
    assert d["evidence"] == {"strength": "moderate", "basis": "q = 0.004"}
    back = CheckResult.from_dict(d)
    assert back == r and back.to_dict() == d


def test_plan_puts_strong_evidence_first_within_a_status():
    report = {
        "checks": [
            _result("data.weak", "warn", {"p_value": 0.04}).to_dict(),
            _result("data.none", "warn", {"gap": 0.3}).to_dict(),
            _result("data.strong", "warn", {"q_value": 1e-6}).to_dict(),
            _result("data.failing", "fail", {"p_value": 0.04}).to_dict(),
        ]
    }
    steps = remediation_plan(report)
    assert [s["check_id"] for s in steps] == [
        "data.failing",
        "data.strong",
        "data.weak",
        "data.none",
    ]
    assert steps[1]["evidence"] == {"strength": "strong", "basis": "q < 0.0001"}


def test_an_edited_report_cannot_claim_a_grade():
    d = _result("data.x", "warn", {"p_value": 0.2}).to_dict()
    d["evidence"] = {"strength": "strong", "basis": "trust me"}
    assert remediation_plan({"checks": [d]})[0]["evidence"]["strength"] == "weak"
