"""Mergeable summaries of labels and predictions: class counts, confusion counts,
score histograms.

:class:`OutcomeSummary` holds, for one split, the count of each true class,
the confusion counts (true class × predicted class, classes in the audit's
order) and, when there are scores, a histogram of the positive-class score
per true class on :data:`SCORE_BINS` equal bins of [0, 1]. Every field is a
count, so :func:`merge_outcomes` adds them: associative and exact. Accuracy
and the confusion matrix are exact; the AUC read from the histogram
(:meth:`OutcomeSummary.binned_auc`) counts pairs within one bin as ties, so
it is within the share of pairs that fall in a common bin of the exact AUC
(at most 1/SCORE_BINS for continuous scores spread over the bins).

Example
-------
>>> import numpy as np
>>> a = outcome_summary(np.array([0, 1]), np.array([0, 1]), None, classes=[0, 1])
>>> b = outcome_summary(np.array([1, 1]), np.array([0, 1]), None, classes=[0, 1])
>>> m = merge_outcomes(a, b)
>>> m.label_counts, m.confusion.tolist(), m.accuracy
((1, 3), [[1, 0], [1, 2]], 0.75)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

SCORE_BINS = 1000
"""Equal-width bins of the positive-class score in [0, 1]."""


@dataclass(frozen=True)
class OutcomeSummary:
    classes: tuple[str, ...]
    label_counts: tuple[int, ...]
    confusion: np.ndarray  # (classes, classes): rows true, columns predicted
    scores: np.ndarray | None = None  # (classes, SCORE_BINS) for binary tasks

    @property
    def n(self) -> int:
        return int(sum(self.label_counts))

    @property
    def accuracy(self) -> float:
        return float(np.trace(self.confusion) / self.n) if self.n else float("nan")

    def binned_auc(self) -> float | None:
        """ROC AUC of a binary task from the score histogram (ties within a bin count half)."""
        if self.scores is None or self.scores.shape[0] != 2:
            return None
        neg, pos = self.scores[0].astype(np.float64), self.scores[1].astype(np.float64)
        if not neg.sum() or not pos.sum():
            return None
        below = np.concatenate(([0.0], np.cumsum(neg)[:-1]))
        return float((pos * (below + 0.5 * neg)).sum() / (pos.sum() * neg.sum()))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "classes": list(self.classes),
            "label_counts": dict(zip(self.classes, self.label_counts, strict=True)),
            "confusion": self.confusion.tolist(),
            "accuracy": self.accuracy,
        }
        auc = self.binned_auc()
        if auc is not None:
            out["auc_binned"] = auc
            out["score_bins"] = SCORE_BINS
        return out


def outcome_summary(
    labels: np.ndarray,
    predicted: np.ndarray,
    positive_scores: np.ndarray | None,
    *,
    classes: Sequence[Any],
) -> OutcomeSummary:
    """The summary of one chunk: true labels, predicted labels, positive-class scores."""
    names = [str(c) for c in classes]
    index = {c: i for i, c in enumerate(names)}
    k = len(names)
    t = np.array([index.get(str(v), -1) for v in np.asarray(labels).tolist()], dtype=np.int64)
    p = np.array([index.get(str(v), -1) for v in np.asarray(predicted).tolist()], dtype=np.int64)
    ok = (t >= 0) & (p >= 0)
    confusion = np.bincount(t[ok] * k + p[ok], minlength=k * k).reshape(k, k)
    label_counts = tuple(int(x) for x in np.bincount(t[t >= 0], minlength=k))
    scores = None
    if positive_scores is not None and k == 2:
        s = np.clip(np.asarray(positive_scores, dtype=np.float64), 0.0, 1.0)
        b = np.minimum((s * SCORE_BINS).astype(np.int64), SCORE_BINS - 1)
        keep = t >= 0
        scores = np.bincount(t[keep] * SCORE_BINS + b[keep], minlength=2 * SCORE_BINS)
        scores = scores.reshape(2, SCORE_BINS)
    return OutcomeSummary(tuple(names), label_counts, confusion, scores)


def merge_outcomes(a: OutcomeSummary, b: OutcomeSummary) -> OutcomeSummary:
    """Add two summaries of the same classes."""
    if a.classes != b.classes:
        raise ValueError("cannot merge outcome summaries of different classes")
    scores = None
    if a.scores is not None and b.scores is not None:
        scores = a.scores + b.scores
    return OutcomeSummary(
        a.classes,
        tuple(x + y for x, y in zip(a.label_counts, b.label_counts, strict=True)),
        a.confusion + b.confusion,
        scores,
    )


__all__ = ["SCORE_BINS", "OutcomeSummary", "merge_outcomes", "outcome_summary"]
