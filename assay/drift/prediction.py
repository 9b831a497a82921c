"""``drift.prediction``: have the model's predictions moved from reference to current?"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

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
from assay.engine import ColumnSpec, Engine, LocalEngine, engine_for
from assay.engine._columns import Kind

if TYPE_CHECKING:
    from assay.core.context import AuditContext

CHECK_ID = "drift.prediction"
MAX_CLASS_SCORES = 10
"""Multiclass: at most this many per-class probability series are compared."""

_ADVICE = (
    "The model now answers differently on production data: confirm whether its inputs "
    "drifted (see drift.features) or the population changed, measure its performance on "
    "recent labelled data, and retrain or recalibrate if it has dropped.",
    "Nothing to do now; keep comparing the model's predictions as new data arrives.",
)


def _model_series(ctx: AuditContext, split: str) -> tuple[Engine, list[ColumnSpec], str]:
    """Series of the model's own predictions on both tables, in an in-memory engine."""
    frames = {}
    specs: list[ColumnSpec] = []
    main = "predicted class" if ctx.task in ("binary", "multiclass") else "prediction"
    for side, name in (("reference", split), ("current", "current")):
        pred = ctx.predictions(name)
        cols: dict[str, Any] = {}
        if ctx.task == "regression":
            cols["prediction"] = np.asarray(pred.labels, dtype=np.float64)
        else:
            cols["predicted class"] = pl.Series([str(v) for v in np.asarray(pred.labels).tolist()])
            if pred.proba is not None and ctx.task == "binary":
                pos = ctx.classes.index(ctx.positive_class)
                cols[f"score P({ctx.positive_class})"] = pred.proba[:, pos]
            elif pred.proba is not None:
                for k, c in enumerate(ctx.classes[:MAX_CLASS_SCORES]):
                    cols[f"score P({c})"] = pred.proba[:, k]
        frames[side] = pl.DataFrame(cols)
    for col in frames["reference"].columns:
        kind: Kind = "categorical" if col == "predicted class" else "numeric"
        specs.append(ColumnSpec(col, col, kind))
    if ctx.task == "binary" and len(specs) > 1:
        main = specs[1].name  # the score says more than the thresholded class
    return LocalEngine(frames["reference"], frames["current"]), specs, main


def _column_series(ctx: AuditContext, split: str) -> tuple[Engine, list[ColumnSpec], str]:
    """Series of the prediction and score columns present in both tables."""
    engine = engine_for(ctx, split)
    cols = [c for c in (ctx.prediction_column, *ctx.score_columns) if c is not None]
    missing = [c for c in cols if c not in engine.columns("current")]
    if missing:
        raise SkipCheck(
            f"current data lacks the prediction column(s) {', '.join(repr(c) for c in missing)}; "
            "add the model's predictions for current (or pass the model)"
        )
    specs = []
    for c in cols:
        numeric = c in ctx.score_columns or (
            ctx.schema.types.get(c) == "numeric" and ctx.task not in ("binary", "multiclass")
        )
        specs.append(ColumnSpec(c, c, "numeric" if numeric else "categorical"))
    single_score = ctx.task is None and len(ctx.score_columns) == 1
    main = (
        ctx.score_columns[0]
        if ctx.score_columns and (ctx.task == "binary" or single_score)
        else cols[0]
    )
    return engine, specs, main


@dataclass(frozen=True)
class PredictionDriftParams(UnivariateParams):
    """Parameters of ``drift.prediction``: those of the univariate methods."""


@dataclass(frozen=True)
class PredictionDriftDetails(Details):
    """What ``drift.prediction`` keeps in its ``details`` (``report.json``)."""

    engine: str
    predictions_from: str
    main_series: str
    reference: str
    rows_used: Mapping[str, Any]
    series: tuple[Mapping[str, Any], ...]


@register_check(
    CHECK_ID,
    area="drift",
    title="Prediction drift",
    explanation=(
        "Compares what the model predicts on current data with what it predicts on the "
        "reference: the distribution of its scores and of its predicted classes (or values). "
        "Predictions that move mean the model now behaves differently in production, whether "
        "because its inputs changed or the population did; this is often the first sign of "
        "decay, visible before any label arrives. The test is chosen as for feature drift."
    ),
    standards=("MEASURE 2.4", "MANAGE 4.1"),
    severity="high",
    params=PredictionDriftParams,
    needs=("model", "current"),
    details=PredictionDriftDetails,
)
def prediction_drift(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Drift of the predictions; ``fail`` when the main series (the score of a binary
    classifier, else the predicted class or value) drifts, ``warn`` when another does.
    Measured (:func:`measure_prediction_drift`), judged (:func:`judge_prediction_drift`),
    described."""
    m = measure_prediction_drift(ctx, th)
    status = judge_prediction_drift(m)
    summary, metrics, findings, advice, details = series_outcome(
        m, status, what="model's predictions", correction=th["correction"], advice=_ADVICE
    )
    return Outcome(
        status=status,
        summary=summary,
        metrics=metrics,
        findings=findings,
        recommendation=advice,
        details=details,
    )


def measure_prediction_drift(ctx: AuditContext, th: Mapping[str, Any]) -> SeriesDrift:
    """The model's predictions (from the model, else the prediction and score columns)
    compared between the reference (train, else test) and current."""
    split = reference_split(ctx)
    if ctx.model is not None:
        engine, specs, main = _model_series(ctx, split)
        source = "model"
    else:
        engine, specs, main = _column_series(ctx, split)
        source = "columns"
    drifts = assess(engine.summarize(specs), specs, th)
    n_ref, n_cur = engine.rows
    return SeriesDrift(
        series=tuple(drifts),
        main=main,
        reference=reference_name(ctx),
        reference_rows=n_ref,
        current_rows=n_cur,
        details={
            "engine": engine_name(ctx) if source == "columns" else "local",
            "predictions_from": source,
            "main_series": main,
        },
    )


def judge_prediction_drift(m: SeriesDrift) -> Status:
    """``fail`` when the main series (a binary classifier's score, else the predicted
    class or value) drifts, ``warn`` when only another one does, else ``pass``."""
    return judge_series(m)
