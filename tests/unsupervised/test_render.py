"""The report's clustering / anomaly overview: drawn from report.json only, escaped,
absent for supervised tasks, and never broken by odd fields."""

from __future__ import annotations

from assay.render._unsupervised import unsupervised_section
from assay.render.html import render_html


def _report(task, checks):
    return {"inputs": {"schema": {"task": task}}, "checks": checks}


SIZES = {
    "id": "clustering.sizes",
    "status": "pass",
    "metrics": {"n_clusters": 2, "rows": 10},
    "details": {
        "projection": {
            "x": [0.0, 1.0, 2.0],
            "y": [1.0, 0.5, None],
            "cluster": ["<b>a</b>", "-1", "<b>a</b>"],
            "explained": [0.6, 0.3],
        }
    },
}


def test_map_escapes_cluster_names_and_skips_missing_points():
    html = unsupervised_section(_report("clustering", [SIZES]))
    assert "<b>a</b>" not in html and "cluster &lt;b&gt;a&lt;/b&gt;" in html
    assert html.count("<circle") == 2 + 2  # two drawable points, two legend dots
    assert "2 clusters over 10 rows" in html


def test_supervised_reports_have_no_section():
    assert unsupervised_section(_report("binary", [SIZES])) == ""
    assert "at a glance" not in render_html(_report("binary", []))


def test_odd_fields_drop_parts_not_the_report():
    odd = {"id": "clustering.sizes", "status": "pass", "metrics": "x", "details": {"projection": 3}}
    html = render_html(_report("clustering", [odd]))
    assert "Clustering at a glance" in html
