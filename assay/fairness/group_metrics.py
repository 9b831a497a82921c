"""``fairness.group_metrics``: the model's metrics in each group of people, and the gaps.

For each sensitive attribute given (``sensitive=[...]``, ``--sensitive COL``)
and, when two or more are given, for each pair of them (intersectional
groups), Fairlearn's ``MetricFrame`` computes per group: size, selection rate,
accuracy, true and false positive rates, precision and error rate (binary);
accuracy and error rate (multiclass); MAE, mean residual and mean prediction
(regression). The sensitive column is read from the test data whether or not
the model uses it as a feature; a numeric one is cut into quarters.

Intervals come from the vectorized bootstrap of :mod:`assay.evaluation._bootstrap`
(per-group sums as one matrix product per chunk of resamples), which gives the
same numbers as ``MetricFrame`` on each resample at a fraction of the cost.

Disparities are measured among the groups large enough to judge (the others
are reported as too small): demographic parity difference and ratio (and the
four-fifths rule on selection rates), equalized odds difference (the larger of
the TPR and FPR gaps), and the accuracy gap; for regression the ratio of the
largest to the smallest group MAE and the gap in mean residual. A gap counts
only when it passes its threshold *and* the bootstrap interval of the
difference between the two groups involved excludes zero.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from itertools import combinations, pairwise
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from assay.core.context import AuditContext
from assay.core.registry import Outcome, SkipCheck, register_check
from assay.evaluation._bootstrap import percentile_interval, resample_counts
from assay.evaluation._depth import cut_points, eval_data, fmt_value, sample_positions
from assay.fairness._report import Disparity, SetResult, outcome
from assay.io.models import Prediction

CHECK_ID = "fairness.group_metrics"
_MISSING = "(missing)"
_OTHER = "(other)"

# Per-row columns summed per group; metrics are ratios of these sums.
_SUMS = {
    "binary": ("one", "yt", "yp", "tp", "fp", "correct"),
    "multiclass": ("one", "correct"),
    "regression": ("one", "abs", "resid", "pred"),
}


def _count(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
    return float(len(y_true) if sample_weight is None else np.sum(sample_weight))


def _error_rate(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
    wrong = np.asarray(y_true) != np.asarray(y_pred)
    return float(np.average(wrong, weights=sample_weight))


def _precision(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
    from sklearn.metrics import precision_score

    return float(precision_score(y_true, y_pred, zero_division=0, sample_weight=sample_weight))


def _mean_residual(y_true: Any, y_pred: Any) -> float:
    return float(np.mean(np.asarray(y_pred, float) - np.asarray(y_true, float)))


def _mean_prediction(y_true: Any, y_pred: Any) -> float:
    return float(np.mean(np.asarray(y_pred, float)))


def _fairlearn_metrics(task: str) -> dict[str, Any]:
    from fairlearn.metrics import false_positive_rate, selection_rate, true_positive_rate
    from sklearn.metrics import accuracy_score, mean_absolute_error

    if task == "binary":
        return {
            "count": _count,
            "selection_rate": selection_rate,
            "accuracy": accuracy_score,
            "true_positive_rate": true_positive_rate,
            "false_positive_rate": false_positive_rate,
            "precision": _precision,
            "error_rate": _error_rate,
        }
    if task == "multiclass":
        return {"count": _count, "accuracy": accuracy_score, "error_rate": _error_rate}
    return {
        "count": _count,
        "mae": mean_absolute_error,
        "mean_residual": _mean_residual,
        "mean_prediction": _mean_prediction,
    }


def _from_sums(task: str, S: np.ndarray) -> dict[str, np.ndarray]:
    """Group metrics from summed columns ``S`` of shape ``(..., len(_SUMS[task]))``."""
    col = {k: S[..., i] for i, k in enumerate(_SUMS[task])}
    n = col["one"]
    with np.errstate(divide="ignore", invalid="ignore"):
        if task == "binary":
            acc = col["correct"] / n
            return {
                "count": n,
                "selection_rate": col["yp"] / n,
                "accuracy": acc,
                "true_positive_rate": col["tp"] / col["yt"],
                "false_positive_rate": col["fp"] / (n - col["yt"]),
                "precision": np.where(col["yp"] > 0, col["tp"] / col["yp"], 0.0),
                "error_rate": 1 - acc,
            }
        if task == "multiclass":
            acc = col["correct"] / n
            return {"count": n, "accuracy": acc, "error_rate": 1 - acc}
        return {
            "count": n,
            "mae": col["abs"] / n,
            "mean_residual": col["resid"] / n,
            "mean_prediction": col["pred"] / n,
        }


def _row_columns(task: str, data: Any, yt: np.ndarray, yp: np.ndarray) -> np.ndarray:
    one = np.ones(yt.size)
    if task == "binary":
        cols = (one, yt, yp, yt * yp, (1 - yt) * yp, (yt == yp).astype(float))
    elif task == "multiclass":
        cols = (one, (data.y == data.pred).astype(float))
    else:
        cols = (one, np.abs(data.pred - data.y), data.pred - data.y, data.pred)
    return np.column_stack(cols)


def _attribute_labels(df: pl.DataFrame, col: str, th: Mapping[str, Any]) -> np.ndarray:
    """The group of each row for one sensitive column, as readable text."""
    s = df.get_column(col)
    if s.dtype.is_numeric() and s.n_unique() > int(th["max_categories"]):
        v = s.cast(pl.Float64).to_numpy()
        finite = np.isfinite(v)
        integer = bool(np.all(v[finite] == np.round(v[finite])))
        q = np.quantile(v[finite], np.linspace(0, 1, int(th["numeric_bins"]) + 1)[1:-1])
        lo, hi = float(v[finite].min()), float(v[finite].max())
        edges = sorted(set(cut_points(q, lo, hi, integer)))
        edges = [e for e in edges if v[finite].min() < e <= v[finite].max()]
        names = [f"< {fmt_value(edges[0])}"] if edges else ["all"]
        names += [f"{fmt_value(a)}–{fmt_value(b)}" for a, b in pairwise(edges)]
        if edges:
            names.append(f">= {fmt_value(edges[-1])}")
        idx = np.searchsorted(edges, np.where(finite, v, 0.0), side="right")
        out = np.array([f"{col} {names[i]}" for i in idx], dtype=object)
        out[~finite] = f"{col} {_MISSING}"
        return out
    text = s.cast(pl.String, strict=False).fill_null(_MISSING)
    counts = text.value_counts().sort(["count", col], descending=[True, False])
    keep = set(counts.get_column(col).to_list()[: int(th["max_categories"])])
    values = text.to_list()
    return np.array(
        [f"{col}={v}" if v in keep else f"{col}={_OTHER}" for v in values], dtype=object
    )


def _extreme(vals: Mapping[str, float], groups: list[str], high_is_worse: bool) -> tuple[str, str]:
    finite = [g for g in groups if np.isfinite(vals[g])]
    worst = (max if high_is_worse else min)(finite, key=lambda g: (vals[g], g))
    other = (min if high_is_worse else max)(finite, key=lambda g: (vals[g], g))
    return worst, other


@register_check(
    CHECK_ID,
    area="fairness",
    title="Group fairness metrics",
    explanation=(
        "Whether the model treats groups of people alike. For each sensitive attribute given "
        "(and each pair of them, for intersectional groups) it computes, per group, how often "
        "the model selects people (the positive prediction), how accurate it is, and how "
        "often it misses true positives or flags false ones, each with a confidence interval "
        "(for a regression model, its average error and its bias per group). It then measures "
        "the gaps between groups: demographic parity, the four-fifths rule used in US "
        "employment law, and equalized odds; a gap counts only when it is clearly larger than "
        "chance. Groups too small to judge are listed as such rather than judged."
    ),
    standards=("MEASURE 2.11", "MEASURE 2.3"),
    severity="high",
    thresholds={
        "min_group_size": 30,
        "four_fifths": 0.8,
        "dp_difference_warn": 0.1,
        "eo_difference_warn": 0.1,
        "eo_difference_fail": 0.2,
        "accuracy_difference_warn": 0.1,
        "accuracy_difference_fail": 0.2,
        "mae_ratio_warn": 1.25,
        "mae_ratio_fail": 1.5,
        "residual_gap_warn": 0.25,
        "intersections": True,
        "max_categories": 20,
        "numeric_bins": 4,
    },
    needs=("model",),
)
def group_metrics(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Per-group metrics with intervals (Fairlearn's MetricFrame) and the gaps between groups."""
    if not ctx.sensitive:
        raise SkipCheck("no sensitive attribute was given (--sensitive COL)")
    try:
        import fairlearn.metrics  # noqa: F401
    except ImportError:
        raise SkipCheck(
            "needs the optional package fairlearn: pip install 'assay[fairness]'"
        ) from None
    s = ctx.settings
    y_all = ctx.labels("test")
    if y_all is None:
        raise SkipCheck("the test data has no target column")
    task = ctx.task or "regression"
    pos = sample_positions(ctx, s.max_rows_model_checks)
    df = ctx.frame("test")[pos]
    full = ctx.predictions("test")
    pred = Prediction(
        labels=np.asarray(full.labels)[pos], proba=None if full.proba is None else full.proba[pos]
    )
    data = eval_data(ctx, y_all[pos], pred)
    if task == "binary":
        yt = (data.y == data.positive).astype(float)
        yp = (data.pred == data.positive).astype(float)
    elif task == "multiclass":
        yt, yp = data.y.astype(float), data.pred.astype(float)
    else:
        yt, yp = data.y, data.pred
    labels = {c: _attribute_labels(df, c, th) for c in ctx.sensitive}
    sets: list[tuple[str, ...]] = [(c,) for c in ctx.sensitive]
    if th.get("intersections", True):
        sets += list(combinations(ctx.sensitive, 2))
    rows = _row_columns(task, data, yt, yp)
    overall = {k: float(v) for k, v in _from_sums(task, rows.sum(axis=0)).items()}
    results = _sets(ctx, task, sets, labels, yt, yp, rows, th, overall)
    return outcome(ctx, task, results, overall, th, df.height, int(y_all.shape[0]))


