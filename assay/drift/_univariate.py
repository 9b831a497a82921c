"""Univariate drift verdicts: the method for each column, its statistic and threshold.

The method is chosen by column type and sample size, as Evidently's default
data-drift algorithm does, with one addition (the small-current fallback):

================================  =========================  ==========================
column                            both tables > 1,000 values  either table ≤ 1,000 values
================================  =========================  ==========================
numeric (more than 5 values)      Wasserstein distance,       two-sample Kolmogorov–
                                  normalised by the           Smirnov test, p < 0.05
                                  reference std, ≥ 0.1
categorical, boolean, or numeric  Jensen–Shannon distance     two categories: z-test for
with at most 5 distinct values    (natural log), ≥ 0.1        two proportions (Fisher's
                                                              exact test when a cell is
                                                              expected < 5 times); more:
                                                              chi-square test of
                                                              homogeneity, p < 0.05
================================  =========================  ==========================

Evidently decides on the reference size alone; here a small *current* table
also selects the test, because a distance measured on a few hundred values
is mostly sampling noise (the finding says so: "fallback"). P-values of the
tests are corrected for the number of columns tested (Benjamini–Hochberg by
default; Bonferroni or none on request). Fewer than ``min_values`` values in
either table: the column is not tested. A column empty in current but not in
reference (or the reverse) is reported as drifted ("all missing").
PSI over the reference deciles (or categories) is reported for every column.

Example
-------
>>> import polars as pl
>>> from assay.engine import ColumnSpec, LocalEngine
>>> ref = pl.DataFrame({"x": [float(i % 50) for i in range(400)]})
>>> cur = pl.DataFrame({"x": [float(i % 50) + 8 for i in range(400)]})
>>> spec = ColumnSpec("x", "x", "numeric")
>>> [d] = assess(LocalEngine(ref, cur).summarize([spec]), [spec], DEFAULTS)
>>> d.method, d.drifted
('ks', True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from assay.core.charts import DistributionChart
from assay.core.params import defaults, param
from assay.engine import (
    LOW_CARDINALITY,
    CategoricalSummary,
    ColumnSpec,
    NumericSummary,
    Summary,
    category_chart,
    compare_categorical,
    compare_numeric,
    numeric_as_categorical,
)


@dataclass(frozen=True)
class UnivariateParams:
    """Parameters of the univariate drift methods (each drift check adds its own)."""

    p_value: float = param(
        0.05, "Significance level of the drift tests, after the correction.", gt=0, lt=1
    )
    wasserstein: float = param(
        0.1, "Wasserstein distance, in reference standard deviations, that flags drift.", ge=0
    )
    jensenshannon: float = param(
        0.1, "Jensen–Shannon distance of category shares that flags drift.", ge=0, le=1
    )
    small_sample_rows: int = param(
        1000, "Values (reference or current) at or under which a test replaces a distance.", ge=0
    )
    min_values: int = param(5, "Values a column needs on both sides to be compared.", ge=1)
    correction: Literal["bh", "bonferroni", "none"] = param(
        "bh", "Multiple-testing correction of the p values across columns."
    )


DEFAULTS: dict[str, Any] = defaults(UnivariateParams)
"""Default thresholds of the univariate methods (each check adds its own)."""

METHOD_LABELS = {
    "ks": "two-sample Kolmogorov–Smirnov test",
    "wasserstein": "Wasserstein distance (normalised by the reference std)",
    "chi_square": "chi-square test of homogeneity",
    "z_test": "z-test for two proportions",
    "fisher_exact": "Fisher's exact test",
    "jensenshannon": "Jensen–Shannon distance",
    "all_missing": "missing values",
    "not_tested": "not tested",
}
P_VALUE_METHODS = frozenset({"ks", "chi_square", "z_test", "fisher_exact"})
CORRECTIONS = ("bh", "bonferroni", "none")
_CORRECTION_TEXT = {"bh": "Benjamini–Hochberg", "bonferroni": "Bonferroni", "none": "no"}


@dataclass(frozen=True)
class ColumnDrift:
    """The verdict on one compared series."""

    name: str
    column: str
    kind: str
    method: str
    reason: str
    fallback: bool
    n_reference: int
    n_current: int
    reference_missing: float
    current_missing: float
    statistic: float | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    threshold: float | None = None
    drifted: bool = False
    psi: float | None = None
    detail: str = ""
    chart: tuple[list[str], list[float], list[float]] | None = None
    extra: Mapping[str, float | None] = field(default_factory=dict)

    @property
    def tested(self) -> bool:
        return self.method != "not_tested"

    @property
    def score(self) -> float:
        """How far past (≥ 1) or short of (< 1) its threshold the column is."""
        if self.method == "all_missing":
            return math.inf
        if self.method in P_VALUE_METHODS:
            p = self.p_adjusted if self.p_adjusted is not None else self.p_value
            if p is None or not self.threshold:
                return 0.0
            return -math.log10(max(p, 1e-300)) / -math.log10(self.threshold)
        if self.statistic is None or not self.threshold:
            return 0.0
        return self.statistic / self.threshold

    def row(self) -> dict[str, Any]:
        """The column's line in ``details["columns"]``."""
        return {
            "column": self.name,
            "type": self.kind,
            "method": self.method,
            "method_reason": self.reason,
            "fallback": self.fallback,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "p_value_adjusted": self.p_adjusted,
            "threshold": self.threshold,
            "drifted": self.drifted,
            "psi": self.psi,
            "reference_values": self.n_reference,
            "current_values": self.n_current,
            "reference_missing_share": self.reference_missing,
            "current_missing_share": self.current_missing,
            **dict(self.extra),
        }

    def metrics(self) -> dict[str, float | int | None]:
        """The numbers of the column's finding."""
        out: dict[str, float | int | None] = {
            "statistic": self.statistic,
            "threshold": self.threshold,
            "psi": self.psi,
            "reference_values": self.n_reference,
            "current_values": self.n_current,
            "current_missing_share": self.current_missing,
        }
        if self.method in P_VALUE_METHODS:
            out["p_value"] = self.p_value
            out["p_value_adjusted"] = self.p_adjusted
        return out


