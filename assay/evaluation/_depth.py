"""Helpers shared by the in-depth checks (robustness, weak segments, ablation,
uncertainty) and by fairness: a row order that does not depend on how the
input was sorted, stated samples, model re-prediction in batches, and small
interval formulas.

Row order. Every random choice these checks make (which rows to sample, which
noise a row gets, which half of test calibrates a conformal predictor, which
rows a bootstrap resample draws) is made over the *canonical order* of the
test rows: the rows sorted by a seeded hash of their feature values. Shuffling
the input rows therefore changes no number, and the seed still changes them.

Example
-------
>>> [round(v, 3) for v in wilson(45, 50, 0.95)]
[0.786, 0.957]
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from assay.core.registry import SkipCheck
from assay.evaluation._metrics import EvalData, encode_labels
from assay.io.models import Prediction

if TYPE_CHECKING:
    from assay.core.context import AuditContext
    from assay.io.models import ModelAdapter

PREDICT_CHUNK_CELLS = 6_000_000
"""Most cells (rows × columns) sent to the model in one ``predict`` call."""


def _hashable(df: pl.DataFrame) -> pl.DataFrame:
    """Columns whose hash depends on their values only (not on dictionary codes)."""
    exprs = []
    for name, dtype in df.schema.items():
        if dtype in (pl.Categorical, pl.Object) or isinstance(dtype, pl.Enum):
            exprs.append(pl.col(name).cast(pl.String))
        else:
            exprs.append(pl.col(name))
    return df.select(exprs)


def target_codes(ctx: AuditContext, y: np.ndarray) -> np.ndarray:
    """Class positions (classification) or the float target (regression)."""
    if ctx.task == "regression":
        return np.asarray(y, dtype=np.float64)
    return encode_labels(y, ctx.classes)


def canonical_order(ctx: AuditContext, split: str = "test") -> np.ndarray:
    """Positions of the rows of ``split`` sorted by a seeded hash of their features.

    The same rows give the same order whatever order they came in; ties
    (rows with equal features) are broken by the target.
    """
    cache = getattr(ctx, "_depth_order_cache", None)
    if cache is None:
        cache = {}
        # A cache for this audit only, kept on its context (not a declared field).
        ctx._depth_order_cache = cache  # type: ignore[attr-defined]
    if split in cache:
        return cache[split]
    df = ctx.frame(split)
    cols = [c for c in ctx.schema.features if c in df.columns]
    cols += [c for c in ctx.sensitive if c in df.columns and c not in cols]
    if cols:
        h = _hashable(df.select(cols)).hash_rows(seed=ctx.settings.seed).to_numpy()
    else:
        h = np.zeros(df.height, dtype=np.uint64)
    y = ctx.labels(split)
    # np.lexsort sorts by its last key first: the hash, then the target.
    keys = [h] if y is None else [target_codes(ctx, y), h]
    order = np.lexsort(keys)
    cache[split] = order
    return order


def sample_positions(ctx: AuditContext, max_rows: int, split: str = "test") -> np.ndarray:
    """Positions of at most ``max_rows`` rows of ``split``: the first of the canonical order
    (a seeded random sample, the same for the same rows in any order)."""
    order = canonical_order(ctx, split)
    return order[: max(1, int(max_rows))]


def model_features(ctx: AuditContext) -> list[str]:
    """The columns the model is given: schema features, narrowed to the model's own list."""
    features = list(ctx.schema.features)
    if ctx.model is not None and ctx.model.feature_names is not None:
        used = set(ctx.model.feature_names)
        features = [c for c in features if c in used]
    return features


def require_model(ctx: AuditContext, what: str) -> ModelAdapter:
    """The model adapter, or a skip saying why predictions given as columns are not enough."""
    if ctx.model is None:
        raise SkipCheck(
            f"{what} needs the model itself to predict on changed rows; predictions given as "
            "columns cannot be recomputed (pass model=...)"
        )
    return ctx.model


