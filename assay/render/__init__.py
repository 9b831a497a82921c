"""Renderers: report.json is the source of truth; HTML and JUnit are rebuilt from it.

Every renderer takes the report dict (``AuditResult.to_dict()`` or
``report.json`` loaded) and nothing else: none computes a metric.
"""

from assay.render.charts import render_chart
from assay.render.html import render_html
from assay.render.junit import render_junit
from assay.render.summary import render_summary

__all__ = ["render_chart", "render_html", "render_junit", "render_summary"]
