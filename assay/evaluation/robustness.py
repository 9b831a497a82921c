"""``evaluation.robustness``: do small changes to the inputs change the predictions?

The test rows (a stated sample of them) are perturbed in several ways and the
model predicts again:

- Gaussian noise on every numeric feature, with a standard deviation that is
  a stated fraction of that feature's own *robust* spread (several levels);
- a small shift of every numeric feature (up and down, by a fraction of that
  spread);
- categorical values swapped to another of the column's frequent categories
  (in a share of rows);
- missing values injected in a share of cells, when the model accepts missing
  values (tried on a few rows first; when it does not, the result says so).

Each perturbation is applied to all features at once, and the noise, the swap
and the missing values also to one feature at a time. For each, the check
reports how much the main metric drops (with a paired bootstrap interval) and
the share of predictions that change (the *flip rate*, with a Wilson
interval). The most fragile features are those whose small noise flips most
predictions.

Scale. A feature's spread is :func:`robust_scale`: the standard deviation of
the values inside Tukey's far fences (three interquartile ranges beyond the
quartiles, or three times the column's resolution, the smallest gap between
two of its values, where the quartiles coincide). One sentinel such as ``666``
in a 0/1 column therefore cannot turn "a tenth of a standard deviation" into
a jump from 0 to 1.

Verdict (:func:`judge_perturbation`). A perturbation gates only when it is
*realistic* for this data and its metric drop is both *clear* and *material*:

- realistic: noise of a tenth of a feature's own spread (measurement noise);
  missing values only in the columns where the train or test data itself has
  missing values. Category swaps, missing values the data never shows, and a
  shift of every feature at once in the same direction (a new population, which
  drift monitoring watches; a model that follows its inputs moves with it) are
  reported (with a note when they would have alarmed) but never warn or fail;
- clear: the one-sided paired-bootstrap p value of "the metric drops by more than
  half of ``drop_warn``" (normal approximation), Holm-adjusted over every
  realistic judged perturbation, is at most ``alpha``;
- material: the point drop is at least ``drop_warn`` (warn) or ``drop_fail``
  (fail).

The flip rate is reported with its Wilson interval but does not gate on its
own: predictions near the decision boundary change under any noise without the
model being worse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from scipy.stats import norm

from assay.core.charts import Bar, BarChart, IntervalChart, IntervalItem, Unit
from assay.core.context import AuditContext
from assay.core.details import Details
from assay.core.params import param
from assay.core.registry import Outcome, SkipCheck, register_check
from assay.core.result import Finding, Status, worst_status
from assay.errors import ModelError
from assay.evaluation._bootstrap import make_intervals, metric_samples
from assay.evaluation._common import conf_text, fmt, label
from assay.evaluation._depth import (
    changed,
    eval_data,
    model_features,
    numeric_spread,
    predict_frames,
    require_model,
    sample_positions,
    wilson,
)
from assay.evaluation._metrics import LOWER_IS_BETTER, compute_metrics, main_metric_name
from assay.io.models import Prediction

CHECK_ID = "evaluation.robustness"
_CATEGORICAL = ("categorical", "boolean")
_PROBE_ROWS = 8
_MAX_INTERVALS = 12
"""Paired-bootstrap intervals are computed for the perturbations of all features
at once and for this many of the most fragile single features."""


@dataclass
class _Block:
    """One perturbed copy of the sample rows."""

    key: str
    kind: str  # noise | shift | swap | missing
    scope: str  # "all" or a column name
    level: float
    frame: pl.DataFrame
    judged: bool
    realistic: bool = True
    result: dict[str, Any] = field(default_factory=dict)


_FENCE = 3.0
"""Tukey's far fences: values beyond this many interquartile ranges (or resolutions)
outside the quartiles do not count towards a feature's spread."""


