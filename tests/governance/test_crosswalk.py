"""The crosswalk covers every registered check and agrees with what checks declare."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest

import assay
from assay.core.registry import all_checks
from assay.governance import governance_record, load_crosswalk
from assay.governance._crosswalk import nist_sort_key, parse_crosswalk

# Checks being built in parallel; their ids are final. The live-registry test
# below catches every check added later.
PLANNED = (
    "drift.features",
    "drift.prediction",
    "drift.target",
    "drift.multivariate",
    "monitoring.estimated_performance",
    "evaluation.robustness",
    "evaluation.weak_segments",
    "evaluation.ablation",
    "evaluation.uncertainty",
    "fairness.group_metrics",
    "data.label_issues",
    "data.representativeness",
    "security.pii",
    "security.poisoning",
    "security.adversarial",
    "security.membership_inference",
    "security.attribute_inference",
    "efficiency.inference",
    "efficiency.quantization",
    "efficiency.distillation",
)
_NOT_AREAS = {"cli", "core", "demo", "engine", "governance", "io", "render"}


def live_checks():
    """Every check registered once each area package is imported."""
    for mod in pkgutil.iter_modules(assay.__path__):
        if mod.ispkg and mod.name not in _NOT_AREAS:
            importlib.import_module(f"assay.{mod.name}")
    return all_checks()


def test_every_registered_check_has_an_entry():
    cw = load_crosswalk()
    missing = [s.id for s in live_checks() if cw.entry(s.id) is None]
    assert not missing, f"add these check ids to assay/governance/crosswalk.yaml: {missing}"


def test_planned_checks_have_entries():
    cw = load_crosswalk()
    assert [c for c in PLANNED if cw.entry(c) is None] == []


def test_registered_standards_are_in_the_crosswalk():
    cw = load_crosswalk()
    wrong = {}
    for spec in live_checks():
        entry = cw.entry(spec.id)
        if entry is None:
            continue  # reported by the test above
        extra = [s for s in spec.standards if s not in entry.nist]
        if extra:
            wrong[spec.id] = extra
    assert not wrong, f"registered standards missing from the crosswalk's nist lists: {wrong}"


def test_nist_ai_rmf_subcategories_are_complete():
    cw = load_crosswalk()
    by_function: dict[str, int] = {}
    for sub in cw.subcategories.values():
        by_function[sub.function] = by_function.get(sub.function, 0) + 1
        assert sub.question.endswith("?") and sub.topic
    # NIST AI 100-1: 19 GOVERN, 18 MAP, 22 MEASURE and 13 MANAGE subcategories.
    assert by_function == {"GOVERN": 19, "MAP": 18, "MEASURE": 22, "MANAGE": 13}
    assert list(cw.subcategories) == sorted(cw.subcategories, key=nist_sort_key)
    assert next(iter(cw.subcategories)) == "GOVERN 1.1"
    assert list(cw.subcategories)[-1] == "MANAGE 4.3"
    assert "MEASURE 2.13" in cw.subcategories and "MEASURE 2.14" not in cw.subcategories


def test_iso_42001_controls_are_annex_a_ids():
    cw = load_crosswalk()
    assert all(re.match(r"^A\.(\d+)(\.\d+){1,2}$", c) for c in cw.controls)
    clauses = {c.split(".")[1] for c in cw.controls}
    assert clauses == {str(n) for n in range(2, 11)}  # A.2 ... A.10
    for key in ("A.6.2.4", "A.7.4", "A.7.5", "A.6.2.6", "A.5.4"):
        assert key in cw.controls


def test_organizational_subcategories_are_for_people():
    cw = load_crosswalk()
    people = cw.organizational()
    assert all(s in people for s in cw.subcategories if s.startswith("GOVERN"))
    assert "MEASURE 2.5" not in people and "MEASURE 2.11" not in people
    assert "MANAGE 2.4" in people  # switching a system off: no check can do it


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda d: d["checks"]["x.y"].update(nist=["MEASURE 9.9"]), "MEASURE 9.9"),
        (lambda d: d["checks"]["x.y"].update(iso_42001=["A.99"]), "A.99"),
        (lambda d: d["checks"]["x.y"].update(effort="huge"), "effort"),
        (lambda d: d["checks"]["x.y"].update(nist=[]), "x.y"),
    ],
)
def test_parse_errors_name_the_entry(edit, needle):
    data = {
        "nist_ai_rmf": {"MEASURE 2.5": {"topic": "t", "question": "q?"}},
        "iso_42001": {"A.6.2.4": {"topic": "t"}},
        "checks": {"x.y": {"nist": ["MEASURE 2.5"], "iso_42001": ["A.6.2.4"], "effort": "low"}},
    }
    parse_crosswalk(data)
    edit(data)
    with pytest.raises(ValueError, match=re.escape(needle)):
        parse_crosswalk(data)


def test_governance_record_names_evidence_and_gaps():
    rec = governance_record(["evaluation.performance", "data.integrity", "no.such_check"])
    assert rec["checks"]["evaluation.performance"]["effort"] in ("low", "medium", "high")
    assert rec["unmapped_checks"] == ["no.such_check"]
    m25 = rec["nist_ai_rmf"]["MEASURE 2.5"]
    assert m25["checks"] == ["evaluation.performance", "data.integrity"]
    assert "evaluation.calibration" in m25["other_checks"]
    fairness = rec["nist_ai_rmf"]["MEASURE 2.11"]
    assert fairness["checks"] == [] and "fairness.group_metrics" in fairness["other_checks"]
    assert rec["nist_ai_rmf"]["GOVERN 2.1"]["for_people"] is True
    assert rec["iso_42001"]["A.6.2.4"]["checks"] == ["evaluation.performance"]
    assert len(rec["nist_ai_rmf"]) == 72


def test_audit_writes_the_governance_block(audited):
    gov = audited["extra"]["governance"]
    ran = [c["id"] for c in audited["checks"]]
    assert sorted(gov["checks"]) == sorted(ran)
    assert gov["nist_ai_rmf"]["MEASURE 2.3"]["checks"] == ["evaluation.performance"]
    assert gov["frameworks"]["nist_ai_rmf"]["document"].startswith("NIST AI 100-1")
