"""``evaluation.ablation``: which features the model relies on, which it ignores.

Permutation importance: the values of one feature are shuffled across the test
rows (a stated sample), breaking its link to the target while keeping its
distribution, and the model predicts again. The drop in the main metric,
averaged over a few shuffles, is the feature's importance; its interval comes
from a paired bootstrap over the rows (every shuffle scored on the same
resamples as the unshuffled predictions). This is what
``sklearn.inspection.permutation_importance`` computes, with all shuffles
predicted in one batch and intervals added.

The interval counts both sources of chance: which rows were drawn (the
paired bootstrap) and which shuffles were drawn (the spread of the importance
between shuffles), as a normal interval around the mean importance.

The verdict (:func:`judge_importance`, numbers in, verdict out) is a test, not
a reading of a point estimate. A feature is *unused* when the model ignores it
(no prediction changes) or when its whole interval lies within
``±unused_max`` (an equivalence test: clearly too small to matter, either
way); an interval that excludes zero is never unused. It is *harmful* when
shuffling it clearly and materially improves the model: the one-sided p value
of "importance below ``-harmful_min``", Holm-adjusted over the features, is at
most ``alpha`` (and the whole interval is below zero). A
feature whose interval is wide either way is *unclear*, and not alarmed on.
Feature groups
from the configuration (``thresholds: {evaluation.ablation: {groups: {name:
[col, ...]}}}``) are shuffled together.

Drop-column ablation: when the model is a scikit-learn estimator that
``sklearn.base.clone`` can copy and training data is given, it is refitted (on
a stated sample of train, on one thread) without each of the most important
features and without each group, and compared with the same estimator
refitted with every feature. A column is dropped by replacing it with a
constant (its median or most frequent value in train), which removes its
information and keeps the
input shape any pipeline expects.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import polars as pl

from assay.core.charts import Bar, BarChart, IntervalChart, IntervalItem
from assay.core.context import AuditContext
from assay.core.details import Details
from assay.core.params import param
from assay.core.registry import Outcome, SkipCheck, register_check
from assay.core.result import Finding, Status
from assay.errors import ConfigError
from assay.evaluation._bootstrap import metric_samples, paired_comparison
from assay.evaluation._common import conf_text, fmt, label
from assay.evaluation._depth import (
    canonical_order,
    eval_data,
    model_features,
    predict_frames,
    require_model,
    sample_positions,
    score_change,
)
from assay.evaluation._metrics import LOWER_IS_BETTER, compute_metrics, main_metric_name
from assay.io.models import Prediction, wrap_model

CHECK_ID = "evaluation.ablation"


def _groups(th: Mapping[str, Any], features: list[str]) -> dict[str, list[str]]:
    raw = th.get("groups") or {}
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"thresholds.{CHECK_ID}.groups must map a group name to a list of feature columns, "
            f"e.g. {{address: [zip, city]}}, not {raw!r}"
        )
    out = {}
    for name, cols in raw.items():
        cols = [cols] if isinstance(cols, str) else list(cols or [])
        unknown = [c for c in cols if c not in features]
        if unknown or not cols:
            raise ConfigError(
                f"thresholds.{CHECK_ID}.groups.{name} names {unknown or 'no columns'}, which "
                f"are not model features; features are {', '.join(features[:20])}"
            )
        out[str(name)] = cols
    return out


def _permuted(X: pl.DataFrame, cols: list[str], perm: np.ndarray) -> pl.DataFrame:
    return X.with_columns([X.get_column(c).gather(perm) for c in cols])


def _importances(
    ctx: AuditContext,
    X: pl.DataFrame,
    y: np.ndarray,
    base: Prediction,
    units: dict[str, list[str]],
    main: str,
    sign: float,
    n_repeats: int,
    n_boot: int,
) -> dict[str, dict[str, Any]]:
    """Permutation importance of each unit (a feature or a group) with its interval.

    The standard error adds the bootstrap variance over rows (every shuffle scored
    on the same resamples as the unshuffled predictions) and the variance between
    shuffles divided by their number; the interval is normal around the mean.
    """
    from scipy.stats import norm

    s = ctx.settings
    m = X.height
    rng = np.random.default_rng([s.seed, 43])
    keys = list(units)
    perms = {(k, r): rng.permutation(m) for k in keys for r in range(n_repeats)}
    frames = [_permuted(X, units[k], perms[(k, r)]) for k in keys for r in range(n_repeats)]
    preds = predict_frames(ctx, frames)
    base_data = eval_data(ctx, y, base)
    base_value = compute_metrics(base_data, [main])[main]
    boot = n_boot > 0
    base_samples = (
        metric_samples(base_data, [main], n_resamples=n_boot, seed=s.seed)[main] if boot else None
    )
    z = float(norm.ppf(0.5 + s.confidence / 2))
    out: dict[str, dict[str, Any]] = {}
    for i, k in enumerate(keys):
        block = preds[i * n_repeats : (i + 1) * n_repeats]
        values, samples, change = [], [], []
        for p in block:
            d = eval_data(ctx, y, p)
            values.append(compute_metrics(d, [main])[main])
            change.append(score_change(ctx, base, p))
            if boot:
                samples.append(metric_samples(d, [main], n_resamples=n_boot, seed=s.seed)[main])
        per_shuffle = sign * (base_value - np.asarray(values, dtype=float))
        imp = float(np.mean(per_shuffle))
        low = high = se = None
        if boot and base_samples is not None and np.isfinite(imp):
            imp_samples = sign * (base_samples - np.mean(samples, axis=0))
            imp_samples = imp_samples[np.isfinite(imp_samples)]
            var_rows = float(np.var(imp_samples, ddof=1)) if imp_samples.size > 1 else 0.0
            var_shuffles = float(np.var(per_shuffle, ddof=1)) / n_repeats if n_repeats > 1 else 0.0
            se = float(np.sqrt(var_rows + var_shuffles))
            low, high = imp - z * se, imp + z * se
        ch = np.concatenate(change)
        out[k] = {
            "columns": units[k],
            "importance": None if not np.isfinite(imp) else imp,
            "importance_low": low,
            "importance_high": high,
            "importance_se": se,
            "repeat_std": float(np.std(values)),
            "mean_change": float(ch.mean()),
            "max_change": float(ch.max()) if ch.size else 0.0,
        }
    return out


def holm(p: Sequence[float | None]) -> list[float | None]:
    """Holm-adjusted p values (``None`` stays ``None`` and is not counted).

    >>> holm([0.01, 0.04, None, 0.03])
    [0.03, 0.06, None, 0.06]
    """
    from assay.stats import holm as holm_adjust

    present = [(i, float(v)) for i, v in enumerate(p) if v is not None]
    out: list[float | None] = [None] * len(p)
    for (i, _), q in zip(present, holm_adjust([v for _, v in present]), strict=True):
        out[i] = round(float(q), 12)
    return out


def harmful_p(importance: float | None, se: float | None, margin: float) -> float | None:
    """One-sided p value of "shuffling the feature improves the metric by more than
    ``margin``" (null: importance >= -margin), from a normal approximation.

    >>> round(harmful_p(-0.01, 0.002, 0.002), 6)
    3.2e-05
    >>> harmful_p(0.003, None, 0.002) is None
    True
    """
    from scipy.stats import norm

    if importance is None or se is None:
        return None
    if se <= 0:
        return 0.0 if importance < -margin else 1.0
    return float(norm.cdf((importance + margin) / se))


def judge_importance(
    importance: float | None,
    low: float | None,
    high: float | None,
    q_harmful: float | None,
    max_change: float,
    *,
    unused_max: float,
    harmful_min: float,
    alpha: float,
) -> str:
    """The verdict on one feature from its numbers: no data, no model.

    ``ignored`` (no prediction changed), ``harmful`` (``q_harmful <= alpha``: the
    Holm-adjusted p value of "importance below ``-harmful_min``", so clearly and
    materially harmful; and the interval entirely below zero),
    ``unused`` (the interval within ``±unused_max`` and holding zero; without an
    interval, ``|importance| < unused_max``), ``used`` (the interval above zero or
    the importance material), ``unclear`` (an interval too wide to say), or
    ``unknown`` (no importance).

    >>> judge_importance(0.001, -0.002, 0.004, 0.3, 0.2, unused_max=0.005, harmful_min=0.002,
    ...                  alpha=0.05)
    'unused'
    >>> judge_importance(0.002, 0.001, 0.003, 1.0, 0.2, unused_max=0.005, harmful_min=0.002,
    ...                  alpha=0.05)
    'used'
    """
    if importance is None:
        return "unknown"
    if max_change <= 1e-12:
        return "ignored"
    if low is None or high is None:
        return "unused" if abs(importance) < unused_max else "used"
    if q_harmful is not None and q_harmful <= alpha and high < 0 and importance <= -harmful_min:
        return "harmful"
    if -unused_max < low <= 0 <= high < unused_max:
        return "unused"
    if low > 0 or importance >= unused_max:
        return "used"
    return "unclear"


def _verdicts(
    imps: Mapping[str, dict[str, Any]], features: list[str], th: Mapping[str, Any]
) -> None:
    """Holm-adjust the features' harmful p values, then judge every unit (a configured
    group is judged on its own p value)."""
    margin = float(th["harmful_min"])
    for r in imps.values():
        r["p_harmful"] = harmful_p(r["importance"], r["importance_se"], margin)
    q = holm([imps[c]["p_harmful"] for c in features])
    for c, v in zip(features, q, strict=True):
        imps[c]["q_harmful"] = v
    for r in imps.values():
        r.setdefault("q_harmful", r["p_harmful"])
        r["verdict"] = judge_importance(
            r["importance"],
            r["importance_low"],
            r["importance_high"],
            r["q_harmful"],
            r["max_change"],
            unused_max=float(th["unused_max"]),
            harmful_min=float(th["harmful_min"]),
            alpha=float(th["alpha"]),
        )


def _refit(
    ctx: AuditContext,
    X_test: pl.DataFrame,
    y_test: np.ndarray,
    units: dict[str, list[str]],
    main: str,
    sign: float,
    th: Mapping[str, Any],
) -> tuple[dict[str, dict[str, Any]], str | None, dict[str, Any]]:
    """Drop-column importance by refitting a clone of the model; or why it was not done."""
    why_not = _not_refittable(ctx)
    if why_not is not None:
        return {}, why_not, {}
    assert ctx.model is not None  # _not_refittable refuses an audit without a model
    est = ctx.model.model
    s = ctx.settings
    rows = canonical_order(ctx, "train")[: int(th["refit_max_rows"])]
    train = ctx.features("train")[rows]
    train_labels = ctx.labels("train")
    assert train_labels is not None  # the audit requires the target in the training data
    y_train = train_labels[rows]
    names = ctx.model.feature_names if ctx.model is not None else None

    def fitted(cols: list[str]) -> Any:
        return _fit_without(ctx, est, (train, y_train), (X_test, y_test), names, cols)

    try:
        datas = {"__all__": fitted([])}
    except Exception as exc:
        return {}, f"refitting the model failed ({type(exc).__name__}: {exc})", {}
    failed: dict[str, str] = {}
    for k, cols in units.items():
        try:
            datas[k] = fitted(cols)
        except Exception as exc:
            failed[k] = f"{type(exc).__name__}: {exc}"
    about: dict[str, Any] = {
        "n_rows_fit": int(rows.size),
        "n_rows_train": ctx.frame("train").height,
    }
    if failed:
        about["failed"] = failed
    scores, diffs = paired_comparison(
        datas,
        main,
        reference="__all__",
        n_resamples=s.n_bootstrap,
        seed=s.seed,
        confidence=s.confidence,
    )
    about["refit_metric"] = scores["__all__"].value
    out = _drops(datas, scores, diffs, units, sign)
    return out, None, about


def _not_refittable(ctx: AuditContext) -> str | None:
    """Why drop-column importance cannot refit the model (None: it can)."""
    if not ctx.has("train") or ctx.labels("train") is None:
        return "no training data with a target was given"
    est = ctx.model.model if ctx.model is not None else None
    if not (hasattr(est, "fit") and hasattr(est, "get_params")):
        return "the model is not a scikit-learn estimator that can be refitted"
    try:
        from sklearn.base import clone

        clone(est)
    except Exception as exc:  # clone raises TypeError/RuntimeError on odd estimators
        return f"sklearn.base.clone cannot copy the model ({type(exc).__name__})"
    return None


def _fit_without(
    ctx: AuditContext,
    est: Any,
    train_xy: tuple[pl.DataFrame, np.ndarray],
    test_xy: tuple[pl.DataFrame, np.ndarray],
    names: list[str] | None,
    cols: list[str],
) -> Any:
    """A clone of the model refitted with ``cols`` held constant, and its test predictions."""
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    train, y_train = train_xy
    X_test, y_test = test_xy
    Xtr, Xte = train, X_test
    for c in cols:
        const = _constant(train.get_column(c))
        Xtr = Xtr.with_columns(pl.lit(const, dtype=train.schema[c]).alias(c))
        Xte = Xte.with_columns(pl.lit(const, dtype=X_test.schema[c]).alias(c))
    frame = Xtr.select(names) if names is not None else Xtr
    # One thread: on a sample this size threads save little, and OpenMP workers that
    # wait for a busy CPU can make a fit many times slower.
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore")
        model = clone(est).fit(frame.to_pandas(), y_train)
        classes = ctx.classes if ctx.task in ("binary", "multiclass") else None
        pred = wrap_model(model).predict(Xte, classes)
    return eval_data(ctx, y_test, pred)


def _drops(
    datas: Mapping[str, Any],
    scores: Mapping[str, Any],
    diffs: Mapping[str, Any],
    units: Mapping[str, list[str]],
    sign: float,
) -> dict[str, dict[str, Any]]:
    """Each unit's metric without it and the drop (with its interval), larger is worse."""
    out = {}
    for k in datas:
        if k == "__all__":
            continue
        iv = diffs[k]
        lo, hi = (
            sorted((sign * iv.low, sign * iv.high))
            if iv.low is not None and iv.high is not None
            else (None, None)
        )
        out[k] = {
            "columns": units[k],
            "metric_without": scores[k].value,
            "drop": None if iv.value is None else sign * iv.value,
            "drop_low": lo,
            "drop_high": hi,
        }
    return out


