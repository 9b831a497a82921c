"""A short Markdown summary of an audit for a CI job page or a pull-request comment.

Rebuilt from ``report.json`` alone (``assay report REPORT --format summary``):
the gate's verdict, the headline metric with its interval, the counts of
failed, warning and unrunnable checks, and the first next steps of the
remediation plan (:func:`assay.governance.remediation_plan`) with the command
that re-runs each. It stays short (at most :data:`MAX_STEPS` steps, each text
cut to :data:`MAX_TEXT` characters) so it fits GitHub's job summary and a
comment; the full detail is in ``report.html``.

Every string from the report goes through :func:`markdown_text` or
:func:`markdown_code`, so a hostile column name or summary renders as the
characters it holds, never as links, images or HTML.

Example
-------
>>> report = {"checks": [{"id": "data.integrity", "status": "fail", "title": "Integrity",
...     "summary": "Column **x** is constant."}], "gate": {"fail_on": "fail", "failed": True}}
>>> print(render_summary(report).splitlines()[0])
### ❌ Assay audit: quality gate failed
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from assay.render._escape import markdown_code, markdown_text
from assay.render._format import fmt_number, humanize, plural, shorten
from assay.render._report import Report, count_statuses, gate_failed, plan_input, read_report

if TYPE_CHECKING:
    from assay.core.audit_result import AuditResult

__all__ = ["MAX_STEPS", "MAX_TEXT", "render_summary"]

MAX_STEPS = 3
"""Next steps listed in the summary (the rest are counted, and in report.html)."""
MAX_TEXT = 300
"""Characters of one summary or recommendation in the summary."""

_HEADLINE_FALLBACK = ("roc_auc", "balanced_accuracy", "r2", "accuracy")
_STATUS_WORD = {"fail": "fail", "error": "could not run", "warn": "warning"}


def _headline(audit: Report) -> str | None:
    """``ROC-AUC **0.842** (95% interval 0.810–0.876) on 300 test rows``, or ``None``."""
    perf = next((c for c in audit.checks if c.id == "evaluation.performance"), None)
    if perf is None or perf.status in ("skipped", "error"):
        return None
    from assay.details.evaluation import PerformanceDetails

    metrics = perf.metrics
    details = perf.details_as(PerformanceDetails)
    key: str | None = details.main_metric
    if not key or metrics.get(key) is None:
        # older reports name no headline metric: the one the checks judge by
        key = next((k for k in _HEADLINE_FALLBACK if metrics.get(k) is not None), None)
        if key is None:
            return None
    label = details.metric_labels.get(key) or humanize(key)
    text = f"{markdown_text(label)} **{fmt_number(metrics[key])}**"
    low, high = metrics.get(f"{key}_low"), metrics.get(f"{key}_high")
    if low is not None and high is not None:
        conf = audit.settings.get("confidence")
        level = f"{conf * 100:g}% " if isinstance(conf, float) and 0 < conf < 1 else ""
        text += f" ({level}interval {fmt_number(low)}–{fmt_number(high)})"
    test = audit.inputs.get("test")
    rows = test.get("rows") if isinstance(test, Mapping) else None
    if isinstance(rows, int) and not isinstance(rows, bool):
        text += f" on {plural(rows, 'test row')}"
    return text


def _counts_line(counts: Mapping[str, int]) -> str:
    parts = [
        f"**{counts['fail']:,}** failed",
        f"**{counts['warn']:,}** {'warning' if counts['warn'] == 1 else 'warnings'}",
    ]
    if counts["error"]:
        parts.append(f"**{counts['error']:,}** could not run")
    if counts["unknown"]:
        parts.append(f"**{counts['unknown']:,}** unknown")
    parts.append(f"{counts['pass']:,} passed")
    if counts["skipped"]:
        parts.append(f"{counts['skipped']:,} skipped")
    return ", ".join(parts)


def _step(n: int, s: Mapping[str, Any]) -> list[str]:
    word = _STATUS_WORD.get(s["status"], s["status"])
    said = markdown_text(shorten(s["summary"], MAX_TEXT))
    lines = [
        f"{n}. **{markdown_text(shorten(s['title'], 120))}** "
        f"({markdown_code(s['check_id'])}, {word}): {said}"
    ]
    if s.get("recommendation"):
        todo = markdown_text(shorten(s["recommendation"], MAX_TEXT))
        lines.append(f"   - What to do: {todo}")
    lines.append(f"   - Run it again: {markdown_code(s['rerun'], limit=None)}")
    return lines


def render_summary(report: AuditResult | Mapping[str, Any], *, max_steps: int = MAX_STEPS) -> str:
    """The Markdown summary of ``report`` (an audit or a ``report.json`` dict); never raises on
    bad fields."""
    from assay.governance._plan import remediation_plan

    audit = read_report(report)
    checks = audit.checks
    counts = count_statuses(checks)
    failed, fail_on = gate_failed(audit), audit.fail_on
    icon, word = ("❌", "failed") if failed else ("✅", "passed")
    rule = "a failed check or a warning" if fail_on == "warn" else "a failed check"
    lines = [
        f"### {icon} Assay audit: quality gate {word}",
        "",
        f"{_counts_line(counts)} of {plural(len(checks), 'check')} "
        f"(the gate fails on {rule}, or a check that could not run).",
    ]
    headline = _headline(audit)
    if headline:
        lines += ["", f"Headline metric: {headline}."]
    plan = remediation_plan(plan_input(audit))
    if plan:
        lines += ["", "**Next steps**, most important first:", ""]
        for n, s in enumerate(plan[:max_steps], 1):
            lines += _step(n, s)
        if len(plan) > max_steps:
            lines += ["", f"_and {plural(len(plan) - max_steps, 'more step')} in report.html._"]
    else:
        lines += ["", "Nothing to fix: every check passed or did not apply."]
    version, created = audit.assay_version, audit.created_at
    if version and created:
        lines += ["", f"<sub>Assay {markdown_text(version)} · {markdown_text(created)}</sub>"]
    return "\n".join(lines) + "\n"
