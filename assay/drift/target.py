"""``drift.target``: has the distribution of the target moved (label shift)?"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assay.core.details import Details
from assay.core.registry import Outcome, SkipCheck, register_check
from assay.core.result import Status
from assay.drift._common import (
    SeriesDrift,
    engine_name,
    judge_series,
    reference_name,
    reference_split,
    series_outcome,
)
from assay.drift._univariate import UnivariateParams, assess
from assay.engine import ColumnSpec, engine_for
from assay.engine._columns import Kind

if TYPE_CHECKING:
    from assay.core.context import AuditContext

CHECK_ID = "drift.target"

_ADVICE = (
    "The outcome the model predicts has become more or less frequent (or its values moved): "
    "re-check the model's decision threshold and calibration on recent labelled data, and "
    "retrain on recent data if its accuracy has dropped.",
    "Nothing to do now; compare the target again when new labels arrive.",
)


@dataclass(frozen=True)
class TargetDriftParams(UnivariateParams):
    """Parameters of ``drift.target``: those of the univariate methods."""


@dataclass(frozen=True)
class TargetDriftDetails(Details):
    """What ``drift.target`` keeps in its ``details`` (``report.json``)."""

    engine: str
    task: str
    reference: str
    rows_used: Mapping[str, Any]
    series: tuple[Mapping[str, Any], ...]


@register_check(
    CHECK_ID,
    area="drift",
    title="Target drift",
    explanation=(
        "Compares the distribution of the target (the true outcome) in current data with the "
        "reference, when current data carries labels. A change in how often each class occurs, "
        "or in the range of a predicted quantity, means the world the model predicts has "
        "changed: its thresholds and probabilities may no longer fit even if its inputs look "
        "the same. The test is chosen as for feature drift."
    ),
    standards=("MEASURE 2.4", "MEASURE 3.1"),
    severity="high",
    params=TargetDriftParams,
    needs=("labels", "current"),
    details=TargetDriftDetails,
)
def target_drift(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Drift of the target between reference and current; ``fail`` when it drifts.
    Measured (:func:`measure_target_drift`), judged (:func:`judge_target_drift`),
    described."""
    m = measure_target_drift(ctx, th)
    status = judge_target_drift(m)
    summary, metrics, findings, advice, details = series_outcome(
        m, status, what=f"target '{m.main}'", correction=th["correction"], advice=_ADVICE
    )
    return Outcome(
        status=status,
        summary=summary,
        metrics=metrics,
        findings=findings,
        recommendation=advice,
        details=details,
    )


def measure_target_drift(ctx: AuditContext, th: Mapping[str, Any]) -> SeriesDrift:
    """The target's distribution compared between the reference (train, else test) and
    current; skips when current has no labels."""
    target = ctx.target
    if target is None:
        raise SkipCheck("no target column was given (pass target=... or --target)")
    split = reference_split(ctx)
    engine = engine_for(ctx, split)
    if target not in engine.columns("current"):
        raise SkipCheck(
            f"current data has no target column '{target}' (labels usually arrive later in "
            "production); add it when they do to compare the target's distribution"
        )
    kind: Kind = "categorical" if ctx.task in ("binary", "multiclass") else "numeric"
    spec = ColumnSpec(target, target, kind)
    summaries = engine.summarize([spec])
    if summaries[target][1].n == 0:
        raise SkipCheck(
            f"every value of the target '{target}' is missing in current: no labels yet"
        )
    n_ref, n_cur = engine.rows
    return SeriesDrift(
        series=tuple(assess(summaries, [spec], th)),
        main=target,
        reference=reference_name(ctx),
        reference_rows=n_ref,
        current_rows=n_cur,
        details={"engine": engine_name(ctx), "task": ctx.task},
    )


def judge_target_drift(m: SeriesDrift) -> Status:
    """``fail`` when the target drifts, else ``pass``."""
    return judge_series(m)