def robust_scale(values: np.ndarray) -> float:
    """A feature's spread in standard-deviation units that no extreme value can set.

    The standard deviation of the finite values inside Tukey's far fences: the
    quartiles widened by three interquartile ranges, or, when the quartiles
    coincide (a binary or sparse column), by three times the column's
    resolution (the smallest gap between two distinct values). 0 when fewer
    than two values or all equal.

    Examples
    --------
    >>> v = np.array([0.0, 1.0] * 500)
    >>> round(robust_scale(v), 3), round(robust_scale(np.append(v, 666.0)), 3)
    (0.5, 0.5)
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size < 2:
        return 0.0
    distinct = np.unique(v)
    if distinct.size < 2:
        return 0.0
    q25, q75 = np.percentile(v, [25, 75])
    width = q75 - q25
    if width <= 0:
        width = float(np.diff(distinct).min())
    inside = v[(v >= q25 - _FENCE * width) & (v <= q75 + _FENCE * width)]
    return float(inside.std()) if inside.size > 1 else 0.0


def judge_perturbation(
    drop: float | None,
    q: float | None,
    *,
    realistic: bool,
    judged: bool,
    params: Mapping[str, Any],
    skill: float | None = None,
) -> tuple[Status, str]:
    """Status of one perturbation from its metric drop and the drop's Holm-adjusted q value.

    Pure: numbers in, verdict out. Fails when the drop is clear (``q <= alpha``), at
    least ``drop_fail`` and, when the model's ``skill`` (its metric beyond a no-skill
    model's, same units as the drop) is known, at least ``skill_share_fail`` of it: the
    perturbation takes away a material part of what the model knows. Warns when clear and
    at least ``drop_warn``; passes otherwise, and always for a perturbation that is not
    realistic for the data or not at a judged level. A model whose predictions follow a
    strong feature closely moves with noise on that feature; that is a property to know
    (warn), and fails the gate only when the noise costs a large share of its skill.

    Examples
    --------
    >>> th = {"drop_warn": 0.02, "drop_fail": 0.05, "alpha": 0.05}
    >>> judge_perturbation(0.03, 0.01, realistic=True, judged=True, params=th)[0]
    'warn'
    >>> judge_perturbation(0.03, 0.2, realistic=True, judged=True, params=th)[0]
    'pass'
    >>> th["skill_share_fail"] = 0.25
    >>> judge_perturbation(0.085, 0.001, realistic=True, judged=True, params=th, skill=0.8)[0]
    'warn'
    >>> judge_perturbation(0.085, 0.001, realistic=True, judged=True, params=th, skill=0.2)[0]
    'fail'
    """
    if not judged:
        return "pass", "not a judged level: reported only"
    if drop is None:
        return "pass", "the metric could not be computed after the perturbation"
    if not realistic:
        return "pass", "this kind of corruption is not seen in the data: reported only"
    if drop < float(params["drop_warn"]):
        return "pass", f"the drop {drop:.4g} is below the material level {params['drop_warn']}"
    if q is None or q > float(params["alpha"]):
        shown = "unknown" if q is None else f"{q:.3g}"
        return "pass", f"the drop is not clear (q = {shown} > {params['alpha']})"
    if drop >= float(params["drop_fail"]):
        share = float(params.get("skill_share_fail", 0.0))
        if skill is None or skill <= 0 or drop >= share * skill:
            return "fail", f"clear (q = {q:.3g}) and at least {params['drop_fail']}"
        return "warn", (
            f"clear (q = {q:.3g}) and at least {params['drop_fail']}, but only "
            f"{drop / skill:.0%} of the model's skill ({skill:.3g}; fails from {share:.0%})"
        )
    return "warn", f"clear (q = {q:.3g}) and at least {params['drop_warn']}"


def model_skill(main: str, y: np.ndarray, value: float, *, n_classes: int) -> float | None:
    """The model's ``main`` metric beyond a no-skill model's on the same rows, in the
    metric's own units (positive when the model is better); ``None`` when unknown.

    No skill: AUC 0.5, R² 0, balanced accuracy 1/k; accuracy the majority share;
    MAE the mean absolute deviation from the median, RMSE the standard deviation.

    >>> round(model_skill("accuracy", np.array([0, 0, 0, 1]), 0.9, n_classes=2), 3)
    0.15
    """
    from assay.evaluation.performance import chance_level

    if not np.isfinite(value):
        return None
    chance = chance_level(main, n_classes=n_classes)
    if chance is not None:
        return float(value - chance)
    if main == "accuracy" and y.size:
        _, counts = np.unique(y, return_counts=True)
        return float(value - counts.max() / y.size)
    yf = np.asarray(y, dtype=float) if main in ("mae", "rmse") else None
    if yf is None or not yf.size:
        return None
    dummy = np.mean(np.abs(yf - np.median(yf))) if main == "mae" else np.std(yf)
    return float(dummy - value)


def holm(pvalues: Sequence[float | None]) -> list[float | None]:
    """Holm-adjusted q values (step-down); ``None`` entries count as tests with p = 1.

    >>> [round(q, 3) for q in holm([0.01, 0.04, 0.03])]
    [0.03, 0.06, 0.06]
    """
    from assay.stats import holm as holm_adjust

    q = holm_adjust([1.0 if v is None else float(v) for v in pvalues])
    return [None if v is None else float(q[i]) for i, v in enumerate(pvalues)]


def _series_like(name: str, values: Any, dtype: pl.DataType) -> pl.Series:
    """A column of new numeric values, in the original dtype (integers are rounded)."""
    values = np.asarray(values, dtype=np.float64)
    s = pl.Series(name, values).fill_nan(None)
    if dtype.is_integer():
        return s.round(0).cast(dtype, strict=False)
    return s.cast(dtype, strict=False) if dtype.is_numeric() else s


def _frequent(values: Sequence[Any], k: int) -> list[Any]:
    """The ``k`` most frequent non-missing values, most frequent first (ties by text)."""
    counts: dict[Any, int] = {}
    for v in values:
        if v is not None and not (isinstance(v, float) and np.isnan(v)):
            counts[v] = counts.get(v, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    return [v for v, _ in ranked[:k]]


def _swapped(values: list[Any], top: list[Any], u: np.ndarray) -> list[Any]:
    """Each value replaced by another of ``top``, chosen by the uniform draws ``u``."""
    index = {v: i for i, v in enumerate(top)}
    out: list[Any] = []
    for v, draw in zip(values, u, strict=True):
        if v is None:
            out.append(None)
            continue
        own = index.get(v, -1)
        if own < 0:
            out.append(top[int(draw * len(top))])
        else:
            j = int(draw * (len(top) - 1))
            out.append(top[j if j < own else j + 1])
    return out


def _missing_support(ctx: AuditContext, X: pl.DataFrame, cols: list[str]) -> tuple[list[str], str]:
    """The columns whose values the model accepts as missing, tried on a few rows."""
    probe = X.head(_PROBE_ROWS)
    frames = [probe.with_columns(pl.lit(None, dtype=X.schema[c]).alias(c)) for c in cols]

    def ok(preds: list[Prediction]) -> bool:
        for p in preds:
            if ctx.task == "regression" and not np.isfinite(p.labels.astype(float)).all():
                return False
            if p.proba is not None and not np.isfinite(p.proba).all():
                return False
        return True

    try:
        if ok(predict_frames(ctx, frames)):
            return cols, ""
    except ModelError as exc:
        reason = str(exc)
    else:
        reason = "the model returned missing predictions for rows with missing values"
    accepted = []
    for c, f in zip(cols, frames, strict=True):
        try:
            if ok(predict_frames(ctx, [f])):
                accepted.append(c)
        except ModelError:
            continue
    return accepted, reason


def _blocks(
    ctx: AuditContext, X: pl.DataFrame, num: list[str], cat: list[str], th: Mapping[str, Any]
) -> tuple[list[_Block], dict[str, Any]]:
    """Every perturbed copy of the sample, and what was perturbed how."""
    s = ctx.settings
    m = X.height
    rng = np.random.default_rng([s.seed, 41])
    levels = sorted(float(v) for v in th["noise_levels"])
    judged = float(th["judged_level"])
    shift = float(th["shift"])
    swap_share, missing_share = float(th["swap_share"]), float(th["missing_share"])
    spreads: dict[str, float] = {}
    z: dict[str, np.ndarray] = {}
    raw: dict[str, np.ndarray] = {}
    for c in num:
        v = X.get_column(c).cast(pl.Float64, strict=False).to_numpy().astype(np.float64)
        sd = robust_scale(v)
        draw = rng.standard_normal(m)
        if sd > 0:
            spreads[c], z[c], raw[c] = sd, draw, v
    num = [c for c in num if c in spreads]
    swaps: dict[str, tuple[list[Any], list[Any], np.ndarray]] = {}
    for c in cat:
        values = X.get_column(c).to_list()
        top = _frequent(values, int(th["frequent_categories"]))
        u_pick, u_share = rng.random(m), rng.random(m)
        if len(top) >= 2:
            swaps[c] = (values, _swapped(values, top, u_pick), u_share)
    cat = [c for c in cat if c in swaps]

    def noisy(c: str, scale: float, shift_only: bool = False) -> pl.Series:
        delta = scale * spreads[c] * (np.ones(m) if shift_only else z[c])
        return _series_like(c, raw[c] + delta, X.schema[c])

    def swapped(c: str, share: float) -> pl.Series:
        values, new, u = swaps[c]
        mixed = [b if draw < share else a for a, b, draw in zip(values, new, u, strict=True)]
        return pl.Series(c, mixed, dtype=X.schema[c], strict=False)

    blocks: list[_Block] = []
    if num:
        for lv in levels:
            frame = X.with_columns([noisy(c, lv) for c in num])
            blocks.append(_Block(f"noise {lv:g} sd", "noise", "all", lv, frame, lv <= judged))
        for sign, word in ((1.0, "+"), (-1.0, "−")):
            frame = X.with_columns([noisy(c, sign * shift, shift_only=True) for c in num])
            # Every feature moved at once, the same way, is a new population (drift watches
            # that), not a fault of the model: reported, with a note when it would alarm.
            blocks.append(
                _Block(f"shift {word}{shift:g} sd", "shift", "all", shift, frame, True, False)
            )
        for c in num:
            frame = X.with_columns(noisy(c, judged))
            blocks.append(_Block(f"noise {judged:g} sd: {c}", "noise", c, judged, frame, True))
    if cat:
        frame = X.with_columns([swapped(c, swap_share) for c in cat])
        blocks.append(
            _Block(f"swap {swap_share:.0%} of rows", "swap", "all", swap_share, frame, True, False)
        )
        for c in cat:
            frame = X.with_columns(swapped(c, 1.0))
            blocks.append(_Block(f"swap: {c}", "swap", c, 1.0, frame, False, False))
    missing, about_missing = _missing_blocks(ctx, X, num + cat, rng, missing_share)
    blocks += missing
    about = {
        "numeric_perturbed": num,
        "categorical_perturbed": cat,
        "noise_spread": {c: spreads[c] for c in num},
        "missing_values": about_missing,
    }
    return blocks, about


def _missing_blocks(
    ctx: AuditContext,
    X: pl.DataFrame,
    cols: list[str],
    rng: np.random.Generator,
    missing_share: float,
) -> tuple[list[_Block], dict[str, Any]]:
    """Missing values injected (where the model accepts them): a share of the cells of
    the columns where the data has missing values (else all accepted), and each accepted
    column wholly missing; with what was done and why."""
    m = X.height
    blocks: list[_Block] = []
    accepted, reason = _missing_support(ctx, X, cols) if cols else ([], "")
    in_data = _columns_with_missing(ctx, cols)
    injected: list[str] = []
    if accepted:
        masks = {c: rng.random(m) < missing_share for c in accepted}
        # Realistic: only the columns where the data itself has missing values.
        seen = [c for c in accepted if c in in_data]
        targets = injected = seen or accepted
        frame = X.with_columns(
            [pl.when(pl.Series(masks[c])).then(None).otherwise(pl.col(c)).alias(c) for c in targets]
        )
        key = f"missing {missing_share:.0%} of cells" + (
            " where the data has missing values" if seen else ""
        )
        blocks.append(_Block(key, "missing", "all", missing_share, frame, True, bool(seen)))
        for c in accepted:
            frame = X.with_columns(pl.lit(None, dtype=X.schema[c]).alias(c))
            blocks.append(_Block(f"missing: {c}", "missing", c, 1.0, frame, False, c in in_data))
    return blocks, {
        "in_data": in_data,
        "injected_in": injected,
        "accepted": bool(accepted),
        "columns_accepted": accepted,
        "columns_not_accepted": [c for c in cols if c not in accepted],
        "reason": reason or None,
    }


def _columns_with_missing(ctx: AuditContext, cols: list[str]) -> list[str]:
    """The columns with a missing value (null or NaN) in the train or test data."""
    out: set[str] = set()
    for split in ("train", "test"):
        df = ctx.frames.get(split)
        if df is None:
            continue
        present = [c for c in cols if c in df.columns]
        if not present:
            continue
        counts = df.select(
            [
                (
                    pl.col(c).is_null() | pl.col(c).is_nan()
                    if df.schema[c].is_float()
                    else pl.col(c).is_null()
                )
                .sum()
                .alias(c)
                for c in present
            ]
        ).row(0, named=True)
        out |= {c for c, k in counts.items() if k}
    return [c for c in cols if c in out]


def _predict_blocks(ctx: AuditContext, blocks: list[_Block]) -> list[Prediction | None]:
    try:
        return list(predict_frames(ctx, [b.frame for b in blocks]))
    except ModelError:
        out: list[Prediction | None] = []
        for b in blocks:
            try:
                out.append(predict_frames(ctx, [b.frame])[0])
            except ModelError as exc:
                b.result["error"] = str(exc)
                out.append(None)
        return out


@dataclass(frozen=True)
class RobustnessParams:
    """Parameters of ``evaluation.robustness``."""

    noise_levels: list[float] = param(
        [0.05, 0.1, 0.25], "Noise added to numeric features, in robust spreads.", gt=0
    )
    judged_level: float = param(
        0.1, "The noise level that can warn or fail (the others are reported).", gt=0
    )
    shift: float = param(0.1, "Shift of every numeric feature at once, in robust spreads.", gt=0)
    swap_share: float = param(
        0.1, "Share of rows whose category is swapped for another frequent one.", gt=0, le=1
    )
    missing_share: float = param(
        0.1, "Share of rows whose value is blanked out (missing).", gt=0, le=1
    )
    frequent_categories: int = param(
        5, "Most frequent categories of a column a swap picks from.", ge=1
    )
    drop_warn: float = param(0.02, "Drop in the main metric that, clearly reached, warns.", ge=0)
    drop_fail: float = param(
        0.05, "Drop in the main metric that fails (with skill_share_fail).", ge=0
    )
    skill_share_fail: float = param(
        0.25, "Share of the model's skill over no-skill a drop must take to fail.", ge=0, le=1
    )
    flip_warn: float = param(
        0.1,
        "Share of changed predictions drawn as the flip chart's line (it does not gate).",
        ge=0,
        le=1,
    )
    alpha: float = param(
        0.05, "Significance level (Holm-adjusted) of the metric-drop tests.", gt=0, lt=1
    )
    regression_tolerance: float = param(
        0.25,
        "Change of a regression prediction, in target spreads, that counts as changed.",
        ge=0,
    )
    max_rows: int = param(2000, "Test rows sampled and perturbed.", ge=1)
    max_bootstrap: int = param(200, "Most paired-bootstrap resamples (n_bootstrap caps it).", ge=0)


@dataclass(frozen=True)
class RobustnessDetails(Details):
    """What ``evaluation.robustness`` keeps in its ``details`` (``report.json``)."""

    main_metric: str
    metric_on_sample: float | None
    judged_level: float
    judged_on: str
    flip_definition: str
    perturbations: tuple[Mapping[str, Any], ...]
    features: tuple[Mapping[str, Any], ...]
    features_not_perturbed: tuple[Any, ...]
    numeric_perturbed: tuple[str, ...]
    categorical_perturbed: tuple[str, ...]
    noise_spread: Mapping[str, Any]
    missing_values: Mapping[str, Any]
    n_rows: int
    n_rows_available: int
    sampled: bool
    sample: str
    seed: int
    n_bootstrap: int
    confidence: float


@register_check(
    CHECK_ID,
    area="evaluation",
    title="Robustness to small perturbations",
    explanation=(
        "Whether the model's predictions survive the small changes real data brings: a bit of"
        " measurement noise, a slightly shifted sensor, a category recorded as another, a "
        "missing value. Test rows are changed in these ways and the model predicts again; the"
        " check reports how much its main metric drops and how many predictions change. "
        "Spreads are robust (an extreme code such as 999 does not set them). Only "
        "perturbations this data itself shows can warn or fail: noise of a tenth of a "
        "feature's spread, and missing values in the columns where the data has missing "
        "values; category swaps, missing values the data never shows and a shift of every "
        "feature at once (a new population, which drift watches) are reported only. A warning"
        " needs a metric drop that is both clear (paired-bootstrap q value of a drop beyond "
        "half of drop_warn, Holm-adjusted over the perturbations, at most alpha) and material"
        " (at least drop_warn). The gate fails only when the drop is at least drop_fail and "
        "takes at least skill_share_fail of the model's skill (its metric beyond a no-skill "
        "model's): a model that follows a strong feature moves with noise on it, which is "
        "worth knowing but not a defect by itself. The share of predictions that change is "
        "reported but does not gate on its own."
    ),
    standards=("MEASURE 2.5", "MEASURE 2.6"),
    severity="medium",
    params=RobustnessParams,
    needs=("model",),
    details=RobustnessDetails,
)
def robustness(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Metric drop and flip rate under noise, shifts, category swaps and missing values."""
    require_model(ctx, "the robustness check")
    s = ctx.settings
    conf = s.confidence
    main = main_metric_name(ctx)
    sign = -1.0 if main in LOWER_IS_BETTER else 1.0
    features = model_features(ctx)
    types = ctx.schema.types
    num = [c for c in features if types.get(c) == "numeric"]
    cat = [c for c in features if types.get(c) in _CATEGORICAL]
    left_out = [c for c in features if c not in num and c not in cat]
    if not num and not cat:
        raise SkipCheck("the model has no numeric, categorical or boolean feature to perturb")
    y_all = ctx.labels("test")
    if y_all is None:
        raise SkipCheck("the test data has no target column")
    n_total = int(y_all.shape[0])
    pos = sample_positions(ctx, int(th["max_rows"]))
    X = ctx.features("test")[pos]
    y = y_all[pos]
    full = ctx.predictions("test")
    base = Prediction(
        labels=np.asarray(full.labels)[pos],
        proba=None if full.proba is None else full.proba[pos],
    )
    base_data = eval_data(ctx, y, base)
    base_value = compute_metrics(base_data, [main])[main]
    blocks, about = _blocks(ctx, X, num, cat, th)
    if not blocks:
        raise SkipCheck("no feature varies enough in the test data to be perturbed")
    preds = _predict_blocks(ctx, blocks)
    tol = float(th["regression_tolerance"]) * (
        numeric_spread(np.asarray(y, dtype=float)) if ctx.task == "regression" else 0.0
    )
    datas = _measure_blocks(ctx, blocks, preds, y, base, base_value, main, sign, tol)
    n_boot = min(s.n_bootstrap, int(th["max_bootstrap"]))
    _add_intervals(
        ctx, blocks, datas, base_data, main, sign, n_boot, floor=float(th["drop_warn"]) / 2
    )
    skill = model_skill(main, np.asarray(y), base_value, n_classes=len(ctx.classes))
    _judge_blocks(blocks, th, skill)

    agg = [b for b in blocks if b.scope == "all"]
    single = [b for b in blocks if b.scope != "all" and "status" in b.result]
    noise_single = sorted(
        (b for b in single if b.kind == "noise"),
        key=lambda b: (-b.result["flip_rate"], -(b.result["drop"] or 0.0), b.scope),
    )
    statuses = [b.result.get("status", "pass") for b in blocks]
    status: Status = worst_status(statuses)
    judged_agg = next((b for b in agg if b.kind == "noise" and b.level == th["judged_level"]), None)
    findings = _findings(blocks, noise_single, main, conf, about)
    summary, rec = _words(status, judged_agg, noise_single, blocks, main, X.height, n_total, about)
    metrics = _metrics(main, base_value, blocks, agg, judged_agg, noise_single, about, X.height)
    sample = (X.height, n_total, n_boot)
    details = _details(
        ctx, th, main, base_value, blocks, noise_single, about, left_out, sample, tol
    )
    return Outcome(
        status=status,
        summary=summary,
        metrics=metrics,
        findings=findings,
        recommendation=rec,
        details=details,
        units=_UNITS,
    )


