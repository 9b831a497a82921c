"""Renderers: report.json is the source of truth; HTML and JUnit are rebuilt from it.

Every renderer takes an :class:`~assay.AuditResult` (or the content of ``report.json``,
a report dict) and nothing else: none computes a metric. :data:`RENDERERS` names the
file each one writes; :func:`assay.core.audit_result.write_outputs` writes them all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from assay.render.charts import render_chart
from assay.render.datasheet import render_datasheet
from assay.render.html import render_html
from assay.render.junit import render_junit
from assay.render.model_card import render_model_card
from assay.render.summary import render_summary

if TYPE_CHECKING:
    from assay.core.audit_result import AuditResult

__all__ = ["RENDERERS", "render_chart", "render_html", "render_junit", "render_summary"]

RENDERERS: dict[str, Callable[[AuditResult | Mapping[str, Any]], str]] = {
    "report.html": render_html,
    "junit.xml": render_junit,
    "model_card.md": render_model_card,
    "datasheet.md": render_datasheet,
}
"""Each output file written next to ``report.json``, and the renderer that writes it (in
the order they are written)."""
