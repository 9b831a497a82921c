"""What the unsupervised checks read: a numeric view of the data, the cluster
assignment and the anomaly scores, prepared once per split and cached.

Rows are put in a canonical order (sorted by their values) before anything is
sampled or resampled, so that a check's numbers do not move when the input rows
are shuffled; row positions reported in findings are mapped back to the input.

A clustering model is anything with ``predict``, ``fit_predict`` or ``labels_``;
an anomaly detector anything with ``decision_function``, ``score_samples`` or
``predict`` (-1 = anomaly, as in scikit-learn). Without a model, the cluster is
read from ``--prediction`` and the anomaly score from ``--score`` (higher means
more anomalous) and/or the flag from ``--prediction``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from assay.core.registry import SkipCheck
from assay.errors import ModelError, SchemaError

UNSUPERVISED_TASKS = ("clustering", "anomaly")
_MAX_LEVELS = 10  # one-hot levels kept per categorical column (the rest pooled)
_CLUSTER_METHODS = ("predict", "fit_predict", "labels_")
_ANOMALY_METHODS = ("decision_function", "score_samples", "predict")


def check_unsupervised_model(model: Any, task: str) -> None:
    """Refuse a model that cannot give clusters (or anomaly scores), in one line."""
    wanted = _CLUSTER_METHODS if task == "clustering" else _ANOMALY_METHODS
    if not any(hasattr(model, m) for m in wanted):
        raise ModelError(
            f"model of type {type(model).__name__} has none of {', '.join(wanted)}; "
            f"a {task} model needs one of them (or give a column with --prediction/--score)"
        )


@dataclass(frozen=True)
class View:
    """A numeric view of one split, rows in canonical order.

    ``X`` is standardised (each column centred and scaled by the reference
    split's mean and standard deviation), ``columns`` names its columns
    (``colour=red`` for a one-hot level), ``source`` the data column each
    comes from, and ``order[i]`` the input row position of canonical row ``i``.
    """

    X: np.ndarray
    columns: tuple[str, ...]
    source: tuple[str, ...]
    order: np.ndarray
    mean: np.ndarray
    scale: np.ndarray

    def raw_means(self, rows: np.ndarray) -> np.ndarray:
        """Column means of ``rows`` in the data's own units (shares for a level)."""
        return self.X[rows].mean(axis=0) * self.scale + self.mean


def metric_features(ctx: Any) -> list[str]:
    """The columns the checks measure on: the model's own features when it names
    them, else every feature but the target, sensitive and prediction columns."""
    names = ctx.model.feature_names if ctx.model is not None else None
    skip = {ctx.target, *ctx.sensitive, *ctx.schema.prediction_columns}
    if names is not None:
        return list(names)
    types = ctx.schema.types
    return [
        c
        for c in ctx.schema.features
        if c not in skip and types.get(c) not in ("identifier", "text", "datetime")
    ]


def _encode(df: pl.DataFrame, ref: pl.DataFrame, cols: list[str], types: Any) -> tuple:
    blocks: list[np.ndarray] = []
    ref_blocks: list[np.ndarray] = []
    names: list[str] = []
    source: list[str] = []
    for c in cols:
        kind = types.get(c)
        s, r = df.get_column(c), ref.get_column(c)
        if kind in ("numeric", "boolean") and s.dtype != pl.String:
            blocks.append(s.cast(pl.Float64).to_numpy().astype(float))
            ref_blocks.append(r.cast(pl.Float64).to_numpy().astype(float))
            names.append(c)
            source.append(c)
            continue
        s, r = s.cast(pl.String).fill_null("(missing)"), r.cast(pl.String).fill_null("(missing)")
        levels = r.value_counts(sort=True).get_column(c).to_list()
        levels = sorted(levels[:_MAX_LEVELS], key=str) if len(levels) > 1 else levels
        for lv in levels[1:] if len(levels) > 1 else levels:  # drop one level: no collinearity
            blocks.append((s == lv).cast(pl.Float64).to_numpy())
            ref_blocks.append((r == lv).cast(pl.Float64).to_numpy())
            names.append(f"{c}={lv}")
            source.append(c)
    if not blocks:
        raise SkipCheck("no numeric or categorical feature columns to measure on")
    X, R = np.column_stack(blocks), np.column_stack(ref_blocks)
    med = np.nanmedian(np.where(np.isfinite(R), R, np.nan), axis=0)
    med = np.where(np.isfinite(med), med, 0.0)
    X = np.where(np.isfinite(X), X, med)
    R = np.where(np.isfinite(R), R, med)
    mu, sd = R.mean(axis=0), R.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    return (X - mu) / sd, names, source, mu, sd


def canonical_order(*arrays: np.ndarray) -> np.ndarray:
    """Row order by value (last key first), so that shuffled input gives the same order."""
    keys = []
    for a in arrays:
        a = np.asarray(a)
        if a.ndim == 1:
            a = a.reshape(-1, 1)
        for j in range(a.shape[1]):
            col = a[:, j]
            if col.dtype.kind not in "fiub":
                col = np.unique(col.astype(str), return_inverse=True)[1]
            keys.append(col)
    return np.lexsort(keys[::-1]) if keys else np.zeros(0, dtype=int)


def view(ctx: Any, split: str) -> View:
    """The standardised numeric view of ``split`` (cached on the context)."""
    key = f"unsup:view:{split}"
    cache = ctx._pred_cache
    if key in cache:
        return cache[key]
    cols = metric_features(ctx)
    if not cols:
        raise SkipCheck("no feature columns to measure on")
    ref = ctx.frame("test")
    X, names, source, mu, sd = _encode(ctx.frame(split), ref, cols, ctx.schema.types)
    raw = _raw_outputs(ctx, split)
    order = canonical_order(X, *[v for v in raw.values() if v is not None])
    out = View(
        X=X[order], columns=tuple(names), source=tuple(source), order=order, mean=mu, scale=sd
    )
    cache[key] = out
    return out


def _model_frame(ctx: Any, split: str) -> Any:
    X = ctx.features(split)
    names = ctx.model.feature_names
    if names is not None:
        X = X.select(names)
    return X.to_pandas()


def _call(model: Any, method: str, frame: Any) -> np.ndarray:
    try:
        out = np.asarray(getattr(model, method)(frame))
    except Exception as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"the model's {method} failed: {type(exc).__name__}: {msg}") from exc
    if out.shape[0] != len(frame):
        raise ModelError(
            f"the model's {method} returned {out.shape[0]} values for {len(frame)} rows"
        )
    return out.reshape(-1)


