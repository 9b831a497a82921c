"""The report's overview for clustering and anomaly audits: one headline sentence
and the charts a reader needs first (cluster sizes, stability per cluster, a
2-D map of a sample coloured by cluster; for anomalies, the flagged share).

Like every renderer it reads the report only: the sentence is assembled from
the checks' own metrics, the map's points are the ones ``clustering.sizes``
stored (``details.projection``). Every string is escaped; an odd or missing
field drops its part of the section, never the report.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from assay.render._escape import html_attr, html_text
from assay.render._format import fmt_number, fmt_percent
from assay.render._report import Report, charts_of, read_report
from assay.render.charts import _f, _scale, _svg, _text, _ticks, render_chart

if TYPE_CHECKING:
    from assay.core.result import CheckResult
    from assay.details.unsupervised import Projection

__all__ = ["unsupervised_headline", "unsupervised_section"]

# Fixed, colour-blind-friendly palette (Okabe-Ito); never taken from the report.
_PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000")
_NOISE_COLOUR = "#b8b8b8"
_MAX_POINTS = 600
_MAX_LEGEND = 12


def _by_id(checks: Iterable[CheckResult]) -> dict[str, CheckResult]:
    return {c.id: c for c in checks if c.status not in ("skipped", "error")}


def _m(check: CheckResult | None, key: str) -> float | None:
    v = None if check is None else check.metrics.get(key)
    return None if v is None else float(v)


def _first_chart(check: CheckResult) -> str:
    return render_chart(next(iter(charts_of(check)), None))


def _scatter(proj: Projection) -> str:
    """The PCA map (``clustering.sizes``' typed ``projection``) as an inline SVG figure
    (``""`` when there is nothing to draw)."""
    xs = list(proj.x)[:_MAX_POINTS]
    ys = list(proj.y)[:_MAX_POINTS]
    cl = [str(v) for v in proj.cluster][:_MAX_POINTS]
    pts = [
        (x, y, c) for x, y, c in zip(xs, ys, cl, strict=False) if x is not None and y is not None
    ]
    if len(pts) < 2:
        return ""
    names = sorted({c for _, _, c in pts}, key=lambda s: (s == "-1", len(s), s))
    colour = {
        c: _NOISE_COLOUR if c == "-1" else _PALETTE[i % len(_PALETTE)] for i, c in enumerate(names)
    }
    lo_x, hi_x, _, tx = _ticks(min(p[0] for p in pts), max(p[0] for p in pts))
    lo_y, hi_y, _, ty = _ticks(min(p[1] for p in pts), max(p[1] for p in pts))
    x0, x1, y0, y1 = 40.0, 330.0, 12.0, 262.0
    sx, sy = _scale(lo_x, hi_x, x0, x1), _scale(lo_y, hi_y, y1, y0)
    body = [
        f'<rect x="{_f(x0)}" y="{_f(y0)}" width="{_f(x1 - x0)}" height="{_f(y1 - y0)}" '
        'fill="none" stroke="#d0d4da"/>'
    ]
    for t in tx:
        body.append(_text(sx(t), y1 + 14, f"{t:g}", "ay-tick", "middle"))
    for t in ty:
        body.append(_text(x0 - 5, sy(t) + 4, f"{t:g}", "ay-tick", "end"))
    for x, y, c in pts:
        body.append(
            f'<circle cx="{_f(sx(x))}" cy="{_f(sy(y))}" r="2.6" fill="{colour[c]}" '
            'fill-opacity="0.75"/>'
        )
    explained = list(proj.explained)
    ex = [fmt_percent(float(v)) if v is not None else "?" for v in explained[:2]] + ["?", "?"]
    body.append(
        _text(
            (x0 + x1) / 2, y1 + 32, f"component 1 ({ex[0]} of variance)", "ay-axis-label", "middle"
        )
    )
    mid = (y0 + y1) / 2
    body.append(
        f'<text class="ay-axis-label" text-anchor="middle" x="11" y="{_f(mid)}" '
        f'transform="rotate(-90 11 {_f(mid)})">{html_text(f"component 2 ({ex[1]})")}</text>'
    )
    for i, c in enumerate(names[:_MAX_LEGEND]):
        y = 20 + i * 18
        body.append(f'<circle cx="{_f(x1 + 22)}" cy="{_f(y - 4)}" r="5" fill="{colour[c]}"/>')
        label = "noise" if c == "-1" else f"cluster {c}"
        body.append(_text(x1 + 32, y, label[:24], "ay-legend"))
    svg = _svg(x1 + 140, y1 + 42, "map of a sample of rows, coloured by cluster", body)
    cap = "Map of a sample of rows (principal components), coloured by cluster"
    return (
        f'<figure class="ay-chart"><figcaption>{html_text(cap)}</figcaption>'
        f'<div class="ay-chart-box">{svg}</div></figure>'
    )


def _clustering(by_id: dict[str, CheckResult]) -> tuple[str, list[str]]:
    q, s = by_id.get("clustering.quality"), by_id.get("clustering.stability")
    z, d = by_id.get("clustering.sizes"), by_id.get("clustering.drift")
    parts = []
    k = _m(z, "n_clusters") or _m(q, "n_clusters") or _m(s, "n_clusters")
    rows = _m(z, "rows")
    if k is not None:
        parts.append(f"{int(k):,} clusters" + (f" over {int(rows):,} rows" if rows else ""))
    sil, null = _m(q, "silhouette"), _m(q, "silhouette_null")
    if q is not None and sil is not None and null is not None:  # sil is None when q is
        verdict = {"pass": "clearly better than", "warn": "only slightly better than"}.get(
            q.status,
            "no better than",
        )
        parts.append(
            f"silhouette {fmt_number(sil)} against {fmt_number(null)} on shuffled data "
            f"({verdict} chance)"
        )
    unstable, n = _m(s, "unstable_clusters"), _m(s, "n_clusters")
    if unstable is not None and n is not None:
        parts.append(
            "every cluster comes back when refitted"
            if unstable == 0
            else f"{int(unstable):,} of {int(n):,} clusters do not come back when refitted"
        )
    if d is not None:
        parts.append("no cluster drift" if d.status == "pass" else "the clusters have drifted")
    charts = []
    if z is not None:
        from assay.details.unsupervised import ClusterSizesDetails

        det = z.details_as(ClusterSizesDetails)
        charts.append(render_chart(next(iter(det.charts), None)))
        charts.append(_scatter(det.projection))
    if s is not None:
        charts.append(_first_chart(s))
    return "; ".join(parts), charts


def _anomaly(by_id: dict[str, CheckResult]) -> tuple[str, list[str]]:
    r, d, t = (
        by_id.get("anomaly.rate"),
        by_id.get("anomaly.rate_drift"),
        by_id.get("anomaly.detection"),
    )
    parts = []
    rate, lo, hi = _m(r, "rate"), _m(r, "rate_low"), _m(r, "rate_high")
    if rate is not None:
        ci = (
            f" (interval {fmt_percent(lo)}–{fmt_percent(hi)})"
            if lo is not None and hi is not None
            else ""
        )
        parts.append(f"the detector flags {fmt_percent(rate)} of rows{ci}")
    cur, ratio = _m(d, "current_rate"), _m(d, "rate_ratio")
    if d is not None and cur is not None and ratio is not None:  # cur is None when d is
        how = "steady" if d.status == "pass" else f"{ratio:.1f} times the reference"
        parts.append(f"{fmt_percent(cur)} of current rows ({how})")
    ap, prev = _m(t, "pr_auc"), _m(t, "prevalence")
    if ap is not None and prev is not None:
        parts.append(f"PR-AUC {fmt_number(ap)} against {fmt_number(prev)} for random flagging")
    charts = [_first_chart(c) for c in (d, t) if c is not None]
    return "; ".join(parts), charts


def _task(audit: Report) -> Any:
    schema = audit.inputs.get("schema")
    return schema.get("task") if isinstance(schema, Mapping) else None


def unsupervised_headline(report: Report | Mapping[str, Any]) -> str:
    """The headline sentence of a clustering or anomaly report (``""`` for other tasks,
    or when no check gave a part of it); the model card prints the same sentence.

    >>> unsupervised_headline({"inputs": {"schema": {"task": "binary"}}, "checks": []})
    ''
    """
    audit = read_report(report)
    task = _task(audit)
    if task not in ("clustering", "anomaly"):
        return ""
    sentence, _ = (_clustering if task == "clustering" else _anomaly)(_by_id(audit.checks))
    return f"{sentence[:1].upper()}{sentence[1:]}." if sentence else ""


def unsupervised_section(report: Report | Mapping[str, Any]) -> str:
    """The overview section of a clustering or anomaly report; ``""`` for other tasks."""
    audit = read_report(report)
    task = _task(audit)
    if task not in ("clustering", "anomaly"):
        return ""
    by_id = _by_id(audit.checks)
    sentence, charts = (_clustering if task == "clustering" else _anomaly)(by_id)
    title = "Clustering at a glance" if task == "clustering" else "Anomaly detection at a glance"
    figures = "".join(c for c in charts if c)
    lede = (
        f'<p class="ay-lede">{html_text(sentence[:1].upper() + sentence[1:])}.</p>'
        if sentence
        else ""
    )
    return (
        f'<section class="ay-section ay-unsupervised" aria-label="{html_attr(title)}">'
        f"<h2>{html_text(title)}</h2>{lede}"
        + (f'<div class="ay-charts">{figures}</div>' if figures else "")
        + "</section>"
    )
