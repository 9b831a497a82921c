"""``security.attribute_inference``: do the model's outputs give away a sensitive attribute?

For each sensitive column, an attacker model (gradient-boosted trees) learns
to infer it from the other features alone, and from the other features plus
the model's outputs (probabilities as logits, or the prediction) and what the
outputs hold beyond a linear function of the other features (the residuals of
a least-squares fit, which needs no knowledge of the attribute). Both are scored on
rows they did not learn from (cross-fitting over three folds of the test
rows), and the difference comes with a paired bootstrap interval: the same
resamples of the same rows score both. Scores below chance (AUC under 0.5,
R² under 0) count as chance, so noise in a useless attacker is no "gain".
This is the baseline comparison that ART's ``AttributeInferenceBaseline``
and ``AttributeInferenceBlackBox`` make, written directly on scikit-learn so
that categorical and numeric columns need no manual encoding.

The verdict (#14) is the pure :func:`judge_attribute`: the gain and its
interval, Bonferroni-adjusted for the number of sensitive columns, go in. It
warns when the interval lies wholly above 0 and the gain reaches the warn level,
and fails only when the whole interval lies above the fail level (a clear and
material leak beyond the no-model baseline).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from assay.core.charts import IntervalChart, IntervalItem
from assay.core.context import AuditContext
from assay.core.details import Details
from assay.core.params import param
from assay.core.registry import Outcome, SkipCheck, register_check
from assay.core.result import Finding, Status, worst_status
from assay.evaluation._bootstrap import Interval, make_intervals, metric_samples
from assay.evaluation._metrics import EvalData, MetricPlan
from assay.security._attack import split_order

CHECK_ID = "security.attribute_inference"
_STREAM = 47
_FOLDS = 3
_MAX_CODES = 250
_MAX_CLASSES = 20
_Z = 1.959964


@dataclass(frozen=True)
class AttributeVerdict:
    """What :func:`judge_attribute` decided, the p value of "no gain", and why."""

    status: Status
    p: float | None
    reason: str = ""


def judge_attribute(
    gain: float | None,
    gain_low: float | None,
    gain_high: float | None,
    *,
    warn: float,
    fail: float,
    confidence: float = 0.95,
    relied: bool | None = None,
    fail_when_relied: bool = False,
    unneeded: bool | None = None,
) -> AttributeVerdict:
    """Status of the gain from adding the model's outputs to the attacker's features.

    ``gain_low``/``gain_high`` is its interval at ``confidence`` (already adjusted
    for the number of attributes). ``fail`` when ``gain_low`` is above ``fail``;
    ``warn`` when the gain reaches ``warn`` and ``gain_low`` is above half of it
    (clear that the gain is more than half the material size, not only above 0);
    ``pass`` otherwise. The p value (one-sided, "no gain") is read from the interval by a
    normal approximation.

    ``relied`` says whether the model's own skill clearly depends on reading the
    attribute (its metric drops, with a paired interval above 0, when the column is
    shuffled). Then its outputs carry the attribute by design: a decision to document
    (and a fairness question), not a hidden leak, so a fail-level gain warns unless
    ``fail_when_relied``. A leak the model's skill does not need stays a fail: it
    costs privacy and buys nothing. ``unneeded`` says whether that is *shown* (the
    shuffle's cost is clearly below a small share of the model's score); when the
    reliance was measured but neither shown (``relied`` and ``unneeded`` both
    ``False``: too few rows to tell), a fail-level gain warns as ``inconclusive``.
    ``unneeded=None`` (not measured) keeps the fail.

    >>> judge_attribute(0.3, 0.11, 0.4, warn=0.02, fail=0.1).status
    'fail'
    >>> judge_attribute(0.3, 0.09, 0.4, warn=0.02, fail=0.1).status
    'warn'
    >>> judge_attribute(0.3, 0.11, 0.4, warn=0.02, fail=0.1, relied=True).reason
    'relied'
    >>> judge_attribute(0.3, 0.11, 0.4, warn=0.02, fail=0.1, relied=False, unneeded=False).status
    'warn'
    """
    from scipy.stats import norm

    g = 0.0 if gain is None or not math.isfinite(gain) else gain
    low = g if gain_low is None else gain_low
    p = None
    if gain_low is not None and gain_high is not None and gain_high > gain_low:
        z = float(norm.ppf(1 - (1 - confidence) / 2))
        p = float(norm.sf(g / ((gain_high - gain_low) / (2 * z))))
    if low > fail:
        if relied and not fail_when_relied:
            return AttributeVerdict("warn", p, "relied")
        if relied is False and unneeded is False:
            return AttributeVerdict("warn", p, "inconclusive")
        return AttributeVerdict("fail", p, "unneeded" if relied is False else "")
    if g >= warn and low > warn / 2:
        return AttributeVerdict("warn", p)
    return AttributeVerdict("pass", p)


def _reliance(
    ctx: AuditContext, column: str, rows: np.ndarray, share_unneeded: float
) -> dict[str, Any] | None:
    """Does the model's own skill depend on reading ``column``?

    The model predicts the audited test rows again with ``column`` shuffled among
    them (one seeded permutation); its main metric as it is minus shuffled, with a
    paired bootstrap interval, is the benefit it draws from the column. ``None``
    when it cannot be measured (no model object, no labels); ``reads`` is ``False``
    when the model does not take the column at all.
    """
    from assay.evaluation._bootstrap import paired_comparison
    from assay.evaluation._depth import eval_data, model_features, predict_frames
    from assay.evaluation._metrics import LOWER_IS_BETTER, main_metric_name

    if ctx.model is None:
        return None
    if column not in model_features(ctx):
        return {"reads": False, "benefit": None, "relied": False, "unneeded": True}
    y_all = ctx.labels("test")
    if y_all is None:
        return None
    s = ctx.settings
    X = ctx.features("test")[rows.tolist()]
    col = X.get_column(column)
    perm = np.random.default_rng([s.seed, _STREAM, 2]).permutation(X.height)
    shuffled = X.with_columns(col.gather(perm).alias(column))
    try:
        as_is, moved = predict_frames(ctx, [X, shuffled])
    except Exception:  # a model that cannot predict changed rows: reliance unknown
        return None
    main = main_metric_name(ctx)
    sign = -1.0 if main in LOWER_IS_BETTER else 1.0
    y = y_all[rows]
    datas = {"as_is": eval_data(ctx, y, as_is), "shuffled": eval_data(ctx, y, moved)}
    scores, diffs = paired_comparison(
        datas,
        main,
        reference="as_is",
        n_resamples=s.n_bootstrap,
        seed=s.seed,
        confidence=s.confidence,
        stream=_STREAM,
    )
    iv = diffs["shuffled"]
    lo, hi = (
        (None, None)
        if iv.low is None or iv.high is None  # set together
        else tuple(sorted((sign * iv.low, sign * iv.high)))
    )
    benefit = None if iv.value is None else sign * iv.value
    changed = not np.array_equal(np.asarray(as_is.labels), np.asarray(moved.labels)) or (
        as_is.proba is not None
        and moved.proba is not None
        and not np.allclose(as_is.proba, moved.proba)
    )
    # "Does not need it" must be shown, not assumed: the cost's upper end is below a
    # small share of the model's own score (a handful of rows cannot show it).
    base = scores["as_is"].value
    tol = share_unneeded * abs(base) if base is not None and math.isfinite(base) else 0.0
    return {
        "reads": bool(changed),
        "metric": main,
        "benefit": benefit,
        "benefit_low": lo,
        "benefit_high": hi,
        "relied": bool(changed and lo is not None and lo > 0),
        "unneeded": bool(not changed or (hi is not None and hi < tol)),
        "unneeded_below": tol,
    }


def _codes(s: pl.Series) -> np.ndarray:
    """Ordinal codes of a categorical column, most frequent first; rare values share one."""
    text = s.cast(pl.String).fill_null("(missing)").to_numpy().astype(object)
    values, inverse, counts = np.unique(text, return_inverse=True, return_counts=True)
    rank = np.lexsort((values, -counts))  # by count, then by value
    code_of = np.empty(len(values), dtype=np.float64)
    code_of[rank] = np.minimum(np.arange(len(values)), _MAX_CODES)
    return code_of[inverse]


def _encode(df: pl.DataFrame, types: Mapping[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """A float matrix for the attacker and a mask of its categorical columns."""
    cols, cat = [], []
    for c in df.columns:
        t = types.get(c, "categorical")
        s = df.get_column(c)
        if t == "numeric" and s.dtype.is_numeric():
            cols.append(s.cast(pl.Float64).fill_nan(None).to_numpy().astype(np.float64))
            cat.append(False)
        elif t == "datetime" and s.dtype.is_temporal():
            cols.append(s.cast(pl.Int64).cast(pl.Float64).to_numpy().astype(np.float64))
            cat.append(False)
        elif t in ("categorical", "boolean"):
            cols.append(_codes(s))
            cat.append(True)
    if not cols:
        return np.zeros((df.height, 0)), np.zeros(0, dtype=bool)
    return np.column_stack(cols), np.array(cat, dtype=bool)


def _outputs(ctx: AuditContext, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The model's outputs as attacker features: probabilities, else the prediction."""
    pred = ctx.predictions("test")
    if ctx.task in ("binary", "multiclass") and pred.proba is not None:
        p = np.asarray(pred.proba, dtype=np.float64)[rows]
        p = p[:, 1:] if p.shape[1] == 2 else p
        return _logit(p), np.zeros(p.shape[1], dtype=bool)
    labels = np.asarray(pred.labels)[rows]
    if ctx.task == "regression":
        return labels.astype(np.float64).reshape(-1, 1), np.zeros(1, dtype=bool)
    return _codes(pl.Series(labels.astype(str))).reshape(-1, 1), np.ones(1, dtype=bool)


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(q / (1 - q))


