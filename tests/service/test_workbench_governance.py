"""People's decisions on the next steps (#18 step 3) in the report's governance
section, in its "What to do next" steps, in the model card and in the evidence pack:
who, when, which step, the decision and the comment, escaped; a report without
decisions shows none."""

from __future__ import annotations

import copy
import io
import json
import zipfile

import pytest

from tests.governance.conftest import make_report

AT = 1_767_225_600.0  # 2026-01-01 00:00 UTC
HOSTILE = "<script>alert(1)</script> | `x` **bold**"


def with_decisions(report: dict, decisions: list[dict]) -> dict:
    report = copy.deepcopy(report)
    report.setdefault("extra", {}).setdefault("workbench", {})["decisions"] = decisions
    return report


def section(page: str) -> str:
    return page.split('<section class="ay-section ay-governance">', 1)[1].split("</section>")[0]


def test_no_decision_no_block():
    from assay.render.html import render_html
    from assay.render.model_card import render_model_card

    report = make_report()
    assert "Decisions on the next steps" not in render_html(report)
    assert "Decisions on the findings" not in render_model_card(report)


def test_decisions_in_governance_section_steps_and_card_escaped():
    from assay.render.html import render_html
    from assay.render.model_card import render_model_card

    report = with_decisions(
        make_report(),
        [
            {
                "check_id": "data.integrity",
                "decision": "will_fix",
                "comment": "first thought",
                "who": "Bo",
                "at": AT - 3600,
            },
            {
                "check_id": "data.integrity",
                "decision": "accepted_risk",
                "comment": HOSTILE,
                "who": "Ana <admin>",
                "at": AT,
            },
            {
                "check_id": "data.target_leakage",
                "decision": "not_applicable",
                "comment": "",
                "who": "Cy",
                "at": AT + 60,
            },
            "not a decision",
        ],
    )
    page = render_html(report)
    assert "<script>alert(1)</script>" not in page and "Ana <admin>" not in page
    gov = section(page)
    table = gov.split('class="ay-gov-table ay-decisions"', 1)[1].split("</table>", 1)[0]
    row = table.split("<code>data.integrity</code>", 1)[1].split("</tr>", 1)[0]
    assert "accepted risk" in row and "Ana &lt;admin&gt;" in row
    assert "2026-01-01 00:00 UTC" in row and "&lt;script&gt;alert(1)&lt;/script&gt;" in row
    assert "first thought" not in table  # replaced: shown among the earlier ones
    earlier = gov.split("Earlier decisions, since replaced (1)", 1)[1]
    assert "first thought" in earlier and "will fix" in earlier
    leak = table.split("<code>data.target_leakage</code>", 1)[1].split("</tr>", 1)[0]
    assert "not applicable" in leak and "2026-01-01 00:01 UTC" in leak
    # the same decision is on its step in "What to do next"; an undecided step has none
    steps = page.split('<ol class="ay-steps">', 1)[1].split("</ol>", 1)[0]
    integrity = next(s for s in steps.split("<li class=") if "--check data.integrity<" in s)
    assert "Marked <strong>accepted risk</strong> by Ana &lt;admin&gt;" in integrity
    calibration = next(
        s for s in steps.split("<li class=") if "--check evaluation.calibration<" in s
    )
    assert "Marked" not in calibration
    card = render_model_card(report)
    block = card.split("## Decisions on the findings", 1)[1].split("\n## ", 1)[0]
    line = next(x for x in block.splitlines() if "data.integrity" in x)
    assert "accepted risk, by Ana" in line and "2026-01-01 00:00 UTC" in line
    assert "<script>" not in line and "\\|" in line and "\\*\\*bold" in line
    assert "first thought" not in block
    assert "not applicable, by Cy" in block


def test_record_decisions_rewrites_outputs_and_the_signed_pack(tmp_path):
    pytest.importorskip("cryptography")
    from assay.core.audit_result import write_outputs
    from assay.governance import generate_keypair, verify_pack
    from assay.service._workbench_jobs import PACK, pack_evidence, record_decisions

    key, pub = generate_keypair(tmp_path / "keys", "wb")
    out = tmp_path / "audit"
    write_outputs(make_report(), out)
    pack_evidence(out, str(key))
    with zipfile.ZipFile(out / PACK) as z:
        assert "Decisions on the findings" not in z.read("model_card.md").decode()
    decision = {
        "check_id": "fairness.group_metrics",
        "decision": "will_fix",
        "comment": "retrain with reweighting",
        "who": "Ana",
        "at": AT,
    }
    record_decisions(out, [decision], str(key))
    assert verify_pack(out / PACK, public_key=pub, require_signature=True).ok
    with zipfile.ZipFile(io.BytesIO((out / PACK).read_bytes())) as z:
        card = z.read("model_card.md").decode()
        html = z.read("report.html").decode()
        packed = json.loads(z.read("report.json"))
    assert "will fix, by Ana on 2026-01-01 00:00 UTC: retrain with reweighting" in card
    assert "Decisions on the next steps" in section(html) and "retrain with reweighting" in html
    assert packed["extra"]["workbench"]["decisions"] == [decision]