def _metric_frame(
    task: str,
    cols: tuple[str, ...],
    labels: Mapping[str, np.ndarray],
    yt: np.ndarray,
    yp: np.ndarray,
) -> dict[str, dict[str, float]]:
    """Every group's metrics from Fairlearn's ``MetricFrame``.

    For classification the rows are first collapsed to one per (group, truth,
    prediction) with its count as a frequency weight (``sample_params``): the
    same numbers as on every row, without MetricFrame's per-row overhead.
    """
    from fairlearn.metrics import MetricFrame

    metrics = _fairlearn_metrics(task)
    sens = pd.DataFrame({c: labels[c] for c in cols})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if task in ("binary", "multiclass"):
            frame = sens.assign(__truth=yt, __pred=yp)
            comp = frame.groupby(list(frame.columns), sort=True).size().reset_index(name="__w")
            w = comp["__w"].to_numpy(dtype=np.float64)
            mf = MetricFrame(
                metrics=metrics,
                y_true=comp["__truth"].to_numpy(),
                y_pred=comp["__pred"].to_numpy(),
                sensitive_features=comp[list(cols)],
                sample_params={m: {"sample_weight": w} for m in metrics},
            )
        else:
            mf = MetricFrame(metrics=metrics, y_true=yt, y_pred=yp, sensitive_features=sens)
    by_group: dict[str, dict[str, float]] = {}
    for idx, row in mf.by_group.iterrows():
        parts = idx if isinstance(idx, tuple) else (idx,)
        by_group[" & ".join(str(p) for p in parts)] = {
            k: float(v) if v is not None else float("nan") for k, v in row.items()
        }
    return by_group