def _raw_outputs(ctx: Any, split: str) -> dict[str, np.ndarray | None]:
    """Clusters, or anomaly scores and flags, of ``split`` in input row order."""
    key = f"unsup:raw:{split}"
    cache = ctx._pred_cache
    if key in cache:
        return cache[key]
    df = ctx.frame(split)
    out: dict[str, np.ndarray | None] = {}
    model = ctx.model.model if ctx.model is not None else None
    if ctx.task == "clustering":
        out["labels"] = _clusters(ctx, split, df, model)
    else:
        out["score"], out["flag"] = _anomaly(ctx, split, df, model)
    cache[key] = out
    return out


def _clusters(ctx: Any, split: str, df: pl.DataFrame, model: Any) -> np.ndarray | None:
    if ctx.prediction_column is not None and ctx.prediction_column in df.columns:
        s = df.get_column(ctx.prediction_column)
        if s.null_count():
            raise SchemaError(
                f"cluster column {ctx.prediction_column!r} in {split} has {s.null_count()} "
                "missing value(s); give every row a cluster (use -1 for noise)"
            )
        return s.cast(pl.String).to_numpy().astype(str)
    if model is None:
        return None
    if hasattr(model, "predict"):
        labels = _call(model, "predict", _model_frame(ctx, split))
    elif hasattr(model, "fit_predict"):
        # Refit on this split: ``labels_`` belong to the rows the model was fitted on,
        # which a test split of the same length need not be.
        from sklearn.base import clone

        labels = _call(clone(model), "fit_predict", _model_frame(ctx, split))
    elif split == "test" and hasattr(model, "labels_") and len(model.labels_) == df.height:
        labels = np.asarray(model.labels_).reshape(-1)
    else:
        return None
    return labels.astype(str)


def _flag_values(s: pl.Series, name: str, split: str) -> np.ndarray:
    vals = s.drop_nulls().unique().to_list()
    if s.dtype == pl.Boolean:
        return s.fill_null(False).to_numpy().astype(bool)
    strs = {str(v).lower() for v in vals}
    if strs <= {"-1", "1", "-1.0", "1.0"}:
        return (s.cast(pl.Float64) == -1).fill_null(False).to_numpy()
    if strs <= {"0", "1", "0.0", "1.0", "true", "false"}:
        return s.cast(pl.String).str.to_lowercase().is_in(["1", "1.0", "true"]).to_numpy()
    raise SchemaError(
        f"anomaly flag column {name!r} in {split} has values {sorted(strs)[:5]}; "
        "give 1/0, True/False or -1 (anomaly)/1 (normal)"
    )