def pct(share: float) -> str:
    """``0.123`` → ``'12.3%'`` (two significant digits under 1%)."""
    if share == 0:
        return "0%"
    return f"{share * 100:.3g}%" if share >= 0.01 else f"{share * 100:.2g}%"


def num(v: float | None) -> str:
    """A statistic in a sentence: 3 significant digits, p-values in scientific form."""
    if v is None:
        return "n/a"
    if v != 0 and abs(v) < 1e-3:
        return f"{v:.1e}"
    return f"{v:.3g}"


def _low_cardinality(r: Summary, c: Summary) -> bool:
    if not isinstance(r, NumericSummary) or not isinstance(c, NumericSummary):
        return False
    if r.distinct is None or c.distinct is None:
        return False
    return np.union1d(r.distinct, c.distinct).size <= LOW_CARDINALITY


def _method(kind: str, n_ref: int, n_cur: int, n_cats: int, th: Mapping[str, Any]):
    small = th["small_sample_rows"]
    if n_ref <= small:
        reason, fallback = f"the reference has {n_ref:,} values (≤ {small:,})", False
    elif n_cur <= small:
        reason = (
            f"current has only {n_cur:,} values (≤ {small:,}): a distance measured on so few "
            "is mostly noise, so a test is used instead (fallback)"
        )
        fallback = True
    else:
        reason = f"both tables have more than {small:,} values"
        return ("wasserstein" if kind == "numeric" else "jensenshannon"), reason, False
    if kind == "numeric":
        return "ks", reason, fallback
    return ("z_test" if n_cats <= 2 else "chi_square"), reason, fallback