def _sets(
    ctx: AuditContext,
    task: str,
    sets: list[tuple[str, ...]],
    labels: Mapping[str, np.ndarray],
    yt: np.ndarray,
    yp: np.ndarray,
    rows: np.ndarray,
    th: Mapping[str, Any],
    overall: Mapping[str, float],
) -> list[SetResult]:
    """Metrics, intervals and disparities of each attribute set."""
    s = ctx.settings
    min_size = int(th["min_group_size"])
    n, K = rows.shape
    prepared = []
    for cols in sets:
        by_group = _metric_frame(task, cols, labels, yt, yp)
        groups = sorted(by_group, key=lambda g: (-by_group[g]["count"], g))
        code = {g: i for i, g in enumerate(groups)}
        key = [" & ".join(parts) for parts in zip(*(labels[c] for c in cols), strict=True)]
        gi = np.fromiter((code[k] for k in key), dtype=np.int64, count=n)
        members = [np.flatnonzero(gi == i) for i in range(len(groups))]
        prepared.append((cols, by_group, groups, code, members))

    # One pass over the bootstrap resamples for every set: each group's sums are one
    # matrix product of its rows' resample counts (from :mod:`assay.evaluation._bootstrap`)
    # with its per-row columns, for a whole chunk of resamples at once.
    parts: list[dict[str, list[np.ndarray]]] = [{} for _ in prepared]
    if s.n_bootstrap > 0:
        for counts in resample_counts(n, s.n_bootstrap, seed=s.seed, stream=0):
            for i, (_, _, groups, _, members) in enumerate(prepared):
                S = np.empty((counts.shape[0], len(groups), K))
                for g, idx in enumerate(members):
                    S[:, g, :] = counts[:, idx].astype(np.float64) @ rows[idx]
                for m, v in _from_sums(task, S).items():
                    parts[i].setdefault(m, []).append(v)
    out = []
    for (cols, by_group, groups, code, _), p in zip(prepared, parts, strict=True):
        samples = {m: np.concatenate(v) for m, v in p.items()}
        intervals: dict[str, dict[str, tuple[float | None, float | None]]] = {}
        for g in groups:
            intervals[g] = {
                m: percentile_interval(samples[m][:, code[g]], point, confidence=s.confidence)
                for m, point in by_group[g].items()
                if m != "count" and m in samples
            }
        small = [g for g in groups if by_group[g]["count"] < min_size]
        eligible = [g for g in groups if g not in small]
        res = SetResult(" & ".join(cols), cols, groups, by_group, intervals, small)
        if len(eligible) >= 2:
            res.disparities = _disparities(
                task, res, eligible, samples, code, th, s.confidence, overall
            )
        out.append(res)
    return out


