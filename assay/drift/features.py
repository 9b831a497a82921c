"""``drift.features``: has each feature's distribution moved from reference to current?"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assay.core.details import Details
from assay.core.params import param
from assay.core.registry import Outcome, SkipCheck, register_check
from assay.core.result import Status
from assay.drift._common import (
    charts_for,
    engine_name,
    feature_specs,
    findings_for,
    overview_chart,
    pct,
    ranked,
    reference_choice,
    reference_name,
    reference_split,
    rows_text,
    short_statistic,
)
from assay.drift._univariate import ColumnDrift, UnivariateParams, assess, correction_text
from assay.engine import engine_for

if TYPE_CHECKING:
    from assay.core.context import AuditContext

CHECK_ID = "drift.features"

METHOD_RULE = (
    "Numeric columns: Wasserstein distance normalised by the reference standard deviation "
    "(drift at >= {wasserstein}) when both tables have more than {small} values, otherwise the "
    "two-sample Kolmogorov-Smirnov test (drift at p < {p_value}). Categorical and boolean "
    "columns, and numeric columns with at most 5 distinct values: Jensen-Shannon distance "
    "(drift at >= {jensenshannon}) above {small} values, otherwise a z-test for two "
    "proportions (two categories; Fisher's exact test when a count is expected fewer than 5 "
    "times) or a chi-square test of homogeneity (drift at p < {p_value}). P-values corrected "
    "with {correction}. PSI is reported for every column."
)


@dataclass(frozen=True)
class FeatureDriftParams(UnivariateParams):
    """Parameters of ``drift.features``."""

    drift_share_fail: float = param(
        0.5, "Share of tested columns drifting at or above which it fails.", ge=0, le=1
    )
    drifted_columns_warn: int = param(1, "Drifting columns at or above which it warns.", ge=1)
    max_charts: int = param(8, "Distribution charts drawn, most drifted columns first.", ge=0)


@dataclass(frozen=True)
class FeatureDriftDetails(Details):
    """What ``drift.features`` keeps in its ``details`` (``report.json``)."""

    reference: str
    reference_choice: str
    engine: str
    rows_used: Mapping[str, Any]
    method_rule: str
    columns: tuple[Mapping[str, Any], ...]
    skipped_columns: tuple[Any, ...]


@register_check(
    CHECK_ID,
    area="drift",
    title="Feature drift",
    explanation=(
        "Compares the distribution of every feature in current (production) data with the "
        "reference the model was built on, one column at a time. The test is chosen by column "
        "type and size, as Evidently does: a Kolmogorov-Smirnov, chi-square or proportion "
        "test on small samples, a Wasserstein or Jensen-Shannon distance on large ones, with "
        "the population stability index (PSI) shown for every column. When many columns move, "
        "the model is working on data unlike what it learned from and its accuracy may have "
        "dropped without anyone noticing."
    ),
    standards=("MEASURE 2.4", "MANAGE 4.1"),
    severity="high",
    params=FeatureDriftParams,
    needs=("current",),
    tasks=("binary", "multiclass", "regression", "clustering", "anomaly"),  # needs no labels
    details=FeatureDriftDetails,
)
def feature_drift(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Univariate drift of every feature; ``fail`` when at least ``drift_share_fail``
    of the tested columns drift (Evidently's dataset-drift rule), ``warn`` when at
    least ``drifted_columns_warn`` columns drift. Measured (:func:`measure_feature_drift`),
    judged (:func:`judge_feature_drift`), described."""
    m = measure_feature_drift(ctx, th)
    return _describe(m, judge_feature_drift(m, th), th)


@dataclass(frozen=True)
class FeatureDrift:
    """What ``drift.features`` measures: each column's comparison, with its own verdict
    against the per-column thresholds (:func:`assay.drift._univariate.assess`)."""

    columns: tuple[ColumnDrift, ...]
    reference: str
    """How the reference is named (train, test or reference)."""
    reference_rows: int
    current_rows: int
    skipped: tuple[dict[str, str], ...] = ()
    """Columns left out, with the reason."""
    reference_choice: str = ""
    engine: str = "local"

    @property
    def tested(self) -> list[ColumnDrift]:
        return [d for d in self.columns if d.tested]

    @property
    def drifted(self) -> list[ColumnDrift]:
        return [d for d in self.tested if d.drifted]

    @property
    def share(self) -> float:
        """Share of the tested columns that drift."""
        return len(self.drifted) / len(self.tested) if self.tested else 0.0