def _measure_blocks(
    ctx: AuditContext,
    blocks: list[_Block],
    preds: list[Prediction | None],
    y: np.ndarray,
    base: Prediction,
    base_value: float,
    main: str,
    sign: float,
    tol: float,
) -> dict[str, Any]:
    """Each perturbed copy's metric, drop and flip rate (Wilson interval), written into
    its block's result; the encoded data of each, for the paired bootstrap."""
    conf = ctx.settings.confidence
    m = len(y)
    datas = {}
    for b, p in zip(blocks, preds, strict=True):
        if p is None:
            continue
        data = eval_data(ctx, y, p)
        after = compute_metrics(data, [main])[main]
        drop = None if np.isnan(after) or np.isnan(base_value) else sign * (base_value - after)
        flips = int(changed(ctx, base, p, tol).sum())
        low, high = wilson(flips, m, conf)
        b.result.update(
            metric_after=None if np.isnan(after) else float(after),
            drop=drop,
            flip_rate=flips / m,
            flip_rate_low=low,
            flip_rate_high=high,
        )
        datas[b.key] = data
    return datas


def _metrics(
    main: str,
    base_value: float,
    blocks: list[_Block],
    agg: list[_Block],
    judged_agg: _Block | None,
    noise_single: list[_Block],
    about: Mapping[str, Any],
    n_rows: int,
) -> dict[str, float | int | None]:
    """The judged noise level's drop, the worst feature, the smallest q and the sizes."""
    worst = noise_single[0] if noise_single else None
    judged_blocks = [b for b in blocks if b.judged and b.result.get("drop") is not None]
    return {
        main: base_value if np.isfinite(base_value) else None,
        "noise_drop": _get(judged_agg, "drop"),
        "noise_drop_low": _get(judged_agg, "drop_low"),
        "noise_drop_high": _get(judged_agg, "drop_high"),
        "noise_flip_rate": _get(judged_agg, "flip_rate"),
        "max_judged_drop": max((b.result["drop"] for b in judged_blocks), default=None),
        "worst_feature_flip_rate": _get(worst, "flip_rate"),
        "worst_feature_drop": _get(worst, "drop"),
        "noise_drop_q": _get(judged_agg, "q"),
        "min_q": min(
            (b.result["q"] for b in blocks if b.result.get("q") is not None), default=None
        ),
        "missing_drop": _get(next((b for b in agg if b.kind == "missing"), None), "drop"),
        "missing_accepted": int(about["missing_values"]["accepted"]),
        "n_rows": n_rows,
        "n_features_perturbed": len(about["numeric_perturbed"])
        + len(about["categorical_perturbed"]),
    }


