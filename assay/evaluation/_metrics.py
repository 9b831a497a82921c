"""Metric functions, computed for many weightings of the same rows at once.

Every metric here is written against a matrix of row weights ``W`` of shape
``(B, n)``: row ``b`` of the result is the metric under weights ``W[b]``. With
one row of ones it is the ordinary point estimate (which matches
``sklearn.metrics`` to floating-point precision); with bootstrap resample
counts it is the whole bootstrap distribution in a few matrix products.

Additive metrics (accuracy, precision, recall, F1, Brier, log loss, MAE, RMSE,
R², MAPE) are weighted sums ``W @ V`` of per-row values. Ranking metrics
(ROC-AUC, average precision; :mod:`assay.evaluation._ranking`) sort the scores
once and take cumulative sums, counting ties exactly as scikit-learn does.

Example
-------
>>> import numpy as np
>>> data = EvalData.from_arrays("binary", ["a", "b", "b"], ["a", "b", "a"],
...                             np.array([[.8, .2], [.3, .7], [.6, .4]]),
...                             classes=["a", "b"], positive_class="b")
>>> round(compute_metrics(data)["roc_auc"], 3)
1.0
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from assay.evaluation._ranking import RankPlan

if TYPE_CHECKING:
    from assay.core.context import AuditContext

METRIC_LABELS: dict[str, str] = {
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced accuracy",
    "precision": "precision",
    "recall": "recall",
    "f1": "F1",
    "roc_auc": "ROC-AUC",
    "pr_auc": "PR-AUC",
    "log_loss": "log loss",
    "brier": "Brier score",
    "mae": "MAE",
    "rmse": "RMSE",
    "r2": "R²",
    "mape": "MAPE",
}
"""Display name of each metric, for sentences and charts."""

LABEL_METRICS = ("accuracy", "balanced_accuracy", "precision", "recall", "f1")
SCORE_METRICS = ("roc_auc", "pr_auc", "log_loss", "brier")
REGRESSION_METRICS = ("mae", "rmse", "r2", "mape")
LOWER_IS_BETTER = frozenset({"log_loss", "brier", "mae", "rmse", "mape"})
UNIT_METRICS = frozenset({*LABEL_METRICS, "roc_auc", "pr_auc", "brier"})
"""Metrics on a 0–1 scale (they can share one chart axis)."""

_EPS = float(np.finfo(np.float64).eps)
_NEAR_ZERO = 1e-3
"""MAPE is left out when a target is within this share of the median |target|,
or when targets take both signs."""


def encode_labels(values: Any, classes: Sequence[Any]) -> np.ndarray:
    """Positions of ``values`` in ``classes``, ``-1`` where a value is no class.

    Matching is robust to dtype: ``1``, ``1.0``, ``np.int64(1)`` and ``True``
    match the class ``1``; ``"1"`` matches ``1`` through its text.

    >>> encode_labels(np.array([1.0, 0.0, 2.0]), [0, 1]).tolist()
    [1, 0, -1]
    """
    inverse, uniques = pd.factorize(np.asarray(values, dtype=object).ravel(), sort=False)
    direct: dict[Any, int] = {}
    for i, c in enumerate(classes):
        direct.setdefault(_plain(c), i)
    by_text = {str(c): i for i, c in enumerate(classes)}
    lookup = np.full(len(uniques) + 1, -1, dtype=np.int64)
    for j, u in enumerate(uniques):
        u = _plain(u)
        code = direct.get(u) if _hashable(u) else None
        if code is None:
            code = by_text.get(str(u))
        if code is None:
            try:
                code = direct.get(float(u))
            except (TypeError, ValueError):
                code = None
        lookup[j] = -1 if code is None else code
    return lookup[inverse]  # inverse == -1 (missing) picks the trailing -1


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _hashable(v: Any) -> bool:
    try:
        hash(v)
    except TypeError:
        return False
    return True


@dataclass(frozen=True, eq=False)
class EvalData:
    """True and predicted values of one split, encoded for the metric kernels.

    Attributes
    ----------
    task
        ``"binary"``, ``"multiclass"`` or ``"regression"``.
    y, pred
        Class positions (``int``; ``-1`` for a prediction that is no class)
        or, for regression, float targets and predictions.
    proba
        One column per class, or ``None`` without scores.
    n_classes, positive
        Number of classes; position of the positive class (binary only).
    """

    task: str
    y: np.ndarray
    pred: np.ndarray
    proba: np.ndarray | None = None
    n_classes: int = 0
    positive: int | None = None

    @property
    def n(self) -> int:
        return int(self.y.shape[0])

    @functools.cached_property
    def fingerprint(self) -> str:
        """A digest of the content, to recognise the same data across checks."""
        h = hashlib.blake2b(digest_size=16)
        h.update(f"{self.task}|{self.n_classes}|{self.positive}|{self.n}".encode())
        for a in (self.y, self.pred, self.proba):
            if a is not None:
                h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()

    @classmethod
    def from_arrays(
        cls,
        task: str,
        y_true: Any,
        y_pred: Any,
        proba: np.ndarray | None = None,
        *,
        classes: Sequence[Any] = (),
        positive_class: Any = None,
    ) -> EvalData:
        """Encode raw labels (any dtype) against ``classes``."""
        if task == "regression":
            y = np.asarray(y_true, dtype=np.float64).ravel()
            pred = np.asarray(y_pred, dtype=np.float64).ravel()
            bad = int((~np.isfinite(pred)).sum())
            if bad:
                raise ValueError(f"predictions are missing (NaN) in {bad} row(s)")
            return cls(task, y, pred)
        y = encode_labels(y_true, classes)
        if (y < 0).any():
            raise ValueError("y_true holds values that are not in classes")
        pred = encode_labels(y_pred, classes)
        if proba is not None:
            proba = np.asarray(proba, dtype=np.float64)
            if proba.ndim != 2 or proba.shape != (y.shape[0], len(classes)):
                raise ValueError(
                    f"proba must have shape (n_rows, n_classes) = ({y.shape[0]}, "
                    f"{len(classes)}), got {proba.shape}"
                )
            bad = int((~np.isfinite(proba)).any(axis=1).sum())
            if bad:
                raise ValueError(f"class scores are missing (NaN) in {bad} row(s)")
        positive = None
        if task == "binary":
            code = -1 if positive_class is None else encode_labels([positive_class], classes)[0]
            positive = int(code) if code >= 0 else len(classes) - 1
        return cls(task, y, pred, proba, len(classes), positive)


def available_metrics(data: EvalData) -> tuple[str, ...]:
    """Metrics that can be computed for ``data`` (its task, scores, targets)."""
    if data.task == "regression":
        return REGRESSION_METRICS if _mape_defined(data.y) else REGRESSION_METRICS[:3]
    return LABEL_METRICS + (SCORE_METRICS if data.proba is not None else ())


def _mape_defined(y: np.ndarray) -> bool:
    """MAPE needs targets of one sign, none near zero (a percentage of ~0 explodes)."""
    if y.size == 0 or (y.min() < 0 < y.max()):
        return False
    absy = np.abs(y)
    return bool(absy.min() > _NEAR_ZERO * np.median(absy))


class MetricPlan:
    """Per-row values and score orderings of ``data``, prepared once.

    Calling the plan with weights ``(B, n)`` returns ``{metric: array (B,)}``.
    """

    def __init__(self, data: EvalData, names: Sequence[str] | None = None) -> None:
        self.data = data
        self.names = tuple(names) if names is not None else available_metrics(data)
        unknown = set(self.names) - set(available_metrics(data))
        if unknown:
            raise ValueError(
                f"metric(s) {sorted(unknown)} are not available for this data; "
                f"available: {', '.join(available_metrics(data))}"
            )
        cols: dict[str, np.ndarray] = {"one": np.ones(data.n)}
        d = data
        if d.task == "regression":
            err = d.y - d.pred
            yc = d.y - d.y.mean() if d.n else d.y
            cols.update(abs=np.abs(err), sq=err**2, yc=yc, yc2=yc**2)
            if "mape" in self.names:
                cols["ape"] = np.abs(err) / np.maximum(np.abs(d.y), _EPS)
        else:
            cols["correct"] = (d.y == d.pred).astype(float)
            for k in range(d.n_classes):
                cols[f"t{k}"] = (d.y == k).astype(float)
                cols[f"p{k}"] = (d.pred == k).astype(float)
                cols[f"tp{k}"] = ((d.y == k) & (d.pred == k)).astype(float)
            if d.proba is not None:
                p_true = d.proba[np.arange(d.n), d.y]
                cols["logloss"] = -np.log(np.clip(p_true, _EPS, 1 - _EPS))
                onehot = np.eye(d.n_classes)[d.y]
                if d.task == "binary":
                    cols["brier"] = (d.proba[:, d.positive] - onehot[:, d.positive]) ** 2
                else:
                    cols["brier"] = ((d.proba - onehot) ** 2).sum(axis=1)
        self._index = {k: i for i, k in enumerate(cols)}
        self._V = np.column_stack(list(cols.values())) if d.n else np.zeros((0, len(cols)))
        self._ranks: list[RankPlan] = []
        if d.proba is not None and {"roc_auc", "pr_auc"} & set(self.names):
            ks = [d.positive] if d.task == "binary" else range(d.n_classes)
            self._ranks = [RankPlan(d.y == k, d.proba[:, k]) for k in ks]

    def __call__(self, weights: np.ndarray) -> dict[str, np.ndarray]:
        weights = np.atleast_2d(np.asarray(weights))
        S = weights.astype(np.float64, copy=False) @ self._V
        W = S[:, self._index["one"]]
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.data.task == "regression":
                vals = self._regression(S, W)
            else:
                vals = self._classification(S, W, weights)
        return {name: vals[name] for name in self.names}

    def _col(self, S: np.ndarray, name: str) -> np.ndarray:
        return S[:, self._index[name]]

    def _regression(self, S: np.ndarray, W: np.ndarray) -> dict[str, np.ndarray]:
        sse = self._col(S, "sq")
        sst = self._col(S, "yc2") - self._col(S, "yc") ** 2 / W
        # As scikit-learn: a constant target scores 1 when predicted exactly, else 0.
        r2 = np.where(sst > 0, 1 - sse / sst, np.where(sse > 0, 0.0, 1.0))
        vals = {"mae": self._col(S, "abs") / W, "rmse": np.sqrt(sse / W), "r2": r2}
        if "ape" in self._index:
            vals["mape"] = self._col(S, "ape") / W
        return vals

    def _classification(
        self, S: np.ndarray, W: np.ndarray, weights: np.ndarray
    ) -> dict[str, np.ndarray]:
        d = self.data
        K = d.n_classes
        t = np.column_stack([self._col(S, f"t{k}") for k in range(K)])
        p = np.column_stack([self._col(S, f"p{k}") for k in range(K)])
        tp = np.column_stack([self._col(S, f"tp{k}") for k in range(K)])
        # Zero division counts as 0, as scikit-learn's default does.
        prec = np.where(p > 0, tp / p, 0.0)
        rec = np.where(t > 0, tp / t, 0.0)
        f1 = np.where(t + p > 0, 2 * tp / (t + p), 0.0)
        present = t > 0
        vals = {
            "accuracy": self._col(S, "correct") / W,
            "balanced_accuracy": np.where(present, rec, 0.0).sum(1) / present.sum(1),
        }
        if d.task == "binary":
            k = d.positive
            vals.update(precision=prec[:, k], recall=rec[:, k], f1=f1[:, k])
        else:
            seen = (t + p) > 0  # macro average over classes true or predicted
            for name, v in (("precision", prec), ("recall", rec), ("f1", f1)):
                vals[name] = np.where(seen, v, 0.0).sum(1) / seen.sum(1)
        if d.proba is not None:
            vals["log_loss"] = self._col(S, "logloss") / W
            vals["brier"] = self._col(S, "brier") / W
            if self._ranks:
                ranked = [rank(weights) for rank in self._ranks]
                vals["roc_auc"] = _nanmean([r[0] for r in ranked])
                vals["pr_auc"] = _nanmean([r[1] for r in ranked])
        return vals


def _nanmean(arrays: list[np.ndarray]) -> np.ndarray:
    stack = np.vstack(arrays)
    ok = ~np.isnan(stack)
    with np.errstate(invalid="ignore"):
        return np.where(ok, stack, 0.0).sum(0) / ok.sum(0)


def compute_metrics(
    data: EvalData,
    names: Sequence[str] | None = None,
    *,
    sample_weight: np.ndarray | None = None,
) -> dict[str, float]:
    """Point estimates of ``names`` (default: all available) for ``data``.

    Parameters
    ----------
    data
        Encoded true and predicted values (:meth:`EvalData.from_arrays`).
    names
        Metric names; see :data:`METRIC_LABELS`.
    sample_weight
        Optional weight per row.

    Returns
    -------
    dict
        ``{metric: value}``; ``nan`` where a metric is undefined.
    """
    w = np.ones(data.n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    return {k: float(v[0]) for k, v in MetricPlan(data, names)(w[None, :]).items()}


def main_metric_name(ctx: AuditContext) -> str:
    """The metric the evaluation checks judge a model by.

    ROC-AUC (macro one-vs-rest for multiclass) when class scores exist,
    balanced accuracy otherwise; R² for regression.
    """
    if ctx.task == "regression":
        return "r2"
    return "roc_auc" if ctx.has_scores else "balanced_accuracy"


# -- calibration --------------------------------------------------------------


def equal_mass_bins(prob: Any, *, n_bins: int = 10) -> np.ndarray:
    """Bin index of each probability, with bins holding about equal numbers of rows.

    Bin edges are quantiles of ``prob``; tied probabilities always share a bin,
    so heavy ties give fewer (larger) bins.

    >>> equal_mass_bins([0.1, 0.2, 0.3, 0.4], n_bins=2).tolist()
    [0, 0, 1, 1]
    """
    prob = np.asarray(prob, dtype=np.float64)
    if prob.size == 0:
        return np.zeros(0, dtype=np.int64)
    inner = np.unique(np.quantile(prob, np.linspace(0, 1, n_bins + 1)[1:-1], method="linear"))
    bins = np.searchsorted(inner, prob, side="left")
    # Renumber the bins actually used 0..m-1.
    _, bins = np.unique(bins, return_inverse=True)
    return bins.astype(np.int64)


class CalibrationPlan:
    """Expected and maximum calibration error, for many row weightings at once.

    Bins are fixed from the unweighted data; ``ece = Σ_b |Σ w (p − y)| / Σ w``. The
    debiased ECE takes each bin's sampling variance under perfect calibration
    (``Σ w p(1 − p)``) out of its squared gap: ``Σ_b sqrt(max(gap_b² − var_b, 0)) / Σ w``.
    """

    def __init__(self, event: Any, prob: Any, *, n_bins: int = 10) -> None:
        self.event = np.asarray(event, dtype=np.float64)
        self.prob = np.asarray(prob, dtype=np.float64)
        self.bins = equal_mass_bins(self.prob, n_bins=n_bins)
        self.n_used = int(self.bins.max()) + 1 if self.bins.size else 0
        member = np.zeros((self.prob.size, self.n_used))
        member[np.arange(self.prob.size), self.bins] = 1.0
        self._V = np.column_stack(
            [
                member * (self.prob - self.event)[:, None],
                member,
                member * (self.prob * (1.0 - self.prob))[:, None],
            ]
        )

    def __call__(self, weights: np.ndarray) -> dict[str, np.ndarray]:
        weights = np.atleast_2d(np.asarray(weights))
        S = weights.astype(np.float64, copy=False) @ self._V
        m = self.n_used
        gap, count, var = np.abs(S[:, :m]), S[:, m : 2 * m], S[:, 2 * m :]
        with np.errstate(divide="ignore", invalid="ignore"):
            total = count.sum(1)
            ece = gap.sum(1) / total
            mce = np.where(count > 0, gap / count, -np.inf).max(1)
            debiased = np.sqrt(np.maximum(gap * gap - var, 0.0)).sum(1) / total
        return {"ece": ece, "max_calibration_error": mce, "ece_debiased": debiased}

    def table(self) -> list[dict[str, float | int]]:
        """Reliability bins: range, mean predicted probability, observed rate, count."""
        out: list[dict[str, float | int]] = []
        for b in range(self.n_used):
            sel = self.bins == b
            p = self.prob[sel]
            out.append(
                {
                    "lower": float(p.min()),
                    "upper": float(p.max()),
                    "mean_predicted": float(p.mean()),
                    "observed": float(self.event[sel].mean()),
                    "count": int(sel.sum()),
                }
            )
        return out


def calibration_target(data: EvalData) -> tuple[np.ndarray, np.ndarray]:
    """The event and probability whose calibration is judged.

    Binary: the positive class and its probability. Multiclass: whether the
    top-scored class is right, and its probability (top-label confidence).
    """
    if data.proba is None:
        raise ValueError("calibration needs class probabilities")
    if data.task == "binary":
        return (data.y == data.positive).astype(float), data.proba[:, data.positive]
    top = np.argmax(data.proba, axis=1)
    return (top == data.y).astype(float), data.proba[np.arange(data.n), top]


def expected_calibration_error(
    y_event: Any, y_prob: Any, *, n_bins: int = 10, sample_weight: Any = None
) -> float:
    """Expected calibration error over equal-mass bins.

    The weighted mean, over bins, of ``|mean predicted probability − observed
    rate|``, each bin weighted by its share of rows.

    >>> round(expected_calibration_error([0, 1, 0, 1], [0.2, 0.8, 0.2, 0.8], n_bins=2), 6)
    0.2
    """
    plan = CalibrationPlan(y_event, y_prob, n_bins=n_bins)
    w = np.ones(plan.prob.size) if sample_weight is None else np.asarray(sample_weight, float)
    return float(plan(w[None, :])["ece"][0])
