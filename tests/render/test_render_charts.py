"""Inline SVG charts: one per known kind, well-formed, escaped, capped, never raising."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest

from assay.render.charts import (
    CHART_KINDS,
    MAX_CHARTS,
    MAX_ITEMS,
    _ticks,
    render_chart,
    render_charts,
)
from tests.render.report_samples import IMG, SCRIPT

BARS = {
    "kind": "bars",
    "title": "Missing values",
    "x_label": "Missing share",
    "threshold": 0.2,
    "items": [
        {"label": "income", "value": 0.31, "status": "fail"},
        {"label": "age", "value": 0.01, "status": "pass"},
        {"label": "region", "value": 0.12, "status": "warn"},
    ],
}
INTERVALS = {
    "kind": "intervals",
    "title": "Metrics",
    "x_label": "score",
    "items": [
        {"label": "accuracy", "value": 0.91, "low": 0.89, "high": 0.93},
        {"label": "F1", "value": 0.87, "low": 0.85, "high": 0.89},
    ],
}
RELIABILITY = {
    "kind": "reliability",
    "title": "Reliability",
    "bins": [
        {"mean_predicted": 0.1, "observed": 0.08, "count": 100},
        {"mean_predicted": 0.5, "observed": 0.45, "count": 50},
        {"mean_predicted": 0.9, "observed": 0.8, "count": 10},
    ],
}
DISTRIBUTION = {
    "kind": "distribution",
    "title": "Region",
    "labels": ["north", "south", "east"],
    "series": {"reference": [0.5, 0.3, 0.2], "current": [0.4, 0.4, 0.2]},
}
LINE = {
    "kind": "line",
    "title": "Drift share per window",
    "x_label": "window",
    "labels": ["w1", "w2", "w3"],
    "series": {"drift share": [0.1, None, 0.5], "accuracy": [0.8, 0.82, 0.7]},
    "marks": [2],
    "threshold": 0.3,
}
SPECS = {
    "bars": BARS,
    "intervals": INTERVALS,
    "reliability": RELIABILITY,
    "distribution": DISTRIBUTION,
    "line": LINE,
}


def svg_of(figure: str) -> ET.Element:
    """The chart's <svg> parsed as XML: it must be well-formed on its own."""
    match = re.search(r"<svg.*</svg>", figure, flags=re.S)
    assert match, figure[:200]
    return ET.fromstring(match.group(0))


def count(svg: ET.Element, tag: str, cls: str | None = None) -> int:
    return sum(1 for e in svg.iter(tag) if cls is None or cls in (e.get("class") or "").split())


def test_every_contract_kind_is_known():
    assert set(CHART_KINDS) == set(SPECS)


@pytest.mark.parametrize("kind", list(SPECS))
def test_each_kind_draws_an_accessible_svg(kind):
    fig = render_chart(SPECS[kind])
    assert fig.startswith('<figure class="ay-chart"><figcaption>')
    svg = svg_of(fig)
    assert svg.get("role") == "img" and svg.get("aria-label") == SPECS[kind]["title"]
    assert svg.get("viewBox", "").startswith("0 0 ")
    assert count(svg, "text") >= 3  # axis ticks or labels are written out


def test_bars_elements():
    svg = svg_of(render_chart(BARS))
    assert count(svg, "rect", "ay-fill-fail") == 1
    assert count(svg, "rect", "ay-fill-warn") == 1
    assert count(svg, "rect", "ay-fill-pass") == 1
    assert count(svg, "line", "ay-threshold") == 1
    texts = [t.text for t in svg.iter("text")]
    assert "income" in texts and "31.0% ✕" in texts  # value and status, not colour alone
    assert "threshold 20.0%" in texts and "Missing share" in texts
    assert "30%" in texts  # share axes read as percentages


def test_bars_with_negative_values_stay_inside():
    spec = {"kind": "bars", "items": [{"label": "a", "value": -2.5}, {"label": "b", "value": 4}]}
    svg = svg_of(render_chart(spec))
    width = float(svg.get("viewBox").split()[2])
    for rect in svg.iter("rect"):
        x, w = float(rect.get("x")), float(rect.get("width"))
        assert w > 0 and x >= 0 and x + w <= width


def test_intervals_elements():
    svg = svg_of(render_chart(INTERVALS))
    assert count(svg, "circle", "ay-point") == 2
    assert count(svg, "path", "ay-ci") == 2
    assert "0.910  [0.890 – 0.930]" in [t.text for t in svg.iter("text")]


def test_intervals_without_bounds_draw_the_point():
    spec = {"kind": "intervals", "items": [{"label": "a", "value": 3, "low": None, "high": None}]}
    svg = svg_of(render_chart(spec))
    assert count(svg, "circle") == 1 and count(svg, "path") == 0


def test_reliability_elements():
    svg = svg_of(render_chart(RELIABILITY))
    assert count(svg, "line", "ay-diagonal") == 2  # the diagonal and its legend swatch
    assert count(svg, "polyline", "ay-line") == 1
    assert count(svg, "circle", "ay-point") == 3 + 1  # bins and the legend dot
    texts = [t.text for t in svg.iter("text")]
    assert "Mean predicted probability" in texts and "Observed frequency" in texts
    tips = [t.text for t in svg.iter("title")]
    assert "predicted 0.100, observed 0.080, 100 rows" in tips


