"""Small statistics shared by the unsupervised checks: intervals for shares,
differences and means, and plain-words formatting.

>>> lo, hi = wilson(50, 100)
>>> round(lo, 3), round(hi, 3)
(0.404, 0.596)
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def z_of(confidence: float) -> float:
    """Two-sided normal quantile of ``confidence`` (1.96 for 0.95)."""
    return float(stats.norm.ppf(0.5 + confidence / 2))


def wilson(k: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a share ``k / n``."""
    if n <= 0:
        return 0.0, 1.0
    z = z_of(confidence)
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, mid - half), min(1.0, mid + half)


def two_share_test(k1: float, n1: float, k2: float, n2: float, confidence: float = 0.95):
    """Difference ``k2/n2 - k1/n1`` with a Newcombe interval, and the pooled z test's p.

    >>> d, lo, hi, p = two_share_test(50, 1000, 100, 1000)
    >>> round(d, 2), lo > 0, p < 0.001
    (0.05, True, True)
    """
    p1, p2 = k1 / n1, k2 / n2
    l1, h1 = wilson(k1, n1, confidence)
    l2, h2 = wilson(k2, n2, confidence)
    d = p2 - p1
    lo = d - math.sqrt((p2 - l2) ** 2 + (h1 - p1) ** 2)
    hi = d + math.sqrt((h2 - p2) ** 2 + (p1 - l1) ** 2)
    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    p = 1.0 if se == 0 else float(2 * stats.norm.sf(abs(d) / se))
    return d, lo, hi, p


def cohen_d(a: np.ndarray, b: np.ndarray, confidence: float = 0.95) -> np.ndarray:
    """Standardised mean difference of each column, group ``a`` against ``b``.

    Returns an array ``(3, columns)``: d, low, high (normal-approximation interval).
    """
    n1, n2 = a.shape[0], b.shape[0]
    if n1 < 2 or n2 < 2:
        zeros = np.zeros(a.shape[1])
        return np.vstack([zeros, zeros, zeros])
    m1, m2 = a.mean(axis=0), b.mean(axis=0)
    v1, v2 = a.var(axis=0, ddof=1), b.var(axis=0, ddof=1)
    sd = np.sqrt(((n1 - 1) * v1 + (n2 - 1) * v2) / (n1 + n2 - 2))
    d = np.where(sd > 0, (m1 - m2) / np.where(sd > 0, sd, 1.0), 0.0)
    se = np.sqrt((n1 + n2) / (n1 * n2) + d * d / (2 * (n1 + n2)))
    z = z_of(confidence)
    return np.vstack([d, d - z * se, d + z * se])


def mean_interval(
    values: np.ndarray, *, draws: int, seed: int, confidence: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values``."""
    values = np.asarray(values, dtype=float)
    if values.size < 2 or draws <= 0:
        m = float(values.mean()) if values.size else 0.0
        return m, m
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, values.size, size=(draws, values.size))
    means = values[idx].mean(axis=1)
    a = (1 - confidence) / 2
    return float(np.quantile(means, a)), float(np.quantile(means, 1 - a))


def percentile_range(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """The central ``confidence`` range of ``values``."""
    a = (1 - confidence) / 2
    return float(np.quantile(values, a)), float(np.quantile(values, 1 - a))


def pct(x: float | None) -> str:
    """``0.123`` -> ``'12.3%'``."""
    return "n/a" if x is None else f"{100 * x:.1f}%"


def num(x: float | None, digits: int = 2) -> str:
    """A number with ``digits`` decimals and a real minus sign."""
    return "n/a" if x is None else f"{x:.{digits}f}".replace("-", "−")


def effect_words(d: float) -> str:
    """Plain words for a standardised difference."""
    size = abs(d)
    how = "much " if size >= 0.8 else "" if size >= 0.5 else "slightly "
    return how + ("higher" if d > 0 else "lower")
