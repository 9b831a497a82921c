"""Ranking metrics (ROC-AUC and average precision) for many row weightings at once.

Positives and negatives are each sorted by score once; every weighting is
then a few gathers and cumulative sums over a ``(B, n)`` weight matrix. Tied
scores are handled exactly as scikit-learn does: a tied positive–negative
pair counts one half in ROC-AUC (the trapezoid rule), and tied rows form one
threshold in average precision.

Example
-------
>>> roc_auc([0, 0, 1, 1], [0.1, 0.5, 0.5, 0.9])
0.875
"""

from __future__ import annotations

from typing import Any

import numpy as np


class RankPlan:
    """ROC-AUC and average precision of one event (0/1) by one score, for many weightings.

    Positives and negatives are each sorted by score once. Under weights ``w``,
    a positive row with score ``s`` contributes ``w × (negatives below s + ½
    negatives tied at s)`` to the ROC-AUC numerator (the trapezoid rule, as
    scikit-learn), and ``w × precision at threshold s`` to average precision,
    where the threshold keeps every row scored ``≥ s`` (ties together, as
    scikit-learn). Both need only cumulative sums and gathers: a few passes
    over the ``(B, n)`` weights.
    """

    def __init__(self, event: np.ndarray, score: np.ndarray) -> None:
        event = np.asarray(event).astype(bool)
        score = np.asarray(score, dtype=np.float64)
        pos, neg = np.flatnonzero(event), np.flatnonzero(~event)
        self.pos_rows = pos[np.argsort(score[pos], kind="stable")]
        self.neg_rows = neg[np.argsort(score[neg], kind="stable")]
        pos_s, neg_s = score[self.pos_rows], score[self.neg_rows]
        self.neg_below = np.searchsorted(neg_s, pos_s, side="left")
        self.neg_upto = np.searchsorted(neg_s, pos_s, side="right")
        self.pos_below = np.searchsorted(pos_s, pos_s, side="left")
        # One score for every row (a dummy model): every pair is a tie.
        self.event = event.astype(np.float64)
        self.constant = score.size == 0 or bool(score.min() == score.max())

    def __call__(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(roc_auc, average_precision)``, each of shape ``(B,)``; NaN where undefined.

        Integer weights (bootstrap counts) are summed exactly in integers, which
        is faster; float weights in float64.
        """
        weights = np.atleast_2d(weights)
        b, n = weights.shape
        if self.constant:
            return self._constant(weights)
        acc: Any  # the NumPy scalar types of the running sums and the totals
        total: Any
        if weights.dtype.kind in "iu":
            small = weights.dtype == np.uint8 and n < 2**23  # 255 * n fits in int32
            acc, total = (np.int32 if small else np.int64), np.int64
        else:
            weights = weights.astype(np.float64, copy=False)
            acc = total = np.float64
        wp = np.take(weights, self.pos_rows, axis=1)
        cum_n = np.zeros((b, self.neg_rows.size + 1), dtype=acc)
        np.cumsum(np.take(weights, self.neg_rows, axis=1), axis=1, dtype=acc, out=cum_n[:, 1:])
        cum_p = np.zeros((b, self.pos_rows.size + 1), dtype=acc)
        np.cumsum(wp, axis=1, dtype=acc, out=cum_p[:, 1:])
        P, N = cum_p[:, -1:], cum_n[:, -1:]
        below = np.take(cum_n, self.neg_below, axis=1)
        both = np.take(cum_n, self.neg_upto, axis=1)
        both += below  # negatives below plus negatives up to the score: 2 × (below + ½ tied)
        num = np.einsum("ij,ij->i", wp, both, dtype=total)
        tp_at = np.take(cum_p, self.pos_below, axis=1)
        np.subtract(P, tp_at, out=tp_at)  # positives scored at least this high
        kept = np.subtract(N, below, out=below)
        kept += tp_at  # rows scored at least this high
        np.putmask(kept, kept == 0, 1)  # only where tp_at is 0 too
        prec = np.divide(tp_at, kept, dtype=np.float64)
        Pf, Nf = P[:, 0].astype(np.float64), N[:, 0].astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            auc = 0.5 * num / (Pf * Nf)
            ap = np.einsum("ij,ij->i", wp, prec, dtype=np.float64) / Pf
        auc[(Pf <= 0) | (Nf <= 0)] = np.nan
        ap[Pf <= 0] = np.nan
        return auc, ap

    def _constant(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All scores tied: ROC-AUC is one half, average precision the positive share."""
        P = weights.astype(np.float64, copy=False) @ self.event
        N = weights.sum(axis=1, dtype=np.float64) - P
        with np.errstate(divide="ignore", invalid="ignore"):
            auc = np.where((P > 0) & (N > 0), 0.5, np.nan)
            ap = np.where(P > 0, P / (P + N), np.nan)
        return auc, ap


def roc_auc(y_true: Any, y_score: Any, *, sample_weight: Any = None) -> float:
    """Binary ROC-AUC of ``y_true`` (truthy = positive) by ``y_score``; ties count 1/2.

    >>> roc_auc([0, 0, 1, 1], [0.1, 0.5, 0.5, 0.9])
    0.875
    """
    y = np.asarray(y_true).astype(bool)
    w = np.ones(y.size) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    return float(RankPlan(y, np.asarray(y_score, dtype=float))(w[None, :])[0][0])


def average_precision(y_true: Any, y_score: Any, *, sample_weight: Any = None) -> float:
    """Average precision (area under the precision-recall curve, step-wise).

    >>> round(average_precision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 4)
    0.8333
    """
    y = np.asarray(y_true).astype(bool)
    w = np.ones(y.size) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    return float(RankPlan(y, np.asarray(y_score, dtype=float))(w[None, :])[1][0])