_UNITS: dict[str, Unit] = {
    k: "share"
    for k in (
        "noise_flip_rate",
        "worst_feature_flip_rate",
        "flip_rate",  # in findings
        "flip_rate_low",
        "flip_rate_high",
    )
}
"""Flip rates are shares, in the metrics table and findings as in the charts."""


def _details(
    ctx: AuditContext,
    th: Mapping[str, Any],
    main: str,
    base_value: float,
    blocks: list[_Block],
    noise_single: list[_Block],
    about: Mapping[str, Any],
    left_out: list[str],
    sample: tuple[int, int, int],
    tol: float,
) -> dict[str, Any]:
    """Every perturbation's row, how flips and verdicts are defined, the sample
    (``sample``: rows used, rows available, bootstrap resamples) and the charts."""
    s = ctx.settings
    n_rows, n_total, n_boot = sample
    agg = [b for b in blocks if b.scope == "all"]
    single = [b for b in blocks if b.scope != "all" and "status" in b.result]
    return {
        "main_metric": main,
        "metric_on_sample": base_value if np.isfinite(base_value) else None,
        "judged_level": th["judged_level"],
        "judged_on": "the metric drop: clear (one-sided paired-bootstrap p value, "
        "Holm-adjusted over the realistic judged perturbations, at most alpha) and material "
        "(at least drop_warn / drop_fail); the flip rate is reported only",
        "flip_definition": "the predicted label changes"
        if ctx.task != "regression"
        else f"the prediction moves by more than {th['regression_tolerance']:g} standard "
        f"deviation of the target ({tol:.4g})",
        "perturbations": [_row(b) for b in agg],
        "features": [_row(b) for b in single],
        "features_not_perturbed": left_out,
        **about,
        "n_rows": n_rows,
        "n_rows_available": n_total,
        "sampled": n_rows < n_total,
        "sample": "the first rows of the test data in a seeded order that does not depend on "
        "the input row order",
        "seed": s.seed,
        "n_bootstrap": n_boot,
        "confidence": s.confidence,
        "charts": _charts(blocks, noise_single, main, th, s.confidence),
    }


