"""Mergeable summaries, and statistics from them against SciPy's."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats
from scipy.spatial import distance

from assay.engine import ColumnSpec, LocalEngine, compare_categorical, compare_numeric
from assay.engine._columns import first_pass, hash_sample
from assay.engine._stats import psi
from assay.engine._summary import (
    edge_counts,
    edges_for,
    merge_all,
    numeric_partial,
    sketch_quantiles,
    with_counts,
)


def _compare(a: np.ndarray, b: np.ndarray):
    spec = ColumnSpec("x", "x", "numeric")
    r, c = LocalEngine(pl.DataFrame({"x": a}), pl.DataFrame({"x": b})).summarize([spec])["x"]
    return compare_numeric(r, c)


def test_numeric_merge_equals_whole():
    rng = np.random.default_rng(0)
    x = rng.normal(size=5000)
    x[::97] = np.nan
    whole = numeric_partial(x)
    parts = merge_all([numeric_partial(chunk) for chunk in np.array_split(x, 7)])
    assert (parts.n, parts.n_missing) == (whole.n, whole.n_missing) == (4948, 52)
    assert parts.min == whole.min and parts.max == whole.max
    assert parts.mean == pytest.approx(whole.mean, abs=1e-12)
    assert parts.m2 == pytest.approx(whole.m2, rel=1e-10)
    assert parts.std == pytest.approx(np.nanstd(x), rel=1e-10)


def test_discrete_sketch_is_exact_after_merging():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 300, size=20_000).astype(float)
    merged = merge_all([numeric_partial(c) for c in np.array_split(x, 5)])
    values, counts = np.unique(x, return_counts=True)
    assert merged.sketch_exact
    np.testing.assert_array_equal(merged.sketch_values, values)
    np.testing.assert_array_equal(merged.sketch_weights, counts)


def test_sketch_quantiles_within_rank_error():
    rng = np.random.default_rng(2)
    x = rng.lognormal(size=200_000)
    merged = merge_all([numeric_partial(c, sketch_points=2048) for c in np.array_split(x, 9)])
    probs = np.linspace(0.01, 0.99, 50)
    q = sketch_quantiles(merged, probs)
    ranks = np.searchsorted(np.sort(x), q) / x.size
    assert np.max(np.abs(ranks - probs)) < 2 / 2048


def test_edge_counts_count_below_and_at():
    s = np.array([1.0, 2.0, 2.0, 3.0, 5.0])
    lt, le = edge_counts(s, np.array([2.0, 4.0, 5.0]))
    assert lt.tolist() == [1, 4, 4] and le.tolist() == [3, 4, 5]


@pytest.mark.parametrize("n,m", [(40, 25), (500, 700), (900, 5000)])
def test_ks_matches_scipy_on_small_references(n, m):
    rng = np.random.default_rng(n)
    a, b = rng.normal(size=n), rng.normal(0.2, 1.3, size=m)
    c = _compare(a, b)
    ref = stats.ks_2samp(a, b, method="auto" if c.ks_exact else "asymp")
    assert c.ks == pytest.approx(ref.statistic, abs=1e-12)
    assert c.ks_pvalue == pytest.approx(ref.pvalue, rel=1e-6)


def test_statistics_are_exact_on_discrete_columns():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 40, size=30_000).astype(float)
    b = rng.integers(3, 45, size=20_000).astype(float)
    c = _compare(a, b)
    assert c.ks == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1e-12)
    assert c.wasserstein == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-9)


@pytest.mark.parametrize("shift,scale", [(0.0, 1.0), (0.05, 1.0), (0.3, 1.5)])
def test_continuous_statistics_within_documented_tolerance(shift, scale):
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=200_000), rng.normal(shift, scale, size=150_000)
    c = _compare(a, b)
    assert c.ks == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1 / 2000)
    w = stats.wasserstein_distance(a, b)
    assert c.wasserstein == pytest.approx(w, rel=0.01, abs=2 * (a.max() - a.min()) / 2000)
    assert c.wasserstein_norm == pytest.approx(c.wasserstein / a.std(), rel=1e-12)


def test_wasserstein_is_exact_beyond_the_reference_range():
    a = np.arange(100.0)
    c = _compare(a, a + 10)
    assert c.ks == pytest.approx(0.1)
    assert c.wasserstein == pytest.approx(10.0)


def test_psi_on_reference_deciles():
    rng = np.random.default_rng(5)
    a = rng.uniform(size=100_000)
    b = np.concatenate([rng.uniform(0, 0.5, 75_000), rng.uniform(0.5, 1, 25_000)])
    c = _compare(a, b)
    # Each lower-half decile holds 15% of current, each upper one 5%.
    expected = psi(np.full(10, 0.1), np.array([0.15] * 5 + [0.05] * 5))
    assert c.psi == pytest.approx(expected, abs=0.01)


def test_categorical_statistics_match_scipy():
    r = pl.DataFrame({"c": ["a"] * 500 + ["b"] * 300 + ["c"] * 200})
    cur = pl.DataFrame({"c": ["a"] * 300 + ["b"] * 300 + ["c"] * 300 + ["d"] * 100})
    spec = ColumnSpec("c", "c", "categorical")
    rs, cs = LocalEngine(r, cur).summarize([spec])["c"]
    cmp = compare_categorical(rs, cs)
    assert cmp.categories == ["a", "b", "c", "d"]
    assert cmp.unseen == ["d"]
    p = np.array([0.5, 0.3, 0.2, 0.0])
    q = np.array([0.3, 0.3, 0.3, 0.1])
    assert cmp.jensenshannon == pytest.approx(distance.jensenshannon(p, q), abs=1e-12)
    table = np.array([[500, 300, 200, 0], [300, 300, 300, 100]])
    chi2, pv, _, _ = stats.chi2_contingency(table, correction=False)
    assert cmp.chi2 == pytest.approx(chi2) and cmp.chi2_pvalue == pytest.approx(pv)


def test_two_categories_use_proportion_tests():
    r = pl.DataFrame({"b": [True] * 7 + [False] * 3})
    cur = pl.DataFrame({"b": [True] * 1 + [False] * 9})
    spec = ColumnSpec("b", "b", "categorical")
    cmp = compare_categorical(*LocalEngine(r, cur).summarize([spec])["b"])
    assert cmp.categories == ["false", "true"]
    assert cmp.min_expected == pytest.approx(4.0)  # "true": 8 of 20 rows, half per table
    expected = stats.fisher_exact([[3, 7], [9, 1]]).pvalue
    assert cmp.fisher_pvalue == pytest.approx(expected)
    p1, p2, pool = 0.7, 0.1, 0.4
    z = (p1 - p2) / np.sqrt(pool * (1 - pool) * (1 / 10 + 1 / 10))
    assert cmp.z_pvalue == pytest.approx(2 * stats.norm.sf(z))


def test_numbers_label_alike_across_dtypes():
    a = pl.DataFrame({"k": [1, 2, 2]})
    b = pl.DataFrame({"k": [1.0, 2.0, None]})
    spec = ColumnSpec("k", "k", "categorical")
    ra, rb = first_pass(a, [spec])["k"], first_pass(b, [spec])["k"]
    assert set(ra.counts) == set(rb.counts) == {"1", "2"}
    assert rb.n_missing == 1


def test_edges_keep_every_value_of_small_tables():
    a, b = numeric_partial(np.arange(50.0)), numeric_partial(np.arange(50.0) + 0.5)
    e = edges_for(a, b)
    assert e.size == 100
    counted = with_counts(a, np.arange(50.0), e)
    assert counted.le[-1] == 50


def test_hash_sample_ignores_order_and_chunking():
    rng = np.random.default_rng(6)
    df = pl.DataFrame({"x": rng.normal(size=3000), "c": rng.choice(["a", "b"], 3000)})
    one = hash_sample(df, 500, seed=3)
    shuffled = hash_sample(df.sample(fraction=1.0, shuffle=True, seed=1), 500, seed=3)
    chunks = [hash_sample(df.slice(i, 700), 500, seed=3) for i in range(0, 3000, 700)]
    merged = pl.concat(chunks).sort("__hash__", maintain_order=True).head(500)
    assert one.equals(shuffled) and one.equals(merged)
