"""``monitoring.estimated_performance``: how well is the model doing on unlabeled
current data? Confidence-based performance estimation (CBPE, see
:mod:`assay.monitoring._cbpe`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from assay.core.context import AuditContext
from assay.core.details import Details
from assay.core.params import param
from assay.core.registry import Outcome, SkipCheck, register_check
from assay.core.result import Finding, Status
from assay.evaluation._bootstrap import SPLIT_STREAMS, Interval, sample_rows, split_data
from assay.evaluation._common import fmt, intervals_chart, label, with_interval
from assay.evaluation._metrics import encode_labels
from assay.monitoring._cbpe import ESTIMATED_METRICS, INTERVAL_TEXT, estimate_codes

CHECK_ID = "monitoring.estimated_performance"


def judge(
    drop: float | None,
    high: float | None,
    reference: float | None,
    *,
    warn_at: float,
    fail_at: float,
) -> Status:
    """Status of an estimated drop: ``fail`` at ``fail_at`` when the whole interval
    lies below the reference, else ``warn`` from ``warn_at``."""
    if drop is None:
        return "pass"
    if drop >= fail_at and (high is None or reference is None or high < reference):
        return "fail"
    return "warn" if drop >= warn_at else "pass"


@dataclass(frozen=True)
class EstimatedPerformanceParams:
    """Parameters of ``monitoring.estimated_performance``."""

    metric: Literal["accuracy", "precision", "recall", "f1", "roc_auc"] = param(
        "accuracy", "The estimated metric that is judged."
    )
    drop_warn: float = param(
        0.03, "Estimated drop of the metric from the reference that warns.", ge=0
    )
    drop_fail: float = param(
        0.05, "Estimated drop of the metric from the reference that fails.", ge=0
    )
    calibration: Literal["auto", "isotonic", "sigmoid"] = param(
        "auto", "How the scores are calibrated on the reference (auto: by its size)."
    )
    reference: Literal["test", "train"] = param(
        "test", "The labelled split the scores are calibrated on."
    )


@dataclass(frozen=True)
class EstimatedPerformanceDetails(Details):
    """What ``monitoring.estimated_performance`` keeps in its ``details`` (``report.json``)."""

    method: str
    main_metric: str
    averaging: str
    reference: str
    calibration: str
    interval: str
    judged_on: str
    realized_current: Mapping[str, Any]
    current_labels: str
    n_bootstrap: int
    seed: int
    confidence: float
    n_rows: Mapping[str, Any]
    sampled: bool


@register_check(
    CHECK_ID,
    area="monitoring",
    title="Estimated performance on current data",
    explanation=(
        "Labels for production data often arrive late or never, so the model's accuracy "
        "there cannot be measured directly. This check calibrates the model's scores on the "
        "labeled reference (test) data and then uses the calibrated confidence of each "
        "current row as its expected chance of being right (confidence-based performance "
        "estimation, as in NannyML's CBPE). A drop in estimated accuracy, precision, recall, "
        "F1 or ROC-AUC means production has moved toward cases the model finds hard; the "
        "estimate assumes the link between features and target has not changed."
    ),
    standards=("MEASURE 2.4", "MEASURE 2.5", "MANAGE 4.1"),
    severity="high",
    params=EstimatedPerformanceParams,
    needs=("model", "scores", "current"),
    tasks=("binary", "multiclass"),
    details=EstimatedPerformanceDetails,
)
def estimated_performance(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Expected metrics on current data from calibrated scores, against the reference."""
    m = _measure(ctx, th)
    verdict = judge_estimation(
        m, metric=str(th["metric"]), warn_at=float(th["drop_warn"]), fail_at=float(th["drop_fail"])
    )
    summary, rec = _summary(m, verdict, th, ctx.settings.confidence)
    metrics = {
        k: v
        for k, v in m.metrics.items()
        if k.startswith(("estimated_", "reference_")) and not k.startswith("estimation_error")
    }
    return Outcome(
        status=verdict.status,
        summary=summary,
        metrics=metrics,
        findings=_findings(m, verdict),
        recommendation=rec,
        details=_details(ctx, m, str(th["metric"])),
    )


