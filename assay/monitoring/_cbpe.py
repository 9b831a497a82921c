"""Confidence-based performance estimation (CBPE), as NannyML describes it.

A classifier's scores are first calibrated on a labeled reference set, so that
among rows scored ``p`` a share ``p`` are positive. On unlabeled current data,
each row's calibrated probability then stands in for its unknown label: the
row contributes ``p`` of a true positive (or ``1 − p`` of a true negative) to
the confusion matrix, and accuracy, precision, recall, F1 and ROC-AUC follow as
*expected* values. The estimate holds while the relation between features and
target (concept) does not change; it follows covariate shift, including shift
toward regions where the model is less sure.

Intervals
---------
The interval is a bootstrap over current rows in which each resample also
draws its labels from the calibrated probabilities (``y ~ Bernoulli(p)``, or
categorical for multiclass). It is therefore an interval for the *realized*
metric on a window like this one: it covers which rows arrived and which
labels they will turn out to have, given calibrated scores. It does not cover
error of the calibrator itself, nor concept shift.

Everything is vectorized over resamples (``(b, n)`` matrices, chunked).

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> s_ref = rng.uniform(size=2000); y_ref = (rng.uniform(size=2000) < s_ref).astype(int)
>>> out = estimate_performance(s_ref, y_ref, rng.uniform(size=500), classes=[0, 1],
...                            positive_class=1, n_bootstrap=50, seed=0)
>>> round(out["metrics"]["estimated_accuracy"], 1)
0.8
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from assay.evaluation._bootstrap import percentile_interval, resample_counts
from assay.evaluation._metrics import EvalData, compute_metrics, encode_labels

ESTIMATED_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")
"""Metrics CBPE estimates (binary: of the positive class; multiclass: macro)."""

Calibration = Literal["auto", "isotonic", "sigmoid"]
ISOTONIC_MIN_ROWS = 500
"""``auto`` calibrates with isotonic regression from this many reference rows,
with Platt (sigmoid) scaling below it."""

_MAX_CELLS = 2_000_000


# -- calibration --------------------------------------------------------------


@dataclass(frozen=True)
class Calibrator:
    """One-vs-rest calibration of class scores fitted on reference labels."""

    method: str
    models: tuple[Any, ...]
    columns: tuple[int, ...]
    n_classes: int

    def transform(self, proba: np.ndarray) -> np.ndarray:
        """Calibrated probabilities, shape ``(n, n_classes)``, rows summing to 1."""
        proba = np.asarray(proba, dtype=np.float64)
        if self.n_classes == 2:
            k = self.columns[0]
            p = np.clip(_apply(self.method, self.models[0], proba[:, k]), 0.0, 1.0)
            out = np.empty_like(proba)
            out[:, k], out[:, 1 - k] = p, 1.0 - p
            return out
        cols = [
            np.clip(_apply(self.method, m, proba[:, k]), 0.0, 1.0)
            for m, k in zip(self.models, self.columns, strict=True)
        ]
        out = np.column_stack(cols)
        total = out.sum(axis=1, keepdims=True)
        ok = total[:, 0] > 0
        out[ok] /= total[ok]
        out[~ok] = proba[~ok]  # every calibrator said 0: keep the raw scores
        return out


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _apply(method: str, model: Any, s: np.ndarray) -> np.ndarray:
    if method == "isotonic":
        return model.predict(s)
    return model.predict_proba(_logit(s)[:, None])[:, 1]


def _fit_one(method: str, s: np.ndarray, event: np.ndarray) -> Any:
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        return IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(s, event)
    from sklearn.linear_model import LogisticRegression

    if event.min() == event.max():  # one class only: a constant calibrator
        return _Constant(float(event[0]))
    return LogisticRegression(C=1e6, max_iter=1000).fit(_logit(s)[:, None], event)


class _Constant:
    def __init__(self, value: float) -> None:
        self.value = value

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return np.column_stack([np.full(len(x), 1 - self.value), np.full(len(x), self.value)])


def fit_calibrator(
    proba: np.ndarray, y: np.ndarray, *, positive: int | None, method: Calibration = "auto"
) -> Calibrator:
    """Fit one-vs-rest calibrators of ``proba`` (``(n, K)``) on class codes ``y``.

    Binary tasks (``K == 2``) calibrate the ``positive`` column only.
    """
    proba = np.asarray(proba, dtype=np.float64)
    n, k = proba.shape
    chosen = method if method != "auto" else ("isotonic" if n >= ISOTONIC_MIN_ROWS else "sigmoid")
    if chosen not in ("isotonic", "sigmoid"):
        raise ValueError(f"calibration must be 'auto', 'isotonic' or 'sigmoid', got {method!r}")
    columns = (positive if positive is not None else 1,) if k == 2 else tuple(range(k))
    models = tuple(_fit_one(chosen, proba[:, c], (y == c).astype(float)) for c in columns)
    return Calibrator(chosen, models, columns, k)


# -- the metric kernel ----------------------------------------------------------


class ExpectedPlan:
    """Metrics of fixed predictions against label matrices, for many row weightings.

    ``pred`` holds predicted class codes (``-1``: no class, never right) and
    ``scores`` the raw scores used for ranking (ROC-AUC). Calling the plan with
    weights ``W (b, n)`` and labels ``T (b, n, K)`` (one-hot, or calibrated
    probabilities for expected values) returns ``{metric: (b,) array}``.
    """

    def __init__(self, pred: np.ndarray, scores: np.ndarray, positive: int | None) -> None:
        n, k = scores.shape
        self.k = k
        self.positive = positive
        self.onehot = np.zeros((n, k))
        ok = pred >= 0
        self.onehot[np.flatnonzero(ok), pred[ok]] = 1.0
        self.rank_classes = [positive] if k == 2 else list(range(k))
        self.orders = []
        for c in self.rank_classes:
            order = np.argsort(scores[:, c], kind="stable")
            s = scores[order, c]
            starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
            self.orders.append((order, starts))

    def __call__(self, W: np.ndarray, T: np.ndarray) -> dict[str, np.ndarray]:
        tot = W.sum(1)
        wt = W[:, :, None] * T  # (b, n, K)
        t = wt.sum(1)  # expected true count per class
        npred = W @ self.onehot
        tp = np.einsum("bnk,nk->bk", wt, self.onehot)
        with np.errstate(divide="ignore", invalid="ignore"):
            prec = np.where(npred > 0, tp / npred, 0.0)
            rec = np.where(t > 0, tp / t, 0.0)
            f1 = np.where(t + npred > 0, 2 * tp / (t + npred), 0.0)
            out = {"accuracy": tp.sum(1) / tot}
            if self.k == 2:
                c = self.positive
                out.update(precision=prec[:, c], recall=rec[:, c], f1=f1[:, c])
            else:
                seen = (t + npred) > 0
                for name, v in (("precision", prec), ("recall", rec), ("f1", f1)):
                    out[name] = np.where(seen, v, 0.0).sum(1) / seen.sum(1)
            aucs = []
            for c, (order, starts) in zip(self.rank_classes, self.orders, strict=True):
                pos = np.add.reduceat(wt[:, order, c], starts, axis=1)
                neg = np.add.reduceat((W - wt[:, :, c])[:, order], starts, axis=1)
                below = np.cumsum(neg, axis=1) - neg
                num = (pos * (below + 0.5 * neg)).sum(1)
                aucs.append(num / (pos.sum(1) * neg.sum(1)))
            out["roc_auc"] = np.nanmean(np.vstack(aucs), axis=0) if len(aucs) > 1 else aucs[0]
        return out


def _draw_labels(rng: np.random.Generator, P: np.ndarray, b: int) -> np.ndarray:
    """``b`` draws of one label per row from probabilities ``P (n, K)``, one-hot."""
    n, k = P.shape
    u = rng.random((b, n, 1))
    codes = (u > np.cumsum(P, axis=1)[None, :, :-1]).sum(2)
    return np.eye(k)[codes]


def expected_metrics(
    plan: ExpectedPlan,
    P: np.ndarray,
    *,
    n_bootstrap: int,
    seed: int,
    confidence: float = 0.95,
    stream: int = 2,
) -> dict[str, tuple[float | None, float | None, float | None]]:
    """``{metric: (estimate, low, high)}`` from calibrated probabilities ``P``."""
    n, k = P.shape
    point = {m: float(v[0]) for m, v in plan(np.ones((1, n)), P[None]).items()}
    samples: dict[str, list[np.ndarray]] = {m: [] for m in point}
    if n_bootstrap > 0 and n > 0:
        rng = np.random.default_rng([seed, stream, 17])
        per = max(1, _MAX_CELLS // (n * k))
        for counts in resample_counts(n, n_bootstrap, seed=seed, stream=stream):
            for lo in range(0, counts.shape[0], per):
                W = counts[lo : lo + per].astype(np.float64)
                for m, v in plan(W, _draw_labels(rng, P, W.shape[0])).items():
                    samples[m].append(v)
    out: dict[str, tuple[float | None, float | None, float | None]] = {}
    for m, value in point.items():
        estimate = value if np.isfinite(value) else None
        if samples[m]:
            low, high = percentile_interval(
                np.concatenate(samples[m]), estimate, confidence=confidence
            )
        else:
            low = high = None
        out[m] = (estimate, low, high)
    return out


# -- the plain function the service calls ----------------------------------------


def _as_proba(scores: Any, n_classes: int, positive: int | None) -> np.ndarray:
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim == 1 or (s.ndim == 2 and s.shape[1] == 1):
        if n_classes != 2:
            raise ValueError(
                f"scores must have one column per class ({n_classes}) for a multiclass task"
            )
        p = s.reshape(-1)
        assert positive is not None  # estimate_performance sets it for two classes
        out = np.empty((p.size, 2))
        out[:, positive], out[:, 1 - positive] = p, 1 - p
        return out
    if s.ndim != 2 or s.shape[1] != n_classes:
        raise ValueError(f"scores must have shape (n_rows, {n_classes}), got {s.shape}")
    if not np.isfinite(s).all():
        raise ValueError("scores hold missing or infinite values")
    return s


def _pred_codes(pred: Any, proba: np.ndarray, classes: Sequence[Any]) -> np.ndarray:
    if pred is None:
        return np.argmax(proba, axis=1).astype(np.int64)
    return encode_labels(pred, classes)


def estimate_performance(
    reference_scores: Any,
    reference_labels: Any,
    current_scores: Any,
    *,
    classes: Sequence[Any],
    positive_class: Any = None,
    n_bootstrap: int = 200,
    seed: int = 0,
    confidence: float = 0.95,
    calibration: Calibration = "auto",
    reference_predictions: Any = None,
    current_predictions: Any = None,
    current_labels: Any = None,
) -> dict[str, Any]:
    """Estimate a classifier's performance on unlabeled current data (CBPE).

    Parameters
    ----------
    reference_scores, current_scores
        Binary: the positive-class probability (1-D) or ``(n, 2)`` scores in
        ``classes`` order. Multiclass: ``(n, K)`` scores in ``classes`` order.
    reference_labels
        True labels of the reference rows (values of ``classes``).
    classes
        Class values, in score-column order.
    positive_class
        Binary: the class whose probability is the score (default the last).
    n_bootstrap, seed, confidence
        Resamples, seed and level of the intervals (see the module notes).
    calibration
        ``"isotonic"``, ``"sigmoid"`` (Platt) or ``"auto"`` (isotonic from
        :data:`ISOTONIC_MIN_ROWS` reference rows).
    reference_predictions, current_predictions
        Predicted labels; by default the top-scored class (binary: score > 0.5).
    current_labels
        Labels of the current rows when they have arrived: the realized metrics
        are then reported next to the estimates.

    Returns
    -------
    dict
        ``metrics``: flat ``{name: number}`` with ``estimated_<m>``,
        ``estimated_<m>_low``/``_high``, ``reference_<m>`` (realized on
        reference), ``estimated_<m>_drop`` (reference − estimate; positive is
        worse) and, with ``current_labels``, ``realized_<m>`` and
        ``estimation_error_<m>`` (estimate − realized), for ``m`` in
        :data:`ESTIMATED_METRICS`. Also ``calibration``, ``n_reference``,
        ``n_current``, ``interval`` (how the interval was computed).

    Examples
    --------
    >>> import numpy as np
    >>> s = np.linspace(0.01, 0.99, 400); y = (s > 0.5).astype(int)
    >>> r = estimate_performance(s, y, s, classes=[0, 1], n_bootstrap=0)
    >>> round(r["metrics"]["estimated_accuracy"], 2)
    1.0
    """
    arrays, positive = _encode_inputs(
        reference_scores,
        reference_labels,
        current_scores,
        list(classes),
        positive_class,
        reference_predictions,
        current_predictions,
        current_labels,
    )
    return estimate_codes(
        *arrays,
        positive=positive,
        n_bootstrap=n_bootstrap,
        seed=seed,
        confidence=confidence,
        calibration=calibration,
    )


def _encode_inputs(
    reference_scores: Any,
    reference_labels: Any,
    current_scores: Any,
    classes: list[Any],
    positive_class: Any,
    reference_predictions: Any,
    current_predictions: Any,
    current_labels: Any,
) -> tuple[
    tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None],
    int | None,
]:
    """:func:`estimate_performance`'s inputs checked and encoded for :func:`estimate_codes`:
    ``((ref, y_ref, ref_pred, cur, cur_pred, y_cur), positive)``."""
    k = len(classes)
    if k < 2:
        raise ValueError("classes must hold at least two classes")
    positive = None
    if k == 2:
        code = encode_labels([positive_class], classes)[0] if positive_class is not None else 1
        positive = int(code) if code >= 0 else 1
    ref = _as_proba(reference_scores, k, positive)
    cur = _as_proba(current_scores, k, positive)
    y_ref = encode_labels(reference_labels, classes)
    if (y_ref < 0).any():
        raise ValueError("reference_labels hold values that are not in classes")
    if ref.shape[0] != y_ref.shape[0]:
        raise ValueError("reference_scores and reference_labels differ in length")
    ref_pred = _pred_codes(reference_predictions, ref, classes)
    cur_pred = _pred_codes(current_predictions, cur, classes)
    y_cur = None
    if current_labels is not None:
        y_cur = encode_labels(current_labels, classes)
        if (y_cur < 0).any():
            raise ValueError("current_labels hold values that are not in classes")
    return (ref, y_ref, ref_pred, cur, cur_pred, y_cur), positive


def estimate_codes(
    ref: np.ndarray,
    y_ref: np.ndarray,
    ref_pred: np.ndarray,
    cur: np.ndarray,
    cur_pred: np.ndarray,
    y_cur: np.ndarray | None,
    *,
    positive: int | None,
    n_bootstrap: int,
    seed: int,
    confidence: float = 0.95,
    calibration: Calibration = "auto",
    stream: int = 2,
) -> dict[str, Any]:
    """:func:`estimate_performance` on encoded inputs: ``(n, K)`` scores and class
    codes (``-1`` for a prediction that is no class)."""
    k = ref.shape[1]
    task = "binary" if k == 2 else "multiclass"
    cal = fit_calibrator(ref, y_ref, positive=positive, method=calibration)
    ref_data = EvalData(task, y_ref, ref_pred, ref, k, positive)
    reference = compute_metrics(ref_data, list(ESTIMATED_METRICS))
    plan = ExpectedPlan(cur_pred, cur, positive)
    est = expected_metrics(
        plan,
        cal.transform(cur),
        n_bootstrap=n_bootstrap,
        seed=seed,
        confidence=confidence,
        stream=stream,
    )
    metrics: dict[str, float | None] = {}
    for m in ESTIMATED_METRICS:
        value, low, high = est[m]
        ref_value = reference[m] if np.isfinite(reference[m]) else None
        metrics[f"estimated_{m}"] = value
        metrics[f"estimated_{m}_low"] = low
        metrics[f"estimated_{m}_high"] = high
        metrics[f"reference_{m}"] = ref_value
        metrics[f"estimated_{m}_drop"] = (
            None if value is None or ref_value is None else ref_value - value
        )
    if y_cur is not None:
        realized = compute_metrics(
            EvalData(task, y_cur, cur_pred, cur, k, positive), list(ESTIMATED_METRICS)
        )
        for m in ESTIMATED_METRICS:
            r = realized[m] if np.isfinite(realized[m]) else None
            e = metrics[f"estimated_{m}"]
            metrics[f"realized_{m}"] = r
            metrics[f"estimation_error_{m}"] = None if r is None or e is None else e - r
    return {
        "metrics": metrics,
        "task": task,
        "calibration": cal.method,
        "n_reference": int(ref.shape[0]),
        "n_current": int(cur.shape[0]),
        "n_bootstrap": int(n_bootstrap),
        "confidence": confidence,
        "interval": INTERVAL_TEXT,
    }


INTERVAL_TEXT = (
    "bootstrap over current rows, each resample also drawing its labels from the "
    "calibrated probabilities: an interval for the realized metric on such a window"
)
