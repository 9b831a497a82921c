"""The model card read from a real audit, not from a hand-written fixture (#15 item 2):
renaming a details field the card reads (``metric_labels``, ``main_metric`` of
``evaluation.performance``) or the charts' units fails here, where a fixture that
copies the old shape would stay green."""

from __future__ import annotations

import copy

import pytest

from assay.core.audit_result import AuditResult
from assay.evaluation._metrics import METRIC_LABELS
from assay.render.html import render_html
from assay.render.model_card import render_model_card


def _label_cells(card: str) -> dict[str, str]:
    """The Metrics table: metric id -> the label in its first column."""
    section = card.split("## Metrics", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[1].startswith("`"):
            rows[cells[1].strip("`")] = cells[0]
    return rows


def _perf(report):
    return next(c for c in report["checks"] if c["id"] == "evaluation.performance")


def test_card_labels_come_from_the_performance_check(audited):
    perf = _perf(audited)
    assert perf["status"] in ("pass", "warn", "fail")
    labels = _label_cells(render_model_card(audited))
    shown = [k for k in perf["metrics"] if not k.endswith(("_low", "_high")) and k in METRIC_LABELS]
    assert set(shown) <= set(labels) and len(shown) >= 5
    for k in shown:
        assert labels[k] == METRIC_LABELS[k], k
    # labels that differ from the id prove the card read them from the check
    assert labels["roc_auc"] == "ROC-AUC" and labels["f1"] == "F1"


def test_card_names_the_headline_metric(audited):
    main = _perf(audited)["details"]["main_metric"]
    assert main in METRIC_LABELS
    assert f"The headline metric is `{main}`." in render_model_card(audited)


def test_a_renamed_details_field_changes_the_card(audited):
    """What the two tests above guard against: the card falls back to bare ids."""
    renamed = copy.deepcopy(audited)
    details = _perf(renamed)["details"]
    details["labels"] = details.pop("metric_labels")
    labels = _label_cells(render_model_card(renamed))
    assert labels["roc_auc"] == r"roc\_auc"  # the bare id (escaped): a silent rename's card


@pytest.mark.parametrize("render", [render_model_card, render_html])
def test_renderers_take_the_typed_result(audited, render):
    typed = AuditResult.from_dict(audited)
    assert render(typed) == render(audited)
    charts = typed.check("evaluation.performance").charts
    assert charts and all(c.unit for c in charts)
    assert charts[0].to_dict() == _perf(audited)["details"]["charts"][0]