def _residuals(out: np.ndarray, out_cat: np.ndarray, base: np.ndarray, base_cat: np.ndarray):
    """What the outputs hold beyond a linear function of the other features.

    Scores (as logits) are regressed on the other features (numbers as they are,
    categories one-hot); the residuals are added to the attacker's features. A
    score that carries the attribute on top of the features then shows it
    directly, instead of as a thin diagonal band trees find hard to cut. The
    attribute itself plays no part in this step.
    """
    numeric_out = out[:, ~out_cat]
    if numeric_out.shape[1] == 0:
        return np.zeros((len(out), 0))
    parts = [np.ones((len(base), 1))]
    for j in range(base.shape[1]):
        col = base[:, j]
        if base_cat[j]:
            codes = col.astype(int)
            top = min(int(codes.max()) + 1, 21)
            parts.append((codes[:, None] == np.arange(1, top)[None, :]).astype(float))
        else:
            fill = np.nanmean(col) if np.isfinite(col).any() else 0.0
            parts.append(np.where(np.isfinite(col), col, fill)[:, None])
    design = np.column_stack(parts)
    beta, *_ = np.linalg.lstsq(design, numeric_out, rcond=None)
    return numeric_out - design @ beta


def _cross_fit(
    X: np.ndarray, cat: np.ndarray, y: np.ndarray, kind: str, n_classes: int, seed: int
) -> np.ndarray:
    """Out-of-fold predictions (class probabilities, or values) of the attacker model."""
    from threadpoolctl import threadpool_limits

    n = len(y)
    fold = np.arange(n) % _FOLDS
    out = np.zeros((n, n_classes)) if kind == "classification" else np.zeros(n)
    params = {
        "max_iter": 40,
        "learning_rate": 0.15,
        "max_leaf_nodes": 8,
        "max_bins": 64,
        "min_samples_leaf": 20,
        "early_stopping": False,
        "random_state": seed,
        "categorical_features": cat if cat.any() else None,
    }
    # One thread: on a busy machine OpenMP threads fighting over cores cost 30x.
    with threadpool_limits(1):
        for f in range(_FOLDS):
            _fit_fold(X, cat, y, kind, fold == f, out, params)
    return out


