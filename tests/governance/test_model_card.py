"""The model card copies every number from the report and asks the owner the rest."""

from __future__ import annotations

import re

import pytest

from assay.core.audit_result import write_outputs
from assay.errors import ConfigError
from assay.governance import owner_fields, read_owner_fields
from assay.render.model_card import QUESTION, num, render_model_card

SECTIONS = (
    "## Model details",
    "## Intended use",
    "## Factors",
    "## Metrics",
    "## Evaluation data",
    "## Training data",
    "## Quantitative analyses",
    "## Ethical considerations",
    "## Caveats and recommendations",
)


def _metric_rows(card: str) -> dict[str, list[str]]:
    """The Metrics table: metric id -> [test, interval, training] cells."""
    section = card.split("## Metrics", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[1].startswith("`"):
            rows[cells[1].strip("`")] = cells[2:]
    return rows


def _as_float(cell: str) -> float:
    return float(cell.replace(",", ""))


def test_sections_in_order(report):
    card = render_model_card(report)
    positions = [card.index(s) for s in SECTIONS]
    assert positions == sorted(positions)


def test_card_numbers_equal_the_reports(audited):
    card = render_model_card(audited)
    perf = next(c for c in audited["checks"] if c["id"] == "evaluation.performance")
    metrics = perf["metrics"]
    rows = _metric_rows(card)
    point = [k for k in metrics if not k.endswith(("_low", "_high")) and not k.startswith("train_")]
    assert point and sorted(rows) == sorted(point)
    for k in point:
        test, interval, training = rows[k]
        assert _as_float(test) == pytest.approx(metrics[k], abs=5e-5), k
        low, high = (_as_float(x) for x in interval.split(" – "))
        assert low == pytest.approx(metrics[f"{k}_low"], abs=5e-5), k
        assert high == pytest.approx(metrics[f"{k}_high"], abs=5e-5), k
        assert _as_float(training) == pytest.approx(metrics[f"train_{k}"], abs=5e-5), k
    test_rows = audited["inputs"]["test"]["rows"]
    assert f"{test_rows:,} rows × {audited['inputs']['test']['columns']} columns" in card
    fp = audited["inputs"]["test"]["fingerprint"]
    assert fp in card
    settings = audited["settings"]
    assert f"({settings['n_bootstrap']} resamples, seed {settings['seed']})" in card


def test_owner_questions_are_marked(report):
    card = render_model_card(report)
    for label in ("Primary intended uses", "Out-of-scope uses", "Owners", "Licence"):
        assert re.search(rf"- \*\*{label}:\*\* {re.escape(QUESTION)} \S", card), label
    owner = {
        "intended_use": "Rank loan files for review.",
        "out_of_scope_uses": ["Automatic rejection"],
        "owners": "Risk team",
        "license": "Proprietary",
    }
    filled = render_model_card(report, owner)
    assert "- **Primary intended uses:** Rank loan files for review." in filled
    assert "- **Out-of-scope uses:** Automatic rejection" in filled
    assert "- **Owners:** Risk team" in filled and "- **Licence:** Proprietary" in filled
    assert filled.count(QUESTION) == card.count(QUESTION) - 4


def test_owner_fields_from_the_report_and_from_yaml(report, tmp_path):
    report["extra"]["governance"]["owner"] = {"licence": "MIT", "name": "Scorer"}
    card = render_model_card(report)
    assert card.startswith("# Model card: Scorer") and "- **Licence:** MIT" in card
    cfg = tmp_path / "assay.yaml"
    cfg.write_text("target: y\nmodel_card:\n  owners: [Team A, Team B]\n  licence: MIT\n")
    assert read_owner_fields(cfg) == {"owners": ["Team A", "Team B"], "licence": "MIT"}
    cfg.write_text("target: y\nmodel_card:\n  intended_uze: typo\n")
    with pytest.raises(ConfigError, match="intended_uze"):
        read_owner_fields(cfg)
    with pytest.raises(ConfigError, match="must be text"):
        owner_fields({"owners": {"a": 1}})


def test_disaggregated_results_and_plan(report):
    card = render_model_card(report)
    section = card.split("### Disaggregated results", 1)[1].split("\n## ", 1)[0]
    assert "| `colour=a` | 500 | 0.4000 (0.3500 – 0.4500) |" in section
    assert "| `colour=b` | 400 | 0.2800 (0.2400 – 0.3300) |" in section
    assert "Group b is selected less often." in section
    caveats = card.split("## Caveats and recommendations", 1)[1]
    first = caveats.index("`data.target_leakage`")
    assert first < caveats.index("`evaluation.calibration`") < caveats.index("`data.integrity`")
    assert "`drift.features`: Skipped" in caveats  # what was not evaluated is said


def test_hostile_strings_cannot_break_the_card(report):
    report["checks"][0]["summary"] = "<script>alert(1)</script> | col | `x`"
    report["inputs"]["schema"]["features"] = ["a|b", "c`d"]
    card = render_model_card(report, {"caveats": "<img src=x onerror=alert(1)>"})
    assert "<script>" not in card and "<img" not in card
    assert "&lt;script>alert(1)&lt;/script> \\| col \\|" in card
    assert "``c`d``" in card and "`a\\|b`" in card


def test_number_format():
    assert num(0.912345) == "0.9123" and num(12345) == "12,345" and num(None) == "—"
    assert num(1234.56) == "1,234.6" and num(True) == "yes"


def test_card_is_written_with_the_outputs(report, tmp_path):
    paths = write_outputs(report, tmp_path)
    assert paths["model_card.md"].read_text(encoding="utf-8") == render_model_card(report)


def test_card_of_an_odd_report_does_not_raise():
    card = render_model_card(
        {"checks": [None, {"id": 3}], "inputs": "x", "extra": {"governance": {"owner": {"bad": 1}}}}
    )
    assert card.startswith("# Model card: the audited model")
