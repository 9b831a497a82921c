"""What `assay demo` adds: the owner's fields in the card and a verified, signed pack."""

from __future__ import annotations

import assay
from assay.demo import run_demo
from assay.governance import verify_pack


def test_demo_card_and_evidence(binary_data, binary_model, tmp_path):
    train, test, _ = binary_data
    config = {
        "model_card": run_demo.DEMO_MODEL_CARD,
        "n_bootstrap": 20,
        "include": ["evaluation.performance", "data.integrity"],
    }
    result = assay.audit(train=train, test=test, target="y", model=binary_model, config=config)
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
