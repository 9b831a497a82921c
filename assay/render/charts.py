"""Inline SVG charts drawn from the typed charts in ``details["charts"]``.

A check describes a chart as data, one of the types of :mod:`assay.core.charts`
(see ``docs/dev/contracts.md``); this module draws it. Five kinds are known:
``bars``, ``intervals``, ``reliability``, ``distribution`` and ``line`` (series
over ordered points, e.g. windows). Values and ticks are formatted by the chart's
declared unit (a ``share`` as a percentage), never guessed from its labels. An
unknown kind, or a spec with nothing drawable in it, gives an empty string: the
report is rendered without that chart, never broken.

Every string from the spec is HTML-escaped, in text and in attributes alike.
Colours come from CSS classes (``ay-fill-fail`` ...) defined in ``report.css``,
so the charts follow the report's theme and print well.

Examples
--------
>>> svg = render_chart({"kind": "bars", "title": "Missing", "x_label": "share", "unit": "share",
...                     "items": [{"label": "age", "value": 0.3, "status": "fail"}]})
>>> svg.startswith('<figure class="ay-chart">') and "<svg" in svg
True
>>> render_chart({"kind": "pie"})
''
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from assay.core.charts import (
    BarChart,
    Chart,
    DistributionChart,
    IntervalChart,
    LineChart,
    ReliabilityChart,
    chart_from_dict,
)
from assay.render._escape import html_attr, html_text
from assay.render._format import (
    as_list,
    fmt_number,
    fmt_tick_unit,
    fmt_unit,
    shorten,
    status_of,
)

__all__ = ["CHART_KINDS", "MAX_ITEMS", "render_chart", "render_charts"]

MAX_ITEMS = 25  # bars / rows drawn per chart; the rest are counted in a note
MAX_CHARTS = 4  # charts drawn per check
MAX_SERIES = 4  # series drawn in a distribution chart

_W = 520  # viewBox width of horizontal charts
_ROW = 22  # row height of bar and interval charts
_CHAR_W = 6.6  # average glyph width at 12px, to size the label column
_STATUS_GLYPH = {"warn": " !", "fail": " ✕", "error": " ⚠"}


# -- scales ---------------------------------------------------------------------
def _ticks(lo: float, hi: float, n: int = 5) -> tuple[float, float, float, list[float]]:
    """A rounded domain covering [lo, hi] with about ``n`` evenly spaced ticks."""
    if not hi > lo:
        lo, hi = (lo - 1, hi + 1) if lo != 0 else (0.0, 1.0)
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if raw <= m * mag * (1 + 1e-9))
    first = math.floor(lo / step + 1e-9)
    last = math.ceil(hi / step - 1e-9)
    ticks = [round(k * step, 12) for k in range(first, last + 1)]
    return ticks[0], ticks[-1], step, ticks


def _scale(lo: float, hi: float, a: float, b: float) -> Callable[[float], float]:
    span = (hi - lo) or 1.0
    return lambda v: a + (v - lo) / span * (b - a)


def _str(value: Any) -> str:
    return "" if value is None else str(value)


def _f(v: float) -> str:
    """Coordinates with one decimal keep the SVG small and the output stable."""
    text = f"{v:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _value_fmt(unit: str) -> Callable[[float], str]:
    return lambda v: fmt_unit(v, unit)


def _tick_fmt(unit: str, step: float) -> Callable[[float], str]:
    return lambda t: fmt_tick_unit(t, step, unit)


def _svg(width: float, height: float, label: str, body: list[str]) -> str:
    return (
        f'<svg class="ay-svg" viewBox="0 0 {_f(width)} {_f(height)}" width="{_f(width)}" '
        f'role="img" aria-label="{html_attr(label)}">' + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, text: str, cls: str = "", anchor: str = "start") -> str:
    klass = f' class="{cls}"' if cls else ""
    anchor_attr = f' text-anchor="{anchor}"' if anchor != "start" else ""
    return f'<text x="{_f(x)}" y="{_f(y)}"{klass}{anchor_attr}>{html_text(text)}</text>'


def _label(x: float, y: float, text: str, max_chars: int) -> str:
    """A right-aligned row label, cut to fit, with the full text as a tooltip."""
    short = shorten(text, max_chars)
    tip = f"<title>{html_text(text)}</title>" if short != text else ""
    return f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="end">{tip}{html_text(short)}</text>'


def _x_axis(
    scale: Callable[[float], float],
    ticks: list[float],
    fmt: Callable[[float], str],
    top: float,
    bottom: float,
    x_label: str,
    x_mid: float,
) -> list[str]:
    out = []
    for t in ticks:
        x = scale(t)
        out.append(
            f'<line class="ay-grid" x1="{_f(x)}" x2="{_f(x)}" y1="{_f(top)}" y2="{_f(bottom)}"/>'
        )
        out.append(_text(x, bottom + 14, fmt(t), "ay-tick", "middle"))
    if x_label:
        out.append(_text(x_mid, bottom + 32, x_label, "ay-axis-label", "middle"))
    return out


def _label_width(labels: list[str]) -> tuple[float, int]:
    longest = max((len(s) for s in labels), default=4)
    max_chars = int(_W * 0.36 / _CHAR_W)
    chars = min(longest, max_chars)
    return max(48.0, chars * _CHAR_W + 6), max_chars


def _more_note(shown: int, total: int) -> str:
    if total <= shown:
        return ""
    return f'<p class="ay-chart-note">Showing the first {shown} of {total:,}.</p>'


# -- kinds ----------------------------------------------------------------------
def _bars(spec: BarChart) -> tuple[str, str]:
    rows = [(b.label, b.value, status_of(b.status)) for b in spec.items if b.value is not None]
    if not rows:
        return "", ""
    total = len(rows)
    rows = rows[:MAX_ITEMS]
    x_label = spec.x_label
    thr = spec.threshold
    values = [v for _, v, _ in rows] + ([thr] if thr is not None else [])
    lo, hi, step, ticks = _ticks(min(0.0, *values), max(0.0, *values))
    label_w, max_chars = _label_width([r[0] for r in rows])
    top = 22 if thr is not None else 6
    bottom = top + len(rows) * _ROW
    x0, x1 = label_w + 8, _W - 64
    sx = _scale(lo, hi, x0, x1)
    fmt = _value_fmt(spec.unit)
    body = _x_axis(sx, ticks, _tick_fmt(spec.unit, step), top, bottom, x_label, (x0 + x1) / 2)
    values_text = []  # drawn last, over the threshold line, with a halo
    for i, (label, v, status) in enumerate(rows):
        yc = top + i * _ROW + _ROW / 2
        a, b = sorted((sx(0.0), sx(v)))
        body.append(_label(label_w, yc + 4, label, max_chars))
        body.append(
            f'<rect class="ay-fill-{status}" x="{_f(a)}" y="{_f(yc - 7)}" '
            f'width="{_f(max(b - a, 1))}" height="14" rx="2"/>'
        )
        glyph = _STATUS_GLYPH.get(status, "")
        values_text.append(_text(max(b, sx(0.0)) + 4, yc + 4, fmt(v) + glyph, "ay-value"))
    if thr is not None:
        tx = sx(thr)
        body.append(
            f'<line class="ay-threshold" x1="{_f(tx)}" x2="{_f(tx)}" y1="{_f(top - 4)}" '
            f'y2="{_f(bottom)}"/>'
        )
        anchor = "end" if tx > (x0 + x1) / 2 else "start"
        body.append(
            _text(
                tx + (-3 if anchor == "end" else 3),
                12,
                f"threshold {fmt(thr)}",
                "ay-threshold-label",
                anchor,
            )
        )
    body += values_text
    svg = _svg(_W, bottom + (40 if x_label else 24), spec.title or "bar chart", body)
    return svg, _more_note(len(rows), total)


def _intervals(spec: IntervalChart) -> tuple[str, str]:
    rows = []
    for item in spec.items:
        v = item.value
        if v is None:
            continue
        low, high = item.low, item.high
        if low is not None and high is not None and low > high:
            low, high = high, low
        rows.append((item.label, v, low, high))
    if not rows:
        return "", ""
    total = len(rows)
    rows = rows[:MAX_ITEMS]
    values = [x for r in rows for x in r[1:] if x is not None]
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.08 or abs(hi) * 0.05 or 0.05
    lo, hi, step, ticks = _ticks(lo - pad, hi + pad)
    label_w, max_chars = _label_width([r[0] for r in rows])
    x0, x1 = label_w + 10, _W - 150
    top, bottom = 6, 6 + len(rows) * _ROW
    sx = _scale(lo, hi, x0, x1)
    x_label = spec.x_label
    fmt = _value_fmt(spec.unit)
    body = _x_axis(sx, ticks, _tick_fmt(spec.unit, step), top, bottom, x_label, (x0 + x1) / 2)
    for i, (label, v, low, high) in enumerate(rows):
        yc = top + i * _ROW + _ROW / 2
        body.append(_label(label_w, yc + 4, label, max_chars))
        text = fmt(v)
        if low is not None and high is not None:
            a, b = sx(low), sx(high)
            body.append(
                f'<path class="ay-ci" d="M{_f(a)} {_f(yc)}H{_f(b)}M{_f(a)} {_f(yc - 5)}'
                f'V{_f(yc + 5)}M{_f(b)} {_f(yc - 5)}V{_f(yc + 5)}"/>'
            )
            text += f"  [{fmt(low)} – {fmt(high)}]"
        body.append(f'<circle class="ay-point" cx="{_f(sx(v))}" cy="{_f(yc)}" r="4.5"/>')
        body.append(_text(x1 + 12, yc + 4, text, "ay-value"))
    svg = _svg(_W, bottom + (40 if x_label else 24), spec.title or "intervals", body)
    return svg, _more_note(len(rows), total)


def _reliability(spec: ReliabilityChart) -> tuple[str, str]:
    bins = []
    for b in spec.bins:
        p, o, n = b.mean_predicted, b.observed, b.count
        if p is None or o is None:
            continue
        bins.append((min(max(float(p), 0.0), 1.0), min(max(float(o), 0.0), 1.0), n))
    if not bins:
        return "", ""
    bins.sort(key=lambda t: t[0])
    size, x0, y0 = 250.0, 54.0, 26.0
    sx = _scale(0.0, 1.0, x0, x0 + size)
    sy = _scale(0.0, 1.0, y0 + size, y0)
    body = []
    for t in (0.0, 0.25, 0.5, 0.75, 1.0):
        body.append(
            f'<line class="ay-grid" x1="{_f(sx(t))}" x2="{_f(sx(t))}" y1="{_f(y0)}" '
            f'y2="{_f(y0 + size)}"/>'
        )
        body.append(
            f'<line class="ay-grid" x1="{_f(x0)}" x2="{_f(x0 + size)}" y1="{_f(sy(t))}" '
            f'y2="{_f(sy(t))}"/>'
        )
        body.append(_text(sx(t), y0 + size + 15, f"{t:g}", "ay-tick", "middle"))
        body.append(_text(x0 - 6, sy(t) + 4, f"{t:g}", "ay-tick", "end"))
    body.append(
        f'<line class="ay-diagonal" x1="{_f(sx(0))}" y1="{_f(sy(0))}" '
        f'x2="{_f(sx(1))}" y2="{_f(sy(1))}"/>'
    )
    pts = " ".join(f"{_f(sx(p))},{_f(sy(o))}" for p, o, _ in bins)
    body.append(f'<polyline class="ay-line" points="{pts}"/>')
    max_n = max((n for _, _, n in bins if n), default=0)
    for p, o, n in bins:
        r = 3.0 + (4.0 * math.sqrt(n / max_n) if n and max_n else 0.0)
        tip = f"predicted {fmt_number(p)}, observed {fmt_number(o)}"
        if n is not None:
            tip += f", {fmt_number(n)} rows"
        body.append(
            f'<circle class="ay-point" cx="{_f(sx(p))}" cy="{_f(sy(o))}" r="{_f(r)}">'
            f"<title>{html_text(tip)}</title></circle>"
        )
    mid = y0 + size / 2
    body.append(
        _text(
            x0 + size / 2, y0 + size + 34, "Mean predicted probability", "ay-axis-label", "middle"
        )
    )
    body.append(
        f'<text class="ay-axis-label" text-anchor="middle" x="14" y="{_f(mid)}" '
        f'transform="rotate(-90 14 {_f(mid)})">Observed frequency</text>'
    )
    lx = x0 + size + 18
    body.append(f'<line class="ay-diagonal" x1="{_f(lx)}" x2="{_f(lx + 22)}" y1="40" y2="40"/>')
    body.append(_text(lx + 28, 44, "perfectly calibrated", "ay-legend"))
    body.append(f'<line class="ay-line" x1="{_f(lx)}" x2="{_f(lx + 22)}" y1="60" y2="60"/>')
    body.append(f'<circle class="ay-point" cx="{_f(lx + 11)}" cy="60" r="4"/>')
    body.append(_text(lx + 28, 64, "this model", "ay-legend"))
    body.append(_text(lx, 86, "dot size: rows in bin", "ay-legend ay-muted"))
    label = spec.title or "reliability diagram"
    return _svg(lx + 150, y0 + size + 44, label, body), ""


def _distribution(spec: DistributionChart) -> tuple[str, str]:
    labels = list(spec.labels)
    series = []
    for name, raw in spec.series.items():
        vals = list(raw)
        if any(v is not None for v in vals):
            series.append((name, vals))
    series = series[:MAX_SERIES]
    if not labels or not series:
        return "", ""
    total = len(labels)
    labels = labels[:MAX_ITEMS]
    values: list[float | int] = [
        v for _, vals in series for v in vals[: len(labels)] if v is not None
    ]
    if not values:
        return "", ""
    lo, hi, step, ticks = _ticks(min(0.0, *values), max(0.0, *values))
    label_w, max_chars = _label_width(labels)
    bar_h = {1: 14, 2: 12}.get(len(series), 10)
    row = bar_h * len(series) + 10
    top = 28
    bottom = top + len(labels) * row
    x0, x1 = label_w + 8, _W - 56
    sx = _scale(lo, hi, x0, x1)
    fmt = _value_fmt(spec.unit)
    body = _x_axis(sx, ticks, _tick_fmt(spec.unit, step), top, bottom, "", 0)
    lx = x0
    for k, (name, _) in enumerate(series):
        body.append(
            f'<rect class="ay-series-{k}" x="{_f(lx)}" y="6" width="12" height="12" rx="2"/>'
        )
        short = shorten(name, 24)
        body.append(_text(lx + 17, 16, short, "ay-legend"))
        lx += 17 + len(short) * _CHAR_W + 18
    for i, label in enumerate(labels):
        y = top + i * row + 4
        body.append(_label(label_w, y + bar_h * len(series) / 2 + 4, label, max_chars))
        for k, (_, vals) in enumerate(series):
            v = vals[i] if i < len(vals) else None
            if v is None:
                continue
            a, b = sorted((sx(0.0), sx(v)))
            yk = y + k * bar_h
            body.append(
                f'<rect class="ay-series-{k}" x="{_f(a)}" y="{_f(yk)}" '
                f'width="{_f(max(b - a, 0.5))}" height="{bar_h - 1}"/>'
            )
            body.append(_text(max(b, sx(0.0)) + 3, yk + bar_h - 1.5, fmt(v), "ay-value-sm"))
    svg = _svg(_W, bottom + 24, spec.title or "distribution", body)
    return svg, _more_note(len(labels), total)


_LINE_COLOURS = ("#2f5bd3", "#d98a0b", "#1a7f37", "#8a4fd6")  # fixed, never from the spec
_LINE_W = 600


def _line_x_axis(
    labels: list[str], marks: Sequence[int], sx: Callable[[float], float], top: float, bottom: float
) -> list[str]:
    """Point labels (about six, the last always) and the alert marks."""
    body = []
    n = len(labels)
    every = max(1, math.ceil(n / 6))
    shown = list(range(0, n, every))
    if shown[-1] != n - 1:  # the last point is labelled, its crowded neighbour is not
        shown[-1 if n - 1 - shown[-1] < every else len(shown) :] = [n - 1]
    for i in shown:
        anchor = "end" if i == n - 1 and n > 1 else "start" if i == 0 and n > 1 else "middle"
        body.append(_text(sx(i), bottom + 15, shorten(labels[i], 18), "ay-tick", anchor))
    for i in marks:
        if 0 <= i < n:
            x = sx(i)
            body.append(
                f'<line class="ay-threshold" x1="{_f(x)}" x2="{_f(x)}" y1="{_f(top)}" '
                f'y2="{_f(bottom)}"/><path class="ay-fill-fail" d="M{_f(x - 5)} {_f(top - 8)}'
                f'H{_f(x + 5)}L{_f(x)} {_f(top)}Z">'
                f"<title>alert: {html_text(labels[i])}</title></path>"
            )
    return body


def _line_series(
    series: list[tuple[str, list[Any]]],
    labels: list[str],
    sx: Callable[[float], float],
    sy: Callable[[float], float],
    fmt: Callable[[float], str],
    x0: float,
) -> list[str]:
    """Each series: its legend entry, its lines (broken at ``None``) and its points."""
    body = []
    lx = x0
    for k, (name, vals) in enumerate(series):
        colour = _LINE_COLOURS[k]
        short = shorten(name, 28)
        body.append(
            f'<line x1="{_f(lx)}" x2="{_f(lx + 16)}" y1="12" y2="12" stroke="{colour}" '
            'stroke-width="2.5"/>'
        )
        body.append(_text(lx + 21, 16, short, "ay-legend"))
        lx += 21 + len(short) * _CHAR_W + 16
        run: list[str] = []
        for i, v in enumerate([*vals, None]):
            if v is not None:
                run.append(f"{_f(sx(i))},{_f(sy(v))}")
                continue
            if len(run) > 1:
                body.append(
                    f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" '
                    'stroke-width="2"/>'
                )
            run = []
        for i, v in enumerate(vals):
            if v is not None:
                tip = f"{name}, {labels[i]}: {fmt(v)}"
                body.append(
                    f'<circle cx="{_f(sx(i))}" cy="{_f(sy(v))}" r="3.5" fill="{colour}" '
                    f'stroke="#fff" stroke-width="1"><title>{html_text(tip)}</title></circle>'
                )
    return body


def _line(spec: LineChart) -> tuple[str, str]:
    """Series over ordered points (e.g. windows in time); ``None`` breaks a line,
    ``marks`` (point indexes) draw a flagged vertical line (an alert); the y axis
    starts at zero unless ``zero`` is false."""
    labels = list(spec.labels)[:200]
    series = []
    for name, raw in spec.series.items():
        vals = list(raw)[: len(labels)]
        if any(v is not None for v in vals):
            series.append((name, vals))
    series = series[:MAX_SERIES]
    if not labels or not series:
        return "", ""
    thr = spec.threshold
    values: list[float | int] = [v for _, vals in series for v in vals if v is not None]
    values += [thr] if thr is not None else []
    floor = min(0.0, *values) if spec.zero else min(values)
    lo, hi, step, ticks = _ticks(floor, max(values))
    x0, x1, top = 54.0, _LINE_W - 16.0, 30.0
    bottom = top + 190.0
    n = len(labels)
    sx = (lambda i: (x0 + x1) / 2) if n == 1 else _scale(0, n - 1, x0, x1)
    sy = _scale(lo, hi, bottom, top)
    tick = _tick_fmt(spec.unit, step)
    fmt = _value_fmt(spec.unit)
    body = []
    for t in ticks:
        y = sy(t)
        body.append(
            f'<line class="ay-grid" x1="{_f(x0)}" x2="{_f(x1)}" y1="{_f(y)}" y2="{_f(y)}"/>'
        )
        body.append(_text(x0 - 6, y + 4, tick(t), "ay-tick", "end"))
    body += _line_x_axis(labels, spec.marks, sx, top, bottom)
    if thr is not None:
        y = sy(thr)
        body.append(
            f'<line class="ay-threshold" x1="{_f(x0)}" x2="{_f(x1)}" y1="{_f(y)}" y2="{_f(y)}"/>'
        )
        body.append(_text(x1, y - 4, f"threshold {fmt(thr)}", "ay-threshold-label", "end"))
    body += _line_series(series, labels, sx, sy, fmt, x0)
    x_label = spec.x_label
    if x_label:
        body.append(_text((x0 + x1) / 2, bottom + 34, x_label, "ay-axis-label", "middle"))
    height = bottom + (42 if x_label else 24)
    return _svg(_LINE_W, height, spec.title or "line chart", body), ""


_KINDS: dict[str, Callable[[Any], tuple[str, str]]] = {
    "bars": _bars,
    "intervals": _intervals,
    "reliability": _reliability,
    "distribution": _distribution,
    "line": _line,
}
CHART_KINDS: tuple[str, ...] = tuple(_KINDS)
_TYPED = (BarChart, IntervalChart, ReliabilityChart, DistributionChart, LineChart)


def render_chart(spec: Chart | Mapping[str, Any] | Any) -> str:
    """One chart (typed, or its ``to_dict()`` from a report) as an HTML ``<figure>``
    holding an inline SVG.

    Returns ``""`` for an unknown kind or a spec with nothing to draw.
    """
    try:
        chart = spec if isinstance(spec, _TYPED) else chart_from_dict(spec)
        if chart is None:
            return ""
        svg, note = _KINDS[chart.kind](chart)
    except (TypeError, ValueError, ArithmeticError, OverflowError, KeyError):
        return ""  # a malformed spec loses its chart, never the report
    if not svg:
        return ""
    title = chart.title
    caption = f"<figcaption>{html_text(title)}</figcaption>" if title else ""
    return f'<figure class="ay-chart">{caption}<div class="ay-chart-box">{svg}</div>{note}</figure>'


def render_charts(specs: Any) -> str:
    """All drawable charts of a check, side by side where space allows."""
    figures = [render_chart(s) for s in as_list(specs)[:MAX_CHARTS]]
    figures = [f for f in figures if f]
    if not figures:
        return ""
    return '<div class="ay-charts">' + "".join(figures) + "</div>"
