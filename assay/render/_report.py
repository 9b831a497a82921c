"""What every renderer reads: the report as a :class:`Report` (an
:class:`~assay.AuditResult` is one) whose values have their declared types, so that
renderers read fields, never dict keys, and coerce nothing.

A result from an audit is that already and comes back as it is. A report dict
(``report.json`` loaded) is read once: each check with :meth:`CheckResult.from_dict`
into a :class:`ParsedReport` (render sits below ``core.audit_result``, so it cannot build
an ``AuditResult`` itself). A check that parse refuses (a hand-edited one: without its
severity...) or whose values are not of their types (``"summary": null``,
``"duration_s": "x"``) is read leniently, field by field: a missing or mistyped text is
``""``, a mistyped number ``None``, a list or mapping of the wrong type empty, an entry
that is not a check or finding left out, and a status that is none of the five
:data:`UNKNOWN` (shown as such, never as a pass). So ``assay report`` still renders any
report, showing what is missing as "—".

Example
-------
>>> r = read_report({"checks": [{"id": "a.b", "status": "odd", "summary": None}, None]})
>>> [(c.id, c.status, c.summary, c.severity) for c in r.checks]
[('a.b', 'unknown', '', '')]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol, cast

from assay.core.charts import UNITS
from assay.core.result import STATUSES, CheckResult, Finding, Severity, Status

if TYPE_CHECKING:
    from assay.core.audit_result import AuditResult
    from assay.core.charts import Chart

__all__ = [
    "UNKNOWN",
    "ParsedReport",
    "Report",
    "charts_of",
    "count_statuses",
    "gate_failed",
    "read_report",
]

UNKNOWN = cast(Status, "unknown")
"""The status of a check or finding whose status is none of the five (a hand-edited
report); renderers show it as "Unknown" and count it apart."""

_TEXT_FIELDS = ("id", "area", "title", "summary", "explanation", "recommendation")


class Report(Protocol):
    """The fields of an :class:`~assay.AuditResult` a renderer reads."""

    @property
    def checks(self) -> tuple[CheckResult, ...]: ...
    @property
    def inputs(self) -> Mapping[str, Any]: ...
    @property
    def settings(self) -> Mapping[str, Any]: ...
    @property
    def environment(self) -> Mapping[str, Any]: ...
    @property
    def created_at(self) -> str: ...
    @property
    def assay_version(self) -> str: ...
    @property
    def fail_on(self) -> str: ...
    @property
    def extra(self) -> Mapping[str, Any]: ...
    @property
    def schema_version(self) -> str: ...


@dataclass(frozen=True)
class ParsedReport:
    """A report dict read by :func:`read_report`: the fields of an ``AuditResult``."""

    checks: tuple[CheckResult, ...] = ()
    inputs: Mapping[str, Any] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    environment: Mapping[str, Any] = field(default_factory=dict)
    created_at: str = ""
    assay_version: str = ""
    fail_on: str = "fail"
    extra: Mapping[str, Any] = field(default_factory=dict)
    schema_version: str = ""
    recorded_gate: bool | None = None
    """``gate.failed`` as the report file records it (``None`` when it records none)."""


def read_report(report: AuditResult | Mapping[str, Any] | Any) -> Report:
    """``report`` (an audit, ``report.json`` loaded, or anything else) as a :class:`Report`
    whose every field has its declared type; never raises."""
    if isinstance(report, ParsedReport):
        return report  # read already
    if isinstance(report, Mapping):
        return _parse(report)
    if not callable(getattr(report, "gate_failed", None)):
        return ParsedReport()
    audit = cast("AuditResult", report)
    checks = tuple(c if _sound_check(c) else _check(_getter(c)) for c in audit.checks)
    if all(a is b for a, b in zip(checks, audit.checks, strict=True)):
        return audit
    return replace(_top(_getter(audit), checks), recorded_gate=audit.gate_failed())


def count_statuses(checks: Iterable[CheckResult]) -> dict[str, int]:
    """Counts by status over the checks (every status present, :data:`UNKNOWN` apart)."""
    counts: dict[str, int] = dict.fromkeys([*STATUSES, UNKNOWN], 0)
    for c in checks:
        counts[c.status] += 1
    return counts


def charts_of(c: CheckResult) -> tuple[Chart, ...]:
    """The typed charts of a check (``CheckResult.charts``); none when a hand-edited chart
    cannot be read, which loses the check's charts, never the document."""
    try:
        return c.charts
    except (TypeError, ValueError, ArithmeticError, KeyError, AttributeError):
        return ()


def plan_input(report: Report) -> dict[str, Any]:
    """The report dict the governance helpers read (``remediation_plan``, ``governance_of``
    in :mod:`assay.governance._plan`): each check's ``to_dict()`` with the report's inputs,
    settings and extra."""
    return {
        "checks": [c.to_dict() for c in report.checks],
        "inputs": report.inputs,
        "settings": report.settings,
        "extra": report.extra,
    }


def gate_recorded(report: Report) -> bool | None:
    """Whether the gate failed, as a report read from a dict records it (``None`` when it
    records none); an audit's own verdict (:func:`gate_failed`) otherwise."""
    if isinstance(report, ParsedReport):
        return report.recorded_gate
    return gate_failed(report)


def gate_failed(report: Report) -> bool:
    """Whether the gate fails: as the report records it when it does, else a ``fail``,
    ``error`` or :data:`UNKNOWN` check (or a ``warn`` when the gate fails on warnings), as
    ``AuditResult.gate_failed``."""
    if isinstance(report, ParsedReport) and report.recorded_gate is not None:
        return report.recorded_gate
    bad = {"fail", "error", UNKNOWN} | ({"warn"} if report.fail_on == "warn" else set())
    return any(c.status in bad for c in report.checks)


