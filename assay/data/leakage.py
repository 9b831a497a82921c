"""``data.target_leakage``: features that predict the target too well on their own.

Each feature gets its own small model, a decision tree of depth 4 fitted on
that feature alone, scored out of fold by 3-fold cross-validation (ROC-AUC for
classifiers, macro one-vs-rest for several classes; R² for regression). For a
numeric feature of a binary or regression task, the value itself (its rank, or
a straight-line fit) is scored too and the better score kept, so a smooth
relation is not understated by the tree's 16 steps. A feature that alone
predicts almost perfectly, or (class targets) has the shape of a noisy copy of
the label, is the classic sign of target leakage: a value computed from the
outcome, or recorded after it. Strength alone is not: an honest dominant
predictor rises smoothly and is tied to other columns. The decision is
:func:`judge_leakage`, numbers in, verdict out.

Folds and the row sample (at most ``max_rows``) come from a seeded hash of
each row's features, not from positions: the scores do not depend on row
order, and identical rows never straddle two folds.

How each feature is presented to its tree:

- numbers, booleans and dates: their value (missing as NaN, which the tree
  routes on its own; infinities clipped to the finite range);
- categories: the mean target of the category (the share of each class for
  several classes) learned on the fold's training part only, smoothed toward
  the overall mean, at most ``max_categories`` categories (the rest pooled);
  missing values are a category of their own; unseen categories get the
  overall mean. This orders categories by target mean, leakage-safely;
- identifiers and free text: the rank of the value in sorted order, so an id
  assigned in label order (rows sorted by outcome, then numbered) is caught.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from assay.core.charts import Bar, BarChart
from assay.core.details import Details
from assay.core.params import param
from assay.core.registry import Outcome, SkipCheck, register_check
from assay.core.result import Finding, Status
from assay.data._common import join_names, overall_status, sort_findings

if TYPE_CHECKING:
    from assay.core.context import AuditContext

_MAX_DEPTH = 4
_N_FOLDS = 3
_SMOOTHING = 10.0


def _numeric(s: pl.Series) -> np.ndarray:
    """Float values of a numeric, boolean or temporal column (NaN when missing)."""
    if s.dtype.is_temporal():
        s = s.to_physical()
    x = s.cast(pl.Float64, strict=False).to_numpy().astype(float, copy=True)
    finite = x[np.isfinite(x)]
    lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 0.0)
    x[np.isposinf(x)] = hi + 1.0
    x[np.isneginf(x)] = lo - 1.0
    return x


def _codes(s: pl.Series) -> np.ndarray:
    """Dense category codes in sorted value order; 0 for missing values."""
    if s.dtype == pl.Object:
        s = pl.Series(s.name, [None if v is None else str(v) for v in s.to_list()], pl.String)
    elif s.dtype in (pl.Categorical, pl.Enum):
        s = s.cast(pl.String)
    return s.rank("dense").fill_null(0).to_numpy().astype(np.int64)


def encode_feature(s: pl.Series, column_type: str) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Split a column into (values for the tree, category codes to target-encode).

    Examples
    --------
    >>> x, codes = encode_feature(pl.Series(["b", None, "a", "b"]), "categorical")
    >>> x is None, codes.tolist()
    (True, [2, 0, 1, 2])
    """
    dt = s.dtype
    numeric_dtype = dt.is_numeric() or dt == pl.Boolean or dt.is_temporal()
    if column_type == "categorical" or (column_type == "boolean" and not numeric_dtype):
        return None, _codes(s)
    if numeric_dtype:
        return _numeric(s), None
    if column_type in ("identifier", "text"):
        rank = _codes(s).astype(float)
        rank[rank == 0] = np.nan
        return rank, None
    if column_type == "numeric":
        return _numeric(s), None
    return None, _codes(s)


