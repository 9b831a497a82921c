"""JUnit XML for CI pages: one test case per check, rebuilt from ``report.json``.

A ``fail`` check is a ``<failure>``, an ``error`` check an ``<error>``, a
``skipped`` check ``<skipped>``; a ``warn`` check passes unless the gate fails
on warnings, in which case it is a ``<failure type="warn">``. The text of a
failure lists the check's findings (capped) and what to do, so the CI page is
useful without opening the HTML report.

Every text and attribute value is written through :func:`xml_text` and
:func:`xml_attr` (XML 1.0 illegal characters dropped, markup escaped).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assay.render._escape import xml_attr, xml_text
from assay.render._format import fmt_number, shorten
from assay.render._report import UNKNOWN, read_report

if TYPE_CHECKING:
    from assay.core.audit_result import AuditResult
    from assay.core.result import CheckResult, Finding

__all__ = ["render_junit"]

MAX_FINDINGS = 50  # findings listed in one failure's text
MAX_MESSAGE = 1000  # characters of a failure's message attribute
MAX_ATTRIBUTE = 4000
"""Characters of any other attribute value (default 4,000); longer ones end with ``…``."""


@dataclass
class _Node:
    """One XML element; its text and attribute values are raw and escaped on writing."""

    tag: str
    attrs: dict[str, Any] = field(default_factory=dict)
    text: str | None = None
    children: list[_Node] = field(default_factory=list)

    def add(self, tag: str, attrs: dict[str, Any] | None = None, text: str | None = None) -> _Node:
        child = _Node(tag, attrs or {}, text)
        self.children.append(child)
        return child

    def lines(self, depth: int = 0) -> list[str]:
        """The element indented by two spaces a level, every value through the XML escapers."""
        pad = "  " * depth
        attrs = "".join(
            f' {k}="{xml_attr(v, MAX_ATTRIBUTE)}"' for k, v in self.attrs.items() if v is not None
        )
        if self.children:
            inner = [line for c in self.children for line in c.lines(depth + 1)]
            return [f"{pad}<{self.tag}{attrs}>", *inner, f"{pad}</{self.tag}>"]
        if self.text:
            return [f"{pad}<{self.tag}{attrs}>{xml_text(self.text)}</{self.tag}>"]
        return [f"{pad}<{self.tag}{attrs} />"]


def _finding_line(f: Finding) -> str:
    about = []
    if f.column is not None:
        about.append(f"column={f.column}")
    cols = f.columns or ()
    if cols:
        about.append("columns=" + ",".join(cols[:10]) + (",…" if len(cols) > 10 else ""))
    if f.group is not None:
        about.append(f"group={f.group}")
    rows = f.rows or ()
    if rows:
        shown = ",".join(str(r) for r in rows[:10])
        about.append(f"rows={shown}" + (f" (+{len(rows) - 10:,} more)" if len(rows) > 10 else ""))
    if f.split is not None:
        about.append(f"split={f.split}")
    numbers = ", ".join(f"{k}={fmt_number(v)}" for k, v in list(f.metrics.items())[:8])
    line = f"- [{f.status}] "
    line += f"({'; '.join(about)}) " if about else ""
    line += f.message
    return line + (f" [{numbers}]" if numbers else "")


def _body(c: CheckResult) -> str:
    """The failure text: summary, findings (capped) and the recommendation."""
    lines = [c.summary]
    findings = c.findings
    if findings:
        lines += ["", f"Findings ({len(findings):,}):"]
        lines += [_finding_line(f) for f in findings[:MAX_FINDINGS]]
        if len(findings) > MAX_FINDINGS:
            lines.append(f"... and {len(findings) - MAX_FINDINGS:,} more in report.json")
    if c.metrics:
        numbers = ", ".join(f"{k}={fmt_number(v)}" for k, v in list(c.metrics.items())[:40])
        lines += ["", "Metrics: " + numbers]
    exception, where = c.details.get("exception"), c.details.get("where")
    if exception or where:
        lines += ["", f"Exception: {exception or ''} at {where or ''}"]
    if c.recommendation:
        lines += ["", f"What to do: {c.recommendation}"]
    return "\n".join(lines)


def _duration(value: float | None) -> str:
    return f"{max(float(value), 0.0):.3f}" if value is not None else "0.000"


def render_junit(report: AuditResult | Mapping[str, Any], *, fail_on: str | None = None) -> str:
    """Render an audit (or a report dict) as JUnit XML (one ``<testsuite name="assay">``).

    Parameters
    ----------
    report
        An :class:`~assay.AuditResult`, its ``to_dict()``, or ``report.json`` loaded.
    fail_on
        ``"fail"`` or ``"warn"``: whether warnings are failures. Defaults to
        the report's own gate (``report["gate"]["fail_on"]``), else ``"fail"``.

    Returns
    -------
    str
        An XML document, UTF-8, with correct ``tests``/``failures``/``errors``/
        ``skipped`` counts on both ``<testsuites>`` and ``<testsuite>``.

    Examples
    --------
    >>> xml = render_junit({"checks": [{"id": "data.integrity", "area": "data",
    ...                                 "status": "warn", "summary": "Some missing."}]},
    ...                    fail_on="warn")
    >>> 'failures="1"' in xml and 'type="warn"' in xml
    True
    """
    audit = read_report(report)
    level = fail_on or audit.fail_on
    warn_fails = level == "warn"

    suite = _Node("testsuite", {"name": "assay"})
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    cases = []
    for c in audit.checks:
        status = c.status
        time = _duration(c.duration_s)
        total_time += float(time)
        case = _Node(
            "testcase",
            {
                "classname": f"assay.{c.area or 'other'}",
                "name": c.id or c.title or "unnamed",
                "time": time,
            },
        )
        cases.append(case)
        message = shorten(c.summary or status, MAX_MESSAGE)
        counts["tests"] += 1
        if status == "fail" or (status == "warn" and warn_fails):
            counts["failures"] += 1
            case.add("failure", {"message": message, "type": status}, _body(c))
        elif status in ("error", UNKNOWN):
            counts["errors"] += 1
            case.add("error", {"message": message, "type": status}, _body(c))
        elif status == "skipped":
            counts["skipped"] += 1
            case.add("skipped", {"message": message})
        elif status == "warn":
            case.add("system-out", None, "Warning (does not fail the gate): " + _body(c))

    attrs: dict[str, Any] = {k: str(v) for k, v in counts.items()}
    attrs["time"] = f"{total_time:.3f}"
    suite.attrs.update(attrs)
    if audit.created_at:
        suite.attrs["timestamp"] = shorten(audit.created_at, 64)
    props = _Node("properties")
    for key, value in (
        ("assay_version", audit.assay_version or None),
        ("fail_on", level),
        ("seed", audit.settings.get("seed")),
    ):
        if value is not None:
            props.add("property", {"name": key, "value": shorten(value, 200)})
    suite.children = ([props] if props.children else []) + cases
    root = _Node("testsuites", {"name": "assay", **attrs}, children=[suite])
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + "\n".join(root.lines()) + "\n"
