"""``fairness.group_metrics`` from group counts of every row (the Dask engine).

On an audit engine that can predict every row where the data lives
(:class:`~assay.engine._audit_dask.DaskAuditEngine` with a model file or
prediction columns), a classification task's fairness check reads no rows
itself. It asks the engine for:

1. each sensitive column's definition of its groups, from full-data
   summaries: the count of each value as text (the ``max_categories`` most
   frequent kept, as the local check keeps them), or, for a numeric column with
   more distinct values, quantile bins from the column's profile (exact while
   the profile is, beyond :data:`~assay.engine._profile.PROFILE_CAP` distinct
   values from its quantile sketch);
2. :class:`~assay.engine._groups.GroupCounts`: rows per (group of every
   sensitive column, true class, predicted class), computed per partition and
   merged.

Point metrics come from Fairlearn's ``MetricFrame`` on one row per cell with
its count as a frequency weight — the numbers the local check computes on the
rows. Intervals: a bootstrap on the counts. Each resample draws the cells'
counts from Multinomial(n, counts / n), which is the distribution of the
cells' counts when n rows are drawn with replacement, so it is the local
check's row bootstrap (percentile intervals, bootstrap standard errors for the
verdicts) with other random numbers: the two agree within Monte Carlo error.

A regression's check reads :class:`~assay.engine._groups.GroupSums` instead:
per group, the rows and the sums of ``|error|``, ``error``, the prediction,
``y`` and ``y**2``, with the sums of their pairwise products. Point metrics
are ratios of the sums (MAE, mean residual, mean prediction, MAE over the
group's standard deviation of ``y``): the local check's numbers up to float
rounding (relative 1e-9 on well-scaled targets; the spread of ``y`` comes from
``sum(y**2)/n - mean**2``, which loses digits when the mean is many standard
deviations from zero). Intervals: a Gaussian Poisson bootstrap. Under the
Poisson bootstrap (each row drawn Poisson(1) times, the large-sample form of
the row bootstrap) a group's resampled sums have mean ``S`` and covariance
``sum x x^T`` over its rows (``x``: the row's one and sums), which the
summary holds; each resample draws them from that normal distribution and
computes the metrics from them. It agrees with the local row bootstrap to
Monte Carlo error plus the normal approximation's error (small groups, and
heavy-tailed errors, differ most).
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from assay.core.context import AuditContext
from assay.core.registry import Outcome
from assay.engine._audit import audit_engine
from assay.engine._groups import Grouping
from assay.evaluation._depth import groups_from_quantiles
from assay.fairness._report import SetResult, outcome

MAX_CELLS = 4_000_000
"""Resample × cell counts drawn at once."""

REGRESSION_METHOD = (
    "per-group sums of every row (n, |error|, error, prediction, y, y**2 and their "
    "products; point estimates are ratios of the sums); intervals from a Gaussian Poisson "
    "bootstrap (resampled sums ~ Normal(sum x, sum x x^T) per group)"
)

METHOD = (
    "fairlearn.metrics.MetricFrame on per-group counts of every row (point estimates); "
    "intervals from a bootstrap of the counts (Multinomial(n, counts/n) per resample, the "
    "row bootstrap's distribution)"
)


def from_engine_counts(ctx: AuditContext, task: str, th: Mapping[str, Any]) -> Outcome | None:
    """The check's outcome from the engine's group counts of every test row, or ``None``
    when the engine cannot count them (local engine, an in-memory model)."""
    eng: Any = audit_engine(ctx)
    if getattr(eng, "spec", None) is None or not hasattr(eng, "group_counts"):
        return None
    if task == "regression":
        return _from_engine_sums(ctx, eng, th)
    if task not in ("binary", "multiclass"):
        return None
    counts = eng.group_counts("test", [_grouping(eng, c, th) for c in ctx.sensitive])
    if counts is None or counts.n == 0:
        return None
    from assay.fairness.group_metrics import _from_sums, _row_columns

    # Object columns, as the local check's labels (pandas' str dtype slows MetricFrame 3x).
    cells = pd.DataFrame({c: counts.table.get_column(c).to_numpy() for c in counts.table.columns})
    w = cells["count"].to_numpy(dtype=np.int64)
    yt: np.ndarray
    yp: np.ndarray
    if task == "binary":
        pos = str(ctx.positive_class)
        yt = (cells["__truth"] == pos).to_numpy(dtype=float)
        yp = (cells["__pred"] == pos).to_numpy(dtype=float)
    else:
        index = {str(c): float(i) for i, c in enumerate(ctx.classes)}
        yt = cells["__truth"].map(index).fillna(-1.0).to_numpy(dtype=float)
        yp = cells["__pred"].map(index).fillna(-2.0).to_numpy(dtype=float)
    rows = _row_columns(task, SimpleNamespace(y=yt, pred=yp), yt, yp)
    overall = {k: float(v) for k, v in _from_sums(task, w @ rows).items()}
    sets: list[tuple[str, ...]] = [(c,) for c in ctx.sensitive]
    if th.get("intersections", True):
        sets += list(combinations(ctx.sensitive, 2))
    results = _sets(ctx, task, sets, cells, w, yt, yp, rows, th, overall)
    n = int(w.sum())
    out = outcome(ctx, task, results, overall, th, n, n)
    details = {**out.details, "metrics_by": METHOD, "rows_counted": n}
    return Outcome(out.status, out.summary, out.metrics, out.findings, out.recommendation, details)


def _from_engine_sums(ctx: AuditContext, eng: Any, th: Mapping[str, Any]) -> Outcome | None:
    """A regression's outcome from the engine's per-group sums of every test row."""
    if not hasattr(eng, "group_sums"):
        return None
    sums = eng.group_sums("test", [_grouping(eng, c, th) for c in ctx.sensitive])
    if sums is None or sums.n == 0:
        return None
    from assay.fairness.group_metrics import _from_sums, _set_result

    _, total, _ = sums.by([])
    overall = {k: float(v) for k, v in _from_sums("regression", total[0]).items()}
    sets: list[tuple[str, ...]] = [(c,) for c in ctx.sensitive]
    if th.get("intersections", True):
        sets += list(combinations(ctx.sensitive, 2))
    s = ctx.settings
    min_size = int(th["min_group_size"])
    prepared = []
    for cols in sets:
        keys, S, M = sums.by(cols)
        points = _from_sums("regression", S)
        by_group = {k: {m: float(v[g]) for m, v in points.items()} for g, k in enumerate(keys)}
        groups = sorted(by_group, key=lambda g: (-by_group[g]["count"], g))
        order = np.array([keys.index(g) for g in groups], dtype=np.int64)
        prepared.append((cols, by_group, groups, S[order], M[order]))
    n_pairs = 0  # Bonferroni over every pair of groups large enough to judge, as locally
    for _, by_group, groups, _, _ in prepared:
        k = sum(by_group[g]["count"] >= min_size for g in groups)
        n_pairs += k * (k - 1) // 2
    rng = np.random.default_rng([s.seed, 0, 20])
    results = []
    for cols, by_group, groups, S, M in prepared:
        parts = {m: [v] for m, v in _gaussian_draws(S, M, s.n_bootstrap, rng).items()}
        code = {g: i for i, g in enumerate(groups)}
        results.append(
            _set_result(
                "regression",
                cols,
                by_group,
                groups,
                code,
                parts,
                th,
                s.confidence,
                overall,
                n_pairs,
            )
        )
    n = sums.n
    out = outcome(ctx, "regression", results, overall, th, n, n)
    details = {**out.details, "metrics_by": REGRESSION_METHOD, "rows_counted": n}
    return Outcome(out.status, out.summary, out.metrics, out.findings, out.recommendation, details)


def _gaussian_draws(
    S: np.ndarray, M: np.ndarray, n_boot: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Metrics of ``n_boot`` resamples (resamples x groups): each group's sums drawn from
    Normal(``S[g]``, ``M[g]``), the Poisson bootstrap's mean and covariance of the sums.
    A draw with fewer than half a row in a group gives NaN there (no rows, as a row
    resample that misses the group)."""
    from assay.fairness.group_metrics import _from_sums

    G, K = S.shape
    draws = np.empty((n_boot, G, K))
    for g in range(G):
        lam, vec = np.linalg.eigh(M[g])
        root = vec * np.sqrt(np.clip(lam, 0.0, None))  # root @ root.T == M[g]
        draws[:, g, :] = S[g] + rng.standard_normal((n_boot, K)) @ root.T
    empty = draws[..., 0] < 0.5
    draws[..., 0] = np.where(empty, np.nan, draws[..., 0])
    return _from_sums("regression", draws)


