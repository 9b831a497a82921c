"""What `assay demo` adds: the owner's fields in the card and a verified, signed pack."""

from __future__ import annotations

from assay.core.audit_result import AuditResult
from assay.demo import run_demo
from assay.governance import verify_pack


def test_demo_card_and_evidence(report, tmp_path):
    result = run_demo.with_model_card(AuditResult.from_dict(report))
    owner = result.to_dict()["extra"]["governance"]["owner"]
    assert owner["out_of_scope_uses"] and owner["licence"]
    result.save(tmp_path)
    card = (tmp_path / "model_card.md").read_text(encoding="utf-8")
    assert "Any decision about a real person" in card
    for _ in range(2):  # a second run replaces the throwaway key and the pack
        line = run_demo.write_evidence(tmp_path)
        assert "signed with a throwaway demo key and verified" in line
    check = verify_pack(tmp_path / "evidence.zip", public_key=tmp_path / "demo-signing.pub")
    assert check.ok and "model_card.md" in check.files and "report.html" in check.files