def _get(b: _Block | None, key: str) -> float | None:
    return None if b is None else b.result.get(key)


def _row(b: _Block) -> dict[str, Any]:
    return {
        "perturbation": b.key,
        "kind": b.kind,
        "scope": b.scope,
        "level": b.level,
        "judged": b.judged,
        "realistic": b.realistic,
        **b.result,
    }


def _add_intervals(
    ctx: AuditContext,
    blocks: list[_Block],
    datas: Mapping[str, Any],
    base_data: Any,
    main: str,
    sign: float,
    n_boot: int,
    floor: float = 0.0,
) -> None:
    """Paired-bootstrap intervals of the drop and the one-sided p value of "it drops by
    more than ``floor``" (half the material drop: a minimum-effect test, so that a drop
    at the material line is not called clear on one sample and gone on the next), for
    the all-feature perturbations and the most fragile single features."""
    s = ctx.settings
    singles = sorted(
        (b for b in blocks if b.scope != "all" and b.key in datas),
        key=lambda b: -(b.result.get("drop") or 0.0),
    )[:_MAX_INTERVALS]
    chosen = [b for b in blocks if b.scope == "all" and b.key in datas] + singles
    if not chosen or n_boot <= 0:
        return

    def samples(data: Any) -> np.ndarray:
        return metric_samples(data, [main], n_resamples=n_boot, seed=s.seed)[main]

    try:
        base = samples(base_data)
        drops = {b.key: sign * (base - samples(datas[b.key])) for b in chosen}
    except ValueError:
        return
    points = {b.key: b.result["drop"] for b in chosen if b.result.get("drop") is not None}
    ivs = make_intervals(points, drops, confidence=s.confidence)
    for b in chosen:
        if b.key not in points:
            continue
        iv = ivs[b.key]
        if iv.low is not None and iv.high is not None:
            b.result["drop_low"], b.result["drop_high"] = iv.low, iv.high
        d = drops[b.key]
        d = d[np.isfinite(d)]
        if d.size < 2:
            continue
        se = float(d.std(ddof=1))
        drop = float(points[b.key])
        excess = drop - floor
        b.result["p"] = float(norm.sf(excess / se)) if se > 0 else (0.0 if excess > 0 else 1.0)