def _constant(s: pl.Series) -> Any:
    """The median of a numeric column, otherwise its most frequent value."""
    if s.dtype.is_numeric() and s.drop_nulls().len():
        v = s.median()
        # The median of a non-empty integer column is a float.
        return round(cast(float, v)) if s.dtype.is_integer() else v
    counts = s.drop_nulls().value_counts(sort=True)
    if counts.height == 0:
        return None
    top = counts.filter(pl.col("count") == counts.get_column("count").max())
    return sorted(top.get_column(s.name).to_list(), key=str)[0]


@dataclass(frozen=True)
class AblationParams:
    """Parameters of ``evaluation.ablation``."""

    n_repeats: int = param(5, "Shuffles of each feature averaged into its importance.", ge=1)
    max_rows: int = param(2000, "Test rows sampled for the permutation importances.", ge=1)
    max_bootstrap: int = param(
        200, "Most bootstrap resamples of the importance intervals (n_bootstrap caps it).", ge=0
    )
    unused_max: float = param(
        0.005,
        "Drop in the main metric under which (interval and all) a feature is unused.",
        ge=0,
    )
    harmful_min: float = param(
        0.002, "Gain in the main metric from shuffling a feature that makes it harmful.", ge=0
    )
    alpha: float = param(
        0.05, "Significance level (Holm-adjusted) of the harmful-feature test.", gt=0, lt=1
    )
    refit: bool = param(True, "Also refit the model without the top features and groups.")
    top_k_refit: int = param(3, "Most important features refitted without, one at a time.", ge=0)
    refit_max_rows: int = param(5000, "Training rows used for each refit.", ge=1)
    groups: dict[str, list[str] | str] = param(
        {}, "Feature groups shuffled and removed together: {name: [columns]}."
    )