@dataclass(frozen=True)
class Estimated:
    """The numbers of one estimation (no verdict, no words): CBPE's flat metrics
    (:func:`~assay.monitoring._cbpe.estimate_codes`) and what they were computed on."""

    reference: str  # the labelled split the scores were calibrated on
    metrics: Mapping[str, float | None]
    calibration: str
    n_reference: int
    n_current: int
    labelled: bool  # realized metrics from current labels are in ``metrics``
    labels_note: str
    sampled: bool


@dataclass(frozen=True)
class EstimationVerdict:
    """The status of the judged metric and of every estimated metric."""

    status: Status
    statuses: Mapping[str, Status]


def judge_estimation(
    m: Estimated, *, metric: str, warn_at: float, fail_at: float
) -> EstimationVerdict:
    """Each estimated metric judged by :func:`judge` on its drop from the reference
    (``fail`` also needs the whole interval below the reference); the check's status
    is that of ``metric``.

    >>> e = Estimated("test", {"estimated_accuracy_drop": 0.04, "estimated_accuracy_high": 0.8,
    ...     "reference_accuracy": 0.85}, "isotonic", 500, 500, False, "", False)
    >>> judge_estimation(e, metric="accuracy", warn_at=0.03, fail_at=0.05).status
    'warn'
    """
    n = m.metrics
    statuses = {
        name: judge(
            n.get(f"estimated_{name}_drop"),
            n.get(f"estimated_{name}_high"),
            n.get(f"reference_{name}"),
            warn_at=warn_at,
            fail_at=fail_at,
        )
        for name in ESTIMATED_METRICS
    }
    return EstimationVerdict(statuses[metric], statuses)


def _measure(ctx: AuditContext, th: Mapping[str, Any]) -> Estimated:
    """CBPE of the current rows (a sample of ``max_rows_model_checks``) from scores
    calibrated on the reference split, with realized metrics when current labels fit."""
    s = ctx.settings
    main = str(th["metric"])
    if main not in ESTIMATED_METRICS:
        raise SkipCheck(
            f"threshold 'metric' must be one of {', '.join(ESTIMATED_METRICS)}, got {main!r}"
        )
    ref_split = str(th["reference"])
    if ref_split not in ("test", "train") or not ctx.has(ref_split):
        raise SkipCheck(f"the reference split {ref_split!r} was not given (use 'test' or 'train')")
    sd = split_data(ctx, ref_split)
    if sd.data.proba is None:
        raise SkipCheck(f"the model gave no class probabilities for the {ref_split} data")
    pred = ctx.predictions("current")
    if pred.proba is None:
        raise SkipCheck("the model gave no class probabilities for the current data")
    n_total = int(np.asarray(pred.labels).shape[0])
    stream = SPLIT_STREAMS["current"]
    rows = sample_rows(n_total, s.max_rows_model_checks, seed=s.seed, stream=stream)
    pick = (lambda a: a) if rows is None else (lambda a: np.asarray(a)[rows])
    cur_proba = pick(np.asarray(pred.proba, dtype=np.float64))
    cur_pred = encode_labels(pick(pred.labels), ctx.classes)
    y_raw = ctx.labels("current")
    y_cur, labels_note = None, "the current data has no target column"
    if y_raw is not None:
        codes = encode_labels(pick(y_raw), ctx.classes)
        if (codes >= 0).all():
            y_cur, labels_note = codes, "realized metrics computed from the current labels"
        else:
            labels_note = "current labels are not all values of the reference classes; ignored"
    est = estimate_codes(
        sd.data.proba,
        sd.data.y,
        sd.data.pred,
        cur_proba,
        cur_pred,
        y_cur,
        positive=sd.data.positive,
        n_bootstrap=s.n_bootstrap,
        seed=s.seed,
        confidence=s.confidence,
        calibration=th["calibration"],
        stream=stream,
    )
    return Estimated(
        reference=ref_split,
        metrics=est["metrics"],
        calibration=est["calibration"],
        n_reference=sd.data.n,
        n_current=est["n_current"],
        labelled=y_cur is not None,
        labels_note=labels_note,
        sampled=bool(sd.sampled or rows is not None),
    )