def measure_feature_drift(ctx: AuditContext, th: Mapping[str, Any]) -> FeatureDrift:
    """Each feature of the reference (train, else test) compared with current."""
    split = reference_split(ctx)
    engine = engine_for(ctx, split)
    current_columns = set(engine.columns("current"))
    columns = [c for c in ctx.schema.features if c in current_columns]
    specs, skipped = feature_specs(columns, ctx.schema.types, ctx.frame(split))
    if not specs:
        raise SkipCheck("no feature column can be compared between reference and current")
    drifts = assess(engine.summarize(specs), specs, th)
    n_ref, n_cur = engine.rows
    return FeatureDrift(
        columns=tuple(drifts),
        reference=reference_name(ctx),
        reference_rows=n_ref,
        current_rows=n_cur,
        skipped=tuple(skipped),
        reference_choice=reference_choice(ctx),
        engine=engine_name(ctx),
    )


def judge_feature_drift(m: FeatureDrift, th: Mapping[str, Any]) -> Status:
    """``fail`` when at least ``drift_share_fail`` of the tested columns drift, ``warn``
    when at least ``drifted_columns_warn`` columns drift; else ``pass``."""
    if m.tested and m.share >= th["drift_share_fail"]:
        return "fail"
    return "warn" if len(m.drifted) >= th["drifted_columns_warn"] else "pass"


_RECOMMENDATION = {
    "fail": (
        "Most columns moved: production data no longer looks like the data the model "
        "learned from. Find the cause (a pipeline change, a new population, a season), "
        "measure the model's performance on recent labelled data, and retrain on recent "
        "data if it has dropped."
    ),
    "warn": (
        "Look at the drifted columns first: check whether the change is real (a new "
        "population) or a pipeline fault (a unit change, a broken join, a new category "
        "code), and how much the model relies on these columns; then watch its performance."
    ),
    "pass": "Nothing to do now; keep comparing new production data as it arrives.",
}


def _summary(m: FeatureDrift) -> str:
    """One sentence: how many columns drifted, and the most drifted one."""
    tested, drifted = m.tested, m.drifted
    where = (
        f"from {m.reference} ({rows_text(m.reference_rows)}) to current "
        f"({rows_text(m.current_rows)})"
    )
    if drifted:
        top = ranked(drifted)[0]
        summary = (
            f"Drift in {len(drifted)} of {len(tested)} columns ({pct(m.share)}) {where}; "
            f"the most drifted is '{top.name}' ({short_statistic(top)})."
        )
    elif tested:
        summary = f"No column drifted {where}: all {len(tested)} tested columns are consistent."
    else:
        summary = f"No column could be tested {where}: every column has too few values."
    untested = len(m.columns) - len(tested)
    if untested and tested:
        summary = summary[:-1] + f"; {untested} column(s) had too few values to test."
    return summary


def _describe(m: FeatureDrift, status: Status, th: Mapping[str, Any]) -> Outcome:
    """Summary, findings (one per drifted column), recommendation and charts."""
    drifts, tested = list(m.columns), m.tested
    psis = [d.psi for d in tested if d.psi is not None]
    metrics: dict[str, float | int | None] = {
        "drift_share": m.share,
        "drifted_columns": len(m.drifted),
        "tested_columns": len(tested),
        "untested_columns": len(drifts) - len(tested),
        "reference_rows": m.reference_rows,
        "current_rows": m.current_rows,
        "max_psi": max(psis) if psis else None,
    }
    charts = charts_for(drifts, m.reference, int(th["max_charts"]))
    overview = overview_chart(drifts)
    if overview is not None and len(tested) > 1:
        charts.insert(0, overview)
    return Outcome(
        status=status,
        summary=_summary(m),
        metrics=metrics,
        findings=findings_for(drifts, status, th["correction"]),
        recommendation=_RECOMMENDATION[status],
        details={
            "reference": m.reference,
            "reference_choice": m.reference_choice,
            "engine": m.engine,
            "rows_used": {
                "reference": m.reference_rows,
                "current": m.current_rows,
                "sampled": False,
            },
            "method_rule": METHOD_RULE.format(
                small=f"{th['small_sample_rows']:,}",
                correction=correction_text(th["correction"]),
                **{k: th[k] for k in ("wasserstein", "p_value", "jensenshannon")},
            ),
            "columns": [d.row() for d in ranked(drifts)],
            "skipped_columns": list(m.skipped),
            "charts": charts,
        },
    )