def _categorical_verdict(base: ColumnDrift, r, c, th) -> ColumnDrift:
    cmp = compare_categorical(r, c)
    method, reason, fallback = _method("categorical", r.n, c.n, len(cmp.categories), th)
    extra: dict[str, float | None] = {
        "jensenshannon": cmp.jensenshannon,
        "chi_square_p_value": cmp.chi2_pvalue,
        "categories": len(cmp.categories),
        "unseen_categories": len(cmp.unseen),
        "unseen_share": float(sum(cmp.current_share[cmp.categories.index(k)] for k in cmp.unseen)),
    }
    if method == "z_test" and cmp.fisher_pvalue is not None:
        method, fallback = "fisher_exact", True
        reason += (
            f"; a count is expected only {cmp.min_expected:.1f} times (< 5), so Fisher's "
            "exact test replaces the z-test (fallback)"
        )
    if method == "jensenshannon":
        stat, p, threshold = cmp.jensenshannon, None, th["jensenshannon"]
    elif method == "chi_square":
        stat, p, threshold = cmp.chi2, cmp.chi2_pvalue, th["p_value"]
        if cmp.chi2_pooled > 1:
            reason += f"; {cmp.chi2_pooled} categories expected fewer than 5 times were pooled"
    elif method == "fisher_exact":
        stat, p, threshold = None, cmp.fisher_pvalue, th["p_value"]
    else:
        stat, p, threshold = None, cmp.z_pvalue, th["p_value"]
    gap = cmp.current_share - cmp.reference_share
    i = int(np.argmax(np.abs(gap)))
    detail = (
        f"'{cmp.categories[i]}' is {pct(float(cmp.current_share[i]))} of current vs "
        f"{pct(float(cmp.reference_share[i]))} of reference"
    )
    if cmp.unseen:
        shown = ", ".join(f"'{k}'" for k in cmp.unseen[:3])
        more = f" and {len(cmp.unseen) - 3} more" if len(cmp.unseen) > 3 else ""
        detail += (
            f"; {len(cmp.unseen)} categor{'y' if len(cmp.unseen) == 1 else 'ies'} unseen in "
            f"reference ({shown}{more}: {pct(extra['unseen_share'] or 0.0)} of current)"
        )
    return replace(
        base,
        kind="categorical" if base.kind != "numeric" else "numeric (few values)",
        method=method,
        reason=reason,
        fallback=fallback,
        statistic=stat,
        p_value=p,
        threshold=threshold,
        drifted=stat >= threshold if p is None else p < threshold,
        psi=cmp.psi,
        detail=detail,
        chart=category_chart(cmp),
        extra=extra,
    )


def _numeric_verdict(base: ColumnDrift, r: NumericSummary, c: NumericSummary, th) -> ColumnDrift:
    cmp = compare_numeric(r, c)
    method, reason, fallback = _method("numeric", r.n, c.n, 0, th)
    if method == "ks" and cmp.ks_exact:
        reason += "; exact p-value"
    if method == "wasserstein":
        stat, p, threshold = cmp.wasserstein_norm, None, th["wasserstein"]
    else:
        stat, p, threshold = cmp.ks, cmp.ks_pvalue, th["p_value"]
    detail = (
        f"mean {num(c.mean)} in current vs {num(r.mean)} in reference, "
        f"std {num(c.std)} vs {num(r.std)}"
    )
    return replace(
        base,
        method=method,
        reason=reason,
        fallback=fallback,
        statistic=stat,
        p_value=p,
        threshold=threshold,
        drifted=stat >= threshold if p is None else p < threshold,
        psi=cmp.psi,
        detail=detail,
        chart=(cmp.chart_labels, cmp.chart_reference, cmp.chart_current),
        extra={
            "ks_statistic": cmp.ks,
            "ks_p_value": cmp.ks_pvalue,
            "wasserstein_normed": cmp.wasserstein_norm,
            "reference_mean": r.mean,
            "current_mean": c.mean,
            "reference_std": r.std,
            "current_std": c.std,
        },
    )


def assess_one(spec: ColumnSpec, r: Summary, c: Summary, th: Mapping[str, Any]) -> ColumnDrift:
    """The verdict on one series from its two summaries (before any correction)."""
    base = ColumnDrift(
        name=spec.name,
        column=spec.column,
        kind=spec.kind,
        method="not_tested",
        reason="",
        fallback=False,
        n_reference=r.n,
        n_current=c.n,
        reference_missing=r.missing_share,
        current_missing=c.missing_share,
    )
    if r.n == 0 and c.n == 0:
        return replace(base, reason="the column is empty in both tables")
    if r.n == 0 or c.n == 0:
        empty, other = ("current", "reference") if c.n == 0 else ("reference", "current")
        other_missing = base.reference_missing if other == "reference" else base.current_missing
        return replace(
            base,
            method="all_missing",
            reason=f"every value is missing in {empty} but not in {other}",
            drifted=True,
            detail=f"every value is missing in {empty}, against {pct(other_missing)} in {other}",
        )
    least = min(r.n, c.n)
    if least < th["min_values"]:
        side = "current" if c.n <= r.n else "reference"
        return replace(
            base,
            reason=f"too few values to test: {least} in {side} (at least {th['min_values']} "
            "needed)",
        )
    if isinstance(r, NumericSummary) and isinstance(c, NumericSummary) and _low_cardinality(r, c):
        r, c = numeric_as_categorical(r), numeric_as_categorical(c)
        base = replace(base, kind="numeric")
    if isinstance(r, CategoricalSummary) and isinstance(c, CategoricalSummary):
        return _categorical_verdict(base, r, c, th)
    # One spec summarizes both sides alike: not both categorical means both numeric.
    assert isinstance(r, NumericSummary) and isinstance(c, NumericSummary)
    return _numeric_verdict(base, r, c, th)