def _parse(d: Mapping[str, Any]) -> ParsedReport:
    raw = d.get("checks")
    entries = raw if isinstance(raw, (list, tuple)) else []
    return _top(d.get, tuple(_parse_check(c) for c in entries if isinstance(c, Mapping)))


def _parse_check(d: Mapping[str, Any]) -> CheckResult:
    try:
        c = CheckResult.from_dict(d)
    except Exception:  # a hand-edited check: read it field by field
        return _check(d.get)
    return c if _sound_check(c) else _check(d.get)


def _top(get: Callable[[str], Any], checks: tuple[CheckResult, ...]) -> ParsedReport:
    gate = get("gate")
    fail_on = get("fail_on") if gate is None else _mapping(gate).get("fail_on")
    failed = _mapping(gate).get("failed")
    return ParsedReport(
        checks=checks,
        inputs=_mapping(get("inputs")),
        settings=_mapping(get("settings")),
        environment=_mapping(get("environment")),
        created_at=_text(get("created_at")),
        assay_version=_text(get("assay_version")),
        fail_on="warn" if fail_on == "warn" else "fail",
        extra=_mapping(get("extra")),
        schema_version=_text(get("schema_version")),
        recorded_gate=failed if isinstance(failed, bool) else None,
    )


# -- sound: the types the fields declare --------------------------------------------------
def _sound_check(c: CheckResult) -> bool:
    return (
        all(isinstance(getattr(c, k), str) for k in _TEXT_FIELDS)
        and _known(c.status)
        and isinstance(c.severity, str)
        and _sound_numbers(c.metrics)
        and isinstance(c.findings, tuple)
        and all(_sound_finding(f) for f in c.findings)
        and isinstance(c.standards, tuple)
        and all(isinstance(s, str) for s in c.standards)
        and isinstance(c.thresholds, Mapping)
        and isinstance(c.details, Mapping)
        and (c.duration_s is None or _number(c.duration_s) is not None)
        and isinstance(c.units, Mapping)
    )


def _sound_finding(f: Any) -> bool:
    return (
        isinstance(f, Finding)
        and _known(f.status)
        and isinstance(f.message, str)
        and all(_opt_text(getattr(f, k)) for k in ("column", "group", "split"))
        and (f.columns is None or all(isinstance(v, str) for v in f.columns))
        and _sound_numbers(f.metrics)
    )


def _sound_numbers(m: Any) -> bool:
    return isinstance(m, Mapping) and all(
        isinstance(k, str) and (v is None or _number(v) is not None) for k, v in m.items()
    )


def _opt_text(v: Any) -> bool:
    return v is None or isinstance(v, str)


# -- lenient: field by field ----------------------------------------------------------------
def _getter(obj: Any) -> Callable[[str], Any]:
    if isinstance(obj, Mapping):
        return obj.get
    return lambda name: getattr(obj, name, None)


def _check(get: Callable[[str], Any]) -> CheckResult:
    findings = get("findings")
    return CheckResult(
        **{k: _text(get(k)) for k in _TEXT_FIELDS},
        status=_status(get("status")),
        severity=cast(Severity, _text(get("severity"))),
        metrics=_numbers(get("metrics")),
        findings=tuple(
            _finding(_getter(f))
            for f in (findings if isinstance(findings, (list, tuple)) else ())
            if isinstance(f, (Mapping, Finding))
        ),
        standards=tuple(_text(s) for s in _list(get("standards")) if s is not None),
        thresholds=_mapping(get("thresholds")),
        details=_mapping(get("details")),
        duration_s=_number(get("duration_s")),
        units={str(k): v for k, v in _mapping(get("units")).items() if v in UNITS},
    )


def _finding(get: Callable[[str], Any]) -> Finding:
    columns, rows = get("columns"), get("rows")
    return Finding(
        status=_status(get("status")),
        message=_text(get("message")),
        column=_opt(get("column")),
        columns=(columns,)
        if isinstance(columns, str)
        else tuple(_text(c) for c in columns if c is not None)
        if isinstance(columns, (list, tuple))
        else None,
        group=_opt(get("group")),
        rows=tuple(r for r in rows if isinstance(r, int) and not isinstance(r, bool))
        if isinstance(rows, (list, tuple))
        else None,
        split=_opt(get("split")),
        metrics=_numbers(get("metrics")),
    )


def _known(status: Any) -> bool:
    return status in STATUSES or status == UNKNOWN


def _status(v: Any) -> Status:
    return cast(Status, v) if v in STATUSES else UNKNOWN


def _text(v: Any) -> str:
    """A text field: text as it is, a number as written, anything else ``""``."""
    if isinstance(v, str):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    return ""


def _opt(v: Any) -> str | None:
    return None if v is None else _text(v)


def _number(v: Any) -> float | int | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return v if isinstance(v, int) or math.isfinite(v) else None


def _numbers(v: Any) -> dict[str, float | int | None]:
    return {str(k): _number(x) for k, x in _mapping(v).items()}


def _mapping(v: Any) -> dict[str, Any]:
    return {str(k): x for k, x in v.items()} if isinstance(v, Mapping) else {}


def _list(v: Any) -> list[Any]:
    if isinstance(v, str):
        return [v]
    return list(v) if isinstance(v, (list, tuple)) else []
