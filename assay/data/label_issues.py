"""``data.label_issues``: rows whose label is probably wrong.

Classification uses cleanlab's confident learning (``cleanlab.filter.find_label_issues``)
on out-of-fold class probabilities: every row is predicted by a model that
never saw it (cross-validated clones of the user's model when it can be
refitted, a default gradient-boosting model otherwise; see
:mod:`assay.data._crossval`). A row is flagged when its given label is
unlikely under those probabilities, after cleanlab has estimated how often
each class is confused with each other one.

Confident learning also flags rows whose labels are merely hard to predict:
where the features do not settle the label, some "suspects" are honest hard
cases. The share of suspects is therefore a prompt to review, judged by
plain thresholds, and the explanation says so.

Regression flags rows whose out-of-fold residual is an outlier (a robust
z-score, from the median and the median absolute deviation, above ``z_max``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from assay.core.registry import Outcome, SkipCheck, register_check
from assay.core.result import Finding, Status
from assay.data._common import capped_rows, pct
from assay.data._crossval import OutOfFold, out_of_fold

if TYPE_CHECKING:
    from assay.core.context import AuditContext

_N_NULL = 10  # label redraws for the noise baseline
_MAX_TABLE = 50  # suspect rows listed in details


def _status(share: float, th: Mapping[str, Any]) -> Status:
    if share >= th["share_fail"]:
        return "fail"
    return "warn" if share >= th["share_warn"] else "pass"


def _cleanlab_issues(y: np.ndarray, proba: np.ndarray) -> np.ndarray:
    from cleanlab.filter import find_label_issues

    return np.asarray(find_label_issues(y, proba, n_jobs=1), dtype=bool)


def _label(v: Any) -> Any:
    return v if isinstance(v, (int, float, str)) else str(v)


def _classification(ctx: AuditContext, oof: OutOfFold, th: Mapping[str, Any]) -> dict[str, Any]:
    from cleanlab.rank import get_label_quality_scores

    y, proba = oof.y, oof.proba
    if len(oof.classes) < 2:
        raise SkipCheck(f"the {oof.split} data holds a single class")
    issues = _cleanlab_issues(y, proba)
    quality = np.asarray(get_label_quality_scores(y, proba), dtype=float)
    suggested = np.argmax(proba, axis=1)
    share = float(issues.mean())
    status = _status(share, th)

    flagged = np.flatnonzero(issues)
    flagged = flagged[np.lexsort((oof.positions[flagged], quality[flagged]))]  # worst first
    classes = [_label(c) for c in oof.classes]
    table = [
        {
            "row": int(oof.positions[i]),
            "given": classes[y[i]],
            "suggested": classes[suggested[i]],
            "label_quality": float(quality[i]),
        }
        for i in flagged[:_MAX_TABLE]
    ]
    findings = []
    pairs: dict[tuple[int, int], list[int]] = {}
    for i in flagged:
        pairs.setdefault((int(y[i]), int(suggested[i])), []).append(int(i))
    f_status: Status = "pass" if status == "pass" else status
    for (g, s), idx in sorted(pairs.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        idx_arr = np.asarray(idx)
        what = (
            f"look like '{classes[s]}'"
            if g != s
            else "have a doubtful label although the model agrees"
        )
        msg = (
            f"{len(idx):,} {oof.split} row(s) labelled '{classes[g]}' {what} "
            f"(median label quality {np.median(quality[idx_arr]):.2f})."
        )
        findings.append(
            Finding(
                f_status,
                msg,
                rows=capped_rows(oof.positions[idx_arr]),
                split=oof.split,
                group=f"{classes[g]} -> {classes[s]}",
                metrics={
                    "rows": len(idx),
                    "median_label_quality": float(np.median(quality[idx_arr])),
                },
            )
        )
    per_class = []
    for k, c in enumerate(classes):
        in_class = y == k
        rate = float(issues[in_class].mean()) if in_class.any() else 0.0
        per_class.append({"label": f"labelled {c}", "value": rate, "status": status})
    chart = {
        "kind": "bars",
        "title": "Share of rows flagged, by given label",
        "x_label": "share of rows with a suspect label",
        "items": per_class,
        "threshold": None,
    }
    return {
        "status": status,
        "share": share,
        "n_issues": int(issues.sum()),
        "findings": findings,
        "table": table,
        "worst_rows": [int(oof.positions[i]) for i in flagged[:3]],
        "chart": chart,
        "method": "cleanlab.filter.find_label_issues (confident learning, prune_by_noise_rate)",
    }


def _regression(ctx: AuditContext, oof: OutOfFold, th: Mapping[str, Any]) -> dict[str, Any]:
    resid = oof.y - oof.pred
    med = float(np.median(resid))
    mad = float(np.median(np.abs(resid - med))) * 1.4826
    if mad == 0:
        mad = float(np.std(resid)) or 1.0
    z = (resid - med) / mad
    z_max = float(th["z_max"])
    issues = np.abs(z) > z_max
    share = float(issues.mean())
    status = _status(share, th)
    flagged = np.flatnonzero(issues)
    flagged = flagged[np.lexsort((oof.positions[flagged], -np.abs(z[flagged])))]
    table = [
        {
            "row": int(oof.positions[i]),
            "given": float(oof.y[i]),
            "predicted": float(oof.pred[i]),
            "residual_z": float(z[i]),
        }
        for i in flagged[:_MAX_TABLE]
    ]
    findings = []
    for sign, word in ((1, "far above"), (-1, "far below")):
        idx = flagged[np.sign(z[flagged]) == sign]
        if not len(idx):
            continue
        msg = (
            f"{len(idx):,} {oof.split} row(s) have a target {word} what a model trained "
            f"without them predicts (residual beyond {z_max:g} robust standard deviations)."
        )
        findings.append(
            Finding(
                "pass" if status == "pass" else status,
                msg,
                rows=capped_rows(oof.positions[idx]),
                split=oof.split,
                metrics={"rows": len(idx), "max_abs_residual_z": float(np.abs(z[idx]).max())},
            )
        )
    return {
        "status": status,
        "share": share,
        "n_issues": int(issues.sum()),
        "findings": findings,
        "table": table,
        "worst_rows": [int(oof.positions[i]) for i in flagged[:3]],
        "chart": None,
        "method": "robust z-score of out-of-fold residuals (median and MAD)",
    }


def _rows_words(rows: list[int]) -> str:
    if not rows:
        return ""
    shown = ", ".join(str(r) for r in rows)
    return f" The most suspect {'is row' if len(rows) == 1 else 'are rows'} {shown}."


_RECOMMENDATION = {
    "fail": "Review the listed rows (worst first, in details) against their source: correct "
    "wrong labels or drop the rows, then retrain. If the labels come from annotators, "
    "look for the annotator, batch or rule that produced most of them.",
    "warn": "Review a sample of the listed rows, worst first (details list them with the "
    "suggested label). If many are wrong, correct them and retrain; if they are right, "
    "the features do not settle the label for such rows, which is worth knowing too.",
    "pass": "Nothing to fix. Reviewing the few rows listed, worst first, is cheap if the "
    "labels were produced by hand.",
}


@register_check(
    "data.label_issues",
    area="data",
    title="Label errors",
    explanation=(
        "Looks for rows whose label is probably wrong. Each row is predicted by a model "
        "that never saw it; rows whose given label that model finds very unlikely are "
        "suspects (cleanlab's confident learning; for regression, rows with an extreme "
        "error). Wrong labels teach the model mistakes and make its test scores "
        "unreliable. Some suspects are honest hard cases where the features do not settle "
        "the label, so the list is a place to start reviewing, not a verdict."
    ),
    standards=("MAP 2.3", "MEASURE 2.5"),
    severity="high",
    thresholds={
        "share_warn": 0.03,
        "share_fail": 0.3,
        "z_max": 4.0,
        "max_rows": 5000,
        "folds": 5,
    },
    needs=("labels",),
)
def label_issues(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Flag suspect labels; judge the share of suspect rows.

    The check warns when at least ``share_warn`` of the rows checked are
    flagged and fails from ``share_fail`` (labels that contradict the features
    this often mean broken labels or a broken join). Regression flags residuals
    beyond ``z_max`` robust standard deviations. It runs on train when given,
    else on test, on at most ``max_rows`` rows (a seeded, row-order-independent
    sample) with ``folds``-fold cross-validation.
    """
    if ctx.task != "regression":
        try:
            import cleanlab  # noqa: F401
        except ImportError:
            raise SkipCheck(
                "needs the optional package cleanlab: pip install 'assay[labels]'"
            ) from None
    oof = out_of_fold(ctx, max_rows=int(th["max_rows"]), n_folds=int(th["folds"]))
    if len(oof.positions) < 2 * int(th["folds"]):
        raise SkipCheck(f"the {oof.split} data has too few rows to cross-validate")
    res = _classification(ctx, oof, th) if ctx.task != "regression" else _regression(ctx, oof, th)
    n = len(oof.positions)
    status: Status = res["status"]
    where = f"{oof.split} rows"
    sample = f", a sample of the {oof.n_rows_split:,}" if oof.sampled else ""
    noun = "labels" if ctx.task != "regression" else "target values"
    if res["n_issues"] == 0:
        summary = f"No suspect {noun} were found in {n:,} {where}{sample}."
    else:
        summary = (
            f"Suspect {noun} in {res['n_issues']:,} of {n:,} {where} ({pct(res['share'])})"
            f"{sample}." + _rows_words(res["worst_rows"])
        )
    metrics = {
        "label_issue_share": res["share"],
        "label_issues": res["n_issues"],
        "rows_checked": n,
    }
    details: dict[str, Any] = {
        **oof.describe(),
        "method": res["method"],
        "suspect_rows": res["table"],
        "charts": [res["chart"]] if res["chart"] is not None else [],
    }
    return Outcome(
        status=status,
        summary=summary,
        metrics=metrics,
        findings=res["findings"],
        recommendation=_RECOMMENDATION[status],
        details=details,
    )