def _anomaly(ctx: Any, split: str, df: pl.DataFrame, model: Any) -> tuple:
    score = flag = None
    if ctx.score_columns and ctx.score_columns[0] in df.columns:
        s = df.get_column(ctx.score_columns[0]).cast(pl.Float64, strict=False)
        if s.null_count() or not np.isfinite(s.to_numpy()).all():
            raise SchemaError(
                f"anomaly score column {ctx.score_columns[0]!r} in {split} has missing or "
                "non-numeric values; give every row a number (higher = more anomalous)"
            )
        score = s.to_numpy().astype(float)
    if ctx.prediction_column is not None and ctx.prediction_column in df.columns:
        flag = _flag_values(df.get_column(ctx.prediction_column), ctx.prediction_column, split)
    if model is not None and score is None:
        frame = _model_frame(ctx, split)
        if hasattr(model, "decision_function"):
            d = _call(model, "decision_function", frame).astype(float)
            score = -d
            flag = d < 0 if flag is None else flag
        elif hasattr(model, "score_samples"):
            score = -_call(model, "score_samples", frame).astype(float)
        if flag is None and hasattr(model, "predict"):
            flag = _call(model, "predict", frame) == -1
    return score, flag


def clusters(ctx: Any, split: str) -> np.ndarray:
    """Cluster labels (strings) of ``split`` in canonical order; skip when none."""
    labels = _raw_outputs(ctx, split).get("labels")
    if labels is None:
        raise SkipCheck(
            f"no cluster assignment for the {split} data (give a model with predict, "
            "or the cluster column with --prediction)"
        )
    return labels[view(ctx, split).order]


def anomaly(ctx: Any, split: str, *, contamination: float) -> tuple[np.ndarray, np.ndarray]:
    """(score, flagged) of ``split`` in canonical order.

    Without a flag from the model or a column, rows whose score is above the
    test data's ``1 - contamination`` quantile are flagged.
    """
    raw = _raw_outputs(ctx, split)
    score, flag = raw.get("score"), raw.get("flag")
    if score is None and flag is None:
        raise SkipCheck(
            f"no anomaly scores for the {split} data (give a model with decision_function "
            "or score_samples, or a score column with --score)"
        )
    if flag is None:
        assert score is not None  # one of the two is given (checked just above)
        ref = _raw_outputs(ctx, "test")["score"]
        assert ref is not None  # the model or score column that scores this split scores test
        cut = float(np.quantile(ref, 1 - contamination)) if contamination > 0 else np.inf
        flag = score > cut
    if score is None:
        score = flag.astype(float)
    order = view(ctx, split).order
    return score[order], np.asarray(flag, dtype=bool)[order]


def sensitive_values(ctx: Any, split: str, column: str) -> np.ndarray:
    """A sensitive column of ``split`` as strings, canonical order."""
    s = ctx.frame(split).get_column(column).cast(pl.String).fill_null("(missing)")
    return s.to_numpy().astype(str)[view(ctx, split).order]


def anomaly_labels(ctx: Any, split: str) -> np.ndarray | None:
    """Known anomaly labels (True = anomaly) in canonical order, or ``None``."""
    y = ctx.labels(split)
    if y is None:
        return None
    classes = ctx.classes
    pos = ctx.settings.positive_label
    positive = next((c for c in classes if pos is not None and str(c) == str(pos)), classes[-1])
    return (np.asarray(y).astype(str) == str(positive))[view(ctx, split).order]


def refit_model(ctx: Any) -> Any | None:
    """The raw model when it can be cloned and refitted on the numeric view, else ``None``."""
    return ctx.model.model if ctx.model is not None else None


def model_frame(ctx: Any, split: str) -> Any:
    """The model's input frame of ``split``, canonical order (for refits)."""
    frame = _model_frame(ctx, split)
    return frame.iloc[view(ctx, split).order].reset_index(drop=True)


def prepare(ctx: Any) -> None:
    """Compute the clusters or scores of every split once, so that a model that
    cannot produce them is bad input (exit 2), not an error in each check."""
    for split in ("test", "current", "train"):
        if ctx.has(split):
            _raw_outputs(ctx, split)
    raw = _raw_outputs(ctx, "test")
    if all(v is None for v in raw.values()):
        what = "cluster assignment" if ctx.task == "clustering" else "anomaly score or flag"
        raise SchemaError(
            f"no {what} for the test data: give a fitted model, or the column holding it "
            "with --prediction (clusters, anomaly flags) or --score (anomaly scores)"
        )
