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

The verdict (#14) is the pure function :func:`judge_gap`: the gap between the two
extreme groups, its bootstrap standard error and the number of comparisons made
in the check go in (Bonferroni), a status and the evidence (adjusted p value and
interval) come out. A gap *warns* when it passes its warn level and its adjusted
interval excludes no gap; it *fails* only when the whole adjusted interval lies
beyond the material fail level. Selection-rate gaps (demographic parity, the
four-fifths rule) are compared with the groups' base rates in the labels and warn
by default: they fail only when ``fail_on_selection_rate`` is set or when the
model's selection ratio is clearly far below the base-rate ratio
(``selection_vs_base_fail``). For regression, a gap in MAE fails only when the gap
in MAE relative to each group's spread of the target fails too.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from assay.core.context import AuditContext
from assay.core.details import Details
from assay.core.params import param
from assay.core.registry import Outcome, SkipCheck, register_check
from assay.core.result import Status
from assay.evaluation._bootstrap import percentile_interval, resample_counts
from assay.evaluation._depth import eval_data, numeric_groups, sample_positions
from assay.fairness._report import Disparity, SetResult, outcome
from assay.io.models import Prediction

CHECK_ID = "fairness.group_metrics"
_MISSING = "(missing)"
_OTHER = "(other)"

# Per-row columns summed per group; metrics are ratios of these sums.
_SUMS = {
    "binary": ("one", "yt", "yp", "tp", "fp", "correct"),
    "multiclass": ("one", "correct"),
    "regression": ("one", "abs", "resid", "pred", "y", "y2"),
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


def _base_rate(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
    return float(np.average(np.asarray(y_true, float), weights=sample_weight))


def _relative_mae(y_true: Any, y_pred: Any) -> float:
    """MAE over the group's standard deviation of the target (its spread)."""
    y = np.asarray(y_true, float)
    sd = float(np.std(y))
    mae = float(np.mean(np.abs(np.asarray(y_pred, float) - y)))
    return mae / sd if sd > 0 else float("nan")


def _fairlearn_metrics(task: str) -> dict[str, Any]:
    from fairlearn.metrics import false_positive_rate, selection_rate, true_positive_rate
    from sklearn.metrics import accuracy_score, mean_absolute_error

    if task == "binary":
        return {
            "count": _count,
            "base_rate": _base_rate,
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
        "relative_mae": _relative_mae,
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
                "base_rate": col["yt"] / n,
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
        var = np.maximum(col["y2"] / n - (col["y"] / n) ** 2, 0.0)
        return {
            "count": n,
            "mae": col["abs"] / n,
            "mean_residual": col["resid"] / n,
            "mean_prediction": col["pred"] / n,
            "relative_mae": np.where(var > 0, col["abs"] / n / np.sqrt(var), np.nan),
        }


def _row_columns(task: str, data: Any, yt: np.ndarray, yp: np.ndarray) -> np.ndarray:
    one = np.ones(yt.size)
    cols: tuple[np.ndarray, ...]
    if task == "binary":
        cols = (one, yt, yp, yt * yp, (1 - yt) * yp, (yt == yp).astype(float))
    elif task == "multiclass":
        cols = (one, (data.y == data.pred).astype(float))
    else:
        y = np.asarray(data.y, dtype=float)
        cols = (one, np.abs(data.pred - y), data.pred - y, data.pred, y, y * y)
    return np.column_stack(cols)


def _attribute_labels(df: pl.DataFrame, col: str, th: Mapping[str, Any]) -> np.ndarray:
    """The group of each row for one sensitive column, as readable text."""
    s = df.get_column(col)
    if s.dtype.is_numeric() and s.n_unique() > int(th["max_categories"]):
        v = s.cast(pl.Float64).to_numpy()
        finite = np.isfinite(v)
        edges, names = numeric_groups(v, int(th["numeric_bins"]))  # as representativeness
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


@dataclass(frozen=True)
class GapVerdict:
    """What :func:`judge_gap` decided, and its evidence."""

    status: Status  # pass | warn | fail
    p: float  # Bonferroni-adjusted p value of "no gap"
    low: float  # adjusted interval of the gap
    high: float


def judge_gap(
    gap: float,
    se: float | None,
    *,
    warn: float | None,
    fail: float | None,
    m: int = 1,
    confidence: float = 0.95,
    can_fail: bool = True,
    floor_share: float = 0.0,
) -> GapVerdict:
    """Judge a gap between two groups, oriented so that larger is worse.

    ``gap`` is a difference of rates, or the log of a ratio; ``se`` its bootstrap
    standard error (``None``: no interval, the point alone decides); ``m`` the
    number of comparisons made in the check (Bonferroni). The adjusted interval is
    ``gap ± z·se`` with ``z`` the normal quantile of ``1 − (1 − confidence) / (2m)``.
    ``fail`` when the whole interval is beyond ``fail`` (and ``can_fail``); ``warn``
    when the point reaches ``warn`` (or ``fail``) and the whole interval is beyond
    ``floor_share`` of that level (0: clear of zero); ``pass`` otherwise. Selection-rate
    gaps use ``floor_share`` 0.5 (clear that the gap is more than half the material
    size, as weak segments judge slices): near the four-fifths line, "clear of zero"
    let gaps between small groups warn on one sample and not the next.

    >>> judge_gap(0.30, 0.05, warn=0.1, fail=0.2).status
    'fail'
    >>> judge_gap(0.30, 0.05, warn=0.1, fail=0.2, m=10).status
    'warn'
    """
    from scipy.stats import norm

    if not math.isfinite(gap):
        return GapVerdict("pass", 1.0, math.nan, math.nan)
    m = max(int(m), 1)
    alpha = 1.0 - confidence
    if se is None or not math.isfinite(se) or se <= 0:
        low = high = gap
        p = 0.0 if gap > 0 else 1.0
    else:
        z = float(norm.ppf(1.0 - alpha / (2 * m)))
        low, high = gap - z * se, gap + z * se
        p = min(1.0, m * 2.0 * float(norm.sf(abs(gap) / se)))
    levels = [t for t in (warn, fail) if t is not None]
    reached = any(gap >= t for t in levels)
    floor = min(levels) * floor_share if levels else 0.0
    status: Status
    if can_fail and fail is not None and low > fail:
        status = "fail"
    elif reached and low > max(floor, 0.0):
        status = "warn"
    else:
        status = "pass"
    return GapVerdict(status, p, low, high)


def _extreme(vals: Mapping[str, float], groups: list[str], high_is_worse: bool) -> tuple[str, str]:
    finite = [g for g in groups if np.isfinite(vals[g])]
    worst = (max if high_is_worse else min)(finite, key=lambda g: (vals[g], g))
    other = (min if high_is_worse else max)(finite, key=lambda g: (vals[g], g))
    return worst, other


@dataclass(frozen=True)
class GroupMetricsParams:
    """Parameters of ``fairness.group_metrics``."""

    min_group_size: int = param(30, "Rows a group needs to be judged.", ge=1)
    four_fifths: float = param(
        0.8,
        "Selection-rate ratio to the most selected group under which it warns.",
        gt=0,
        le=1,
    )
    fail_on_selection_rate: bool = param(
        False, "Let a clear four-fifths breach fail (by default it warns)."
    )
    selection_vs_base_fail: float = param(
        0.5,
        "Selection ratio relative to the base-rate ratio under which a breach fails.",
        gt=0,
        le=1,
    )
    dp_difference_warn: float = param(
        0.1,
        "Demographic parity difference (selection rates) that, if clear, warns.",
        ge=0,
        le=1,
    )
    eo_difference_warn: float = param(
        0.1, "Equalized-odds difference (TPR or FPR) that, if clear, warns.", ge=0, le=1
    )
    eo_difference_fail: float = param(
        0.2, "Equalized-odds difference (TPR or FPR) that, if clear, fails.", ge=0, le=1
    )
    accuracy_difference_warn: float = param(
        0.1, "Error-rate difference between groups that, if clear, warns.", ge=0, le=1
    )
    accuracy_difference_fail: float = param(
        0.2, "Error-rate difference between groups that, if clear, fails.", ge=0, le=1
    )
    mae_ratio_warn: float = param(
        1.25, "Ratio of a group's MAE to the best group's that, if clear, warns.", ge=1
    )
    mae_ratio_fail: float = param(
        1.5, "Ratio of a group's MAE to the best group's that, if clear, fails.", ge=1
    )
    residual_gap_warn: float = param(
        0.25, "Gap in mean residuals between groups, as a share of the MAE, that warns.", ge=0
    )
    intersections: bool = param(True, "Also judge intersections of sensitive attributes.")
    max_categories: int = param(
        20,
        "Most frequent groups of an attribute kept (numeric ones above it are binned).",
        ge=1,
    )
    numeric_bins: int = param(4, "Quantile bins of a numeric sensitive attribute.", ge=2)


@dataclass(frozen=True)
class GroupMetricsDetails(Details):
    """What ``fairness.group_metrics`` keeps in its ``details`` (``report.json``)."""

    sensitive: tuple[str, ...]
    positive_class: int | str | None
    metrics_by: str
    overall: Mapping[str, Any]
    sets: tuple[Mapping[str, Any], ...]
    min_group_size: int
    judged_on: str
    n_rows: int
    n_rows_available: int
    sampled: bool
    seed: int
    n_bootstrap: int
    confidence: float


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
        "chance (a selection-rate gap: clearly more than half its warn level), after allowing "
        "for the number of groups compared. Policy: gaps in error "
        "rates given the truth (equalized odds, accuracy; for regression the error relative "
        "to each group's spread of the target) fail the gate when their whole interval lies "
        "beyond the fail level; a selection-rate gap that mirrors different base rates in the "
        "labels is a property of the data and only warns, naming the base rates, unless "
        "fail_on_selection_rate is set or the model's selection ratio is clearly far below "
        "the base-rate ratio. Groups too small to judge are listed as such rather than judged."
    ),
    standards=("MEASURE 2.11", "MEASURE 2.3"),
    severity="high",
    params=GroupMetricsParams,
    needs=("model",),
    extras=("fairness",),
    details=GroupMetricsDetails,
)
def group_metrics(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Per-group metrics with intervals (Fairlearn's MetricFrame) and the gaps between groups."""
    if not ctx.sensitive:
        raise SkipCheck("no sensitive attribute was given (--sensitive COL)")
    s = ctx.settings
    y_all = ctx.labels("test")
    if y_all is None:
        raise SkipCheck("the test data has no target column")
    task = ctx.task or "regression"
    from assay.fairness._counts import from_engine_counts

    counted = from_engine_counts(ctx, task, th)  # every row's group counts, on the Dask engine
    if counted is not None:
        return counted
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
    if task in ("binary", "multiclass"):
        frame = sens.assign(__truth=yt, __pred=yp)
        comp = frame.groupby(list(frame.columns), sort=True).size().reset_index(name="__w")
        return _metric_frame_counts(task, cols, comp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mf = MetricFrame(metrics=metrics, y_true=yt, y_pred=yp, sensitive_features=sens)
    return _by_group(mf)


def _metric_frame_counts(
    task: str, cols: tuple[str, ...], comp: pd.DataFrame
) -> dict[str, dict[str, float]]:
    """Every group's classification metrics from Fairlearn's ``MetricFrame`` on one row
    per (group, truth, prediction) with its count ``__w`` as a frequency weight."""
    from fairlearn.metrics import MetricFrame

    metrics = _fairlearn_metrics(task)
    w = comp["__w"].to_numpy(dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mf = MetricFrame(
            metrics=metrics,
            y_true=comp["__truth"].to_numpy(),
            y_pred=comp["__pred"].to_numpy(),
            sensitive_features=comp[list(cols)],
            sample_params={m: {"sample_weight": w} for m in metrics},
        )
    return _by_group(mf)


def _by_group(mf: Any) -> dict[str, dict[str, float]]:
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
    # Bonferroni over every pair of groups large enough to judge, in every set.
    n_pairs = 0
    for _, by_group, groups, _, _ in prepared:
        k = sum(by_group[g]["count"] >= min_size for g in groups)
        n_pairs += k * (k - 1) // 2

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
    return [
        _set_result(task, cols, by_group, groups, code, p, th, s.confidence, overall, n_pairs)
        for (cols, by_group, groups, code, _), p in zip(prepared, parts, strict=True)
    ]


def _set_result(
    task: str,
    cols: tuple[str, ...],
    by_group: dict[str, dict[str, float]],
    groups: list[str],
    code: Mapping[str, int],
    parts: Mapping[str, list[np.ndarray]],
    th: Mapping[str, Any],
    confidence: float,
    overall: Mapping[str, float],
    n_pairs: int,
) -> SetResult:
    """One attribute set's intervals (bootstrap ``parts`` of each metric, resamples ×
    groups) and disparities."""
    min_size = int(th["min_group_size"])
    samples = {m: np.concatenate(v) for m, v in parts.items()}
    intervals: dict[str, dict[str, tuple[float | None, float | None]]] = {}
    for g in groups:
        intervals[g] = {
            m: percentile_interval(samples[m][:, code[g]], point, confidence=confidence)
            for m, point in by_group[g].items()
            if m != "count" and m in samples
        }
    small = [g for g in groups if by_group[g]["count"] < min_size]
    eligible = [g for g in groups if g not in small]
    res = SetResult(" & ".join(cols), cols, groups, by_group, intervals, small)
    if len(eligible) >= 2:
        res.disparities = _disparities(
            task, res, eligible, samples, code, th, confidence, overall, max(n_pairs, 1)
        )
    return res


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


def _se(x: np.ndarray | None) -> float | None:
    """Bootstrap standard error of a statistic's resamples (``None`` without them)."""
    if x is None:
        return None
    x = x[np.isfinite(x)]
    return float(np.std(x, ddof=1)) if x.size >= 10 else None


def _log_ratio(a: Any, b: Any) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(np.asarray(a, dtype=float) / np.asarray(b, dtype=float))


def _disparities(
    task: str,
    res: SetResult,
    eligible: list[str],
    samples: Mapping[str, np.ndarray],
    code: Mapping[str, int],
    th: Mapping[str, Any],
    conf: float,
    overall: Mapping[str, float],
    m: int,
) -> list[Disparity]:
    """The gaps of one attribute set, each measured between its two extreme groups and
    judged by :func:`judge_gap` (Bonferroni over ``m`` pairs of groups in the check)."""
    gaps = _Gaps(res, eligible, samples, code, th, conf, m)
    if task == "binary":
        gaps.binary()
    if task in ("binary", "multiclass"):
        gaps.judge(
            gaps.spread("error_rate", True),
            float(th["accuracy_difference_warn"]),
            float(th["accuracy_difference_fail"]),
        )
    if task == "regression":
        gaps.regression(overall)
    return gaps.out


class _Gaps:
    """The gaps of one attribute set: each measured between two groups (:meth:`pair`,
    :meth:`spread`) and judged (:meth:`judge`, by :func:`judge_gap`, Bonferroni over
    ``m`` pairs of groups in the check); the judged ones collect in ``out``."""

    def __init__(
        self,
        res: SetResult,
        eligible: list[str],
        samples: Mapping[str, np.ndarray],
        code: Mapping[str, int],
        th: Mapping[str, Any],
        conf: float,
        m: int,
    ) -> None:
        self.bg = res.by_group
        self.eligible, self.samples, self.code = eligible, samples, code
        self.th, self.conf, self.m = th, conf, m
        self.out: list[Disparity] = []

    def pair(self, metric: str, kind: str, w: str, o: str, scale: float = 1.0) -> Disparity:
        """The gap of ``w`` against ``o`` and its evidence, oriented larger-is-worse."""
        vw, vo = self.bg[w][metric], self.bg[o][metric]
        sw = so = None
        if metric in self.samples:
            sw, so = self.samples[metric][:, self.code[w]], self.samples[metric][:, self.code[o]]
        if kind == "ratio":  # lower is worse: the gap is −log(ratio)
            value = vw / vo if vo else float("nan")
            gap = -float(_log_ratio(vw, vo))
            gs = None if sw is None else -_log_ratio(sw, so)
        elif kind == "ratio_high":
            value = vw / vo if vo else float("nan")
            gap = float(_log_ratio(vw, vo))
            gs = None if sw is None else _log_ratio(sw, so)
        else:
            sign = 1.0 if vw >= vo else -1.0
            value = abs(vw - vo) / scale
            gap = value
            gs = None if sw is None else sign * (sw - so) / scale
        lo, hi = _pair_interval(
            self.samples, metric, self.code[w], self.code[o], vw - vo, self.conf
        )
        d = Disparity(metric, kind, value, None, None, w, o, vw, vo, lo, hi)
        d.gap, d.se, d.m = gap, _se(gs), self.m
        return d

    def spread(
        self, metric: str, high_is_worse: bool, kind: str = "difference", scale: float = 1.0
    ) -> Disparity | None:
        vals = {g: self.bg[g][metric] for g in self.eligible}
        if sum(np.isfinite(v) for v in vals.values()) < 2:
            return None
        worst, other = _extreme(vals, self.eligible, high_is_worse)
        return self.pair(metric, kind, worst, other, scale)

    def judge(
        self,
        d: Disparity | None,
        warn: float | None,
        fail: float | None,
        can_fail: bool = True,
        threshold: float | None = None,
        floor_share: float = 0.0,
    ) -> None:
        if d is None or not np.isfinite(d.value):
            return
        v = judge_gap(
            d.gap,
            d.se,
            warn=warn,
            fail=fail,
            m=self.m,
            confidence=self.conf,
            can_fail=can_fail,
            floor_share=floor_share,
        )
        d.status, d.p = v.status, v.p
        d.low, d.high = _natural(d.kind, v.low), _natural(d.kind, v.high)
        if d.kind == "ratio":
            d.low, d.high = d.high, d.low
        d.threshold = threshold if threshold is not None else (fail if fail is not None else warn)
        self.out.append(d)

    def base_rate_check(self, d: Disparity) -> None:
        """Compare a selection ratio with the base-rate ratio of the same two groups."""
        bw, bo = self.bg[d.worst].get("base_rate"), self.bg[d.other].get("base_rate")
        d.base_worst, d.base_other = bw, bo
        if bw is None or bo is None or not (bw > 0 and bo > 0) or not np.isfinite(d.gap):
            return
        gap = d.gap + float(_log_ratio(bw, bo))  # −log(selection ratio / base-rate ratio)
        gs = None
        if "selection_rate" in self.samples and "base_rate" in self.samples:
            w, o = self.code[d.worst], self.code[d.other]
            gs = -_log_ratio(
                self.samples["selection_rate"][:, w], self.samples["selection_rate"][:, o]
            )
            gs = gs + _log_ratio(self.samples["base_rate"][:, w], self.samples["base_rate"][:, o])
        level = -math.log(float(self.th["selection_vs_base_fail"]))
        v = judge_gap(gap, _se(gs), warn=None, fail=level, m=self.m, confidence=self.conf)
        d.beyond_base = math.exp(-gap)
        d.beyond_base_high = math.exp(-v.low)
        if v.status == "fail" and d.status != "pass":
            d.status = "fail"
            d.threshold = float(self.th["selection_vs_base_fail"])

    def binary(self) -> None:
        """Selection-rate ratios (four-fifths rule, every group, against base rates),
        the demographic parity difference and the equalized-odds difference."""
        four_fifths = float(self.th["four_fifths"])
        ff_gap = -math.log(four_fifths)
        sel_fail = bool(self.th.get("fail_on_selection_rate", False))
        lowest = self.spread("selection_rate", False, "ratio")
        if lowest is not None:
            self.judge(
                lowest, ff_gap, ff_gap, can_fail=sel_fail, threshold=four_fifths, floor_share=0.5
            )
            self.base_rate_check(lowest)
            # The four-fifths rule applies to every group, not only the least selected.
            top = lowest.other
            for g in self.eligible:
                ratio = self.bg[g]["selection_rate"] / self.bg[top]["selection_rate"]
                if g in (top, lowest.worst) or not ratio < four_fifths:
                    continue
                other = self.pair("selection_rate", "ratio", g, top)
                self.judge(
                    other, ff_gap, ff_gap, can_fail=sel_fail, threshold=four_fifths, floor_share=0.5
                )
                self.base_rate_check(other)
        dp = self.spread("selection_rate", False)
        self.judge(dp, float(self.th["dp_difference_warn"]), None, floor_share=0.5)
        if dp is not None:
            dp.base_worst, dp.base_other = (
                self.bg[dp.worst]["base_rate"],
                self.bg[dp.other]["base_rate"],
            )
        tpr = self.spread("true_positive_rate", False)
        fpr = self.spread("false_positive_rate", True)
        eo = max(
            (d for d in (tpr, fpr) if d is not None and np.isfinite(d.value)),
            key=lambda d: d.value,
            default=None,
        )
        self.judge(eo, float(self.th["eo_difference_warn"]), float(self.th["eo_difference_fail"]))
        for d in (tpr, fpr):
            if d is not None and d is not eo:
                self.out.append(d)  # reported, judged through equalized odds

    def regression(self, overall: Mapping[str, float]) -> None:
        """MAE ratios (raw, and relative to each group's spread of the target) and the
        gap in mean residuals as a share of the overall MAE."""
        warn, fail = float(self.th["mae_ratio_warn"]), float(self.th["mae_ratio_fail"])
        rel = self.spread("relative_mae", True, "ratio_high")
        mae = self.spread("mae", True, "ratio_high")
        # The MAE gap fails only when the gap relative to each group's spread of the
        # target fails too: bigger errors on bigger, more spread-out targets are expected.
        rel_fails = False
        if rel is not None and np.isfinite(rel.value):
            v = judge_gap(rel.gap, rel.se, warn=math.log(warn), fail=math.log(fail), m=self.m)
            rel_fails = v.status == "fail"
        self.judge(mae, math.log(warn), math.log(fail), can_fail=rel_fails, threshold=fail)
        self.judge(rel, math.log(warn), math.log(fail), threshold=fail)
        scale = overall.get("mae") or 1.0
        self.judge(
            self.spread("mean_residual", True, "share_of_mae", scale),
            float(self.th["residual_gap_warn"]),
            None,
        )


def _natural(kind: str, x: float) -> float:
    """A bound of the oriented gap back in the disparity's own units."""
    if not math.isfinite(x):
        return x
    if kind == "ratio":
        return math.exp(-x)
    if kind == "ratio_high":
        return math.exp(x)
    return x