def _judge_blocks(blocks: list[_Block], th: Mapping[str, Any], skill: float | None = None) -> None:
    """Each block's status: Holm over the realistic judged blocks, then the pure judge."""
    tested = [b for b in blocks if b.judged and b.realistic and "drop" in b.result]
    for b, q in zip(tested, holm([b.result.get("p") for b in tested]), strict=True):
        b.result["q"] = q
    for b in blocks:
        if "drop" not in b.result:
            continue
        r = b.result
        r["status"], r["reason"] = judge_perturbation(
            r["drop"], r.get("q"), realistic=b.realistic, judged=b.judged, params=th, skill=skill
        )
        if b.judged and not b.realistic and b.scope == "all":
            # What the verdict would be if this corruption could happen: a note.
            would, _ = judge_perturbation(
                r["drop"], r.get("p"), realistic=True, judged=True, params=th
            )
            r["would_alarm"] = would != "pass"


def _findings(
    blocks: list[_Block],
    noise_single: list[_Block],
    main: str,
    conf: float,
    about: Mapping[str, Any],
) -> list[Finding]:
    return [
        *_feature_findings(noise_single, main),
        *_perturbation_findings(blocks, main, about),
        *_notes(blocks, main, about),
    ]


def _feature_findings(noise_single: list[_Block], main: str) -> list[Finding]:
    """The (up to five) features whose own noise moves the metric, most fragile first."""
    out: list[Finding] = []
    flagged = [b for b in noise_single if b.result["status"] != "pass"][:5]
    for rank, b in enumerate(flagged):
        r = b.result
        lead = "the most fragile feature: " if rank == 0 else ""
        out.append(
            Finding(
                status=r["status"],
                column=b.scope,
                split="test",
                message=(
                    f"'{b.scope}' is {lead}noise of {b.level:g} of its standard deviation "
                    f"changes {r['flip_rate']:.1%} of predictions and moves {label(main)} "
                    f"by {fmt(main, -(r['drop'] or 0.0), signed=True)}."
                ),
                metrics={
                    "flip_rate": r["flip_rate"],
                    "flip_rate_low": r["flip_rate_low"],
                    "flip_rate_high": r["flip_rate_high"],
                    "drop": r["drop"],
                    "drop_low": r.get("drop_low"),
                    "drop_high": r.get("drop_high"),
                },
            )
        )
    return out


