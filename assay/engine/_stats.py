"""Drift statistics derived from column summaries (never from rows).

Numeric columns (both summaries counted on the same reference edges):

- **Kolmogorov–Smirnov** statistic ``D``: the largest gap between the two
  cumulative distributions, evaluated on both sides of every edge. It is
  exact whenever the edges hold every distinct reference value (references
  of up to :data:`~assay.engine._summary.MAX_EDGES` distinct values, hence
  every reference of up to 2,000 rows); otherwise it can miss the gap inside
  a bin by at most one bin's share of the data (``1 / MAX_EDGES``). Its p-value is exact
  (:func:`scipy.stats.ks_2samp`) when both summaries keep their values, and
  otherwise comes from the Kolmogorov distribution with the effective
  sample size ``n·m/(n+m)`` (SciPy's asymptotic method; the limiting
  distribution above an effective size of 10,000, see :func:`ks_pvalue`).
- **Wasserstein-1** distance: the area between the two cumulative
  distributions, each taken as linear between edges (values spread evenly
  inside a bin) and flat beyond its own minimum and maximum. Exact when
  every value of both tables is an edge (both with at most ``MAX_EDGES``
  distinct values); otherwise off by at most the sum over bins of width
  times share, about ``2 · range / MAX_EDGES``.
- **PSI** on the ten reference-decile bins (fewer when the reference has
  fewer distinct values), empty bins floored at ``1e-4``.

Categorical columns: Jensen–Shannon distance (natural logarithm, as SciPy
and Evidently), chi-square test of homogeneity (categories expected fewer
than 5 times pooled), two-proportion z-test, Fisher's exact test, PSI per
category. All exact.

Example
-------
>>> import numpy as np
>>> from assay.engine._summary import numeric_partial, edges_for, with_counts
>>> a, b = np.arange(100.0), np.arange(100.0) + 10
>>> ra, rb = numeric_partial(a, sketch_points=None), numeric_partial(b, sketch_points=None)
>>> e = edges_for(ra, rb)
>>> c = compare_numeric(with_counts(ra, np.sort(a), e), with_counts(rb, np.sort(b), e))
>>> round(c.ks, 3), round(c.wasserstein, 3)
(0.1, 10.0)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assay.engine._summary import (
    DECILES,
    CategoricalSummary,
    NumericSummary,
    sketch_quantiles,
)

PSI_FLOOR = 1e-4
"""Share given to an empty bin when computing PSI (avoids log(0))."""

STD_FLOOR = 1e-3
"""Smallest reference standard deviation used to normalise Wasserstein (Evidently's)."""

CHART_BINS = 10
CHART_CATEGORIES = 10


@dataclass(frozen=True)
class NumericComparison:
    """Statistics comparing a numeric column between reference and current."""

    ks: float
    ks_pvalue: float
    ks_exact: bool
    wasserstein: float
    wasserstein_norm: float
    psi: float
    chart_labels: list[str] = field(default_factory=list)
    chart_reference: list[float] = field(default_factory=list)
    chart_current: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class CategoricalComparison:
    """Statistics comparing a categorical column between reference and current."""

    categories: list[str]
    reference_share: np.ndarray
    current_share: np.ndarray
    jensenshannon: float
    chi2: float
    chi2_pvalue: float
    chi2_pooled: int
    z_pvalue: float | None
    fisher_pvalue: float | None
    min_expected: float
    psi: float
    unseen: list[str]
    vanished: list[str]


# -- cumulative distributions from summaries --------------------------------------------


def _side_cdf(s: NumericSummary, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Left and right limits of the (piecewise-linear) CDF of ``s`` at points ``x``."""
    e, lt_counts, le_counts = s.counted()
    m = e.size
    n = float(s.n)
    lt = lt_counts / n
    le = le_counts / n
    i = np.searchsorted(e, x, side="left")
    at_edge = (i < m) & (e[np.minimum(i, m - 1)] == x)
    # Open interval (L, R) between edges i-1 and i: the side's mass there lies in [A, B].
    f0 = np.where(i > 0, le[np.maximum(i - 1, 0)], 0.0)
    f1 = np.where(i < m, lt[np.minimum(i, m - 1)], 1.0)
    left_edge = np.where(i > 0, e[np.maximum(i - 1, 0)], -np.inf)
    right_edge = np.where(i < m, e[np.minimum(i, m - 1)], np.inf)
    a = np.maximum(left_edge, s.min)
    b = np.minimum(right_edge, s.max)
    width = b - a
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(width > 0, (x - a) / np.where(width > 0, width, 1.0), 0.0)
    t = np.clip(t, 0.0, 1.0)
    inside = f0 + (f1 - f0) * t
    # A point mass inside an open interval (width 0): a step at a == b.
    point = width <= 0
    left_in = np.where(point, np.where(x <= a, f0, f1), inside)
    right_in = np.where(point, np.where(x < a, f0, f1), inside)
    left = np.where(at_edge, lt[np.minimum(i, m - 1)], left_in)
    right = np.where(at_edge, le[np.minimum(i, m - 1)], right_in)
    return left, right


def _knots(r: NumericSummary, c: NumericSummary) -> np.ndarray:
    return np.unique(np.concatenate([r.edges, [r.min, r.max, c.min, c.max]]))


def _segment_area(d0: np.ndarray, d1: np.ndarray, w: np.ndarray) -> float:
    """∫|d| over segments where d is linear from d0 to d1 over width w."""
    a0, a1 = np.abs(d0), np.abs(d1)
    same = np.sign(d0) * np.sign(d1) >= 0
    denom = np.where(same, 1.0, a0 + a1)
    cross = (d0 * d0 + d1 * d1) / (2 * np.where(denom > 0, denom, 1.0))
    area = np.where(same, (a0 + a1) / 2, cross) * w
    return float(area.sum())


LIMIT_N = 10_000
"""Above this effective sample size the KS p-value comes from the limiting
Kolmogorov distribution (it then only accompanies a distance verdict)."""


def ks_pvalue(d: float, n: int, m: int) -> float:
    """Two-sided p-value of a two-sample KS statistic from its effective size ``n·m/(n+m)``.

    SciPy's ``kstwo`` (as ``ks_2samp``'s asymptotic method) up to :data:`LIMIT_N`,
    the limiting Kolmogorov distribution above (within a few percent of it, and
    without importing ``scipy.stats``).
    """
    en = n * m / (n + m)
    if en > LIMIT_N:
        from scipy import special

        return float(np.clip(special.kolmogorov(np.sqrt(en) * d), 0.0, 1.0))
    from scipy import stats

    return float(np.clip(stats.kstwo.sf(d, max(1, round(en))), 0.0, 1.0))


def cdf_values(s: NumericSummary, x: Any) -> np.ndarray:
    """Right-continuous CDF of ``s`` at ``x`` (piecewise-linear between edges)."""
    return _side_cdf(s, np.asarray(x, dtype=np.float64))[1]


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def _chart_bins(r: NumericSummary, c: NumericSummary) -> tuple[list[str], list[float], list[float]]:
    """Shares of both tables over equal-width bins spanning both tables' 0.5–99.5% range."""
    lo = float(min(sketch_quantiles(r, [0.005])[0], sketch_quantiles(c, [0.005])[0]))
    hi = float(max(sketch_quantiles(r, [0.995])[0], sketch_quantiles(c, [0.995])[0]))
    if not hi > lo:
        lo, hi = min(r.min, c.min), max(r.max, c.max)
    if not hi > lo:
        label = _fmt(lo)
        return [label], [1.0], [1.0]
    inner = np.linspace(lo, hi, CHART_BINS + 1)[1:-1]
    fr = np.concatenate([[0.0], cdf_values(r, inner), [1.0]])
    fc = np.concatenate([[0.0], cdf_values(c, inner), [1.0]])
    bounds = [lo, *inner.tolist(), hi]
    labels = [f"≤ {_fmt(bounds[1])}"]
    labels += [f"{_fmt(bounds[k])} – {_fmt(bounds[k + 1])}" for k in range(1, CHART_BINS - 1)]
    labels.append(f"> {_fmt(bounds[-2])}")
    return labels, np.diff(fr).clip(0).tolist(), np.diff(fc).clip(0).tolist()


def psi(reference_share: np.ndarray, current_share: np.ndarray) -> float:
    """Population stability index of two share vectors over the same bins."""
    p = np.where(reference_share > 0, reference_share, PSI_FLOOR)
    q = np.where(current_share > 0, current_share, PSI_FLOOR)
    return float(np.sum((q - p) * np.log(q / p)))


def _decile_shares(r: NumericSummary, c: NumericSummary) -> tuple[np.ndarray, np.ndarray]:
    cuts = np.unique(sketch_quantiles(r, DECILES))
    cuts = cuts[cuts < r.max]  # the last bin must hold the maximum
    r_edges, _, r_le = r.counted()
    idx = np.searchsorted(r_edges, cuts)
    fr = np.concatenate([[0.0], r_le[idx] / r.n, [1.0]])
    fc = np.concatenate([[0.0], c.counted()[2][idx] / c.n, [1.0]])
    return np.diff(fr), np.diff(fc)


def compare_numeric(r: NumericSummary, c: NumericSummary) -> NumericComparison:
    """Every numeric statistic between reference ``r`` and current ``c`` (both counted)."""
    if r.edges is None or c.edges is None:
        raise ValueError("both summaries need their second-pass counts")
    if r.n == 0 or c.n == 0:
        raise ValueError("both summaries need values")
    x = _knots(r, c)
    rl, rr = _side_cdf(r, x)
    cl, cr = _side_cdf(c, x)
    d = float(max(np.abs(rl - cl).max(), np.abs(rr - cr).max()))
    area = _segment_area((rr - cr)[:-1], (rl - cl)[1:], np.diff(x))
    exact = False
    if r.values is not None and c.values is not None:
        from scipy import stats

        res = stats.ks_2samp(r.values, c.values, method="auto")
        d, p, exact = float(res.statistic), float(res.pvalue), True
    else:
        p = ks_pvalue(d, r.n, c.n)
    pr, pc = _decile_shares(r, c)
    labels, sr, sc = _chart_bins(r, c)
    return NumericComparison(
        ks=d,
        ks_pvalue=p,
        ks_exact=exact,
        wasserstein=area,
        wasserstein_norm=area / max(r.std, STD_FLOOR),
        psi=psi(pr, pc),
        chart_labels=labels,
        chart_reference=sr,
        chart_current=sc,
    )


# -- categorical --------------------------------------------------------------------------


def jensenshannon(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen–Shannon distance (natural log), as :func:`scipy.spatial.distance.jensenshannon`."""
    p = p / p.sum()
    q = q / q.sum()
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kp = np.where(p > 0, p * np.log(p / m), 0.0)
        kq = np.where(q > 0, q * np.log(q / m), 0.0)
    js = (kp.sum() + kq.sum()) / 2
    return float(np.sqrt(max(js, 0.0)))


def _chi2_homogeneity(a: np.ndarray, b: np.ndarray) -> tuple[float, float, int, float]:
    """Chi-square test that two count vectors come from one distribution.

    Categories expected fewer than 5 times in either table are pooled into one.
    Returns ``(statistic, p-value, categories pooled, smallest expected count)``.
    """
    from scipy import special

    na, nb = a.sum(), b.sum()
    tot = a + b
    exp_a, exp_b = tot * na / (na + nb), tot * nb / (na + nb)
    rare = np.minimum(exp_a, exp_b) < 5
    pooled = int(rare.sum())
    if pooled > 1:
        a = np.append(a[~rare], a[rare].sum())
        b = np.append(b[~rare], b[rare].sum())
        tot = a + b
        exp_a, exp_b = tot * na / (na + nb), tot * nb / (na + nb)
    keep = tot > 0
    a, b, exp_a, exp_b = a[keep], b[keep], exp_a[keep], exp_b[keep]
    min_exp = float(min(exp_a.min(), exp_b.min())) if a.size else 0.0
    if a.size < 2:
        return 0.0, 1.0, pooled, min_exp
    stat = float(((a - exp_a) ** 2 / exp_a).sum() + ((b - exp_b) ** 2 / exp_b).sum())
    return stat, float(special.chdtrc(a.size - 1, stat)), pooled, min_exp


def _z_test(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided two-proportion z-test on two categories (pooled variance)."""
    from scipy import special

    n1, n2 = a.sum(), b.sum()
    p1, p2 = a[0] / n1, b[0] / n2
    pool = (a[0] + b[0]) / (n1 + n2)
    var = pool * (1 - pool) * (1 / n1 + 1 / n2)
    if var <= 0:
        return 1.0
    z = (p1 - p2) / np.sqrt(var)
    return float(2 * special.ndtr(-abs(z)))


def compare_categorical(r: CategoricalSummary, c: CategoricalSummary) -> CategoricalComparison:
    """Every categorical statistic between reference ``r`` and current ``c``."""
    if r.n == 0 or c.n == 0:
        raise ValueError("both summaries need values")
    cats = sorted(set(r.counts) | set(c.counts))
    a = np.array([r.counts.get(k, 0) for k in cats], dtype=np.float64)
    b = np.array([c.counts.get(k, 0) for k in cats], dtype=np.float64)
    pa, pb = a / a.sum(), b / b.sum()
    chi, chi_p, pooled, _ = _chi2_homogeneity(a, b)
    tot = a + b
    min_expected = float(np.min(np.minimum(tot * a.sum(), tot * b.sum()) / tot.sum()))
    z_p = fisher_p = None
    if len(cats) == 2:
        z_p = _z_test(a, b)
        if min_expected < 5:
            from scipy import stats

            table = np.array([a, b]).astype(np.int64)
            fisher_p = float(stats.fisher_exact(table).pvalue)
    elif len(cats) == 1:
        z_p = 1.0
    return CategoricalComparison(
        categories=cats,
        reference_share=pa,
        current_share=pb,
        jensenshannon=jensenshannon(pa, pb),
        chi2=chi,
        chi2_pvalue=chi_p,
        chi2_pooled=pooled,
        z_pvalue=z_p,
        fisher_pvalue=fisher_p,
        min_expected=min_expected,
        psi=psi(pa, pb),
        unseen=[k for k, v in zip(cats, a, strict=True) if v == 0],
        vanished=[k for k, v in zip(cats, b, strict=True) if v == 0],
    )


def category_chart(cmp: CategoricalComparison, top: int = CHART_CATEGORIES):
    """Labels and shares of the categories that moved most (the rest as '(other)')."""
    gap = np.abs(cmp.current_share - cmp.reference_share)
    weight = np.maximum(cmp.current_share, cmp.reference_share)
    if len(cmp.categories) <= top:
        order = np.argsort(-weight, kind="stable")
    else:
        order = np.lexsort((-weight, -gap))[: top - 1]
        order = order[np.argsort(-weight[order], kind="stable")]
    labels = [cmp.categories[i] for i in order]
    ref = cmp.reference_share[order].tolist()
    cur = cmp.current_share[order].tolist()
    if len(order) < len(cmp.categories):
        labels.append("(other)")
        ref.append(max(0.0, 1 - sum(ref)))
        cur.append(max(0.0, 1 - sum(cur)))
    return labels, ref, cur