def _grouping(eng: Any, column: str, th: Mapping[str, Any]) -> Grouping:
    """How ``column``'s rows are grouped, from full-data summaries (as the local check
    groups the rows it reads)."""
    most = int(th["max_categories"])
    text = eng.text_counts("test", column)
    if not (text.numeric and (text.many or text.n_unique > most)):
        return Grouping(column, keep=text.top(most))
    view = next(iter(eng.profiles("test", [column]))).values()
    if len(view) == 0:
        return Grouping(column, edges=(), names=("all",))
    bins = int(th["numeric_bins"])
    q = view.percentile(np.linspace(0, 1, bins + 1)[1:-1] * 100)
    lo, hi = float(view.values[0]), float(view.values[-1])
    integer = bool(np.all(view.values == np.round(view.values)))
    edges, names = groups_from_quantiles(q, lo, hi, integer)
    return Grouping(column, edges=tuple(edges), names=tuple(names))


def _sets(
    ctx: AuditContext,
    task: str,
    sets: list[tuple[str, ...]],
    cells: pd.DataFrame,
    w: np.ndarray,
    yt: np.ndarray,
    yp: np.ndarray,
    rows: np.ndarray,
    th: Mapping[str, Any],
    overall: Mapping[str, float],
) -> list[SetResult]:
    """Metrics, intervals and disparities of each attribute set, from the cells."""
    from assay.fairness.group_metrics import _from_sums, _metric_frame_counts, _set_result

    s = ctx.settings
    min_size = int(th["min_group_size"])
    prepared = []
    for cols in sets:
        comp = cells[list(cols)].assign(__truth=yt, __pred=yp, __w=w)
        comp = comp.groupby([*cols, "__truth", "__pred"], sort=True)["__w"].sum().reset_index()
        comp = comp[comp["__w"] > 0]
        by_group = _metric_frame_counts(task, cols, comp)
        groups = sorted(by_group, key=lambda g: (-by_group[g]["count"], g))
        code = {g: i for i, g in enumerate(groups)}
        key = cells[list(cols)].astype(str).agg(" & ".join, axis=1)
        gi = key.map(code).to_numpy(dtype=np.int64)
        members = [np.flatnonzero(gi == i) for i in range(len(groups))]
        prepared.append((cols, by_group, groups, code, members))
    n_pairs = 0  # Bonferroni over every pair of groups large enough to judge
    for _, by_group, groups, _, _ in prepared:
        k = sum(by_group[g]["count"] >= min_size for g in groups)
        n_pairs += k * (k - 1) // 2
    parts: list[dict[str, list[np.ndarray]]] = [{} for _ in prepared]
    n, K = int(w.sum()), rows.shape[1]
    rng = np.random.default_rng([s.seed, 0, 19])
    per = max(1, MAX_CELLS // max(w.size, 1))
    done = 0
    while done < s.n_bootstrap:
        b = min(per, s.n_bootstrap - done)
        draws = rng.multinomial(n, w / n, size=b).astype(np.float64)
        for i, (_, _, groups, _, members) in enumerate(prepared):
            S = np.empty((b, len(groups), K))
            for g, idx in enumerate(members):
                S[:, g, :] = draws[:, idx] @ rows[idx]
            for m, v in _from_sums(task, S).items():
                parts[i].setdefault(m, []).append(v)
        done += b
    return [
        _set_result(task, cols, by_group, groups, code, p, th, s.confidence, overall, n_pairs)
        for (cols, by_group, groups, code, _), p in zip(prepared, parts, strict=True)
    ]


__all__ = ["METHOD", "REGRESSION_METHOD", "from_engine_counts"]
