"""write_outputs (issue #15 item 2): report.json parsed once into an AuditResult, every
renderer of the one table (``assay.render.RENDERERS``) given that object, and the files the
same bytes as rendering the report dict directly.

Fixtures: the demo's golden report (``tests/fixtures/demo_golden_report.json``, without
``created_at`` and ``assay_version``) and ``fixtures/clustering_report.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay.core.audit_result import AuditResult, write_outputs
from assay.details.unsupervised import ClusterSizesDetails
from assay.render import RENDERERS

HERE = Path(__file__).parent
REPORTS = {
    "demo": HERE.parent / "fixtures" / "demo_golden_report.json",
    "clustering": HERE / "fixtures" / "clustering_report.json",
}


def _load(name: str) -> dict:
    return json.loads(REPORTS[name].read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_typed_outputs_are_the_bytes_of_the_dict_renderings(name, tmp_path):
    report = _load(name)
    written = write_outputs(AuditResult.from_dict(report), tmp_path)
    assert set(written) == {"report.json", *RENDERERS}
    for file, render in RENDERERS.items():
        assert written[file].read_text(encoding="utf-8") == render(report), file


def test_a_report_dict_is_parsed_once_and_each_renderer_gets_the_audit(tmp_path, monkeypatch):
    report = _load("clustering")
    parses = []
    real = AuditResult.from_dict.__func__  # type: ignore[attr-defined]

    def counting(cls, d):
        parses.append(d)
        return real(cls, d)

    monkeypatch.setattr(AuditResult, "from_dict", classmethod(counting))
    seen = []
    monkeypatch.setitem(RENDERERS, "checks.txt", lambda r: seen.append(r) or f"{len(r.checks)}")
    written = write_outputs(report, tmp_path)

    assert len(parses) == 1
    assert len(seen) == 1 and isinstance(seen[0], AuditResult)
    assert seen[0].check("clustering.sizes").details_as(ClusterSizesDetails).sizes
    assert written["checks.txt"].read_text() == str(len(report["checks"]))
    # report.json is the dict as given, byte for byte.
    assert written["report.json"].read_text(encoding="utf-8") == json.dumps(
        report, indent=2, ensure_ascii=False
    )


def test_an_audit_writes_its_own_json(tmp_path):
    result = AuditResult.from_dict(_load("clustering"))
    written = write_outputs(result, tmp_path, include_json=True)
    assert written["report.json"].read_text(encoding="utf-8") == result.to_json()
    assert "report.json" not in write_outputs(result, tmp_path / "again", include_json=False)


def test_a_trimmed_report_round_trips_without_invented_stamps():
    report = _load("demo")
    assert "created_at" not in report and "assay_version" not in report
    again = AuditResult.from_dict(report).to_dict()
    assert "created_at" not in again and "assay_version" not in again
    full = _load("clustering")
    assert AuditResult.from_dict(full).to_dict()["created_at"] == full["created_at"]


def test_a_hand_edited_report_still_renders(tmp_path):
    report = _load("clustering")
    del report["checks"][0]["severity"]  # refused by the typed parse
    written = write_outputs(report, tmp_path, include_json=False)
    html = written["report.html"].read_text(encoding="utf-8")
    assert "Clustering at a glance" in html