@dataclass(frozen=True)
class AblationDetails(Details):
    """What ``evaluation.ablation`` keeps in its ``details`` (``report.json``)."""

    main_metric: str
    importance: str
    n_bootstrap_importance: int
    features: tuple[Mapping[str, Any], ...]
    groups: tuple[Any, ...]
    unused: tuple[str, ...]
    harmful: tuple[Any, ...]
    drop_column: tuple[Mapping[str, Any], ...]
    drop_column_note: str | None
    drop_column_method: str
    n_rows: int
    n_rows_available: int
    sampled: bool
    seed: int
    n_bootstrap: int
    confidence: float
    n_rows_fit: int | None = None
    n_rows_train: int | None = None
    refit_metric: float | None = None


@register_check(
    CHECK_ID,
    area="evaluation",
    title="Feature ablation",
    explanation=(
        "Which features the model actually relies on. Each feature's values are shuffled "
        "across the test rows and the drop in the main metric measures how much the model "
        "needs it (permutation importance, with a confidence interval). Features whose "
        "shuffling changes nothing are unused and can be removed (advice, reported as "
        "information: an unused feature is not a defect); features whose shuffling "
        "improves the model are harmful (a warning). When the model can be retrained, the "
        "most important "
        "features and configured groups are also removed one at a time and the model refitted, "
        "which shows what a retrained model would lose."
    ),
    standards=("MEASURE 2.9", "MEASURE 2.5"),
    severity="low",
    params=AblationParams,
    needs=("model",),
    details=AblationDetails,
)
def ablation(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Permutation importance with intervals; unused and harmful features; drop-column refits."""
    require_model(ctx, "the ablation check")
    s = ctx.settings
    conf = s.confidence
    main = main_metric_name(ctx)
    sign = -1.0 if main in LOWER_IS_BETTER else 1.0
    features = model_features(ctx)
    if not features:
        raise SkipCheck("the model has no feature columns to shuffle")
    groups = _groups(th, features)
    y_all = ctx.labels("test")
    if y_all is None:
        raise SkipCheck("the test data has no target column")
    n_total = int(y_all.shape[0])
    pos = sample_positions(ctx, int(th["max_rows"]))
    X = ctx.features("test")[pos]
    y = y_all[pos]
    full = ctx.predictions("test")
    base = Prediction(
        labels=np.asarray(full.labels)[pos], proba=None if full.proba is None else full.proba[pos]
    )
    units = {c: [c] for c in features}
    units.update({f"group {g}": cols for g, cols in groups.items()})
    n_boot = min(s.n_bootstrap, int(th["max_bootstrap"]))
    imps = _importances(ctx, X, y, base, units, main, sign, max(1, int(th["n_repeats"])), n_boot)
    _verdicts(imps, features, th)
    feats = {k: imps[k] for k in features}
    ranked = sorted(features, key=lambda c: (-(feats[c]["importance"] or 0.0), c))
    unused = [c for c in ranked if feats[c]["verdict"] in ("unused", "ignored")]
    harmful = [c for c in ranked if feats[c]["verdict"] == "harmful"]

    refit, refit_note, refit_about = _drop_column(ctx, X, y, feats, ranked, groups, main, sign, th)

    findings = _findings(feats, imps, groups, unused, harmful, refit, main, conf)
    # Unused features are advice (a smaller model), not a defect: they never warn.
    status: Status = "warn" if harmful else "pass"
    top_c = ranked[0]
    t = feats[top_c]
    summary, rec = _summary(main, feats, top_c, unused, harmful, len(features), conf, th)
    refit_top = refit.get(top_c, {}).get("drop") if refit else None
    main_value = compute_metrics(eval_data(ctx, y, base), [main])[main]
    metrics = _metrics(main, main_value, feats, t, unused, harmful, features, refit, refit_top)
    metrics["n_rows"] = X.height
    details = {
        "main_metric": main,
        "importance": "drop in the main metric when the feature is shuffled (mean over "
        f"{int(th['n_repeats'])} shuffles); normal intervals whose standard error adds a "
        f"paired bootstrap over the rows ({n_boot} resamples) and the spread between shuffles; "
        f"harmful: one-sided p of importance below -{float(th['harmful_min']):g}, "
        f"Holm-adjusted over the features, at most {float(th['alpha']):g}; unused: the "
        f"interval within ±{float(th['unused_max']):g}",
        "n_bootstrap_importance": n_boot,
        "features": [{"feature": c, **feats[c]} for c in ranked],
        "groups": [{"group": g, **imps[f"group {g}"]} for g in groups],
        "unused": unused,
        "harmful": harmful,
        "drop_column": [{"dropped": k, **v} for k, v in refit.items()],
        "drop_column_note": refit_note,
        "drop_column_method": "refit a clone of the model with the column(s) replaced by a "
        "constant (median or most frequent value in train)",
        **refit_about,
        "n_rows": X.height,
        "n_rows_available": n_total,
        "sampled": X.height < n_total,
        "seed": s.seed,
        "n_bootstrap": s.n_bootstrap,
        "confidence": conf,
        "charts": _charts(feats, ranked, imps, groups, refit, main, conf, th),
    }
    return Outcome(
        status=status,
        summary=summary,
        metrics=metrics,
        findings=findings,
        recommendation=rec,
        details=details,
    )


def _drop_column(
    ctx: AuditContext,
    X: pl.DataFrame,
    y: np.ndarray,
    feats: Mapping[str, Mapping[str, Any]],
    ranked: list[str],
    groups: Mapping[str, list[str]],
    main: str,
    sign: float,
    th: Mapping[str, Any],
) -> tuple[dict[str, dict[str, Any]], str | None, dict[str, Any]]:
    """Drop-column refits of the ``top_k_refit`` used features and of each group, or why
    none was done."""
    refit: dict[str, dict[str, Any]] = {}
    refit_note: str | None = "turned off in the thresholds (refit: false)"
    refit_about: dict[str, Any] = {}
    if th.get("refit", True):
        top = [c for c in ranked if feats[c]["verdict"] == "used"][: int(th["top_k_refit"])]
        todo = {c: [c] for c in top}
        todo.update({f"group {g}": cols for g, cols in groups.items()})
        if todo:
            refit, refit_note, refit_about = _refit(ctx, X, y, todo, main, sign, th)
        else:
            refit_note = "no feature was found important enough to refit without"

    return refit, refit_note, refit_about


def _summary(
    main: str,
    feats: Mapping[str, Mapping[str, Any]],
    top_c: str,
    unused: list[str],
    harmful: list[str],
    n_features: int,
    conf: float,
    th: Mapping[str, Any],
) -> tuple[str, str]:
    """(summary, recommendation): a harmful feature first, then unused ones, else the
    most important feature."""
    t = feats[top_c]
    top_txt = f"'{top_c}' (shuffling it moves {label(main)} by {_signed(main, t, conf)})"
    if harmful:
        h = feats[harmful[0]]
        summary = (
            f"Shuffling '{harmful[0]}' makes the model better ({label(main)} "
            f"{_signed(main, h, conf)}; Holm q = {h['q_harmful']:.2g}): it hurts more than "
            "it helps" + (f", and {len(unused)} feature(s) are unused." if unused else ".")
        )
        rec = (
            "Remove the harmful features, or check them for leakage-like quirks or a shift "
            "between train and test; remove unused features to simplify the model."
        )
    elif unused:
        names = ", ".join(f"'{c}'" for c in unused[:3]) + (
            f" and {len(unused) - 3} more" if len(unused) > 3 else ""
        )
        summary = (
            f"Unused features ({len(unused)} of {n_features}): {names}; shuffling them "
            f"changes {label(main)} by less than {th['unused_max']:g} either way (the whole "
            f"{conf_text(conf)} within that band). The most important "
            f"is {top_txt}."
        )
        rec = (
            "Consider removing the unused features: a smaller model is easier to explain, "
            "monitor and secure. If a feature should matter, check how it is encoded."
        )
    else:
        summary = f"Every feature contributes; the most important is {top_txt}."
        rec = "No action needed; compare these importances with domain expectations."
    return summary, rec


def _metrics(
    main: str,
    main_value: float | None,
    feats: Mapping[str, Mapping[str, Any]],
    t: Mapping[str, Any],
    unused: list[str],
    harmful: list[str],
    features: list[str],
    refit: Mapping[str, Any],
    refit_top: float | None,
) -> dict[str, float | int | None]:
    """The top feature's importance, the counts by verdict and the first harmful one."""
    metrics: dict[str, float | int | None] = {
        main: main_value,
        "top_importance": t["importance"],
        "top_importance_low": t["importance_low"],
        "top_importance_high": t["importance_high"],
        "n_unused": len(unused),
        "n_harmful": len(harmful),
        "n_unclear": sum(feats[c]["verdict"] == "unclear" for c in features),
        "harmful_importance": feats[harmful[0]]["importance"] if harmful else None,
        "harmful_importance_low": feats[harmful[0]]["importance_low"] if harmful else None,
        "harmful_importance_high": feats[harmful[0]]["importance_high"] if harmful else None,
        "harmful_q": feats[harmful[0]]["q_harmful"] if harmful else None,
        "n_features": len(features),
        "refit_top_drop": refit_top,
        "refit_done": int(bool(refit)),
    }
    return metrics


def _signed(main: str, r: Mapping[str, Any], conf: float) -> str:
    imp = r["importance"]
    text = fmt(main, None if imp is None else -imp, signed=True)
    if r["importance_low"] is None or r["importance_high"] is None:
        return text
    lo, hi = (
        fmt(main, -r["importance_high"], signed=True),
        fmt(main, -r["importance_low"], signed=True),
    )
    return f"{text}, {conf_text(conf)} {lo} to {hi}"


def _findings(
    feats: Mapping[str, Mapping[str, Any]],
    imps: Mapping[str, Mapping[str, Any]],
    groups: Mapping[str, list[str]],
    unused: list[str],
    harmful: list[str],
    refit: Mapping[str, Mapping[str, Any]],
    main: str,
    conf: float,
) -> list[Finding]:
    out = []
    for c in harmful:
        r = feats[c]
        out.append(
            Finding(
                status="warn",
                column=c,
                split="test",
                message=f"Shuffling '{c}' improves {label(main)} ({_signed(main, r, conf)}).",
                metrics=_nums(r),
            )
        )
    for c in unused:
        r = feats[c]
        why = (
            "the model ignores it: shuffling it changes no prediction"
            if r["verdict"] == "ignored"
            else f"shuffling it moves {label(main)} by {_signed(main, r, conf)}"
        )
        out.append(
            Finding(
                status="pass",
                column=c,
                split="test",
                message=f"For information: '{c}' is unused: {why}.",
                metrics=_nums(r),
            )
        )
    for g, cols in groups.items():
        r = imps[f"group {g}"]
        d = refit.get(f"group {g}", {})
        extra = (
            f"; a model refitted without it loses {fmt(main, d['drop'])} of {label(main)}"
            if d.get("drop") is not None
            else ""
        )
        out.append(
            Finding(
                status="warn" if r["verdict"] in ("unused", "ignored", "harmful") else "pass",
                columns=tuple(cols),
                group=g,
                split="test",
                message=f"Group '{g}' shuffled together moves {label(main)} by "
                f"{_signed(main, r, conf)}{extra}.",
                metrics={**_nums(r), "refit_drop": d.get("drop")},
            )
        )
    return out


def _nums(r: Mapping[str, Any]) -> dict[str, float | None]:
    keys = ("importance", "importance_low", "importance_high", "mean_change", "q_harmful")
    return {k: r.get(k) for k in keys}


def _charts(
    feats: Mapping[str, Mapping[str, Any]],
    ranked: list[str],
    imps: Mapping[str, Mapping[str, Any]],
    groups: Mapping[str, list[str]],
    refit: Mapping[str, Mapping[str, Any]],
    main: str,
    conf: float,
    th: Mapping[str, Any],
) -> list[dict[str, Any]]:
    status = {"used": "pass", "unknown": "pass", "unclear": "pass"}
    charts: list[dict[str, Any]] = [
        BarChart(
            title=f"Permutation importance: drop in {label(main)} when a feature is shuffled",
            x_label=f"drop in {label(main)}",
            unit="value",
            items=[
                Bar(
                    c,
                    feats[c]["importance"] or 0.0,
                    status.get(feats[c]["verdict"], "warn"),
                )
                for c in ranked
            ],
            threshold=float(th["unused_max"]),
        ).to_dict()
    ]
    items = []
    for k in ranked + [f"group {g}" for g in groups]:
        r = imps[k]
        if r["importance"] is None:
            continue
        items.append(
            IntervalItem(
                k,
                r["importance"],
                r["importance"] if r["importance_low"] is None else r["importance_low"],
                r["importance"] if r["importance_high"] is None else r["importance_high"],
            )
        )
    charts.append(
        IntervalChart(
            title=f"Permutation importance with {conf_text(conf).replace('CI', 'intervals')}",
            x_label=f"drop in {label(main)}",
            unit="value",
            items=items,
        ).to_dict()
    )
    if refit:
        charts.append(
            IntervalChart(
                title=f"Drop-column ablation: {label(main)} lost by a model refitted without "
                f"each ({conf_text(conf)})",
                x_label=f"drop in {label(main)}",
                unit="value",
                items=[
                    IntervalItem(
                        k,
                        v["drop"],
                        v["drop"] if v["drop_low"] is None else v["drop_low"],
                        v["drop"] if v["drop_high"] is None else v["drop_high"],
                    )
                    for k, v in refit.items()
                    if v["drop"] is not None
                ],
            ).to_dict()
        )
    return charts