def _fit_fold(
    X: np.ndarray,
    cat: np.ndarray,
    y: np.ndarray,
    kind: str,
    te: np.ndarray,
    out: np.ndarray,
    params: Mapping[str, Any],
) -> None:
    """Fit the attacker on the rows outside ``te`` and write its predictions for ``te``."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    tr = ~te
    if kind == "regression":
        out[te] = HistGradientBoostingRegressor(**params).fit(X[tr], y[tr]).predict(X[te])
        return
    present = np.unique(y[tr])
    if present.size < 2:
        out[np.ix_(te, present)] = 1.0
        return
    model = HistGradientBoostingClassifier(**params).fit(X[tr], y[tr])
    out[np.ix_(te, model.classes_.astype(int))] = model.predict_proba(X[te])


def _target(s: pl.Series, col_type: str) -> tuple[str, np.ndarray, list[str]]:
    """How to infer the attribute: ``classification`` over its values, or ``regression``."""
    if col_type == "numeric" and s.dtype.is_numeric() and s.n_unique() > _MAX_CLASSES:
        return "regression", s.cast(pl.Float64).to_numpy().astype(np.float64), []
    codes = _codes(s)
    text = s.cast(pl.String).fill_null("(missing)").to_numpy().astype(object)
    names: dict[int, str] = {}
    for code, value in zip(codes.astype(int), text, strict=True):
        names.setdefault(code, str(value))
    # Keep at most _MAX_CLASSES values; the rarer ones become one "other" class.
    codes = np.minimum(codes.astype(int), _MAX_CLASSES - 1)
    labels = [names[c] if c < _MAX_CLASSES - 1 else "(other)" for c in range(int(codes.max()) + 1)]
    if int(codes.max()) >= _MAX_CLASSES - 1 and len(names) == _MAX_CLASSES:
        labels[-1] = names[_MAX_CLASSES - 1]
    return "classification", codes, labels


def _attribute(
    ctx: AuditContext, column: str, rows: np.ndarray, th: Mapping[str, Any], n_columns: int = 1
) -> dict[str, Any] | None:
    s = ctx.settings
    fitted = _fit_attribute(ctx, column, rows)
    if fitted is None:
        return None
    kind, y, labels, with_pred, without = fitted
    if kind == "classification":
        warn_at, fail_at = float(th["auc_gain_warn"]), float(th["auc_gain_fail"])
    else:
        warn_at, fail_at = float(th["r2_gain_warn"]), float(th["r2_gain_fail"])
    # Bonferroni over the sensitive columns: each gain's interval at 1 − α / n_columns.
    level = 1 - (1 - s.confidence) / max(n_columns, 1)
    metric, ivs = _gain_intervals(kind, y, len(labels), with_pred, without, s, level)
    scores = {k: ivs[k] for k in ("with_outputs", "without_outputs")}
    gain = ivs["gain"]
    reliance = (
        _reliance(ctx, column, rows, float(th["unneeded_share"]))
        if gain.low is not None and gain.low > fail_at
        else None
    )
    verdict = judge_attribute(
        gain.value,
        gain.low,
        gain.high,
        warn=warn_at,
        fail=fail_at,
        confidence=level,
        relied=None if reliance is None else reliance["relied"],
        fail_when_relied=bool(th["fail_when_relied"]),
        unneeded=None if reliance is None else reliance["unneeded"],
    )
    status: Status = verdict.status
    return {
        "column": column,
        "kind": kind,
        "metric": metric,
        "values": labels if kind == "classification" else None,
        "with": scores["with_outputs"],
        "without": scores["without_outputs"],
        "gain": gain,
        "status": status,
        "reason": verdict.reason,
        "reliance": reliance,
        "p": None if verdict.p is None else min(1.0, verdict.p * max(n_columns, 1)),
        "n_rows": len(rows),
    }


def _fit_attribute(
    ctx: AuditContext, column: str, rows: np.ndarray
) -> tuple[str, np.ndarray, list[Any], np.ndarray, np.ndarray] | None:
    """Cross-fitted predictions of ``column`` from the other features, with and without
    the model's outputs: (kind, values, labels, with outputs, without outputs); None when
    the column cannot be predicted (one class, or under 60 rows with a value)."""
    s = ctx.settings
    test = ctx.frame("test")[rows.tolist()]
    other = [c for c in ctx.schema.features if c != column and c in test.columns]
    base, base_cat = _encode(test.select(other), ctx.schema.types)
    out, out_cat = _outputs(ctx, rows)
    col_type = ctx.schema.types.get(column, "categorical")
    kind, y, labels = _target(test.get_column(column), col_type)
    if kind == "classification" and len(labels) < 2:
        return None
    k = len(labels)
    if kind == "regression":  # rows without a value cannot be scored
        keep = np.isfinite(y)
        if keep.sum() < 60:
            return None
        y, base, out = y[keep], base[keep], out[keep]
    resid = _residuals(out, out_cat, base, base_cat)
    with_out = np.column_stack([base, out, resid])
    with_cat = np.r_[base_cat, out_cat, np.zeros(resid.shape[1], dtype=bool)]
    if base.shape[1] == 0:  # nothing else is known: the baseline is the class shares
        without = (
            np.tile(np.bincount(y, minlength=k) / len(y), (len(y), 1))
            if kind == "classification"
            else np.full(len(y), float(np.mean(y)))
        )
    else:
        without = _cross_fit(base, base_cat, y, kind, k, s.seed)
    with_pred = _cross_fit(with_out, with_cat, y, kind, k, s.seed)

    return kind, y, labels, with_pred, without


def _gain_intervals(
    kind: str,
    y: np.ndarray,
    k: int,
    with_pred: np.ndarray,
    without: np.ndarray,
    s: Any,
    level: float,
) -> tuple[str, dict[str, Any]]:
    """(metric, intervals): ROC-AUC (classes) or R² of each predictor and the gain the
    model's outputs give, floored at chance, by paired bootstrap at ``level``."""
    if kind == "classification":
        task = "binary" if k == 2 else "multiclass"
        metric = "roc_auc"
        datas = {
            name: EvalData.from_arrays(
                task,
                y,
                np.argmax(p, axis=1),
                p,
                classes=list(range(k)),
                positive_class=1 if k == 2 else None,
            )
            for name, p in (("with_outputs", with_pred), ("without_outputs", without))
        }
    else:
        metric = "r2"
        datas = {
            name: EvalData.from_arrays("regression", y, p)
            for name, p in (("with_outputs", with_pred), ("without_outputs", without))
        }
    # Below chance (AUC < 0.5, R² < 0) is no information: both scores are floored at
    # chance before the difference, resample by resample (the same resamples for both).
    chance = 0.5 if metric == "roc_auc" else 0.0
    n = len(y)
    points = {
        name: float(MetricPlan(d, [metric])(np.ones((1, n)))[metric][0])
        for name, d in datas.items()
    }
    samples = (
        {
            name: metric_samples(
                d, [metric], n_resamples=s.n_bootstrap, seed=s.seed, stream=_STREAM
            )[metric]
            for name, d in datas.items()
        }
        if s.n_bootstrap > 0
        else None
    )
    points["gain"] = max(points["with_outputs"], chance) - max(points["without_outputs"], chance)
    if samples is not None:
        samples["gain"] = np.maximum(samples["with_outputs"], chance) - np.maximum(
            samples["without_outputs"], chance
        )
    return metric, make_intervals(points, samples, confidence=level)


