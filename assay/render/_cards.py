"""One check result as an HTML card: badge, plain words, metrics, charts, findings.

Every value from the report is escaped here; nothing is computed, only shown.
Tables are capped (findings at :data:`MAX_FINDINGS`) so that reports stay small.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from assay.render._escape import html_attr, html_text
from assay.render._format import (
    DASH,
    SEVERITY_RANK,
    STATUS_ICON,
    STATUS_LABEL,
    as_list,
    clean_text,
    fmt_number,
    fmt_unit,
    humanize,
    shorten,
    status_of,
)
from assay.render._report import UNKNOWN, charts_of
from assay.render.charts import render_charts

if TYPE_CHECKING:
    from assay.core.charts import Unit
    from assay.core.result import CheckResult, Finding

Number = float | int | None

MAX_FINDINGS = 50  # finding rows per check
FINDINGS_FIRST = 10  # finding rows shown before "Show more"
MAX_ROWS_LISTED = 10  # row positions listed per finding
MAX_COLUMNS_LISTED = 8  # column names listed per finding
MAX_FINDING_NUMBERS = 4  # numbers shown per finding
MAX_MESSAGE = 240  # characters of a finding's message
MAX_METRICS = 40  # metrics per check
MAX_DETAIL_ITEMS = 12  # entries and table rows shown under "Technical details"
MAX_DETAIL_COLS = 6
MAX_TEXT = 300  # characters of any one free-text detail value
MAX_CELL = 80  # characters of a cell in a details table

_PROBLEMS = ("error", "fail", "warn")


def badge(status: Any, *, small: bool = False) -> str:
    """A status badge: colour, icon and the status in words (never colour alone)."""
    s = status_of(status)
    text = STATUS_LABEL.get(s, "Unknown")
    if small:  # the icon comes from CSS, to keep long finding tables light
        return f'<span class="ay-badge ay-badge-sm ay-badge-{s}">{text}</span>'
    icon = STATUS_ICON.get(s, "?")
    return (
        f'<span class="ay-badge ay-badge-{s}">'
        f'<span class="ay-icon" aria-hidden="true">{icon}</span>{text}</span>'
    )


def evidence_label(c: CheckResult) -> str:
    """`` · strong evidence (q < 0.0001)`` for a graded warn or fail, else ``""``;
    graded from the result's own metrics (``CheckResult.evidence``)."""
    evidence = c.evidence
    if evidence is None:
        return ""
    strength, basis = evidence["strength"], evidence["basis"]
    return (
        f' · <span class="ay-strength ay-strength-{strength}" title="how sure: from the '
        f"check's own test\">{strength} evidence ({html_text(basis)})</span>"
    )