def predict_frames(ctx: AuditContext, frames: Sequence[pl.DataFrame]) -> list[Prediction]:
    """Predict on several frames of the same columns with as few model calls as possible."""
    if not frames:
        return []
    model = require_model(ctx, "this check")
    classes = ctx.classes if ctx.task in ("binary", "multiclass") else None
    sizes = [f.height for f in frames]
    width = max(1, frames[0].width)
    per_call = max(1, PREDICT_CHUNK_CELLS // width)
    labels: list[np.ndarray] = []
    probas: list[np.ndarray] = []
    batch: list[pl.DataFrame] = []
    rows = 0

    def flush() -> None:
        nonlocal batch, rows
        if not batch:
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pred = model.predict(pl.concat(batch, how="vertical_relaxed"), classes)
        labels.append(np.asarray(pred.labels))
        if pred.proba is not None:
            probas.append(pred.proba)
        batch, rows = [], 0

    for f in frames:
        batch.append(f)
        rows += f.height
        if rows >= per_call:
            flush()
    flush()
    all_labels = np.concatenate(labels)
    all_proba = np.concatenate(probas) if probas and len(probas) == len(labels) else None
    out = []
    start = 0
    for size in sizes:
        stop = start + size
        out.append(
            Prediction(
                labels=all_labels[start:stop],
                proba=None if all_proba is None else all_proba[start:stop],
            )
        )
        start = stop
    return out


def eval_data(ctx: AuditContext, y: np.ndarray, pred: Prediction) -> EvalData:
    """Encode true values and a prediction for the metric kernels."""
    proba = pred.proba if ctx.task in ("binary", "multiclass") else None
    return EvalData.from_arrays(
        ctx.task or "regression",
        y,
        pred.labels,
        proba,
        classes=ctx.classes,
        positive_class=ctx.positive_class,
    )


def wilson(k: float, n: float, confidence: float) -> tuple[float | None, float | None]:
    """Wilson score interval of a proportion ``k / n``."""
    if n <= 0:
        return None, None
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + confidence / 2))
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def changed(ctx: AuditContext, base: Prediction, other: Prediction, tol: float) -> np.ndarray:
    """Which rows' prediction changed: another label, or (regression) a move over ``tol``."""
    if ctx.task == "regression":
        a = np.asarray(base.labels, dtype=np.float64)
        b = np.asarray(other.labels, dtype=np.float64)
        return np.abs(a - b) > tol
    return np.asarray(base.labels) != np.asarray(other.labels)


def score_change(ctx: AuditContext, base: Prediction, other: Prediction) -> np.ndarray:
    """Per-row size of the change in what the model outputs: the largest class-probability
    change, or the absolute change of a regression prediction."""
    if ctx.task == "regression":
        return np.abs(
            np.asarray(base.labels, dtype=np.float64) - np.asarray(other.labels, dtype=np.float64)
        )
    if base.proba is not None and other.proba is not None:
        return np.abs(base.proba - other.proba).max(axis=1)
    return changed(ctx, base, other, 0.0).astype(np.float64)


def numeric_spread(values: np.ndarray) -> float:
    """Standard deviation of the finite values (0 when fewer than two)."""
    v = values[np.isfinite(values)]
    return float(v.std()) if v.size > 1 else 0.0


def fmt_value(v: Any) -> str:
    """A number for a predicate or a sentence: at most four significant digits."""
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if f.is_integer() and abs(f) < 1e15:
            return str(int(f))
        return f"{f:.4g}"
    return str(v)


def cut_points(raw: np.ndarray, lo: float, hi: float, integer: bool) -> list[float]:
    """Quantile cut points rounded so that they read well and stay apart.

    Two significant digits read best (``age < 38``, ``income >= 52000``), but they merge
    the quantiles of a column whose values sit far from zero (longitude -122.3, -121.9 and
    -118.6 all become -120). Each cut is therefore kept with the precision of its distance
    to the neighbouring quantiles (at most four significant digits, as printed)."""
    out = []
    pts = np.concatenate([[lo], raw, [hi]])
    for i, v in enumerate(raw, start=1):
        v = float(v)
        if v == 0 or not np.isfinite(v):
            out.append(v)
            continue
        gaps = [g for g in (v - pts[i - 1], pts[i + 1] - v) if g > 0]
        digits = -math.floor(math.log10(abs(v))) + 1  # two significant digits
        if gaps:
            digits = max(digits, -math.floor(math.log10(min(gaps))))
        digits = min(digits, -math.floor(math.log10(abs(v))) + 3)
        r = float(round(v, digits))
        out.append(float(round(r)) if integer else r)
    return out


def numeric_groups(values: np.ndarray, n_bins: int) -> tuple[list[float], list[str]]:
    """Cut points and names of the groups of a numeric attribute (quantile bins).

    The one binning of numeric sensitive attributes: fairness measures these
    groups and representativeness counts them, so both name the same groups
    (``< 28``, ``28–37``, ..., ``>= 48``). A row's group is
    ``np.searchsorted(edges, value, side="right")``.

    >>> numeric_groups(np.arange(100.0), 4)
    ([25.0, 50.0, 74.0], ['< 25', '25–50', '50–74', '>= 74'])
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return [], ["all"]
    integer = bool(np.all(v == np.round(v)))
    q = np.quantile(v, np.linspace(0, 1, int(n_bins) + 1)[1:-1])
    return groups_from_quantiles(q, float(v.min()), float(v.max()), integer)


def groups_from_quantiles(
    q: np.ndarray, lo: float, hi: float, integer: bool
) -> tuple[list[float], list[str]]:
    """:func:`numeric_groups` from the inner quantiles ``q`` (``np.quantile``, linear),
    the smallest and largest finite values, and whether all values are integers: for
    callers holding a column's value counts rather than its values (the Dask engine)."""
    edges = sorted(set(cut_points(q, lo, hi, integer)))
    edges = [e for e in edges if lo < e <= hi]
    names = [f"< {fmt_value(edges[0])}"] if edges else ["all"]
    names += [f"{fmt_value(a)}–{fmt_value(b)}" for a, b in pairwise(edges)]
    if edges:
        names.append(f">= {fmt_value(edges[-1])}")
    return edges, names
