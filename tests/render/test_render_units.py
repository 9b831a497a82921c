"""Values are formatted by their declared unit, never guessed from a name (#15 item 2):
a flip rate (a share) reads the same in the metrics table, the findings and the chart."""

from __future__ import annotations

import html
import re

import pytest

from assay.core.charts import Bar, BarChart, IntervalChart, IntervalItem
from assay.core.result import CheckResult, Finding
from assay.render._cards import render_card
from assay.render.charts import render_chart
from tests.conftest import fit_logreg, make_binary


def _result(metrics, units, charts, findings=()):
    return CheckResult(
        id="evaluation.robustness",
        area="evaluation",
        title="Robustness",
        status="warn",
        severity="medium",
        summary="s",
        explanation="e",
        metrics=metrics,
        findings=tuple(findings),
        details={"charts": [c.to_dict() for c in charts]},
        units=units,
    )


def _table_value(card: str, label: str) -> str:
    m = re.search(rf">{re.escape(label)}</th><td>([^<]*)", card)
    assert m, f"no metrics row {label!r}"
    return html.unescape(m.group(1)).strip()


def _chart_values(svg: str) -> list[str]:
    vals = re.findall(r'<text [^>]*class="ay-value"[^>]*>([^<]*)</text>', svg)
    return [html.unescape(v).rstrip(" !✕⚠").split("  [")[0] for v in vals]


def test_a_share_reads_the_same_in_the_table_the_findings_and_the_chart():
    chart = BarChart("Flips", "share of predictions changed", "share", [Bar("x1", 0.3, "warn")])
    finding = Finding("warn", "x1 flips", column="x1", metrics={"flip_rate": 0.3})
    units = {"noise_flip_rate": "share", "flip_rate": "share"}
    card = render_card(_result({"noise_flip_rate": 0.3}, units, [chart], [finding]), 0)
    assert _table_value(card, "Noise flip rate") == "30.0%"
    assert "<small>Flip rate</small> 30.0%" in card
    assert _chart_values(card) == ["30.0%"]
    # the same metric without a declared unit keeps the old name rule (no "share" in it)
    bare = render_card(_result({"noise_flip_rate": 0.3}, {}, [chart]), 0)
    assert _table_value(bare, "Noise flip rate") == "0.300"


def test_bounds_take_their_metric_unit():
    r = _result({"coverage": 0.9, "coverage_low": 0.85, "coverage_high": 0.95}, {}, [])
    r = CheckResult.from_dict({**r.to_dict(), "units": {"coverage": "share"}})
    card = render_card(r, 0, confidence=0.95)
    assert "90.0%" in card and "85.0% – 95.0%" in card


@pytest.mark.parametrize(
    ("unit", "want"),
    [("share", "80.0%"), ("ratio", "0.800"), ("points", "+80.0 pp"), ("value", "0.800")],
)
def test_the_unit_decides_not_the_label(unit, want):
    # the label names a rate, which the old renderer read as a share
    chart = BarChart("Four-fifths", "ratio to the highest selection rate", unit, [Bar("a", 0.8)])
    assert _chart_values(render_chart(chart)) == [want]
    iv = IntervalChart("Rates", "selection rate", unit, [IntervalItem("a", 0.8, 0.7, 0.9)])
    assert _chart_values(render_chart(iv.to_dict())) == [want]


def test_a_real_robustness_result_agrees_between_table_and_chart():
    from assay.testing import run_check

    df = make_binary(900, seed=3)
    train, test = df.iloc[:600].reset_index(drop=True), df.iloc[600:].reset_index(drop=True)
    r = run_check(
        "evaluation.robustness",
        test,
        train,
        model=fit_logreg(train),
        target="y",
        seed=0,
        n_bootstrap=30,
    )
    assert r.units.get("worst_feature_flip_rate") == "share"
    d = r.to_dict()
    card = render_card(r, 0)
    worst = _table_value(card, "Worst feature flip rate")
    assert worst.endswith("%")
    flips = d["details"]["charts"][0]
    assert flips["unit"] == "share" and flips["x_label"] == "share of predictions changed"
    # the first bar is the worst feature: the same number, written the same way
    first = render_chart(flips)
    assert _chart_values(first)[0] == worst