def test_distribution_elements():
    svg = svg_of(render_chart(DISTRIBUTION))
    assert count(svg, "rect", "ay-series-0") == 3 + 1  # bars and legend swatch
    assert count(svg, "rect", "ay-series-1") == 3 + 1
    texts = [t.text for t in svg.iter("text")]
    assert "reference" in texts and "current" in texts and "north" in texts
    assert "50.0%" in texts


def test_hostile_strings_are_escaped_in_text_and_attributes():
    spec = {
        "kind": "bars",
        "title": SCRIPT,
        "x_label": IMG,
        "items": [{"label": SCRIPT * 3, "value": 1, "status": IMG}],
    }
    fig = render_chart(spec)
    assert SCRIPT not in fig and IMG not in fig and "<img" not in fig
    svg = svg_of(fig)
    assert svg.get("aria-label") == SCRIPT
    assert IMG in [t.text for t in svg.iter("text")]
    for kind_spec in (
        {
            "kind": "distribution",
            "title": IMG,
            "labels": [SCRIPT],
            "series": {IMG: [0.5], SCRIPT: [0.2]},
        },
        {"kind": "intervals", "title": IMG, "items": [{"label": IMG, "value": 1}]},
    ):
        out = render_chart(kind_spec)
        assert out and SCRIPT not in out and IMG not in out
        svg_of(out)


def test_long_labels_are_cut_with_a_tooltip():
    label = "a_very_long_column_name_that_goes_on_and_on_forever"
    svg = svg_of(render_chart({"kind": "bars", "items": [{"label": label, "value": 1}]}))
    text = next(t for t in svg.iter("text") if t.find("title") is not None)
    assert text.find("title").text == label and text.text is None
    assert "".join(text.itertext()).endswith("…")


def test_items_are_capped_with_a_note():
    spec = {"kind": "bars", "items": [{"label": f"c{i}", "value": i} for i in range(100)]}
    fig = render_chart(spec)
    assert count(svg_of(fig), "rect") == MAX_ITEMS
    assert f"Showing the first {MAX_ITEMS} of 100." in fig


def test_charts_per_check_are_capped():
    out = render_charts([BARS] * 10)
    assert out.count("<svg") == MAX_CHARTS


@pytest.mark.parametrize(
    "spec",
    [
        None,
        3,
        "bars",
        [],
        {},
        {"kind": None},
        {"kind": "pie", "items": []},
        {"kind": ["bars"]},
        {"kind": "bars"},
        {"kind": "bars", "items": "abc"},
        {"kind": "bars", "items": [None, 3]},
        {"kind": "bars", "items": [{"label": "a", "value": "x"}]},
        {"kind": "bars", "items": [{"label": "a", "value": float("nan")}]},
        {"kind": "bars", "items": [{"label": "a", "value": True}]},
        {"kind": "intervals", "items": [{"value": None}]},
        {"kind": "reliability", "bins": None},
        {"kind": "reliability", "bins": [{"mean_predicted": None, "observed": 1}]},
        {"kind": "distribution", "labels": [], "series": {"a": [1]}},
        {"kind": "distribution", "labels": ["a"], "series": None},
        {"kind": "distribution", "labels": ["a"], "series": {"a": [None]}},
    ],
)
def test_undrawable_specs_give_nothing(spec):
    assert render_chart(spec) == ""


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "bars", "items": [{"value": 0}, {"value": 0}]},
        {"kind": "bars", "items": [{"label": None, "value": 1e300}], "threshold": -1e300},
        {"kind": "bars", "items": [{"label": 5, "value": 1e-12}], "threshold": "x"},
        {"kind": "intervals", "items": [{"label": "a", "value": 2, "low": 3, "high": 1}]},
        {"kind": "intervals", "items": [{"label": "a", "value": 0, "low": 0, "high": 0}]},
        {"kind": "reliability", "bins": [{"mean_predicted": 2, "observed": -1, "count": None}]},
        {"kind": "reliability", "bins": [{"mean_predicted": 0.5, "observed": 0.5, "count": 0}]},
        {"kind": "distribution", "labels": ["a", "b"], "series": {"x": [5, -3, 7], "y": [1]}},
        {"kind": "distribution", "labels": ["a"], "series": {f"s{i}": [1] for i in range(9)}},
    ],
)
def test_odd_but_drawable_specs(spec):
    out = render_chart(spec)
    if out:  # drawn well-formed, or left out: never an exception
        svg = svg_of(out)
        for e in svg.iter():
            for name in ("x", "y", "width", "cx", "cy", "r"):
                if e.get(name) is not None:
                    assert math.isfinite(float(e.get(name)))


def test_same_spec_same_bytes():
    assert render_chart(BARS) == render_chart(dict(BARS))


@pytest.mark.parametrize(
    ("lo", "hi"), [(0, 1), (0, 0.31), (-2.5, 4), (0.85, 0.97), (0, 0), (5, 5), (0, 12345)]
)
def test_ticks_cover_the_domain(lo, hi):
    start, end, step, ticks = _ticks(lo, hi)
    assert start <= lo and end >= hi and step > 0
    assert 2 <= len(ticks) <= 12
    assert ticks[0] == start and math.isclose(ticks[-1], end)
