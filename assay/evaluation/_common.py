"""Wording, number formatting and details shared by the evaluation checks.

Example
-------
>>> from assay.evaluation._bootstrap import Interval
>>> with_interval("roc_auc", Interval(0.912, 0.901, 0.923), 0.95)
'0.91 (95% CI 0.90–0.92)'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from assay.core.charts import IntervalChart, IntervalItem, Unit
from assay.evaluation._bootstrap import Interval, SplitData
from assay.evaluation._metrics import METRIC_LABELS, UNIT_METRICS

_TWO_DECIMALS = UNIT_METRICS | {"r2", "log_loss"}


def label(name: str, *, start: bool = False) -> str:
    """Display name of a metric; capitalised when it starts a sentence."""
    text = METRIC_LABELS.get(name, name)
    return text[0].upper() + text[1:] if start else text


def fmt(name: str, value: float | None, *, signed: bool = False) -> str:
    """A metric value as a short number (``n/a`` when unknown)."""
    if value is None:
        return "n/a"
    sign = "+" if signed else ""
    if name == "mape":
        return f"{value:{sign}.1%}"
    if name in _TWO_DECIMALS:
        # Differences are small numbers: one more decimal keeps them readable.
        if signed and value != 0 and abs(value) < 0.001:
            text = f"{value:+.2g}"
        else:
            text = f"{value:{sign}.3f}" if signed else f"{value:.2f}"
    elif name in ("ece", "max_calibration_error"):
        text = f"{value:{sign}.3f}"
    else:
        text = f"{value:{sign}.4g}"
    return text.replace("-", "−")


def conf_text(confidence: float) -> str:
    """``0.95`` → ``'95% CI'``."""
    return f"{confidence:.0%} CI"


def ci_text(name: str, iv: Interval, confidence: float, *, signed: bool = False) -> str:
    """``'95% CI 0.90–0.92'``, or ``'no interval'`` when none was computed."""
    if iv.low is None or iv.high is None:
        return "no interval computed"
    lo, hi = fmt(name, iv.low, signed=signed), fmt(name, iv.high, signed=signed)
    sep = " to " if signed or lo.startswith("−") or hi.startswith("−") else "–"
    return f"{conf_text(confidence)} {lo}{sep}{hi}"


def with_interval(name: str, iv: Interval, confidence: float, *, signed: bool = False) -> str:
    """``'0.91 (95% CI 0.90–0.92)'``."""
    value = fmt(name, iv.value, signed=signed)
    if iv.low is None or iv.high is None:
        return value
    return f"{value} ({ci_text(name, iv, confidence, signed=signed)})"


def rows_text(sd: SplitData) -> str:
    """``'16,281 rows'`` or ``'a random sample of 200,000 of 1,000,000 rows'``."""
    if sd.sampled:
        return f"a random sample of {sd.data.n:,} of {sd.n_total:,} rows"
    return f"{sd.data.n:,} rows"


def interval_metrics(prefix: str, ivs: Mapping[str, Interval]) -> dict[str, float | None]:
    """``{prefix+name: value, prefix+name+'_low': low, prefix+name+'_high': high}``."""
    out: dict[str, float | None] = {}
    for name, iv in ivs.items():
        out[prefix + name] = iv.value
        out[prefix + name + "_low"] = iv.low
        out[prefix + name + "_high"] = iv.high
    return out


def sampling_details(ctx: Any, splits: Iterable[SplitData]) -> dict[str, Any]:
    """Seed, resamples, confidence and row counts, as every evaluation check records them."""
    splits = list(splits)
    out: dict[str, Any] = {
        "n_bootstrap": ctx.settings.n_bootstrap,
        "seed": ctx.settings.seed,
        "confidence": ctx.settings.confidence,
        "n_rows": {sd.split: sd.data.n for sd in splits},
        "sampled": any(sd.sampled for sd in splits),
    }
    if out["sampled"]:
        out["n_rows_available"] = {sd.split: sd.n_total for sd in splits}
        out["max_rows_model_checks"] = ctx.settings.max_rows_model_checks
    return out


def intervals_chart(
    title: str, x_label: str, items: Sequence[tuple[str, Interval]], unit: Unit = "value"
) -> dict[str, Any]:
    """An ``intervals`` chart (:class:`~assay.core.charts.IntervalChart`) as a dict; points
    without an interval are drawn as zero-width intervals. ``unit`` defaults to the raw
    value of the metric the chart names."""
    return IntervalChart(
        title=title,
        x_label=x_label,
        unit=unit,
        items=[
            IntervalItem(
                text,
                iv.value,
                iv.value if iv.low is None else iv.low,
                iv.value if iv.high is None else iv.high,
            )
            for text, iv in items
            if iv.value is not None
        ],
    ).to_dict()