def _reliance_sentence(r: Mapping[str, Any]) -> str:
    """What shuffling the attribute does to the model's own skill, when it was measured."""
    rel = r.get("reliance")
    if not rel:
        return ""
    if not rel["reads"]:
        return " The model does not read this column; its outputs carry it through other inputs."
    if rel.get("benefit") is None:
        return ""
    lo, hi = rel["benefit_low"], rel["benefit_high"]
    span = "" if lo is None else f" (95% CI {lo:+.3f} to {hi:+.3f})"
    cost = rel["benefit"]
    what = f"Shuffling '{r['column']}' costs the model {cost:+.3f} of its {rel['metric']}"
    if rel["relied"]:
        return f" {what}{span}: the model needs it, so the outputs reveal it by design."
    if not rel.get("unneeded", True):
        return (
            f" {what}{span}: these rows cannot tell whether the model needs it (the cost is "
            f"not clearly below {rel['unneeded_below']:.3g})."
        )
    return f" {what}{span}: the model's skill does not need it, so this leak buys nothing."


def _iv(iv: Interval, conf: float, signed: bool = False) -> str:
    f = "+.2f" if signed else ".2f"
    if iv.value is None:
        return "n/a"
    if iv.low is None or iv.high is None:
        return format(iv.value, f)
    return f"{format(iv.value, f)} ({conf:.0%} CI {format(iv.low, f)} to {format(iv.high, f)})"


