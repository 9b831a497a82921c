"""Typed charts: what a check may draw, as frozen data with an explicit unit.

A check describes a chart as one of these types and stores ``chart.to_dict()`` in
``details["charts"]``; the renderers read it back with :func:`chart_from_dict` and
format every value by the chart's declared :data:`Unit`, never by guessing from a
label. ``chart_from_dict(c.to_dict()) == c`` for every chart.

Kinds: :class:`BarChart` (``bars``), :class:`IntervalChart` (``intervals``),
:class:`ReliabilityChart` (``reliability``), :class:`DistributionChart`
(``distribution``) and :class:`LineChart` (``line``).

Units (closed set, :data:`UNITS`):

========== =====================================================================
``share``  a proportion in [0, 1] (a flip rate, a coverage, a missing share);
           shown as a percentage (0.3 → 30.0%)
``points`` a difference of two shares, in the same [−1, 1] scale; shown in
           percentage points (0.05 → +5.0 pp)
``ratio``  a ratio of two quantities (1.0 is parity)
``count``  a number of things (rows, classes)
``seconds`` / ``ms`` / ``bytes``  time and memory
``std``    standard deviations
``value``  a raw value in the units of the metric or target it names (an AUC, a
           drop in accuracy, a PSI, a mean absolute error)
========== =====================================================================

Examples
--------
>>> c = BarChart("Missing", "missing share", "share", [Bar("age", 0.3, "fail")])
>>> chart_from_dict(c.to_dict()) == c
True
>>> c.to_dict()["unit"]
'share'
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Literal, get_args

__all__ = [
    "UNITS",
    "Bar",
    "BarChart",
    "Chart",
    "DistributionChart",
    "IntervalChart",
    "IntervalItem",
    "LineChart",
    "ReliabilityBin",
    "ReliabilityChart",
    "Unit",
    "chart_from_dict",
    "legacy_unit",
]

Unit = Literal["share", "points", "ratio", "count", "seconds", "ms", "bytes", "std", "value"]
UNITS: tuple[Unit, ...] = get_args(Unit)

Number = float | int
_SHARE_WORDS = ("share", "fraction", "rate", "proportion", "percent", "%")


def _unit(value: Any) -> Unit:
    if value not in UNITS:
        raise ValueError(f"chart unit {value!r} is not one of {', '.join(UNITS)}")
    return value


def _num(value: Any) -> Number | None:
    """A finite number from a report (bools, strings and NaN become ``None``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value if math.isfinite(value) else None


def _plain(obj: Any) -> None:
    """Numbers of a chart item as plain Python numbers (a NumPy scalar becomes a float,
    a non-finite one ``None``), so that ``to_dict`` is JSON as it stands."""
    for f in fields(obj):
        v = getattr(obj, f.name)
        if v is not None and not isinstance(v, (str, int, float)) and hasattr(v, "dtype"):
            object.__setattr__(obj, f.name, _num(v.item()))


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _items(value: Any) -> list[Mapping[str, Any]]:
    return [x for x in value if isinstance(x, Mapping)] if isinstance(value, list | tuple) else []


def _seq(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


# -- bars -----------------------------------------------------------------------
@dataclass(frozen=True)
class Bar:
    """One bar: a label, its value and the status it is drawn in."""

    label: str
    value: Number | None
    status: str = "pass"

    def __post_init__(self) -> None:
        _plain(self)

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "value": self.value, "status": self.status}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Bar:
        return cls(_text(d.get("label")), _num(d.get("value")), _text(d.get("status")))


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars, one per item, with an optional threshold line."""

    title: str
    x_label: str
    unit: Unit
    items: Sequence[Bar] = ()
    threshold: Number | None = None
    kind: ClassVar[str] = "bars"

    def __post_init__(self) -> None:
        _unit(self.unit)
        object.__setattr__(self, "items", tuple(self.items))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "x_label": self.x_label,
            "unit": self.unit,
            "items": [b.to_dict() for b in self.items],
            "threshold": self.threshold,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BarChart:
        items = [Bar.from_dict(x) for x in _items(d.get("items"))]
        threshold = _num(d.get("threshold"))
        values = [b.value for b in items if b.value is not None]
        values += [threshold] if threshold is not None else []
        unit = legacy_unit(d, values)
        return cls(_text(d.get("title")), _text(d.get("x_label")), unit, items, threshold)


# -- intervals ------------------------------------------------------------------
@dataclass(frozen=True)
class IntervalItem:
    """A point estimate with its interval (``low``/``high`` may be missing)."""

    label: str
    value: Number | None
    low: Number | None = None
    high: Number | None = None

    def __post_init__(self) -> None:
        _plain(self)

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "value": self.value, "low": self.low, "high": self.high}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> IntervalItem:
        return cls(
            _text(d.get("label")), _num(d.get("value")), _num(d.get("low")), _num(d.get("high"))
        )


@dataclass(frozen=True)
class IntervalChart:
    """Point estimates with their confidence intervals, one row per item."""

    title: str
    x_label: str
    unit: Unit
    items: Sequence[IntervalItem] = ()
    kind: ClassVar[str] = "intervals"

    def __post_init__(self) -> None:
        _unit(self.unit)
        object.__setattr__(self, "items", tuple(self.items))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "x_label": self.x_label,
            "unit": self.unit,
            "items": [i.to_dict() for i in self.items],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> IntervalChart:
        items = [IntervalItem.from_dict(x) for x in _items(d.get("items"))]
        unit = legacy_unit(d, [])
        return cls(_text(d.get("title")), _text(d.get("x_label")), unit, items)


# -- reliability ----------------------------------------------------------------
@dataclass(frozen=True)
class ReliabilityBin:
    """One bin of a reliability diagram: mean predicted probability, observed
    frequency and the rows in it."""

    mean_predicted: Number | None
    observed: Number | None
    count: Number | None = None

    def __post_init__(self) -> None:
        _plain(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean_predicted": self.mean_predicted,
            "observed": self.observed,
            "count": self.count,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ReliabilityBin:
        return cls(_num(d.get("mean_predicted")), _num(d.get("observed")), _num(d.get("count")))


@dataclass(frozen=True)
class ReliabilityChart:
    """A reliability diagram (both axes are probabilities, so its unit is ``share``)."""

    title: str
    bins: Sequence[ReliabilityBin] = ()
    unit: Unit = "share"
    kind: ClassVar[str] = "reliability"

    def __post_init__(self) -> None:
        _unit(self.unit)
        object.__setattr__(self, "bins", tuple(self.bins))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "unit": self.unit,
            "bins": [b.to_dict() for b in self.bins],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ReliabilityChart:
        bins = [ReliabilityBin.from_dict(x) for x in _items(d.get("bins"))]
        unit = _unit(d["unit"]) if d.get("unit") in UNITS else "share"
        return cls(_text(d.get("title")), bins, unit)


# -- series (distribution, line) --------------------------------------------------
def _series(value: Any) -> dict[str, tuple[Number | None, ...]]:
    if not isinstance(value, Mapping):
        return {}
    return {_text(k): tuple(_num(v) for v in _seq(vs)) for k, vs in value.items()}


@dataclass(frozen=True)
class DistributionChart:
    """Grouped bars: for each label (a bin or category), one value per series
    (e.g. reference and current shares)."""

    title: str
    labels: Sequence[str]
    series: Mapping[str, Sequence[Number | None]]
    unit: Unit = "share"
    kind: ClassVar[str] = "distribution"

    def __post_init__(self) -> None:
        _unit(self.unit)
        object.__setattr__(self, "labels", tuple(self.labels))
        object.__setattr__(self, "series", {k: tuple(v) for k, v in self.series.items()})

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "unit": self.unit,
            "labels": list(self.labels),
            "series": {k: list(v) for k, v in self.series.items()},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DistributionChart:
        series = _series(d.get("series"))
        values = [v for vs in series.values() for v in vs if v is not None]
        labels = [_text(x) for x in _seq(d.get("labels"))]
        return cls(_text(d.get("title")), labels, series, legacy_unit(d, values))


@dataclass(frozen=True)
class LineChart:
    """Series over ordered points (e.g. windows in time). ``None`` breaks a line;
    ``marks`` are point indexes flagged as alerts; the y axis starts at zero unless
    ``zero`` is false."""

    title: str
    labels: Sequence[str]
    series: Mapping[str, Sequence[Number | None]]
    unit: Unit
    x_label: str = ""
    threshold: Number | None = None
    marks: Sequence[int] = ()
    zero: bool = True
    kind: ClassVar[str] = "line"

    def __post_init__(self) -> None:
        _unit(self.unit)
        object.__setattr__(self, "labels", tuple(self.labels))
        object.__setattr__(self, "series", {k: tuple(v) for k, v in self.series.items()})
        object.__setattr__(self, "marks", tuple(self.marks))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "x_label": self.x_label,
            "unit": self.unit,
            "labels": list(self.labels),
            "series": {k: list(v) for k, v in self.series.items()},
            "threshold": self.threshold,
            "marks": list(self.marks),
            "zero": self.zero,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LineChart:
        series = _series(d.get("series"))
        threshold = _num(d.get("threshold"))
        values = [v for vs in series.values() for v in vs if v is not None]
        values += [threshold] if threshold is not None else []
        marks = [i for i in _seq(d.get("marks")) if isinstance(i, int) and not isinstance(i, bool)]
        return cls(
            _text(d.get("title")),
            [_text(x) for x in _seq(d.get("labels"))],
            series,
            legacy_unit(d, values),
            x_label=_text(d.get("x_label")),
            threshold=threshold,
            marks=marks,
            zero=d.get("zero", True) is not False,
        )


Chart = BarChart | IntervalChart | ReliabilityChart | DistributionChart | LineChart
_KINDS: dict[str, Any] = {
    c.kind: c for c in (BarChart, IntervalChart, ReliabilityChart, DistributionChart, LineChart)
}


def chart_from_dict(d: Any) -> Chart | None:
    """The typed chart of a ``details["charts"]`` entry; ``None`` for an unknown kind or
    something that is not a chart. Lenient: a value that is not a finite number reads
    as ``None`` (the renderer leaves it out), as a report file may hold anything."""
    if not isinstance(d, Mapping):
        return None
    kind = d.get("kind")
    cls = _KINDS.get(kind) if isinstance(kind, str) else None
    return None if cls is None else cls.from_dict(d)


def legacy_unit(d: Mapping[str, Any], values: Sequence[Number]) -> Unit:
    """The chart's declared unit; for a chart written before units were declared
    (no ``unit`` key, e.g. an older ``report.json``), the unit the renderer used to
    infer, so that old reports draw as they did: shares when every value lies in
    [0, 1] and (for bars) the axis label names a share; else ``value``."""
    unit = d.get("unit")
    if unit in UNITS:
        return _unit(unit)
    kind = d.get("kind")
    in_unit = bool(values) and all(0 <= v <= 1 for v in values)
    if kind == "bars":
        x_label = _text(d.get("x_label")).lower().rstrip("s")
        return "share" if in_unit and x_label.endswith(_SHARE_WORDS) else "value"
    if kind in ("distribution", "line"):
        return "share" if in_unit else "value"
    if kind == "reliability":
        return "share"
    return "value"