def _summary(
    m: Estimated, v: EstimationVerdict, th: Mapping[str, Any], confidence: float
) -> tuple[str, str]:
    """(summary, recommendation): close to the reference, or dropped (with the level
    reached), and the realized value when current labels were given."""
    n, main, status = m.metrics, str(th["metric"]), v.status
    iv = Interval(n[f"estimated_{main}"], n[f"estimated_{main}_low"], n[f"estimated_{main}_high"])
    est_txt = with_interval(main, iv, confidence)
    ref_txt = fmt(main, n[f"reference_{main}"])
    if status == "pass":
        summary = (
            f"Estimated {label(main)} on the {m.n_current:,} current rows is {est_txt}, "
            f"close to the {ref_txt} measured on the {m.reference} data."
        )
        rec = (
            "No action needed; keep estimating per production window and compare with "
            "realized performance when labels arrive."
        )
    else:
        level = float(th["drop_fail"]) if status == "fail" else float(th["drop_warn"])
        summary = (
            f"Estimated {label(main)} on the {m.n_current:,} current rows dropped to {est_txt} "
            f"from {ref_txt} on the {m.reference} data (a drop of "
            f"{fmt(main, n[f'estimated_{main}_drop'])}, at or above the {status} level of "
            f"{level:g})."
        )
        rec = (
            "Production has moved toward cases the model is less sure about: see which "
            "features drifted (drift.features), collect labels for recent data to confirm the "
            "drop, and plan retraining on data that covers the new region."
        )
    if m.labelled and n.get(f"realized_{main}") is not None:
        summary = summary[:-1] + (
            f"; the realized {label(main)} with the labels given is "
            f"{fmt(main, n[f'realized_{main}'])}."
        )
    return summary, rec


def _findings(m: Estimated, v: EstimationVerdict) -> list[Finding]:
    """One finding per estimated metric that warns or fails."""
    n = m.metrics
    return [
        Finding(
            status=v.statuses[name],
            split="current",
            group=f"estimated {label(name)}",
            metrics={
                "estimated": n[f"estimated_{name}"],
                "reference": n[f"reference_{name}"],
                "drop": n[f"estimated_{name}_drop"],
            },
            message=(
                f"Estimated {label(name)} on current data is "
                f"{fmt(name, n[f'estimated_{name}'])} against "
                f"{fmt(name, n[f'reference_{name}'])} on {m.reference} "
                f"(drop {fmt(name, n[f'estimated_{name}_drop'])})."
            ),
        )
        for name in ESTIMATED_METRICS
        if v.statuses[name] != "pass"
    ]


def _details(ctx: AuditContext, m: Estimated, main: str) -> dict[str, Any]:
    """Method, inputs, realized metrics and the chart of estimated against reference."""
    s, n, ref_split = ctx.settings, m.metrics, m.reference
    items: list[tuple[str, Interval]] = []
    for name in ESTIMATED_METRICS:
        items.append((f"{label(name)} — {ref_split} (realized)", Interval(n[f"reference_{name}"])))
        items.append(
            (
                f"{label(name)} — current (estimated)",
                Interval(
                    n[f"estimated_{name}"], n[f"estimated_{name}_low"], n[f"estimated_{name}_high"]
                ),
            )
        )
        if f"realized_{name}" in n:
            items.append((f"{label(name)} — current (realized)", Interval(n[f"realized_{name}"])))
    return {
        "method": "confidence-based performance estimation (CBPE)",
        "main_metric": main,
        "averaging": "binary" if ctx.task == "binary" else "macro-averaged",
        "reference": ref_split,
        "calibration": m.calibration,
        "interval": INTERVAL_TEXT,
        "judged_on": "estimated drop of the main metric; fail also needs the whole interval "
        "below the reference",
        "realized_current": {
            k: v for k, v in n.items() if k.startswith(("realized_", "estimation_error_"))
        },
        "current_labels": m.labels_note,
        "n_bootstrap": s.n_bootstrap,
        "seed": s.seed,
        "confidence": s.confidence,
        "n_rows": {ref_split: m.n_reference, "current": m.n_current},
        "sampled": m.sampled,
        "charts": [
            intervals_chart(
                "Estimated performance on current data against the reference",
                "metric value",
                items,
            )
        ],
    }