def anchor_id(index: int, check_id: Any) -> str:
    """A unique, attribute-safe anchor for the ``index``-th check."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", clean_text(check_id or "check")).strip("-")
    return f"check-{index}-{slug[:60] or 'check'}"


def _para(text: Any) -> str:
    """Free text as paragraphs (blank lines separate them), escaped."""
    if not isinstance(text, str) or not text.strip():
        return ""
    parts = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join(f"<p>{html_text(p)}</p>" for p in parts)


# -- metrics --------------------------------------------------------------------
def _fmt_metric(value: Number, name: str, units: Mapping[str, Unit]) -> str:
    """A metric by its declared unit (the one its check's charts use); a metric
    without one keeps the older rule of :func:`fmt_number` (``share`` in its name)."""
    unit = units.get(name)
    return fmt_unit(value, unit) if unit is not None else fmt_number(value, name)


def _metrics_table(
    metrics: Mapping[str, Number], confidence: float | None, units: Mapping[str, Unit]
) -> str:
    if not metrics:
        return ""
    keys = list(metrics)
    bounds = {
        k: (f"{k}_low", f"{k}_high")
        for k in keys
        if f"{k}_low" in metrics and f"{k}_high" in metrics
    }
    hidden = {b for pair in bounds.values() for b in pair}
    conf = confidence
    ci_name = f"{conf * 100:g}% interval" if conf is not None and 0 < conf < 1 else "interval"
    rows = []
    shown = [k for k in keys if k not in hidden]
    for k in shown[:MAX_METRICS]:
        value = html_text(_fmt_metric(metrics[k], k, units))
        if k in bounds:
            lo, hi = (metrics[b] for b in bounds[k])
            if lo is not None and hi is not None:
                value += (
                    f' <span class="ay-ci-text">{ci_name} {html_text(_fmt_metric(lo, k, units))}'
                    f" – {html_text(_fmt_metric(hi, k, units))}</span>"
                )
        rows.append(
            f'<tr><th scope="row" title="{html_attr(k)}">{html_text(humanize(k))}</th>'
            f"<td>{value}</td></tr>"
        )
    more = len(shown) - MAX_METRICS
    if more > 0:
        rows.append(
            f'<tr><td colspan="2" class="ay-more">and {more:,} more metrics '
            "in report.json</td></tr>"
        )
    return (
        '<div class="ay-block"><h4>Key numbers</h4><table class="ay-metrics"><tbody>'
        + "".join(rows)
        + "</tbody></table></div>"
    )


# -- findings -------------------------------------------------------------------
def _about(f: Finding) -> str:
    """What a finding is about: column(s), group, rows, split."""
    parts = []
    if f.column is not None:
        parts.append(f"<small>column</small> <code>{html_text(f.column)}</code>")
    cols = f.columns or ()
    if cols:
        listed = ", ".join(f"<code>{html_text(c)}</code>" for c in cols[:MAX_COLUMNS_LISTED])
        extra = len(cols) - MAX_COLUMNS_LISTED
        if extra > 0:
            listed += f" and {extra:,} more"
        parts.append(f"<small>columns</small> {listed}")
    if f.group is not None:
        parts.append(f"<small>group</small> <code>{html_text(f.group)}</code>")
    rows = f.rows or ()
    if rows:
        listed = ", ".join(html_text(r) for r in rows[:MAX_ROWS_LISTED])
        extra = len(rows) - MAX_ROWS_LISTED
        if extra > 0:
            listed += f" and {extra:,} more"
        word = "row" if len(rows) == 1 else "rows"
        parts.append(f"<small>{word}</small> {listed}")
    if f.split is not None:
        parts.append(f"<small>in</small> {html_text(f.split)} data")
    return " · ".join(parts) or DASH


def _finding_numbers(metrics: Mapping[str, Number], units: Mapping[str, Unit]) -> str:
    items = list(metrics.items())[:MAX_FINDING_NUMBERS]
    return "<br>".join(
        f"<small>{html_text(humanize(k))}</small> {html_text(_fmt_metric(v, str(k), units))}"
        for k, v in items
    )


def _findings_table(
    findings: tuple[Finding, ...], open_: bool, key: str, units: Mapping[str, Unit]
) -> str:
    """Findings, problems first; the first few shown, the rest behind a CSS-only toggle."""
    if not findings:
        return ""
    order = {"error": 0, "fail": 1, "warn": 2}
    ranked = sorted(findings, key=lambda f: order.get(f.status, 3))
    shown = ranked[:MAX_FINDINGS]
    with_numbers = any(f.metrics for f in shown)
    head = "<th>Status</th><th>About</th><th>Finding</th>" + (
        "<th>Numbers</th>" if with_numbers else ""
    )
    rows = []
    for f in shown:
        cells = [
            badge(f.status, small=True),
            _about(f),
            html_text(shorten(f.message, MAX_MESSAGE)) or DASH,
        ]
        if with_numbers:
            cells.append(_finding_numbers(f.metrics, units))
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    tbody = "<tbody>" + "".join(rows[:FINDINGS_FIRST]) + "</tbody>"
    toggle = label = ""
    if len(rows) > FINDINGS_FIRST:
        tbody += '<tbody class="ay-extra">' + "".join(rows[FINDINGS_FIRST:]) + "</tbody>"
        toggle = f'<input class="ay-toggle" type="checkbox" id="{key}-more">'
        label = (
            f'<label class="ay-toggle-label" for="{key}-more">'
            f'<span class="ay-show">Show {len(rows) - FINDINGS_FIRST:,} more</span>'
            '<span class="ay-hide">Show fewer</span></label>'
        )
    more = len(ranked) - len(shown)
    note = (
        (
            f'<p class="ay-more">{len(shown):,} of {len(ranked):,} findings are shown; '
            "report.json lists them all.</p>"
        )
        if more > 0
        else ""
    )
    return (
        f'<details class="ay-block ay-findings-block"{" open" if open_ else ""}>'
        f'<summary><h4>Findings <span class="ay-count">{len(findings):,}</span></h4></summary>'
        f'{toggle}<div class="ay-table-wrap"><table class="ay-findings"><thead><tr>{head}</tr>'
        f"</thead>{tbody}</table></div>{label}{note}</details>"
    )


# -- technical details ----------------------------------------------------------
def _scalar(v: Any, limit: int = MAX_TEXT) -> str | None:
    if v is None or isinstance(v, (bool, int, float)):
        return fmt_number(v)
    if isinstance(v, str):
        return shorten(v, limit)
    return None


def _detail_value(v: Any) -> str | None:
    s = _scalar(v)
    if s is not None:
        return html_text(s)
    if isinstance(v, Mapping):
        if v and all(isinstance(x, Mapping) for x in v.values()):  # one row per key
            return _detail_table(
                [{"": k, **{str(kk): y for kk, y in x.items()}} for k, x in v.items()]
            )
        pairs = [(k, _scalar(x)) for k, x in list(v.items())[:MAX_DETAIL_ITEMS]]
        if pairs and all(x is not None for _, x in pairs):
            return ", ".join(f"{html_text(k)}: {html_text(x)}" for k, x in pairs) + (
                " …" if len(v) > MAX_DETAIL_ITEMS else ""
            )
        return None
    items = as_list(v)
    if items and all(isinstance(x, Mapping) for x in items):
        return _detail_table(items)
    scalars = [_scalar(x) for x in items[:MAX_DETAIL_ITEMS]]
    if items and all(x is not None for x in scalars):
        extra = len(items) - MAX_DETAIL_ITEMS
        tail = f" and {extra:,} more" if extra > 0 else ""
        return ", ".join(html_text(x) for x in scalars) + tail
    return None


def _detail_table(rows: list[Mapping[str, Any]]) -> str | None:
    cols: list[str] = []
    for r in rows[:MAX_DETAIL_ITEMS]:
        for k in r:
            if str(k) not in cols and len(cols) < MAX_DETAIL_COLS:
                cols.append(str(k))
    if not cols:
        return None
    body = []
    for r in rows[:MAX_DETAIL_ITEMS]:
        cells = [_scalar(r.get(c), MAX_CELL) for c in cols]
        body.append(
            "<tr>"
            + "".join(f"<td>{html_text(c) if c is not None else '…'}</td>" for c in cells)
            + "</tr>"
        )
    extra = len(rows) - MAX_DETAIL_ITEMS
    if extra > 0:
        body.append(
            f'<tr><td colspan="{len(cols)}" class="ay-more">and {extra:,} more '
            "rows in report.json</td></tr>"
        )
    head = "".join(f"<th>{html_text(humanize(c))}</th>" for c in cols)
    return (
        f'<div class="ay-table-wrap"><table class="ay-detail-table"><thead><tr>{head}'
        f"</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _technical(details: Mapping[str, Any]) -> str:
    entries: list[str] = []
    for k, v in details.items():
        if k == "charts":
            continue
        if len(entries) >= MAX_DETAIL_ITEMS:
            entries.append('<div class="ay-more">More details are in report.json.</div>')
            break
        shown = _detail_value(v)
        if shown is None:
            shown = '<span class="ay-muted">(structured data, see report.json)</span>'
        entries.append(f"<dt>{html_text(humanize(k))}</dt><dd>{shown}</dd>")
    if not entries:
        return ""
    return (
        '<details class="ay-block ay-tech"><summary><h4>Technical details</h4></summary>'
        f'<dl class="ay-dl">{"".join(entries)}</dl></details>'
    )


# -- footer: standards and thresholds -------------------------------------------
def _card_footer(c: CheckResult) -> str:
    parts = []
    standards = c.standards
    if standards:
        chips = "".join(f'<span class="ay-chip">{html_text(s)}</span>' for s in standards[:20])
        parts.append(
            f'<div class="ay-standards"><span class="ay-k">NIST AI RMF</span> {chips}</div>'
        )
    th = c.thresholds
    if th:
        items = []
        for k, v in list(th.items())[:MAX_DETAIL_ITEMS]:
            shown = _scalar(v)
            shown = shown if shown is not None else shorten(clean_text(v), 120)
            items.append(f"{html_text(humanize(k))} <b>{html_text(shown)}</b>")
        parts.append('<div class="ay-thresholds">Thresholds: ' + " · ".join(items) + "</div>")
    # As report.json holds it (4 decimals), so `assay report` rebuilds the same page.
    duration = None if c.duration_s is None else round(c.duration_s, 4)
    if duration is not None and c.status != "skipped":
        parts.append(f'<div class="ay-duration">Ran in {html_text(fmt_number(duration))} s</div>')
    return f'<footer class="ay-card-foot">{"".join(parts)}</footer>' if parts else ""


# -- the card -------------------------------------------------------------------
def render_card(c: CheckResult, index: int, confidence: float | None = None) -> str:
    """The HTML card of one check result."""
    status = c.status
    anchor = anchor_id(index, c.id)
    problem = status in _PROBLEMS or status == UNKNOWN
    title = c.title or c.id or "Untitled check"
    severity = c.severity
    meta = f"<code>{html_text(c.id)}</code>"
    if severity:
        klass = f" ay-sev-{severity}" if severity in SEVERITY_RANK else ""
        meta += f' · <span class="ay-sev{klass}">{html_text(severity)} severity</span>'
    meta += evidence_label(c)
    head = (
        f'<header class="ay-card-head">{badge(status)}<h3>{html_text(title)}</h3>'
        f'<div class="ay-meta">{meta}</div></header>'
    )
    summary_html = f'<p class="ay-summary">{html_text(c.summary)}</p>' if c.summary else ""

    explanation = _para(c.explanation)
    todo = _para(c.recommendation)
    charts = render_charts(charts_of(c))
    body = [
        f'<div class="ay-block"><h4>What this means</h4>{explanation}</div>' if explanation else "",
        f'<div class="ay-block ay-todo"><h4>What to do</h4>{todo}</div>' if todo else "",
        _metrics_table(c.metrics, confidence, c.units),
        charts if problem else "",
        _findings_table(c.findings, open_=problem, key=anchor, units=c.units),
        _technical(c.details),
        _card_footer(c),
    ]
    inner = "".join(body)
    if inner and not problem:
        # A passing check keeps its chart in view (a picture of why it passed);
        # the rest folds away.
        inner = (
            (f'<div class="ay-card-body">{charts}</div>' if charts else "")
            + '<details class="ay-more-details"><summary>Show details</summary>'
            f'<div class="ay-card-body">{inner}</div></details>'
        )
    elif inner:
        inner = f'<div class="ay-card-body">{inner}</div>'
    return (
        f'<article class="ay-card ay-card-{status}" id="{anchor}">'
        f"{head}{summary_html}{inner}</article>"
    )