@dataclass(frozen=True)
class AttributeInferenceParams:
    """Parameters of ``security.attribute_inference``."""

    auc_gain_warn: float = param(
        0.02, "AUC gain of the attacker from the model's outputs that warns.", ge=0, le=0.5
    )
    auc_gain_fail: float = param(
        0.1, "AUC gain that, with its whole interval above it, fails.", ge=0, le=0.5
    )
    r2_gain_warn: float = param(
        0.02, "R² gain (numeric attribute) from the model's outputs that warns.", ge=0
    )
    r2_gain_fail: float = param(0.1, "R² gain that, with its whole interval above it, fails.", ge=0)
    max_rows: int = param(3000, "Test rows the attackers learn from and are scored on.", ge=1)
    fail_when_relied: bool = param(
        False, "Fail too when the model relies on the attribute (by default that warns)."
    )
    unneeded_share: float = param(
        0.01,
        "Share of the model's score below which shuffling the attribute shows it is unneeded.",
        ge=0,
        le=1,
    )


@dataclass(frozen=True)
class AttributeInferenceDetails(Details):
    """What ``security.attribute_inference`` keeps in its ``details`` (``report.json``)."""

    attributes: tuple[Mapping[str, Any], ...]
    attacker: str
    rows_used: int
    rows_available: int
    selection: str
    seed: int
    n_bootstrap: int
    confidence: float


