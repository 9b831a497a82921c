"""Out-of-fold predictions shared by ``data.label_issues`` and ``security.poisoning`` (private).

Both checks need, for each row of the training data (the test data when there
is no training data), a prediction from a model that never saw that row. They
get it from cross-validated clones of the user's model when it can be refitted
(``sklearn.base.clone``), otherwise from a default gradient-boosting model, and
say which in their result.

Rows are sampled (at most ``max_rows``) and assigned to folds by a seeded hash
of their feature values, and the sample is put in a canonical order (hash,
then label) before any model is fitted: the predictions do not depend on the
order of the rows given, and identical rows never straddle two folds.

The result is computed once per audit context and cached, so the two checks
share one set of model fits.
"""

from __future__ import annotations

import threading
import warnings
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

if TYPE_CHECKING:
    from assay.core.context import AuditContext

DEFAULT_MAX_ROWS = 5000
DEFAULT_FOLDS = 5


@dataclass(frozen=True)
class OutOfFold:
    """Out-of-fold predictions for a sample of one split's rows.

    Attributes
    ----------
    split
        The split the rows come from (``"train"``, else ``"test"``).
    positions
        Row positions in that split (0-based), in the canonical order used here.
    y
        Class codes ``0..k-1`` into ``classes`` (classification), or target values.
    classes
        The classes present in the sample (classification), else ``()``.
    proba
        ``(n, k)`` out-of-fold class probabilities, columns in ``classes`` order.
    pred
        Out-of-fold predicted values (regression).
    model
        Which model produced them, in words.
    model_kind
        ``"clone"`` (the user's model, refitted per fold) or ``"default"``.
    fallback_reason
        Why the user's model was not used (``""`` when it was).
    n_rows_split
        Rows in the split before sampling.
    n_folds
        Number of cross-validation folds.
    keys
        The seeded row hashes (same order as ``positions``).
    ref_positions, ref_y, ref_proba, ref_pred
        When the rows come from train and the test split is labelled: a sample
        of test rows (classification: those whose class the train sample holds)
        with their positions, class codes into ``classes`` or target values, and
        probabilities (classification) or predicted values (regression), each predicted
        by the fold model of the fold its hash falls in. Models trained on as many
        rows as those that produced the out-of-fold values, so train and test can
        be compared fairly (the user's model, fitted on all of train, would make
        the test rows look easier than the train rows).
    """

    split: str
    positions: np.ndarray
    y: np.ndarray
    classes: tuple[Any, ...]
    proba: np.ndarray | None
    pred: np.ndarray | None
    model: str
    model_kind: str
    fallback_reason: str
    n_rows_split: int
    n_folds: int
    keys: np.ndarray
    ref_positions: np.ndarray | None = None
    ref_y: np.ndarray | None = None
    ref_proba: np.ndarray | None = None
    ref_pred: np.ndarray | None = None

    @property
    def sampled(self) -> bool:
        return len(self.positions) < self.n_rows_split

    def describe(self) -> dict[str, Any]:
        """The facts a result should state: split, rows, folds, model."""
        return {
            "split": self.split,
            "rows_used": len(self.positions),
            "rows_in_split": self.n_rows_split,
            "sampled": self.sampled,
            "folds": self.n_folds,
            "model": self.model,
            "model_kind": self.model_kind,
            "fallback_reason": self.fallback_reason or None,
        }


_CACHE: dict[int, tuple[weakref.ref, dict[tuple, OutOfFold]]] = {}
_LOCK = threading.Lock()


def _cache_for(ctx: AuditContext) -> dict[tuple, OutOfFold]:
    key = id(ctx)
    with _LOCK:
        entry = _CACHE.get(key)
        if entry is not None and entry[0]() is ctx:
            return entry[1]
        store: dict[tuple, OutOfFold] = {}
        _CACHE[key] = (weakref.ref(ctx), store)
        weakref.finalize(ctx, _CACHE.pop, key, None)
        return store


def split_for(ctx: AuditContext) -> str:
    """The split whose labels are examined: train when given, else test."""
    return "train" if ctx.has("train") else "test"


def class_codes(values: np.ndarray, classes: Sequence[Any]) -> np.ndarray:
    """Codes of ``values`` into ``classes`` (matched as strings); -1 when absent."""
    index = {str(c): i for i, c in enumerate(classes)}
    uniq, inverse = np.unique(np.asarray(values).astype(str), return_inverse=True)
    return np.array([index.get(u, -1) for u in uniq], dtype=np.int64)[inverse.reshape(-1)]


def row_keys(df: pl.DataFrame, columns: list[str], seed: int) -> np.ndarray:
    """A seeded hash of each row's ``columns`` (equal rows, equal keys)."""
    cols = [c for c in columns if df.schema[c] != pl.Object]
    if not cols:
        return np.arange(df.height, dtype=np.uint64)
    return df.select(cols).hash_rows(seed=seed).to_numpy()


