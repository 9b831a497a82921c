"""JUnit XML for CI pages: one test case per check, rebuilt from ``report.json``.

A ``fail`` check is a ``<failure>``, an ``error`` check an ``<error>``, a
``skipped`` check ``<skipped>``; a ``warn`` check passes unless the gate fails
on warnings, in which case it is a ``<failure type="warn">``. The text of a
failure lists the check's findings (capped) and what to do, so the CI page is
useful without opening the HTML report.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from assay.render._format import (
    as_list,
    as_mapping,
    as_number,
    as_str_list,
    clean_text,
    fmt_number,
    shorten,
    status_of,
)

__all__ = ["render_junit"]

MAX_FINDINGS = 50  # findings listed in one failure's text
MAX_MESSAGE = 1000  # characters of a failure's message attribute


def _text(value: Any, limit: int | None = None) -> str:
    """A string safe for XML 1.0 (illegal characters dropped), optionally cut."""
    if value is None:
        return ""
    return shorten(value, limit) if limit else clean_text(value)


def _finding_line(f: Mapping[str, Any]) -> str:
    about = []
    if f.get("column") is not None:
        about.append(f"column={f['column']}")
    cols = as_str_list(f.get("columns"))
    if cols:
        about.append("columns=" + ",".join(cols[:10]) + (",…" if len(cols) > 10 else ""))
    if f.get("group") is not None:
        about.append(f"group={f['group']}")
    rows = as_list(f.get("rows"))
    if rows:
        shown = ",".join(str(r) for r in rows[:10])
        about.append(f"rows={shown}" + (f" (+{len(rows) - 10:,} more)" if len(rows) > 10 else ""))
    if f.get("split") is not None:
        about.append(f"split={f['split']}")
    numbers = ", ".join(
        f"{k}={fmt_number(v)}" for k, v in list(as_mapping(f.get("metrics")).items())[:8]
    )
    line = f"- [{status_of(f.get('status'))}] "
    line += f"({'; '.join(str(a) for a in about)}) " if about else ""
    line += str(f.get("message") or "")
    return line + (f" [{numbers}]" if numbers else "")


def _body(c: Mapping[str, Any]) -> str:
    """The failure text: summary, findings (capped) and the recommendation."""
    lines = [str(c.get("summary") or "")]
    findings = [f for f in as_list(c.get("findings")) if isinstance(f, Mapping)]
    if findings:
        lines += ["", f"Findings ({len(findings):,}):"]
        lines += [_finding_line(f) for f in findings[:MAX_FINDINGS]]
        if len(findings) > MAX_FINDINGS:
            lines.append(f"... and {len(findings) - MAX_FINDINGS:,} more in report.json")
    metrics = as_mapping(c.get("metrics"))
    if metrics:
        lines += [
            "",
            "Metrics: " + ", ".join(f"{k}={fmt_number(v)}" for k, v in list(metrics.items())[:40]),
        ]
    details = as_mapping(c.get("details"))
    if details.get("exception") or details.get("where"):
        lines += ["", f"Exception: {details.get('exception', '')} at {details.get('where', '')}"]
    if c.get("recommendation"):
        lines += ["", f"What to do: {c['recommendation']}"]
    return _text("\n".join(lines))


def _duration(value: Any) -> str:
    d = as_number(value)
    return f"{max(float(d), 0.0):.3f}" if d is not None else "0.000"


def render_junit(report: Mapping[str, Any], *, fail_on: str | None = None) -> str:
    """Render a report dict as JUnit XML (one ``<testsuite name="assay">``).

    Parameters
    ----------
    report
        ``AuditResult.to_dict()``, or ``report.json`` loaded.
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
    report = report if isinstance(report, Mapping) else {}
    level = fail_on or as_mapping(report.get("gate")).get("fail_on") or "fail"
    warn_fails = level == "warn"
    checks = [c for c in as_list(report.get("checks")) if isinstance(c, Mapping)]

    suite = ET.Element("testsuite", {"name": "assay"})
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    for c in checks:
        status = status_of(c.get("status"))
        area = _text(c.get("area") or "other")
        name = _text(c.get("id") or c.get("title") or "unnamed")
        time = _duration(c.get("duration_s"))
        total_time += float(time)
        case = ET.SubElement(
            suite, "testcase", {"classname": f"assay.{area}", "name": name, "time": time}
        )
        message = _text(c.get("summary") or status, MAX_MESSAGE)
        counts["tests"] += 1
        if status == "fail" or (status == "warn" and warn_fails):
            counts["failures"] += 1
            node = ET.SubElement(case, "failure", {"message": message, "type": status})
            node.text = _body(c)
        elif status in ("error", "unknown"):
            counts["errors"] += 1
            node = ET.SubElement(case, "error", {"message": message, "type": status})
            node.text = _body(c)
        elif status == "skipped":
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", {"message": message})
        elif status == "warn":
            out = ET.SubElement(case, "system-out")
            out.text = _text("Warning (does not fail the gate): " + _body(c))

    attrs = {k: str(v) for k, v in counts.items()}
    attrs["time"] = f"{total_time:.3f}"
    for k, v in attrs.items():
        suite.set(k, v)
    created = report.get("created_at")
    if isinstance(created, str) and created:
        suite.set("timestamp", _text(created, 64))
    props = ET.Element("properties")
    for key, value in (
        ("assay_version", report.get("assay_version")),
        ("fail_on", level),
        ("seed", as_mapping(report.get("settings")).get("seed")),
    ):
        if value is not None:
            ET.SubElement(props, "property", {"name": key, "value": _text(value, 200)})
    if len(props):
        suite.insert(0, props)
    root = ET.Element("testsuites", {"name": "assay", **attrs})
    root.append(suite)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