@register_check(
    CHECK_ID,
    area="security",
    title="Attribute inference (model inversion)",
    explanation=(
        "Whether someone who knows a person's other details and sees the model's output can "
        "work out a sensitive attribute the person did not disclose, such as their ethnicity "
        "or health. For each sensitive column, an attacker model learns to infer it from the "
        "other features alone, and again with the model's outputs added; both are scored on "
        "rows they did not learn from. If the outputs make the guess clearly better, the model "
        "leaks that attribute, usually because it uses it (or a close stand-in) directly. "
        "Policy: a gain that reaches the warn level with its interval (adjusted for the number "
        "of sensitive columns) above half of it warns; the gate fails only when the whole "
        "interval lies above the fail level and the model's own skill is shown not to need "
        "the attribute (shuffling it among the test rows clearly costs less than "
        "unneeded_share of its score): a leak that buys nothing. When that cannot be told "
        "from the rows, it warns. When the "
        "model clearly relies on the attribute, its outputs reveal it by design: that warns "
        "(set fail_when_relied to fail it too)."
    ),
    standards=("MEASURE 2.10", "MEASURE 2.7"),
    severity="high",
    params=AttributeInferenceParams,
    needs=("model",),
    details=AttributeInferenceDetails,
)
def attribute_inference(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Held-out gain from adding the model's outputs when inferring each sensitive column."""
    if not ctx.sensitive:
        raise SkipCheck(
            "no sensitive attribute was given (pass sensitive=... or --sensitive COLUMN)"
        )
    s = ctx.settings
    conf = s.confidence
    test = ctx.frame("test")
    if test.height < 60:
        raise SkipCheck(f"the test data has {test.height} rows; the attack needs at least 60")
    rows = split_order(ctx, "test")[: int(th["max_rows"])]
    results = []
    for col in ctx.sensitive:
        if col not in test.columns or col == ctx.target:
            continue
        res = _attribute(ctx, col, rows, th, n_columns=len(ctx.sensitive))
        if res is not None:
            results.append(res)
    if not results:
        raise SkipCheck("every sensitive column has a single value in the test data")

    findings: list[Finding] = []
    metrics: dict[str, float | int | None] = {"rows_used": len(rows)}
    items: list[dict[str, Any]] = []
    for r in results:
        findings.append(_finding(r, conf))
        metrics.update(_column_metrics(r))
        items += _chart_items(r)
    worst = max(results, key=lambda r: r["gain"].value or 0.0)
    metrics["max_gain"] = worst["gain"].value
    metrics["p_value"] = worst["p"]
    status = worst_status([r["status"] for r in results])
    label = "AUC" if worst["metric"] == "roc_auc" else "R²"
    head = (
        f"Adding the model's outputs to the other features raises the {label} of inferring "
        f"'{worst['column']}' by {_iv(worst['gain'], conf, signed=True)}"
    )
    summary, rec = _summary(status, head, worst)
    details = {
        "attributes": [
            {
                "column": r["column"],
                "kind": r["kind"],
                "metric": r["metric"],
                "values": r["values"],
                "without_outputs": r["without"].to_dict(),
                "with_outputs": r["with"].to_dict(),
                "gain": r["gain"].to_dict(),
            }
            for r in results
        ],
        "attacker": (
            "gradient-boosted trees (40 rounds, 8 leaves) on the other features, plus the "
            "outputs and their residuals after a linear fit on the other features; 3-fold "
            "cross-fitting on test rows; scores floored at chance before the difference"
        ),
        "rows_used": len(rows),
        "rows_available": test.height,
        "selection": "rows ordered by a seeded hash of their content",
        "seed": s.seed,
        "n_bootstrap": s.n_bootstrap,
        "confidence": conf,
        "charts": [
            IntervalChart(
                title="How well each sensitive attribute can be inferred",
                x_label="AUC (R² for numbers)",
                unit="value",
                items=[IntervalItem(**i) for i in items],
            ).to_dict()
        ],
    }
    return Outcome(
        status=status,
        summary=summary,
        metrics=metrics,
        findings=findings,
        recommendation=rec,
        details=details,
    )


def _finding(r: Mapping[str, Any], conf: float) -> Finding:
    """One sensitive column: inferred without and with the model's outputs, the gain."""
    label = "AUC" if r["metric"] == "roc_auc" else "R²"
    msg = (
        f"'{r['column']}' is inferred with {label} {_iv(r['without'], conf)} from the other "
        f"features and {_iv(r['with'], conf)} with the model's outputs added: a gain of "
        f"{_iv(r['gain'], conf, signed=True)}."
    )
    msg += _reliance_sentence(r)
    return Finding(
        status=r["status"],
        message=msg,
        column=r["column"],
        split="test",
        metrics={
            f"{r['metric']}_without_outputs": r["without"].value,
            f"{r['metric']}_with_outputs": r["with"].value,
            "gain": r["gain"].value,
            "gain_low": r["gain"].low,
            "gain_high": r["gain"].high,
        },
    )


def _column_metrics(r: Mapping[str, Any]) -> dict[str, float | int | None]:
    """One sensitive column's gain and scores (and the benefit of relying on it)."""
    metrics: dict[str, float | int | None] = {}
    key = r["column"]
    metrics[f"{key}_gain"] = r["gain"].value
    metrics[f"{key}_gain_low"] = r["gain"].low
    metrics[f"{key}_gain_high"] = r["gain"].high
    metrics[f"{key}_{r['metric']}_with_outputs"] = r["with"].value
    metrics[f"{key}_{r['metric']}_without_outputs"] = r["without"].value
    rel = r["reliance"]
    if rel is not None and rel.get("benefit") is not None:
        metrics[f"{key}_benefit"] = rel["benefit"]
        metrics[f"{key}_benefit_low"] = rel["benefit_low"]
        metrics[f"{key}_benefit_high"] = rel["benefit_high"]
    return metrics


def _chart_items(r: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One sensitive column's two scores with intervals, for the chart."""
    items: list[dict[str, Any]] = []
    for name, iv in (("other features", r["without"]), ("+ model outputs", r["with"])):
        if iv.value is not None:
            items.append(
                {
                    "label": f"{r['column']}: {name}",
                    "value": iv.value,
                    "low": iv.value if iv.low is None else iv.low,
                    "high": iv.value if iv.high is None else iv.high,
                }
            )
    return items


def _summary(status: Status, head: str, worst: Mapping[str, Any]) -> tuple[str, str]:
    """(summary, recommendation) for the column whose inference gains most."""
    if status == "fail":
        summary = f"{head}: the model's outputs give this attribute away."
        rec = (
            f"The model leaks '{worst['column']}'. Check whether it uses the attribute or a "
            "close stand-in as a feature and remove it if it need not; expose labels or coarse "
            "scores rather than raw probabilities; and review who can query the model."
        )
    elif worst["reason"] == "inconclusive":
        summary = (
            f"{head}: the model's outputs give this attribute away, and these rows cannot tell "
            "whether its accuracy needs it."
        )
        rec = (
            f"Refit without '{worst['column']}' and compare on more data: if the attribute buys "
            "nothing, drop it; if it does, document the decision (see the fairness results) "
            "and expose labels or coarse scores rather than raw probabilities."
        )
    elif worst["reason"] == "relied":
        summary = (
            f"{head}: the model relies on '{worst['column']}' for its accuracy, so its outputs "
            "reveal it by design."
        )
        rec = (
            f"Using '{worst['column']}' as an input is a decision to document and justify (see "
            "the fairness results); if the attribute must stay private, train without it and "
            "compare, and expose labels or coarse scores rather than raw probabilities."
        )
    elif status == "warn":
        summary = f"{head}: the outputs reveal a little about this attribute."
        rec = (
            f"Look at which features carry '{worst['column']}' into the model, and limit the "
            "detail of the outputs that are exposed."
        )
    else:
        summary = f"{head}: the outputs add nothing material beyond the other features."
        rec = "No action needed."
    return summary, rec