def _perturbation_findings(
    blocks: list[_Block], main: str, about: Mapping[str, Any]
) -> list[Finding]:
    """The perturbations of all features at once that warn or fail."""
    out: list[Finding] = []
    for b in blocks:
        r = b.result
        if b.scope != "all" or r.get("status", "pass") == "pass":
            continue
        cols = (
            about["numeric_perturbed"]
            if b.kind in ("noise", "shift")
            else about["categorical_perturbed"]
            if b.kind == "swap"
            else about["missing_values"]["injected_in"]
        )
        out.append(
            Finding(
                status=r["status"],
                columns=tuple(cols),
                split="test",
                message=(
                    f"Perturbation '{b.key}' on all these features changes {r['flip_rate']:.1%} "
                    f"of predictions and moves {label(main)} by "
                    f"{fmt(main, -(r['drop'] or 0.0), signed=True)}."
                ),
                metrics={k: r.get(k) for k in ("flip_rate", "drop", "drop_low", "drop_high")},
            )
        )
    return out


def _notes(blocks: list[_Block], main: str, about: Mapping[str, Any]) -> list[Finding]:
    """Perturbations that would alarm but are not realistic for this data, and the
    features where no missing value could be injected."""
    out: list[Finding] = []
    for b in blocks:
        r = b.result
        if b.scope != "all" or not r.get("would_alarm"):
            continue
        why = (
            "the train and test data have no missing values"
            if b.kind == "missing"
            else "nothing in the data shows categories recorded as others"
        )
        out.append(
            Finding(
                status="pass",
                split="test",
                message=(
                    f"Note: perturbation '{b.key}' moves {label(main)} by "
                    f"{fmt(main, -(r['drop'] or 0.0), signed=True)} and changes "
                    f"{r['flip_rate']:.1%} of predictions, but {why}, so it informs and does "
                    "not gate; it matters only if production data can be corrupted this way."
                ),
                metrics={k: r.get(k) for k in ("flip_rate", "drop", "drop_low", "drop_high", "p")},
            )
        )
    refused = about["missing_values"]["columns_not_accepted"]
    if refused:
        out.append(
            Finding(
                status="pass",
                columns=tuple(refused),
                split="test",
                message=(
                    f"The model does not accept missing values in {len(refused)} feature(s), so "
                    "no missing values were injected there; make sure the pipeline in use "
                    "handles them before the model sees them."
                ),
            )
        )
    return out