def _target_encode(
    codes: np.ndarray, y: np.ndarray, fit: np.ndarray, max_categories: int
) -> np.ndarray:
    """Smoothed target means per category, learned on the rows ``fit`` only.

    ``y`` has one column per target statistic (the target, or one indicator per
    class). Categories beyond the ``max_categories`` most frequent are pooled.
    """
    n_codes = int(codes.max()) + 1
    prior = y[fit].mean(axis=0)
    counts = np.bincount(codes[fit], minlength=n_codes).astype(float)
    sums = np.stack(
        [np.bincount(codes[fit], weights=y[fit, k], minlength=n_codes) for k in range(y.shape[1])],
        axis=1,
    )
    enc = (sums + _SMOOTHING * prior) / (counts[:, None] + _SMOOTHING)
    if (counts > 0).sum() > max_categories:
        rare = np.argsort(-counts, kind="stable")[max_categories:]
        rare = rare[counts[rare] > 0]
        pooled = (sums[rare].sum(axis=0) + _SMOOTHING * prior) / (counts[rare].sum() + _SMOOTHING)
        enc[rare] = pooled
    enc[counts == 0] = prior
    return enc[codes]


def binary_auc(positive: np.ndarray, score: np.ndarray) -> float:
    """ROC-AUC from ranks (the Mann-Whitney statistic, ties counting half).

    NaN when ``positive`` holds one class only.

    Examples
    --------
    >>> binary_auc(np.array([False, True, True]), np.array([0.1, 0.1, 0.9]))
    0.75
    """
    from scipy.stats import rankdata

    positive = np.asarray(positive, dtype=bool)
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def macro_auc(y_codes: np.ndarray, proba: np.ndarray) -> float:
    """ROC-AUC of column 1 for two classes; else the mean one-vs-rest AUC over classes
    that have both positive and negative rows. NaN when no class qualifies.

    Examples
    --------
    >>> macro_auc(np.array([0, 0, 1, 1]), np.array([[.9, .1], [.6, .4], [.3, .7], [.2, .8]]))
    1.0
    """
    if proba.shape[1] == 2:
        return binary_auc(y_codes == 1, proba[:, 1])
    aucs = [binary_auc(y_codes == k, proba[:, k]) for k in range(proba.shape[1])]
    aucs = [a for a in aucs if not np.isnan(a)]
    return float(np.mean(aucs)) if aucs else float("nan")