def model_features(ctx: AuditContext, df: pl.DataFrame) -> list[str]:
    """The columns the model reads: its own feature list, else the schema's features."""
    names = ctx.model.feature_names if ctx.model is not None else None
    cols = list(names) if names else list(ctx.schema.features)
    return [c for c in cols if c in df.columns]


def canonical_sample(
    ctx: AuditContext, split: str, max_rows: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """(positions, keys) of at most ``max_rows`` rows of ``split`` in canonical order.

    Rows are kept by smallest seeded feature hash and ordered by (hash, label),
    so the sample and its order do not depend on the order of the input rows.
    """
    df = ctx.frame(split)
    feats = model_features(ctx, df)
    keys = row_keys(df, feats, ctx.settings.seed)
    labels = df.get_column(ctx.target_column).cast(pl.String).fill_null("").to_numpy()
    order = np.lexsort((labels, keys))
    if len(order) > max_rows:
        order = order[:max_rows]
    return order.astype(np.int64), keys[order], df.height


# -- models ---------------------------------------------------------------------
def _encode_for_default(df: pl.DataFrame, ctx: AuditContext) -> tuple[np.ndarray, np.ndarray]:
    """A float matrix for the default model and its categorical-feature mask.

    Numbers, booleans and dates are used as values; categories as codes in
    sorted value order (row-order independent). Identifiers and free text are
    left out: a default model cannot generalize from them.
    """
    cols, cat_mask = [], []
    for c in df.columns:
        t = ctx.schema.types.get(c, "categorical")
        s = df.get_column(c)
        if t in ("identifier", "text"):
            continue
        if s.dtype.is_temporal():
            s = s.to_physical()
        if s.dtype.is_numeric() or s.dtype == pl.Boolean:
            x = s.cast(pl.Float64, strict=False).to_numpy().astype(float, copy=True)
            x[~np.isfinite(x)] = np.nan
            cols.append(x)
            cat_mask.append(False)
            continue
        if s.dtype == pl.Object:
            s = pl.Series(c, [None if v is None else str(v) for v in s.to_list()], pl.String)
        codes = s.cast(pl.String).rank("dense").cast(pl.Float64).to_numpy() - 1.0
        n_cat = np.nanmax(codes) + 1 if np.isfinite(codes).any() else 0
        cols.append(codes)
        cat_mask.append(bool(n_cat <= 250))
    if not cols:
        return np.zeros((df.height, 1)), np.array([False])
    return np.column_stack(cols), np.array(cat_mask)


def _default_estimator(regression: bool, cat_mask: np.ndarray, seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    params = {
        "max_iter": 60,
        "learning_rate": 0.1,
        "max_leaf_nodes": 15,
        "min_samples_leaf": 20,
        "early_stopping": False,
        "categorical_features": cat_mask if cat_mask.any() else None,
        "random_state": seed,
    }
    if regression:
        return HistGradientBoostingRegressor(**params)
    return HistGradientBoostingClassifier(**params)


def _clone_user_model(ctx: AuditContext) -> tuple[Any, str]:
    """A fresh clone of the user's estimator, or ``(None, reason)``."""
    if ctx.model is None:
        if ctx.has_predictions:
            return None, "predictions were given as columns, so there is no model to refit"
        return None, "no model was given"
    if ctx.model.kind == "onnx":
        return None, "an ONNX model cannot be refitted"
    est = ctx.model.model
    if ctx.task != "regression" and not hasattr(est, "predict_proba"):
        return None, "your model has no predict_proba"
    try:
        from sklearn.base import clone

        return clone(est), ""
    except Exception as exc:  # not a scikit-learn estimator
        return None, f"your model could not be cloned ({type(exc).__name__})"


def _folds(keys: np.ndarray, n_folds: int) -> np.ndarray:
    """Fold number of each row, from its hash (identical rows share a fold)."""
    mixed = (keys.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(33)
    return (mixed % np.uint64(n_folds)).astype(np.int64)


def _fit_predict_clone(
    est: Any,
    X: pl.DataFrame,
    y_raw: np.ndarray,
    folds: np.ndarray,
    n_folds: int,
    ctx: AuditContext,
    classes: list[Any] | None,
    ref: tuple[pl.DataFrame, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    from sklearn.base import clone

    from assay.io.models import wrap_model

    def empty(n: int) -> np.ndarray:
        return np.zeros((n, len(classes))) if classes is not None else np.zeros(n)

    def values(pred: Any) -> np.ndarray:
        return pred.proba if classes is not None else np.asarray(pred.labels, dtype=float)

    X_pd = X.to_pandas()
    out = empty(X.height)
    out_ref = empty(ref[0].height if ref is not None else 0)
    for k in range(n_folds):
        held = folds == k
        if not held.any():
            continue
        fit = ~held
        if classes is not None and len(np.unique(y_raw[fit].astype(str))) < 2:
            raise ValueError("a fold holds a single class")
        model = wrap_model(clone(est).fit(X_pd[fit], y_raw[fit]))
        out[held] = values(model.predict(X.filter(pl.Series(held)), classes))
        mine = ref[1] == k if ref is not None else None
        if ref is not None and mine is not None and mine.any():
            out_ref[mine] = values(model.predict(ref[0].filter(pl.Series(mine)), classes))
    return out, out_ref if ref is not None else None


def _reference_rows(
    ctx: AuditContext,
    split: str,
    feats: list[str],
    max_rows: int,
    n_folds: int,
    present: Sequence[int],
) -> tuple[np.ndarray, pl.DataFrame, np.ndarray, np.ndarray] | None:
    """(positions, features, fold of each row, class codes into ``present`` or target
    values) of the labelled test rows (classification: whose class the train sample
    holds), for the fold models to predict too, when the rows examined come from train."""
    if split != "train" or not ctx.has("test"):
        return None
    test = ctx.frame("test")
    if ctx.target not in test.columns or any(c not in test.columns for c in feats):
        return None
    positions, keys, _ = canonical_sample(ctx, "test", max_rows)
    if ctx.task == "regression":
        raw = test.get_column(ctx.target).cast(pl.Float64, strict=False).to_numpy()[positions]
        ok = np.isfinite(raw)
        if ok.sum() < 2:
            return None
        X = test[positions[ok]].select(feats)
        return positions[ok], X, _folds(keys[ok], n_folds), raw[ok]
    remap = {c: i for i, c in enumerate(present)}
    codes = class_codes(test.get_column(ctx.target).to_numpy()[positions], ctx.classes)
    y = np.array([remap.get(int(c), -1) for c in codes], dtype=np.int64)
    keep = y >= 0  # a missing label or a class train does not hold is not comparable
    if keep.sum() < 2:
        return None
    X = test[positions[keep]].select(feats)
    return positions[keep], X, _folds(keys[keep], n_folds), y[keep]


def _fit_predict_default(
    X: np.ndarray,
    cat_mask: np.ndarray,
    y: np.ndarray,
    folds: np.ndarray,
    n_folds: int,
    n_classes: int,
    regression: bool,
    seed: int,
    ref: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    def empty(n: int) -> np.ndarray:
        return np.zeros(n) if regression else np.zeros((n, n_classes))

    out = empty(len(y))
    # reference rows, each predicted by its fold's model
    X_ref, ref_folds = ref if ref is not None else (X[:0], np.zeros(0, dtype=np.int64))
    out_ref = empty(len(X_ref))
    for k in range(n_folds):
        held = folds == k
        if not held.any():
            continue
        fit = ~held
        mine = ref_folds == k
        model = _default_estimator(regression, cat_mask, seed)
        if regression:
            out[held] = model.fit(X[fit], y[fit]).predict(X[held])
            if mine.any():
                out_ref[mine] = model.predict(X_ref[mine])
            continue
        present = np.unique(y[fit])
        if len(present) < 2:
            out[held, present[0]] = 1.0
            out_ref[mine, present[0]] = 1.0
            continue
        model.fit(X[fit], y[fit])
        cols = model.classes_.astype(int)
        out[np.ix_(held, cols)] = model.predict_proba(X[held])
        if mine.any():
            out_ref[np.ix_(mine, cols)] = model.predict_proba(X_ref[mine])
    return out, out_ref if ref is not None else None


def out_of_fold(
    ctx: AuditContext, *, max_rows: int = DEFAULT_MAX_ROWS, n_folds: int = DEFAULT_FOLDS
) -> OutOfFold:
    """Out-of-fold predictions for (a sample of) the train split, else test; cached.

    Examples
    --------
    The first call fits ``n_folds`` models; a second call with the same
    arguments on the same context returns the cached result.
    """
    split = split_for(ctx)
    store = _cache_for(ctx)
    key = (split, int(max_rows), int(n_folds), ctx.settings.seed)
    if key in store:
        return store[key]

    positions, keys, n_total = canonical_sample(ctx, split, int(max_rows))
    df = ctx.frame(split)[positions]
    regression = ctx.task == "regression"
    y_raw = df.get_column(ctx.target_column).to_numpy()
    y, classes, present = _sample_labels(ctx, y_raw, regression)
    folds = _folds(keys, n_folds)
    # A fold left empty (tiny data) is simply skipped; fewer than 2 folds cannot work.
    n_used_folds = len(np.unique(folds))

    est, reason = _clone_user_model(ctx)
    feats = model_features(ctx, df)
    X = df.select(feats)
    ref = _reference_rows(ctx, split, feats, int(max_rows), n_folds, present)
    result = None
    from threadpoolctl import threadpool_limits

    # One thread: these fits are small, and on a busy machine OpenMP's spinning
    # threads make them many times slower (gradient boosting: 0.4 s vs 6 s).
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore")
        if est is not None and n_used_folds >= 2:
            clone_ref = None if ref is None else (ref[1], ref[2])
            result, reason = _try_clone(
                est, X, y_raw, folds, n_folds, ctx, classes, clone_ref, reason
            )
        if result is None:
            out, out_ref = _default_fit(X, ref, ctx, y, folds, n_folds, len(classes))
            kind = "HistGradientBoosting" + ("Regressor" if regression else "Classifier")
            result = (out, out_ref, f"{n_folds}-fold default model ({kind})", "default", reason)

    out, out_ref, model, kind, reason = result

    if not regression:
        out = _normalized(out)
    oof = OutOfFold(
        split=split,
        positions=positions,
        y=y,
        classes=classes,
        proba=None if regression else out,
        pred=out if regression else None,
        model=model,
        model_kind=kind,
        fallback_reason=reason,
        n_rows_split=n_total,
        n_folds=n_folds,
        keys=keys,
        ref_positions=ref[0] if ref is not None else None,
        ref_y=ref[3] if ref is not None else None,
        ref_proba=_normalized(out_ref) if out_ref is not None and not regression else None,
        ref_pred=out_ref if out_ref is not None and regression else None,
    )
    store[key] = oof
    return oof


def _sample_labels(
    ctx: AuditContext, y_raw: np.ndarray, regression: bool
) -> tuple[np.ndarray, tuple[Any, ...], list[int]]:
    """(labels, classes present in the sample, their codes into ``ctx.classes``): class
    codes ``0..k-1`` into the classes present (-1 for an unknown label), or the target
    values of a regression."""
    if regression:
        return y_raw.astype(float), (), []
    all_codes = class_codes(y_raw, ctx.classes)
    present = sorted(set(all_codes.tolist()) - {-1})
    classes = tuple(ctx.classes[i] for i in present)
    remap = {c: i for i, c in enumerate(present)}
    y = np.array([remap.get(c, -1) for c in all_codes.tolist()], dtype=np.int64)
    return y, classes, present


def _try_clone(
    est: Any,
    X: pl.DataFrame,
    y_raw: np.ndarray,
    folds: np.ndarray,
    n_folds: int,
    ctx: AuditContext,
    classes: tuple[Any, ...],
    ref: tuple[pl.DataFrame, np.ndarray] | None,
    reason: str,
) -> tuple[tuple[Any, ...] | None, str]:
    """Out-of-fold predictions of clones of the user's model: (result, reason), the
    result None (and the reason why) when refitting fails."""
    regression = ctx.task == "regression"
    try:
        out, out_ref = _fit_predict_clone(
            est, X, y_raw, folds, n_folds, ctx, None if regression else list(classes), ref
        )
    except Exception as exc:
        msg = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else ""
        why = f"refitting your model failed ({type(exc).__name__}: {msg})".replace(": )", ")")
        return None, why
    name = type(est).__name__
    return (out, out_ref, f"{n_folds}-fold clones of your model ({name})", "clone", ""), reason


def _default_fit(
    X: pl.DataFrame,
    ref: tuple[Any, ...] | None,
    ctx: AuditContext,
    y: np.ndarray,
    folds: np.ndarray,
    n_folds: int,
    n_classes: int,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Out-of-fold predictions of the default model (and of the reference rows)."""
    if ref is not None:
        # one encoding for both, so a category has the same code in each
        both, cat_mask = _encode_for_default(pl.concat([X, ref[1]], how="vertical_relaxed"), ctx)
        Xd, ref_enc = both[: X.height], (both[X.height :], ref[2])
    else:
        Xd, cat_mask = _encode_for_default(X, ctx)
        ref_enc = None
    regression = ctx.task == "regression"
    return _fit_predict_default(
        Xd, cat_mask, y, folds, n_folds, n_classes, regression, ctx.settings.seed, ref_enc
    )


def _normalized(p: np.ndarray) -> np.ndarray:
    """Class probabilities clipped at 0 and rescaled to sum to 1 (uniform if all 0)."""
    p = np.clip(p, 0.0, None)
    sums = p.sum(axis=1, keepdims=True)
    return np.where(sums > 0, p / np.where(sums > 0, sums, 1), 1.0 / p.shape[1])