def _pair_interval(
    samples: Mapping[str, np.ndarray],
    metric: str,
    a: int,
    b: int,
    point: float,
    conf: float,
) -> tuple[float | None, float | None]:
    if metric not in samples:
        return None, None
    return percentile_interval(
        samples[metric][:, a] - samples[metric][:, b], point, confidence=conf
    )


def _disparities(
    task: str,
    res: SetResult,
    eligible: list[str],
    samples: Mapping[str, np.ndarray],
    code: Mapping[str, int],
    th: Mapping[str, Any],
    conf: float,
    overall: Mapping[str, float],
) -> list[Disparity]:
    bg = res.by_group
    out: list[Disparity] = []

    def spread(
        metric: str, high_is_worse: bool, kind: str = "difference", scale: float = 1.0
    ) -> Disparity | None:
        vals = {g: bg[g][metric] for g in eligible}
        if sum(np.isfinite(v) for v in vals.values()) < 2:
            return None
        worst, other = _extreme(vals, eligible, high_is_worse)
        diff = vals[worst] - vals[other]
        lo, hi = _pair_interval(samples, metric, code[worst], code[other], diff, conf)
        if kind.startswith("ratio"):
            value = vals[worst] / vals[other] if vals[other] else float("nan")
        else:
            value = abs(diff) / scale
        # Interval of the max−min spread over the eligible groups, resample by resample.
        s_lo = s_hi = None
        if metric in samples:
            cols = [code[g] for g in eligible]
            m = samples[metric][:, cols]
            with np.errstate(invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if kind == "ratio":
                    sp = np.nanmin(m, axis=1) / np.nanmax(m, axis=1)
                elif kind == "ratio_high":
                    sp = np.nanmax(m, axis=1) / np.nanmin(m, axis=1)
                else:
                    sp = (np.nanmax(m, axis=1) - np.nanmin(m, axis=1)) / scale
            s_lo, s_hi = percentile_interval(sp, value, confidence=conf)
        return Disparity(
            metric, kind, value, s_lo, s_hi, worst, other, vals[worst], vals[other], lo, hi
        )

    def judge(d: Disparity | None, warn: float | None, fail: float | None, below: bool) -> None:
        if d is None or not np.isfinite(d.value):
            return
        crossed_fail = fail is not None and (d.value < fail if below else d.value >= fail)
        crossed_warn = warn is not None and (d.value < warn if below else d.value >= warn)
        if d.significant and crossed_fail:
            d.status = "fail"
        elif d.significant and crossed_warn:
            d.status = "warn"
        d.threshold = fail if fail is not None else warn
        out.append(d)

    if task == "binary":
        four_fifths = float(th["four_fifths"])
        lowest = spread("selection_rate", False, "ratio")
        judge(lowest, None, four_fifths, True)
        if lowest is not None:
            # The four-fifths rule applies to every group, not only the least selected.
            top, rates = lowest.other, samples.get("selection_rate")
            for g in eligible:
                ratio = bg[g]["selection_rate"] / bg[top]["selection_rate"]
                if g in (top, lowest.worst) or not ratio < four_fifths:
                    continue
                diff = bg[g]["selection_rate"] - bg[top]["selection_rate"]
                lo, hi = _pair_interval(samples, "selection_rate", code[g], code[top], diff, conf)
                r_lo = r_hi = None
                if rates is not None:
                    with np.errstate(divide="ignore", invalid="ignore"):
                        pair = rates[:, code[g]] / rates[:, code[top]]
                    r_lo, r_hi = percentile_interval(pair, ratio, confidence=conf)
                other = Disparity(
                    "selection_rate", "ratio", ratio, r_lo, r_hi, g, top,
                    bg[g]["selection_rate"], bg[top]["selection_rate"], lo, hi,
                )  # fmt: skip
                judge(other, None, four_fifths, True)
        judge(spread("selection_rate", False), float(th["dp_difference_warn"]), None, False)
        tpr = spread("true_positive_rate", False)
        fpr = spread("false_positive_rate", True)
        eo = max(
            (d for d in (tpr, fpr) if d is not None and np.isfinite(d.value)),
            key=lambda d: d.value,
            default=None,
        )
        judge(eo, float(th["eo_difference_warn"]), float(th["eo_difference_fail"]), False)
        for d in (tpr, fpr):
            if d is not None and d is not eo:
                out.append(d)  # reported, judged through equalized odds
    if task in ("binary", "multiclass"):
        judge(
            spread("error_rate", True),
            float(th["accuracy_difference_warn"]),
            float(th["accuracy_difference_fail"]),
            False,
        )
    if task == "regression":
        judge(
            spread("mae", True, "ratio_high"),
            float(th["mae_ratio_warn"]),
            float(th["mae_ratio_fail"]),
            False,
        )
        scale = overall.get("mae") or 1.0
        judge(
            spread("mean_residual", True, "share_of_mae", scale),
            float(th["residual_gap_warn"]),
            None,
            False,
        )
    return out
