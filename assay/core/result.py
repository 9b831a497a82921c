"""Typed, immutable results: :class:`Finding`, :class:`CheckResult`, :class:`AuditResult`.

Results carry numbers and plain sentences only, never plotting objects. They
round-trip through JSON exactly (``from_dict(to_dict(r)) == r``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, TypeVar

if TYPE_CHECKING:  # imported where used, to keep `import assay` light
    from assay.core.charts import Chart, Unit
    from assay.core.details import Record

    R = TypeVar("R", bound=Record)

Status = Literal["pass", "warn", "fail", "error", "skipped"]
Severity = Literal["info", "low", "medium", "high", "critical"]

STATUSES: tuple[Status, ...] = ("pass", "warn", "fail", "error", "skipped")
SEVERITIES: tuple[Severity, ...] = ("info", "low", "medium", "high", "critical")
_STATUS_RANK = {"skipped": 0, "pass": 1, "warn": 2, "fail": 3, "error": 3}


def worst_status(statuses: Sequence[str], default: Status = "pass") -> Status:
    """Return the most serious of ``statuses`` (``fail`` > ``warn`` > ``pass``)."""
    best: Status = default
    for s in statuses:
        if _STATUS_RANK[s] > _STATUS_RANK[best]:
            best = s  # type: ignore[assignment]  # a key of _STATUS_RANK: a Status
    return best


def clean_number(value: Any) -> float | int | None:
    """Turn a NumPy scalar or float into a JSON-safe number (NaN/inf become None)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    if math.isnan(f) or math.isinf(f):
        return None
    if f.is_integer() and hasattr(value, "dtype") and "int" in str(value.dtype):
        return int(f)
    return f


def to_jsonable(value: Any) -> Any:
    """Recursively convert NumPy types, tuples and non-finite floats for JSON."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, str) or value is None:
        return value
    if isinstance(value, bool):
        return value
    if hasattr(value, "tolist") and not isinstance(value, (int, float)):
        return to_jsonable(value.tolist())
    if isinstance(value, (int, float)) or hasattr(value, "dtype"):
        return clean_number(value)
    return str(value)


@dataclass(frozen=True)
class Finding:
    """One specific problem (or observation) a check found.

    It names what it is about: a ``column``, several ``columns``, a ``group``,
    or ``rows`` (row positions, 0-based) in the named ``split``.
    """

    status: Status
    message: str
    column: str | None = None
    columns: tuple[str, ...] | None = None
    group: str | None = None
    rows: tuple[int, ...] | None = None
    split: str | None = None
    metrics: Mapping[str, float | int | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "message": self.message}
        for key in ("column", "columns", "group", "rows", "split"):
            val = getattr(self, key)
            if val is not None:
                out[key] = list(val) if isinstance(val, tuple) else val
        out["metrics"] = {k: clean_number(v) for k, v in self.metrics.items()}
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Finding:
        return cls(
            status=d["status"],
            message=d["message"],
            column=d.get("column"),
            columns=tuple(d["columns"]) if d.get("columns") is not None else None,
            group=d.get("group"),
            rows=tuple(int(r) for r in d["rows"]) if d.get("rows") is not None else None,
            split=d.get("split"),
            metrics=dict(d.get("metrics", {})),
        )


@dataclass(frozen=True)
class CheckResult:
    """What one check concluded. See ``docs/checks.md`` for every id."""

    id: str
    area: str
    title: str
    status: Status
    severity: Severity
    summary: str
    explanation: str
    metrics: Mapping[str, float | int | None] = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()
    recommendation: str = ""
    standards: tuple[str, ...] = ()
    thresholds: Mapping[str, Any] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)
    duration_s: float | None = None
    units: Mapping[str, Unit] = field(default_factory=dict)
    """The unit of each metric that declares one (e.g. ``{"flip_rate": "share"}``, see
    :mod:`assay.core.charts`); renderers format those metrics, their ``_low``/``_high``
    bounds and the same names in findings by it, as the charts do. In ``report.json``
    only when not empty."""

    @property
    def passed(self) -> bool:
        return self.status in ("pass", "skipped")

    @cached_property
    def charts(self) -> tuple[Chart, ...]:
        """The charts of ``details["charts"]`` as typed charts (parsed once; an entry
        that is not a known chart is left out)."""
        from assay.core.charts import chart_from_dict

        parsed = (chart_from_dict(d) for d in (self.details.get("charts") or ()))
        return tuple(c for c in parsed if c is not None)

    def details_as(self, tp: type[R], *, strict: bool = False) -> R:
        """``details`` read as the check's declared details type ``tp`` (a subclass of
        :class:`assay.core.details.Details`), parsed once per type and kept.

        Lenient unless ``strict`` (see :func:`assay.core.details.details_from_dict`): a
        report from an older version reads with defaults for what it lacks.
        """
        from assay.core.details import details_from_dict

        cache: dict[tuple[type, bool], Any] = self.__dict__.setdefault("_typed_details", {})
        key = (tp, strict)
        if key not in cache:
            cache[key] = details_from_dict(tp, self.details, strict=strict, where=self.id)
        return cache[key]

    @property
    def evidence(self) -> dict[str, Any] | None:
        """How strong a warn or fail is (``strength`` and its ``basis``), from the
        p or q value in its metrics; ``None`` when it names none (see
        :mod:`assay.core.evidence`)."""
        from assay.core.evidence import grade

        strength, basis = grade(self.metrics, self.status)
        return None if strength is None else {"strength": strength, "basis": basis}

    def to_dict(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "area": self.area,
            "title": self.title,
            "status": self.status,
            "severity": self.severity,
            "summary": self.summary,
            "explanation": self.explanation,
            "metrics": {k: clean_number(v) for k, v in self.metrics.items()},
            "findings": [f.to_dict() for f in self.findings],
            "recommendation": self.recommendation,
            "standards": list(self.standards),
            "thresholds": to_jsonable(dict(self.thresholds)),
            "details": to_jsonable(dict(self.details)),
            "duration_s": None if self.duration_s is None else round(self.duration_s, 4),
            "evidence": self.evidence,
        }
        if self.units:
            out["units"] = dict(self.units)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CheckResult:
        from assay.core.charts import UNITS

        return cls(
            id=d["id"],
            area=d["area"],
            title=d["title"],
            status=d["status"],
            severity=d["severity"],
            summary=d["summary"],
            explanation=d.get("explanation", ""),
            metrics=dict(d.get("metrics", {})),
            findings=tuple(Finding.from_dict(f) for f in d.get("findings", [])),
            recommendation=d.get("recommendation", ""),
            standards=tuple(d.get("standards", [])),
            thresholds=dict(d.get("thresholds", {})),
            details=dict(d.get("details", {})),
            duration_s=d.get("duration_s"),
            units={str(k): v for k, v in dict(d.get("units") or {}).items() if v in UNITS},
        )
