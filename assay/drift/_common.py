"""Shared by the drift checks: which table is the reference, what is compared,
and how verdicts become findings, summaries and charts (private)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from assay.core.charts import Bar, BarChart
from assay.core.result import Finding, Status
from assay.drift._univariate import ColumnDrift, describe, distribution_chart, num, pct
from assay.engine import ColumnSpec

if TYPE_CHECKING:
    from assay.core.context import AuditContext

SKIP_TYPES = {
    "text": "free text is not compared value by value (it would need text embeddings)",
    "identifier": "an identifier takes new values in every table, so it always 'drifts'",
}


def reference_split(ctx: AuditContext) -> str:
    """The split drift is measured against: train when given, else test."""
    return "train" if ctx.has("train") else "test"


def reference_name(ctx: AuditContext) -> str:
    """How the reference is named in sentences (``train``, ``test`` or ``reference``)."""
    split = reference_split(ctx)
    src = ctx.sources.get(split)
    return src.name if src is not None and src.name else split


def reference_choice(ctx: AuditContext) -> str:
    """Why that table is the reference, for ``details``."""
    name = reference_name(ctx)
    if name == "reference":
        return "the reference table given to `assay drift`"
    if name == "train":
        return "train: the data the model learned from (reference = train when given, else test)"
    return "test: no training data was given (reference = train when given, else test)"


def engine_name(ctx: AuditContext) -> str:
    """The name of the engine the drift checks read (``local`` unless one is set)."""
    return ctx.engine.name if ctx.engine is not None else "local"


def _has_time_of_day(s: pl.Series) -> bool:
    if s.dtype == pl.Date:
        return False
    s = s.drop_nulls()
    if s.len() == 0:
        return False
    seconds = s.dt.hour().cast(pl.Int64) * 3600 + s.dt.minute().cast(pl.Int64) * 60
    return bool((seconds + s.dt.second().cast(pl.Int64)).max() or 0)


def feature_specs(
    columns: Sequence[str], types: Mapping[str, str], sample: pl.DataFrame
) -> tuple[list[ColumnSpec], list[dict[str, str]]]:
    """What to compare for each column, and the columns left out with the reason.

    Datetime columns are compared by weekday (and hour, when they have a time
    of day): raw timestamps always move forward from reference to current.
    """
    specs: list[ColumnSpec] = []
    skipped: list[dict[str, str]] = []
    for col in columns:
        t = types.get(col, "categorical")
        if t == "numeric":
            specs.append(ColumnSpec(col, col, "numeric"))
        elif t in ("categorical", "boolean"):
            specs.append(ColumnSpec(col, col, "categorical"))
        elif t == "datetime" and col in sample.columns and sample.schema[col].is_temporal():
            if sample.schema[col] == pl.Time or sample.schema[col] == pl.Duration:
                specs.append(ColumnSpec(col, col, "numeric"))
                continue
            specs.append(ColumnSpec(f"{col} (weekday)", col, "categorical", "weekday"))
            parts = "weekday"
            if _has_time_of_day(sample.get_column(col)):
                specs.append(ColumnSpec(f"{col} (hour)", col, "categorical", "hour"))
                parts = "weekday and hour of day"
            skipped.append(
                {
                    "column": col,
                    "reason": "raw timestamps always move forward from reference to current; "
                    f"compared by {parts} instead",
                }
            )
        elif t == "datetime":
            skipped.append({"column": col, "reason": "datetime values could not be read as dates"})
        else:
            skipped.append({"column": col, "reason": SKIP_TYPES.get(t, f"{t} columns are skipped")})
    return specs, skipped


def short_statistic(d: ColumnDrift) -> str:
    """``'Wasserstein 0.45 stds'``, ``'JS 0.21'``, ``'KS test p = 1e-05'``."""
    if d.method == "wasserstein":
        return f"Wasserstein distance {num(d.statistic)} reference stds"
    if d.method == "jensenshannon":
        return f"Jensen–Shannon distance {num(d.statistic)}"
    if d.method == "all_missing":
        return d.reason
    p = d.p_adjusted if d.p_adjusted is not None else d.p_value
    name = {"ks": "KS test", "chi_square": "chi-square test", "z_test": "z-test"}.get(
        d.method, "Fisher's exact test"
    )
    return f"{name} p = {num(p)}"


def ranked(drifts: Sequence[ColumnDrift]) -> list[ColumnDrift]:
    """Drifted first, most drifted first (by score against the threshold), then by name."""
    return sorted(drifts, key=lambda d: (not d.drifted, -min(d.score, 1e12), d.name))


def findings_for(drifts: Sequence[ColumnDrift], status: Status, correction: str) -> list[Finding]:
    """A finding per drifted column (``status``) and per untested column (``pass``)."""
    out = []
    for d in ranked(drifts):
        if d.drifted:
            st: Status = status
        elif not d.tested:
            st = "pass"
        else:
            continue
        out.append(
            Finding(
                status=st,
                message=describe(d, correction),
                column=d.column,
                split="current",
                metrics=d.metrics(),
            )
        )
    return out


def charts_for(drifts: Sequence[ColumnDrift], reference: str, limit: int) -> list[dict[str, Any]]:
    """Distribution charts of the ``limit`` most drifted columns."""
    out: list[dict[str, Any]] = []
    for d in ranked(drifts):
        if not d.drifted or len(out) >= limit:
            break
        chart = distribution_chart(d, reference)
        if chart is not None:
            out.append(chart)
    return out


def overview_chart(drifts: Sequence[ColumnDrift]) -> dict[str, Any] | None:
    """PSI of every tested column, coloured by the drift verdict."""
    items = [
        Bar(d.name, float(d.psi), "warn" if d.drifted else "pass")
        for d in ranked(drifts)
        if d.psi is not None
    ]
    if not items:
        return None
    return BarChart(
        title="Population stability index (PSI) by column; drifted columns marked",
        x_label="PSI (0.1: moderate shift, 0.25: large shift)",
        unit="value",
        items=items,
    ).to_dict()


def rows_text(n: int) -> str:
    return f"{n:,} row{'s' if n != 1 else ''}"


__all__ = [
    "charts_for",
    "engine_name",
    "feature_specs",
    "findings_for",
    "overview_chart",
    "pct",
    "ranked",
    "reference_choice",
    "reference_name",
    "reference_split",
    "rows_text",
    "short_statistic",
]


@dataclass(frozen=True)
class SeriesDrift:
    """What a check over a few series (predictions, target) measures: each series
    compared between reference and current, with its own verdict against the
    per-series thresholds (:func:`assay.drift._univariate.assess`)."""

    series: tuple[ColumnDrift, ...]
    main: str
    """The series whose drift fails the check."""
    reference: str
    """How the reference is named (train, test or reference)."""
    reference_rows: int
    current_rows: int
    details: Mapping[str, Any]
    """What the check records first in its details (engine, source)."""

    @property
    def lead(self) -> ColumnDrift:
        return next(d for d in self.series if d.name == self.main)

    @property
    def others_drifted(self) -> list[ColumnDrift]:
        return [d for d in self.series if d.name != self.main and d.drifted]


def judge_series(m: SeriesDrift) -> Status:
    """The verdict on a few series (predictions, target) from their comparisons alone:
    ``fail`` when the main series drifts, ``warn`` when only another one does."""
    return "fail" if m.lead.drifted else "warn" if m.others_drifted else "pass"


def series_outcome(
    m: SeriesDrift,
    status: Status,
    *,
    what: str,
    correction: str,
    advice: tuple[str, str],
    max_charts: int = 4,
) -> tuple[str, dict[str, float | int | None], list[Finding], str, dict[str, Any]]:
    """Summary, metrics, findings, recommendation and details of a check over a few
    series (predictions, target), judged ``status`` (:func:`judge_series`)."""
    drifts, main, ref_name, details = m.series, m.main, m.reference, m.details
    lead, others = m.lead, m.others_drifted
    rows = (m.reference_rows, m.current_rows)
    n_ref, n_cur = rows
    where = f"from {ref_name} ({rows_text(n_ref)}) to current ({rows_text(n_cur)})"
    if lead.method == "not_tested":
        summary = f"The {what} could not be tested {where}: {lead.reason}."
    elif lead.drifted:
        summary = f"The {what} drifted {where}: '{lead.name}', {short_statistic(lead)}."
    elif others:
        names = ", ".join(f"'{d.name}'" for d in others[:3])
        summary = f"The {what} drifted only in {names} {where} ({short_statistic(others[0])})."
    else:
        summary = f"The {what} did not drift {where} ('{lead.name}', {short_statistic(lead)})."
    metrics: dict[str, float | int | None] = {
        "drifted": int(lead.drifted),
        "statistic": lead.statistic,
        "p_value": lead.p_value,
        "threshold": lead.threshold,
        "psi": lead.psi,
        "drifted_series": sum(d.drifted for d in drifts),
        "reference_rows": n_ref,
        "current_rows": n_cur,
    }
    findings = []
    for d in ranked(drifts):
        if d.drifted:
            st: Status = "fail" if d.name == main else "warn"
        elif not d.tested:
            st = "pass"
        else:
            continue
        msg = describe(d, correction)
        findings.append(Finding(st, msg, column=d.column, split="current", metrics=d.metrics()))
    if not findings and lead.tested:
        msg = describe(lead, correction)
        findings.append(
            Finding("pass", msg, column=lead.column, split="current", metrics=lead.metrics())
        )
    charts = charts_for(drifts, ref_name, max_charts)
    if not charts:
        chart = distribution_chart(lead, ref_name)
        charts = [chart] if chart is not None else []
    out_details = {
        **details,
        "reference": ref_name,
        "rows_used": {"reference": n_ref, "current": n_cur, "sampled": False},
        "series": [d.row() for d in drifts],
        "charts": charts,
    }
    return summary, metrics, findings, advice[0 if status != "pass" else 1], out_details
