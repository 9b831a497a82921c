"""Typed charts (#15 item 2): exact round trip, a closed set of units, lenient reading of
report files, and every chart a check writes (the golden results) declares its unit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assay.core.charts import (
    UNITS,
    Bar,
    BarChart,
    DistributionChart,
    IntervalChart,
    IntervalItem,
    LineChart,
    ReliabilityBin,
    ReliabilityChart,
    chart_from_dict,
)

TESTS = Path(__file__).parent.parent

CHARTS = [
    BarChart("Missing", "share of rows missing", "share", [Bar("age", 0.3, "fail")], 0.2),
    BarChart("PSI", "PSI", "value", [Bar("a", 0.4, "warn"), Bar("b", None, "pass")]),
    IntervalChart("AUC", "ROC-AUC", "value", [IntervalItem("model", 0.8, 0.75, 0.85)]),
    IntervalChart("Coverage", "share covered", "share", [IntervalItem("90%", 0.9)]),
    ReliabilityChart("Reliability", [ReliabilityBin(0.1, 0.08, 100), ReliabilityBin(0.9, 0.8)]),
    DistributionChart("Region", ["n", "s"], {"reference": [0.5, 0.5], "current": [0.4, None]}),
    LineChart(
        "Drift", ["w1", "w2"], {"psi": [0.1, 0.3]}, "value", threshold=0.25, marks=[1], zero=False
    ),
]


@pytest.mark.parametrize("chart", CHARTS, ids=lambda c: f"{c.kind}-{c.unit}")
def test_round_trip_is_exact_through_json(chart):
    d = json.loads(json.dumps(chart.to_dict()))
    assert d["kind"] == chart.kind and d["unit"] == chart.unit
    assert chart_from_dict(d) == chart
    assert chart_from_dict(d).to_dict() == d


def test_a_unit_outside_the_closed_set_is_refused():
    with pytest.raises(ValueError, match=r"percent.*not one of"):
        BarChart("t", "x", "percent", [])  # type: ignore[arg-type]
    assert "share" in UNITS and "points" in UNITS and "value" in UNITS


def test_numpy_scalars_become_plain_numbers():
    b = Bar("a", np.float32(0.25))
    assert type(b.value) is float and b.value == 0.25
    i = IntervalItem("a", np.float64(0.5), np.float32(np.nan), np.int64(1))
    assert i.low is None and i.high == 1
    json.dumps(BarChart("t", "x", "share", [b]).to_dict())  # plain JSON as it stands


def test_hostile_values_read_as_missing_never_raise():
    c = chart_from_dict(
        {
            "kind": "bars",
            "unit": "share",
            "items": [{"label": 3, "value": "0.3"}, {"value": True}, "junk", {"value": 0.1}],
            "threshold": float("inf"),
        }
    )
    assert isinstance(c, BarChart)
    assert [b.value for b in c.items] == [None, None, 0.1]
    assert c.items[0].label == "3" and c.threshold is None
    assert chart_from_dict({"kind": "pie"}) is None and chart_from_dict([1]) is None


def test_a_report_written_before_units_keeps_the_unit_it_was_drawn_with():
    old_bars = {"kind": "bars", "x_label": "flip rates", "items": [{"value": 0.2}]}
    assert chart_from_dict(old_bars).unit == "share"
    old_bars["x_label"] = "PSI"
    assert chart_from_dict(old_bars).unit == "value"
    old_bars["items"] = [{"value": 1.5}]
    old_bars["x_label"] = "share"
    assert chart_from_dict(old_bars).unit == "value"  # not in [0, 1]: never a share
    assert chart_from_dict({"kind": "intervals", "x_label": "share"}).unit == "value"
    # a declared unit wins over anything the label says
    assert chart_from_dict({**old_bars, "x_label": "rate", "unit": "ratio"}).unit == "ratio"


def _charts_in(obj):
    if isinstance(obj, dict):
        if isinstance(obj.get("charts"), list):
            yield from obj["charts"]
        for v in obj.values():
            yield from _charts_in(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _charts_in(v)


def test_every_chart_the_checks_write_declares_its_unit():
    """The golden results hold what the checks write today: a chart without a unit (a
    check that builds its chart as a bare dict again) fails here."""
    golden = sorted(TESTS.glob("*/fixtures/*_golden_*.json"))
    files = [*golden, TESTS / "fixtures" / "demo_golden_report.json"]
    seen = 0
    for f in files:
        for spec in _charts_in(json.loads(f.read_text())):
            assert spec.get("unit") in UNITS, f"{f.name}: {spec.get('title')!r} has no unit"
            assert chart_from_dict(spec).to_dict() == spec, f"{f.name}: {spec.get('title')!r}"
            seen += 1
    assert seen > 50