def _tree_score(
    X_fit: np.ndarray,
    X_held: np.ndarray,
    y_fit: np.ndarray,
    y_held: np.ndarray,
    task: str,
    n_classes: int,
    seed: int,
) -> float:
    from sklearn.metrics import r2_score
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    leaf = max(1, min(20, len(y_fit) // 100))
    if task == "regression":
        reg = DecisionTreeRegressor(max_depth=_MAX_DEPTH, min_samples_leaf=leaf)
        return float(r2_score(y_held, reg.fit(X_fit, y_fit).predict(X_held)))
    clf = DecisionTreeClassifier(max_depth=_MAX_DEPTH, min_samples_leaf=leaf, random_state=seed)
    clf.fit(X_fit, y_fit)
    proba = np.zeros((len(y_held), n_classes))
    proba[:, clf.classes_] = clf.predict_proba(X_held)
    return macro_auc(y_held, proba)


def _direct_score(
    x_fit: np.ndarray, x_held: np.ndarray, y_fit: np.ndarray, y_held: np.ndarray, task: str
) -> float:
    """The numeric value itself as the prediction: its rank (binary, in the direction
    seen on the fit part) or a straight line fitted on the fit part (regression)."""
    from sklearn.metrics import r2_score

    present = ~np.isnan(x_fit)
    if present.sum() < 2 or len(np.unique(y_fit)) < 2:
        return float("nan")
    fill = float(np.mean(x_fit[present]))
    x_fit, x_held = np.nan_to_num(x_fit, nan=fill), np.nan_to_num(x_held, nan=fill)
    if task == "regression":
        if np.ptp(x_fit) == 0:
            return float("nan")
        slope, intercept = np.polyfit(x_fit, y_fit, 1)
        return float(r2_score(y_held, slope * x_held + intercept))
    sign = 1.0 if binary_auc(y_fit == 1, x_fit) >= 0.5 else -1.0
    return binary_auc(y_held == 1, sign * x_held)


def single_feature_score(
    x: np.ndarray | None,
    codes: np.ndarray | None,
    y: np.ndarray,
    task: str,
    n_classes: int,
    folds: list[tuple[np.ndarray, np.ndarray]],
    *,
    seed: int,
    max_categories: int,
) -> float:
    """Mean out-of-fold score of one feature alone: ROC-AUC (macro one-vs-rest) or R².

    ``y`` holds class codes ``0..n_classes-1`` for classifiers, values for
    regression. Each fold scores a depth-4 tree; for a numeric feature of a
    binary or regression task, the feature used directly (see
    :func:`_direct_score`) when that scores higher, since a tree's 16 steps
    lose a little of a smooth relation that a model would keep.
    """
    y_stats = np.eye(n_classes)[y] if task == "multiclass" else y.astype(float).reshape(-1, 1)
    scores = []
    for fit, held in folds:
        if codes is not None:
            enc = _target_encode(codes, y_stats, fit, max_categories)
            X_fit, X_held = enc[fit], enc[held]
        else:
            assert x is not None  # encode_feature gives exactly one of x and codes
            X_fit, X_held = x[fit].reshape(-1, 1), x[held].reshape(-1, 1)
        score = _tree_score(X_fit, X_held, y[fit], y[held], task, n_classes, seed)
        if x is not None and task != "multiclass":
            direct = _direct_score(x[fit], x[held], y[fit], y[held], task)
            score = float(np.fmax(score, direct))  # the better of the two; NaN only if both
        scores.append(score)
    return float(np.nanmean(scores)) if not np.all(np.isnan(scores)) else float("nan")


def _class_codes(values: np.ndarray, classes: list[Any]) -> np.ndarray:
    index = {str(c): i for i, c in enumerate(classes)}
    uniq, inverse = np.unique(np.asarray(values).astype(str), return_inverse=True)
    return np.array([index.get(u, -1) for u in uniq], dtype=np.int64)[inverse]


def row_keys(df: pl.DataFrame, columns: list[str], seed: int) -> np.ndarray:
    """A seeded hash of each row's ``columns``: rows with equal content get equal keys.

    Sampling and fold assignment use these keys instead of positions, so the
    scores do not depend on row order, and identical rows never straddle folds.
    """
    cols = [c for c in columns if df.schema[c] != pl.Object]
    if not cols:
        return np.arange(df.height, dtype=np.uint64)
    return df.select(cols).hash_rows(seed=seed).to_numpy()


def folds_from_keys(keys: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(fit, held)`` row positions of each of the cross-validation folds.

    Examples
    --------
    >>> [(f.tolist(), h.tolist()) for f, h in folds_from_keys(np.array([3, 4, 6, 5]))][0]
    ([1, 3], [0, 2])
    """
    fold = keys % _N_FOLDS
    out = []
    for k in range(_N_FOLDS):
        held = np.flatnonzero(fold == k)
        if 0 < len(held) < len(keys):
            out.append((np.flatnonzero(fold != k), held))
    return out


def model_score(ctx: AuditContext) -> float | None:
    """The model's test score in the same metric (``None`` without predictions or scores)."""
    from sklearn.metrics import r2_score

    if not ctx.can_predict("test"):
        return None
    y = ctx.labels("test")
    assert y is not None  # a supervised audit's test data has the target
    pred = ctx.predictions("test")
    if ctx.task == "regression":
        return float(r2_score(y.astype(float), np.asarray(pred.labels, dtype=float)))
    if pred.proba is None:
        return None
    codes = _class_codes(y, ctx.classes)
    proba = np.asarray(pred.proba, dtype=float)
    if ctx.task == "binary":
        pos = [str(c) for c in ctx.classes].index(str(ctx.positive_class))
        return macro_auc(
            (codes == pos).astype(int), np.column_stack([1 - proba[:, pos], proba[:, pos]])
        )
    return macro_auc(codes, proba)


def step_score(
    x: np.ndarray | None,
    codes: np.ndarray | None,
    y: np.ndarray,
    folds: list[tuple[np.ndarray, np.ndarray]],
    *,
    n_classes: int,
    seed: int,
    max_categories: int,
) -> float:
    """Mean out-of-fold ROC-AUC (macro) of one feature cut into ``n_classes`` steps.

    A copy of a label with some of it flipped is a step with one level per class:
    ``n_classes - 1`` splits keep all of its skill. An honest predictor's risk rises
    smoothly and keeps more of it in its ordering than so few splits can.
    """
    from sklearn.tree import DecisionTreeClassifier

    y_stats = np.eye(n_classes)[y] if n_classes > 2 else y.astype(float).reshape(-1, 1)
    scores = []
    for fit, held in folds:
        if codes is not None:
            enc = _target_encode(codes, y_stats, fit, max_categories)
            X_fit, X_held = enc[fit], enc[held]
        else:
            assert x is not None  # encode_feature gives exactly one of x and codes
            X_fit, X_held = x[fit].reshape(-1, 1), x[held].reshape(-1, 1)
        leaf = max(1, min(20, len(fit) // 100))
        clf = DecisionTreeClassifier(
            max_leaf_nodes=n_classes, min_samples_leaf=leaf, random_state=seed
        )
        clf.fit(X_fit, y[fit])
        proba = np.zeros((len(held), n_classes))
        proba[:, clf.classes_] = clf.predict_proba(X_held)
        scores.append(macro_auc(y[held], proba))
    return float(np.nanmean(scores)) if not np.all(np.isnan(scores)) else float("nan")


def ordering(x: np.ndarray | None, codes: np.ndarray | None, y: np.ndarray) -> np.ndarray:
    """A feature as one number per row, for rank correlations: its value (missing as
    the median), or for categories the mean class code in the category."""
    if codes is not None:
        counts = np.maximum(np.bincount(codes), 1)
        return (np.bincount(codes, weights=y.astype(float)) / counts)[codes]
    assert x is not None  # encode_feature gives exactly one of x and codes
    present = ~np.isnan(x)
    fill = float(np.median(x[present])) if present.any() else 0.0
    return np.where(present, x, fill)


def within_class_dependence(
    column: np.ndarray, others: list[np.ndarray], y: np.ndarray, *, alpha: float = 0.05
) -> float:
    """Strongest clear tie of ``column`` to one of ``others`` within the classes: the
    class-size-weighted mean |Spearman ρ| of the other column with the largest one,
    among those whose ties are clear (χ² over classes of Fisher-z scores, Bonferroni
    over ``others``, under ``alpha``); 0 when none is clear, NaN with no other column.

    A copy of the label with noise holds nothing about the other columns once the
    class is known (ρ ≈ 0, as chance gives it); an honest predictor is usually tied
    to some of them.

    Examples
    --------
    >>> y = np.repeat([0, 1], 50)
    >>> round(within_class_dependence(np.arange(100.0), [np.arange(100.0) * 2], y), 3)
    1.0
    """
    from scipy.stats import chi2, rankdata

    if not others:
        return float("nan")
    groups = [np.flatnonzero(y == k) for k in np.unique(y)]
    groups = [g for g in groups if len(g) >= 4]
    total = sum(len(g) for g in groups)
    if not total:
        return float("nan")
    ranked_col = [rankdata(column[g]) for g in groups]
    best = 0.0
    for other in others:
        rho, stat, df = 0.0, 0.0, 0
        for g, rc in zip(groups, ranked_col, strict=True):
            ro = rankdata(other[g])
            if np.ptp(rc) > 0 and np.ptp(ro) > 0:
                r = float(np.clip(np.corrcoef(rc, ro)[0, 1], -0.999999, 0.999999))
                rho += abs(r) * len(g) / total
                stat += (len(g) - 3) * np.arctanh(r) ** 2
                df += 1
        if df and chi2.sf(stat, df) * len(others) < alpha:
            best = max(best, rho)
    return best


def auc_p_value(score: float, floor: float, n_pos: int, n_neg: int) -> float:
    """One-sided p value of "the ROC-AUC is at most ``floor``" (Hanley-McNeil SE at ``floor``).

    Examples
    --------
    >>> round(auc_p_value(0.9, 0.8, 500, 500), 6)
    0.0
    """
    from scipy.stats import norm

    if np.isnan(score) or n_pos == 0 or n_neg == 0:
        return float("nan")
    a = floor
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    var = (a * (1 - a) + (n_pos - 1) * (q1 - a * a) + (n_neg - 1) * (q2 - a * a)) / (n_pos * n_neg)
    return float(norm.sf((score - floor) / np.sqrt(max(var, 1e-12))))


def judge_leakage(
    score: float,
    step_share: float,
    dependence: float,
    q_value: float,
    task: str | None,
    th: Mapping[str, Any],
) -> tuple[Status, str]:
    """Status of one feature, and how it predicts, from its numbers alone.

    - ``fail`` when the feature alone predicts almost perfectly: ``score`` (ROC-AUC,
      macro for several classes; R² for regression) reaches ``auc_fail`` /
      ``r2_fail``; for classes, a feature tied to other columns within each class
      (``dependence`` above ``dependence_max``, as an honest measurement is to its
      siblings) fails only from ``auc_certain``;
    - ``fail`` when, for a class target, it has the shape of a noisy copy of the
      label: ``score`` at least ``auc_leak_min``, and clearly above ``auc_null``
      (``q_value`` under ``alpha``, multiplicity-adjusted over features), one split keeping at least
      ``step_share_min`` of its skill above chance (a step, not a smooth rise), and
      within each class it is tied to no other column (``dependence`` at most
      ``dependence_max``; NaN when there is no other column);
    - ``pass`` otherwise: strength alone, or matching the model, is what an honest
      dominant predictor shows too.

    Examples
    --------
    >>> th = {"auc_fail": 0.98, "auc_certain": 0.995, "r2_fail": 0.95, "auc_leak_min": 0.8,
    ...       "step_share_min": 0.88, "dependence_max": 0.1, "alpha": 0.05}
    >>> judge_leakage(0.89, 0.99, 0.02, 1e-6, "binary", th)
    ('fail', 'like a noisy copy of the target')
    >>> judge_leakage(0.97, 0.84, 0.60, 1e-9, "binary", th)
    ('pass', '')
    """
    if np.isnan(score):
        return "pass", ""
    tied = dependence > th["dependence_max"]  # False when NaN (no classes, no others)
    if task == "regression":
        return ("fail", "almost perfectly") if score >= th["r2_fail"] else ("pass", "")
    if score >= th["auc_certain"] or (score >= th["auc_fail"] and not tied):
        return "fail", "almost perfectly"
    if (
        score >= th["auc_leak_min"]
        and q_value < th["alpha"]
        and step_share >= th["step_share_min"]
        and not tied
    ):
        return "fail", "like a noisy copy of the target"
    return "pass", ""


_RECOMMENDATION = {
    "fail": "Find out how each named column is produced. If its value is computed from the "
    "target or only known after the outcome, remove it from the features and retrain; if it "
    "is a genuine predictor that is always available in time, record why in the model card.",
    "warn": "Confirm that each named column is known at prediction time and is not derived "
    "from the target.",
    "pass": "Nothing to fix.",
}


@dataclass(frozen=True)
class LeakageParams:
    """Parameters of ``data.target_leakage``."""

    auc_fail: float = param(
        0.98, "AUC of one feature alone predicting the target from which it fails.", ge=0.5, le=1
    )
    auc_certain: float = param(
        0.995, "AUC from which a feature fails even when tied to other features.", ge=0.5, le=1
    )
    r2_fail: float = param(
        0.95, "R² of one feature alone predicting a numeric target from which it fails.", le=1
    )
    auc_leak_min: float = param(
        0.8, "AUC from which a feature is tested as a leak (a step-like relation).", ge=0.5, le=1
    )
    auc_null: float = param(0.75, "AUC of the null hypothesis the leak test rejects.", ge=0.5, le=1)
    step_share_min: float = param(
        0.88,
        "Least share of the target a step on the feature must separate to be a leak.",
        ge=0,
        le=1,
    )
    dependence_max: float = param(
        0.1,
        "Within-class dependence on another column above which a feature counts as tied.",
        ge=0,
        le=1,
    )
    tie_alpha: float = param(
        0.001, "Significance level of the test that a feature is tied to others.", gt=0, lt=1
    )
    alpha: float = param(
        0.05, "False-discovery level of the leak tests across features.", gt=0, lt=1
    )
    max_rows: int = param(50_000, "Rows sampled for the per-feature scores.", ge=1)
    max_categories: int = param(
        1000, "Categories a feature may have to be scored (more are left out).", ge=1
    )


@dataclass(frozen=True)
class TargetLeakageDetails(Details):
    """What ``data.target_leakage`` keeps in its ``details`` (``report.json``)."""

    metric: str
    model_score: float | None
    fail_line: float
    split: str
    rows_used: int
    rows_available: int
    sampled: bool
    cv_folds: int
    max_depth: int
    scores: tuple[Mapping[str, Any], ...]


@register_check(
    "data.target_leakage",
    area="data",
    title="Target leakage",
    explanation=(
        "Measures how well each column predicts the target on its own, with a small model "
        "trained on that column alone and scored on rows it did not see. A single column "
        "that predicts almost perfectly, or as well as the whole model, usually holds the "
        "answer in disguise: a value computed from the outcome or recorded after it. Such a "
        "model looks excellent in testing and fails in use, where that value is not known yet."
    ),
    standards=("MEASURE 2.5", "MAP 2.3"),
    severity="critical",
    params=LeakageParams,
    needs=("labels",),
    details=TargetLeakageDetails,
)
def target_leakage(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Score every feature alone against the target; flag those that look like a leak.

    The verdict is :func:`judge_leakage`: a feature fails when alone it predicts
    almost perfectly (``auc_fail`` 0.98, or ``auc_certain`` 0.995 when it is tied to
    other columns within each class as below; ``r2_fail`` 0.95), or, for a class
    target, when it has the shape of a noisy copy of the label: ROC-AUC at least
    ``auc_leak_min`` (0.8) and clearly above ``auc_null`` (0.75; one-sided
    Hanley-McNeil test, Bonferroni over the features, at ``alpha``), one split
    keeping ``step_share_min`` (0.88) of its skill above chance, and, within each
    class, no clear rank correlation above ``dependence_max`` (0.1) with any other
    column (clear: Bonferroni over the other columns, at ``tie_alpha``, 0.001: a
    chance tie must rarely excuse a leak; honest ties are far clearer).
    A strong honest predictor rises smoothly and is tied to the others; its
    strength, or matching the model's score, is no alarm. Scores come from 3-fold
    cross-validation on train (on test when there is no train), on at most
    ``max_rows`` rows drawn by a seeded hash of their content (so the result does
    not depend on row order).
    """
    split = "train" if ctx.has("train") else "test"
    df = ctx.frame(split)
    features = [c for c in ctx.schema.features if c in df.columns]
    if not features:
        raise SkipCheck("there are no feature columns to score")
    seed = ctx.settings.seed
    n_total = df.height
    keys = row_keys(df, features, seed)
    if n_total > int(th["max_rows"]):
        keep = np.sort(np.argsort(keys, kind="stable")[: int(th["max_rows"])])
        df, keys = df[keep], keys[keep]
    task = ctx.task
    assert task is not None  # the audit runs this check on its supervised tasks only
    regression = task == "regression"
    y_raw = df.get_column(ctx.target_column).to_numpy()
    y = y_raw.astype(float) if regression else _class_codes(y_raw, ctx.classes)
    folds = folds_from_keys(keys)
    model = model_score(ctx)

    classes = ctx.task in ("binary", "multiclass")
    table: list[dict[str, Any]] = []
    encoded: dict[str, tuple[np.ndarray | None, np.ndarray | None]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant folds, single-class leaves
        for c in features:
            ctype = ctx.schema.types.get(c, "categorical")
            x, codes = encode_feature(df.get_column(c), ctype)
            encoded[c] = (x, codes)
            score = single_feature_score(
                x,
                codes,
                y,
                task,
                len(ctx.classes),
                folds,
                seed=seed,
                max_categories=int(th["max_categories"]),
            )
            table.append({"feature": c, "type": ctype, "score": score})
        # The rarest class against the rest: a conservative size for the AUC's SE.
        n_pos = int(np.bincount(y[y >= 0], minlength=len(ctx.classes)).min()) if classes else 0
        orderings: dict[str, np.ndarray] = {}
        for r in table:
            _judge_feature(r, ctx, th, encoded, y, folds, orderings, n_pos)
    table.sort(key=lambda r: -np.nan_to_num(r["score"], nan=-np.inf))
    return _outcome(ctx, th, table, model, split, df.height, n_total)


def _judge_feature(
    r: dict[str, Any],
    ctx: AuditContext,
    th: Mapping[str, Any],
    encoded: Mapping[str, tuple[np.ndarray | None, np.ndarray | None]],
    y: np.ndarray,
    folds: list[tuple[np.ndarray, np.ndarray]],
    orderings: dict[str, np.ndarray],
    n_pos: int,
) -> None:
    """Add to one feature's row of the table the evidence of a leak's shape (for a class
    target scoring at least ``auc_leak_min``: the step score, the within-class
    dependence on the other columns, the p and q values) and its verdict. ``orderings``
    (each column's within-class order) is filled on first use and shared."""
    classes = ctx.task in ("binary", "multiclass")
    seed = ctx.settings.seed
    r.update(step_score=None, step_share=None, dependence=None, p_value=None)
    r.update(q_value=None)
    if classes and not np.isnan(r["score"]) and r["score"] >= th["auc_leak_min"]:
        x, codes = encoded[r["feature"]]
        p = auc_p_value(r["score"], th["auc_null"], n_pos, len(y) - n_pos)
        step = step_score(
            x,
            codes,
            y,
            folds,
            n_classes=len(ctx.classes),
            seed=seed,
            max_categories=int(th["max_categories"]),
        )
        if not orderings:
            orderings.update({c: ordering(*encoded[c], y) for c in encoded})
        dep = within_class_dependence(
            orderings[r["feature"]],
            [v for c, v in orderings.items() if c != r["feature"]],
            y,
            alpha=th["tie_alpha"],
        )
        r.update(
            step_score=step,
            step_share=(step - 0.5) / (r["score"] - 0.5),
            dependence=dep,
            p_value=p,
            q_value=min(1.0, p * len(encoded)),
        )
    r["status"], r["how"] = judge_leakage(
        r["score"],
        np.nan if r["step_share"] is None else r["step_share"],
        np.nan if r["dependence"] is None else r["dependence"],
        1.0 if r["q_value"] is None else r["q_value"],
        ctx.task,
        th,
    )


def _outcome(
    ctx: AuditContext,
    th: Mapping[str, Any],
    table: list[dict[str, Any]],
    model: float | None,
    split: str,
    n_used: int,
    n_total: int,
) -> Outcome:
    regression = ctx.task == "regression"
    metric = "R²" if regression else "ROC-AUC" if ctx.task == "binary" else "macro ROC-AUC"
    versus = f"; the whole model scores {model:.3f} on test" if model is not None else ""
    where = f"{_N_FOLDS}-fold cross-validation on {n_used:,} {split} rows"
    findings = _findings(table, metric, where, versus, model, split)
    findings = sort_findings(findings)
    status = overall_status(findings)
    scored = [r for r in table if not np.isnan(r["score"])]
    summary = _summary(table, findings, scored, metric, model)
    line = th["r2_fail"] if regression else th["auc_fail"]
    chart = BarChart(
        title="Power of each column alone to predict the target",
        x_label=f"{metric} of the column alone, on rows not used to fit it",
        unit="value",
        items=[Bar(r["feature"], r["score"], r["status"]) for r in scored[:25]],
        threshold=line,
    ).to_dict()
    details: dict[str, Any] = {
        "metric": metric,
        "model_score": model,
        "fail_line": line,
        "split": split,
        "rows_used": n_used,
        "rows_available": n_total,
        "sampled": n_used < n_total,
        "cv_folds": _N_FOLDS,
        "max_depth": _MAX_DEPTH,
        "scores": [{k: v for k, v in r.items() if k != "how"} for r in table],
        "charts": [chart],
    }
    if n_used < n_total:
        details["note"] = (
            f"Scored on a sample of {n_used:,} of the {n_total:,} {split} rows, drawn by a "
            f"hash of their content seeded with {ctx.settings.seed}."
        )
    metrics = {
        "model_score": model,
        "max_feature_score": scored[0]["score"] if scored else None,
        "n_features": len(table),
        "n_leaking": sum(r["status"] == "fail" for r in table),
        "n_suspicious": sum(r["status"] == "warn" for r in table),
        "q_value": min(qs)
        if (qs := [f.metrics["q_value"] for f in findings if f.metrics["q_value"] is not None])
        else None,
        "rows_used": n_used,
        "sampled": int(n_used < n_total),
    }
    return Outcome(
        status=status,
        summary=summary,
        metrics=metrics,
        findings=findings,
        recommendation=_RECOMMENDATION[status],
        details=details,
    )


def _findings(
    table: list[dict[str, Any]],
    metric: str,
    where: str,
    versus: str,
    model: float | None,
    split: str,
) -> list[Finding]:
    """One finding per feature judged a leak or suspicious, in the table's order."""
    findings = []
    for r in table:
        if r["status"] != "pass":
            msg = (
                f"Column '{r['feature']}' alone predicts the target {r['how']} "
                f"({metric} {r['score']:.3f} in {where}{versus})."
            )
            findings.append(
                Finding(
                    r["status"],
                    msg,
                    column=r["feature"],
                    split=split,
                    metrics={
                        "score": r["score"],
                        "model_score": model,
                        "step_score": r["step_score"],
                        "step_share": r["step_share"],
                        "within_class_dependence": r["dependence"],
                        "p_value": r["p_value"],
                        "q_value": r["q_value"],
                    },
                )
            )
    return findings


def _summary(
    table: list[dict[str, Any]],
    findings: list[Finding],
    scored: list[dict[str, Any]],
    metric: str,
    model: float | None,
) -> str:
    """The first flagged column and the others, or the strongest column scored."""
    if findings:
        top = next(r for r in table if r["feature"] == findings[0].column)
        others = [f.column for f in findings[1:] if f.column is not None]  # all have one
        summary = (
            f"Column '{top['feature']}' alone predicts the target {top['how']} "
            f"({metric} {top['score']:.2f}), "
            + (
                "a sign that it leaks the answer"
                if top["status"] == "fail"
                else "so check that its value is known before the outcome"
            )
            + (f"; also flagged: {join_names(others)}." if others else ".")
        )
    elif scored:
        best = scored[0]
        model_part = f", against {model:.2f} for the model" if model is not None else ""
        summary = (
            "No column predicts the target suspiciously well on its own (the strongest, "
            f"'{best['feature']}', reaches {metric} {best['score']:.2f}{model_part})."
        )
    else:
        summary = "No column could be scored against the target."
    return summary