def _words(
    status: Status,
    judged: _Block | None,
    noise_single: list[_Block],
    blocks: list[_Block],
    main: str,
    n: int,
    n_total: int,
    about: Mapping[str, Any],
) -> tuple[str, str]:
    rows = f"{n:,} test rows" if n == n_total else f"a sample of {n:,} of {n_total:,} test rows"
    worst = noise_single[0] if noise_single else None
    if status == "pass":
        if judged is not None:
            r = judged.result
            summary = (
                f"Predictions are stable under small perturbations: noise of {judged.level:g} "
                f"standard deviation on every numeric feature changes {r['flip_rate']:.1%} of "
                f"predictions and moves {label(main)} by "
                f"{fmt(main, -(r['drop'] or 0.0), signed=True)} ({rows})."
            )
        else:
            summary = f"Predictions are stable when categorical values are swapped ({rows})."
        if worst is not None:
            summary = summary[:-1] + f"; the most sensitive feature is '{worst.scope}'."
        rec = "No action needed; repeat this check after retraining or when the inputs change."
        if not about["missing_values"]["accepted"]:
            rec += " The model does not accept missing values: impute them before it."
        return summary, rec
    # The headline: the most fragile feature at the worst status, else the perturbation
    # of all features that reached it.
    single = next((b for b in noise_single if b.result["status"] == status), None)
    if single is not None:
        r = single.result
        summary = (
            f"The most fragile feature is '{single.scope}': noise of {single.level:g} of its "
            f"standard deviation changes {r['flip_rate']:.1%} of predictions and moves "
            f"{label(main)} by {fmt(main, -(r['drop'] or 0.0), signed=True)}."
        )
    else:
        bad = max(
            (b for b in blocks if b.result.get("status") == status),
            key=lambda b: (b.scope == "all", b.result.get("drop") or 0.0),
        )
        r = bad.result
        where = "all these features" if bad.scope == "all" else f"'{bad.scope}'"
        summary = (
            f"Perturbation '{bad.key}' on {where} changes {r['flip_rate']:.1%} of predictions "
            f"and moves {label(main)} by {fmt(main, -(r['drop'] or 0.0), signed=True)}."
        )
    kind = "noise" if single is not None else bad.kind
    rec = {
        "missing": (
            "Missing values change this model's predictions markedly: make sure production "
            "data is complete or imputed exactly as in training, or train with missing values "
            "present so the model learns to handle them."
        ),
        "swap": (
            "A category recorded as another changes many predictions: check how reliably these "
            "categorical features are recorded in production, and consider grouping rare or "
            "similar categories."
        ),
    }.get(
        kind,
        "Make the model less sensitive to small input changes: regularise it more, smooth or "
        "bin the fragile features, train with noise added to them (data augmentation), or "
        "check how precisely those features are measured in production.",
    )
    return summary, rec


def _charts(
    blocks: list[_Block],
    noise_single: list[_Block],
    main: str,
    th: Mapping[str, Any],
    conf: float,
) -> list[dict[str, Any]]:
    charts: list[dict[str, Any]] = []
    if noise_single:
        charts.append(
            BarChart(
                title=f"Predictions changed by noise of {th['judged_level']:g} standard "
                "deviation, one feature at a time",
                x_label="share of predictions changed",
                unit="share",
                items=[
                    Bar(b.scope, b.result["flip_rate"], b.result["status"]) for b in noise_single
                ],
                threshold=float(th["flip_warn"]),
            ).to_dict()
        )
    agg = [b for b in blocks if b.scope == "all" and b.result.get("drop") is not None]
    if agg:
        charts.append(
            IntervalChart(
                title=f"Drop in {label(main)} per perturbation of all features ({conf_text(conf)})",
                x_label=f"drop in {label(main)} (higher is worse)",
                unit="value",
                items=[
                    IntervalItem(
                        b.key,
                        b.result["drop"],
                        b.result.get("drop_low", b.result["drop"]),
                        b.result.get("drop_high", b.result["drop"]),
                    )
                    for b in agg
                ],
            ).to_dict()
        )
    swaps = [b for b in blocks if b.kind == "swap" and b.scope != "all" and "flip_rate" in b.result]
    if swaps:
        charts.append(
            BarChart(
                title="Predictions changed when every value of one categorical feature is "
                "swapped to another frequent category",
                x_label="share of predictions changed",
                unit="share",
                items=[
                    Bar(b.scope, b.result["flip_rate"], "pass")
                    for b in sorted(swaps, key=lambda b: -b.result["flip_rate"])
                ],
            ).to_dict()
        )
    return charts