def adjust(p_values: Sequence[float], method: str) -> list[float]:
    """P-values adjusted for multiple testing (``bh``, ``bonferroni`` or ``none``)."""
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    if m == 0 or method == "none":
        return p.tolist()
    if method == "bonferroni":
        return np.minimum(p * m, 1.0).tolist()
    if method == "bh":
        order = np.argsort(p, kind="stable")
        ranked = p[order] * m / np.arange(1, m + 1)
        ranked = np.minimum.accumulate(ranked[::-1])[::-1]
        out = np.empty(m)
        out[order] = np.minimum(ranked, 1.0)
        return out.tolist()
    raise ValueError(f"correction must be one of {', '.join(CORRECTIONS)}, not {method!r}")


def assess(
    summaries: Mapping[str, tuple[Summary, Summary]],
    specs: Sequence[ColumnSpec],
    th: Mapping[str, Any],
) -> list[ColumnDrift]:
    """Verdicts on every series, with the p-value correction applied across them."""
    if th["correction"] not in CORRECTIONS:
        raise ValueError(
            f"threshold 'correction' must be one of {', '.join(CORRECTIONS)}, "
            f"not {th['correction']!r}"
        )
    out = [assess_one(s, *summaries[s.name], th) for s in specs]
    tests = [
        (i, d.p_value)
        for i, d in enumerate(out)
        if d.method in P_VALUE_METHODS and d.p_value is not None
    ]
    adjusted = adjust([p for _, p in tests], th["correction"])
    for (i, _), p in zip(tests, adjusted, strict=True):
        alpha = out[i].threshold
        assert alpha is not None  # assess_one sets the threshold of every p-value method
        out[i] = replace(out[i], p_adjusted=p, drifted=p < alpha)
    return out


def statistic_text(d: ColumnDrift, correction: str) -> str:
    """``'Wasserstein distance 0.35 reference stds (threshold 0.1)'`` and the like."""
    if d.method == "wasserstein":
        return (
            f"Wasserstein distance {num(d.statistic)} reference standard deviations "
            f"(threshold {num(d.threshold)})"
        )
    if d.method == "jensenshannon":
        return f"Jensen–Shannon distance {num(d.statistic)} (threshold {num(d.threshold)})"
    if d.method in P_VALUE_METHODS:
        name = METHOD_LABELS[d.method]
        stat = f"D = {num(d.statistic)}, " if d.method == "ks" else ""
        adj = ""
        if correction != "none" and d.p_adjusted is not None:
            adj = f", {num(d.p_adjusted)} after {_CORRECTION_TEXT[correction]} correction"
        return f"{name}: {stat}p = {num(d.p_value)}{adj} (threshold p < {num(d.threshold)})"
    return d.reason


def correction_text(correction: str) -> str:
    return _CORRECTION_TEXT[correction]


def describe(d: ColumnDrift, correction: str) -> str:
    """One sentence about a drifted (or untested) column."""
    if d.method == "all_missing":
        return f"'{d.name}' changed completely: {d.detail}."
    if d.method == "not_tested":
        return f"'{d.name}' was not tested: {d.reason}."
    verb = "drifted" if d.drifted else "did not drift"
    psi = f"; PSI {num(d.psi)}" if d.psi is not None else ""
    fb = " (small-sample fallback)" if d.fallback else ""
    return f"'{d.name}' {verb}{fb}: {statistic_text(d, correction)}; {d.detail}{psi}."


def distribution_chart(d: ColumnDrift, reference: str = "reference") -> dict[str, Any] | None:
    """A ``distribution`` chart of the column's shares in both tables."""
    if d.chart is None:
        return None
    labels, ref, cur = d.chart
    how = "bins" if d.method in ("ks", "wasserstein") else "categories"
    return DistributionChart(
        title=f"{d.name}: share of rows by {how}, {reference} vs current",
        labels=[str(x) for x in labels],
        series={reference: [float(v) for v in ref], "current": [float(v) for v in cur]},
        unit="share",
    ).to_dict()
