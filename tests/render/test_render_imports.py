"""Rebuilding the outputs from a report.json loads no check code (issue #15 item 2).

The renderers read some checks' details as typed objects; those types live in
``assay.details`` (standard library and ``assay.core.details`` only), so ``assay report``
does not import SciPy, scikit-learn or any check module. Run in a fresh interpreter: the
test process has imported all of them already.

Fixtures: ``tests/fixtures/demo_golden_report.json`` (the demo), the renderer samples
(``report_samples``) and
``fixtures/clustering_report.json`` (``assay demo --task clustering`` on the bundled UCI
Adult data, five checks kept, the cluster map cut to 60 points).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, sys
from pathlib import Path
from assay.core.audit_result import write_outputs
from assay.render.summary import render_summary
from tests.render.report_samples import build_report

out = Path(sys.argv[1])
reports = {
    "demo": json.loads(Path("tests/fixtures/demo_golden_report.json").read_text()),
    "samples": build_report(hostile=False),
    "clustering": json.loads(Path("tests/render/fixtures/clustering_report.json").read_text()),
}
for name, report in reports.items():
    write_outputs(report, out / name, include_json=False)
    render_summary(report)
print(json.dumps(sorted(sys.modules)))
"""

CHECK_AREAS = {
    "data",
    "drift",
    "efficiency",
    "evaluation",
    "fairness",
    "monitoring",
    "security",
    "unsupervised",
}


def test_rendering_a_report_imports_no_check_code(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    modules = set(json.loads(proc.stdout.splitlines()[-1]))

    heavy = sorted(m for m in modules if m.split(".")[0] in ("scipy", "sklearn"))
    assert heavy == [], f"rendering imported {heavy[:5]}"
    checks = sorted(m for m in modules if _is_check(m))
    assert checks == [], f"rendering imported check modules {checks}"

    # The typed readers did run (the test would pass vacuously otherwise).
    for typed in ("assay.details.data", "assay.details.evaluation", "assay.details.security"):
        assert typed in modules
    assert "assay.details.unsupervised" in modules
    html = (tmp_path / "clustering" / "report.html").read_text(encoding="utf-8")
    assert "Clustering at a glance" in html
    datasheet = (tmp_path / "clustering" / "datasheet.md").read_text(encoding="utf-8")
    assert "Up to 500 distinct candidate values" in datasheet  # PiiDetails.sample
    datasheet = (tmp_path / "demo" / "datasheet.md").read_text(encoding="utf-8")
    assert "| income | categorical | target |" in datasheet  # IntegrityDetails.columns
    assert "share of train (rows)" in datasheet  # RepresentativenessDetails.class_balance


def _is_check(module: str) -> bool:
    parts = module.split(".")
    return len(parts) >= 2 and parts[0] == "assay" and parts[1] in CHECK_AREAS
