"""Mergeable summaries of the data checks: merging is associative, chunking changes nothing.

Each summary is computed on chunks and merged under different groupings
(explicit regroupings and hypothesis-drawn cut points); the result must equal
the summary of the whole table, and the checks must give the same results
whatever the chunk size.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import assay
from assay.data.overlap import overlapping_rows
from assay.engine._audit import LocalAuditEngine
from assay.engine._fingerprint import (
    fingerprint_summary,
    merge_all_fingerprints,
    merge_fingerprints,
)
from assay.engine._outcomes import merge_outcomes, outcome_summary
from assay.engine._profile import ValueView, merge_profiles, profile_series
from assay.engine._rowhash import (
    duplicate_rows,
    hash_counts,
    merge_counts,
    overlap_stats,
    prepare,
)

values = st.lists(
    st.one_of(
        st.none(),
        st.sampled_from([0.0, -1.0, 999.0, float("nan"), float("inf")]),
        st.integers(-5, 5).map(float),
    ),
    min_size=3,
    max_size=60,
)


def _cuts(n: int, data) -> tuple[int, int]:
    a = data.draw(st.integers(0, n))
    b = data.draw(st.integers(a, n))
    return a, b


def _profile_key(p):
    counts = None
    if p.counts is not None:
        counts = sorted(
            (("nan" if v != v else v), c) for v, c in p.counts.select("value", "count").iter_rows()
        )
    return (p.n_rows, p.n_missing, p.n_infinite, p.n_numeric_like, p.n_unique, counts)


@settings(max_examples=60, deadline=None)
@given(values, st.data())
def test_profile_merge_is_associative_and_exact(xs, data):
    s = pl.Series("x", xs, dtype=pl.Float64)
    a, b = _cuts(len(xs), data)
    pa, pb, pc = (profile_series(s[i:j]) for i, j in ((0, a), (a, b), (b, len(xs))))
    left = merge_profiles(merge_profiles(pa, pb), pc)
    right = merge_profiles(pa, merge_profiles(pb, pc))
    whole = profile_series(s)
    assert _profile_key(left) == _profile_key(right) == _profile_key(whole)
    assert left.dominant_count == whole.dominant_count


def test_string_profile_counts_numbers_and_tokens():
    a = profile_series(pl.Series("s", ["1", " 2", "x", None]))
    b = profile_series(pl.Series("s", ["x", "3.5", "NA"]))
    m = merge_profiles(a, b)
    assert (m.n_rows, m.n_missing, m.n_numeric_like, m.n_unique) == (7, 1, 3, 5)
    assert m.frequent(lambda v: v in {"x", "NA"}, 5) == ["x", "NA"]


def test_capped_profile_keeps_exact_tails_and_bounded_counts():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(size=3000), np.full(40, 999.0), np.full(2000, 7.0)])
    rng.shuffle(x)
    chunks = np.array_split(x, 7)
    cap = 200
    merged = None
    for c in chunks:
        p = profile_series(pl.Series("x", c), cap=cap)
        merged = p if merged is None else merge_profiles(merged, p, cap=cap)
    assert merged is not None and not merged.exact
    assert merged.n_unique >= cap  # a lower bound once capped
    # Misra-Gries: the dominant count is low by at most rows / (cap + 1).
    assert 2000 - x.size / (cap + 1) <= merged.dominant_count <= 2000
    view = merged.values()
    assert view.values[-1] == 999.0 and view.counts[-1] == 40  # exact top value and count
    assert view.values[0] == x.min()
    q = view.percentile([25, 75])
    assert q == pytest.approx(np.percentile(x, [25, 75]), abs=0.05)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=1, max_size=40))
def test_value_view_order_statistics_equal_numpy(xs):
    arr = np.sort(np.asarray(xs, dtype=np.float64))
    v, c = np.unique(arr, return_counts=True)
    view = ValueView(v, c)
    q = [5, 25, 50, 75, 95]
    assert view.percentile(q) == pytest.approx(np.percentile(arr, q), rel=1e-12, abs=1e-12)
    assert view.median() == pytest.approx(float(np.median(arr)), rel=1e-12, abs=1e-12)


rows = st.lists(
    st.tuples(st.sampled_from([1, 2, None]), st.sampled_from(["a", "b", None])),
    min_size=2,
    max_size=40,
)


def _frame(rs):
    return pl.DataFrame(
        {"a": [r[0] for r in rs], "b": [r[1] for r in rs]},
        schema={"a": pl.Int64, "b": pl.String},
    )


def _key(c):
    return (
        c.n_rows,
        c.h1.tolist(),
        c.h2.tolist(),
        c.count.tolist(),
        c.first.tolist(),
        c.second.tolist(),
    )


@settings(max_examples=60, deadline=None)
@given(rows, st.data())
def test_row_hash_counts_merge_is_associative_and_exact(rs, data):
    df = _frame(rs)
    a, b = _cuts(df.height, data)
    parts = [hash_counts(prepare(df[i:j]), offset=i) for i, j in ((0, a), (a, b), (b, df.height))]
    left = merge_counts(merge_counts(parts[0], parts[1]), parts[2])
    right = merge_counts(parts[0], merge_counts(parts[1], parts[2]))
    whole = hash_counts(prepare(df))
    assert _key(left) == _key(right) == _key(whole)
    assert duplicate_rows(whole) == df.height - df.unique().height


@settings(max_examples=40, deadline=None)
@given(rows, rows)
def test_overlap_counts_equal_a_join(train_rows, test_rows):
    train, test = _frame(train_rows), _frame(test_rows)
    stats = overlap_stats(hash_counts(prepare(train)), hash_counts(prepare(test)))
    expected = overlapping_rows(test, train, ["a", "b"])
    assert stats.overlap_rows == expected.len()
    both = pl.concat([train, test]).group_by(["a", "b"]).len().get_column("len")
    assert sorted(stats.sizes().tolist()) == sorted(both.filter(both > 1).to_list())


def test_local_engine_lists_overlap_rows_with_their_training_row():
    train = pl.DataFrame({"a": [5, 1, 2, 1], "b": ["x", "y", "z", "y"]})
    test = pl.DataFrame({"a": [9, 1, 2, 1, 7], "b": ["q", "y", "z", "y", "x"]})
    engine = LocalAuditEngine({"train": train, "test": test}, chunk_rows=2)
    result = engine.overlap("test", ["a", "b"])
    assert result.rows == (1, 2, 3) and result.train_rows == (1, 2, 1)
    assert result.train_chance_rows == 2  # the two copies of (1, "y") in train
    dups = engine.duplicates("test", ["a", "b"])
    assert (dups.count, dups.rows) == (1, (3,))


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_fingerprint_ignores_order_and_partitioning(data):
    rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
    n = 50
    df = pl.DataFrame(
        {
            "x": rng.normal(size=n),
            "k": rng.integers(0, 3, n),
            "s": rng.choice(["a", "b", ""], n),
            "m": [None if i % 4 == 0 else float(i) for i in range(n)],
        }
    )
    shuffled = df.sample(fraction=1.0, shuffle=True, seed=data.draw(st.integers(0, 99)))
    a, b = _cuts(n, data)
    parts = [fingerprint_summary(shuffled[i:j]) for i, j in ((0, a), (a, b), (b, n))]
    left = merge_fingerprints(merge_fingerprints(parts[0], parts[1]), parts[2])
    right = merge_fingerprints(parts[0], merge_fingerprints(parts[1], parts[2]))
    whole = fingerprint_summary(df)
    assert left == right
    assert left.digest() == right.digest() == whole.digest()
    swapped = df.with_columns(pl.Series("x", np.roll(df.get_column("x").to_numpy(), 1)))
    assert fingerprint_summary(swapped).digest() != whole.digest()  # values moved between rows


def test_fingerprint_kinds_merge_int_and_float():
    ints = fingerprint_summary(pl.DataFrame({"v": [1.0, 2.0]}))
    floats = fingerprint_summary(pl.DataFrame({"v": [2.5]}))
    empty = fingerprint_summary(pl.DataFrame({"v": [None]}, schema={"v": pl.Float64}))
    assert dict(merge_all_fingerprints([ints, empty, floats]).kinds) == {"v": "float"}
    assert dict(merge_fingerprints(empty, ints).kinds) == {"v": "int"}


def test_outcome_summaries_add_up_to_the_whole():
    from sklearn.metrics import accuracy_score, confusion_matrix, roc_auc_score

    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 5000)
    score = np.clip(0.35 * y + rng.random(5000) * 0.65, 0, 1)
    pred = (score > 0.5).astype(int)
    parts = [
        outcome_summary(y[i : i + 1000], pred[i : i + 1000], score[i : i + 1000], classes=[0, 1])
        for i in range(0, 5000, 1000)
    ]
    m = parts[0]
    for p in parts[1:]:
        m = merge_outcomes(m, p)
    whole = outcome_summary(y, pred, score, classes=[0, 1])
    assert m.label_counts == whole.label_counts == tuple(np.bincount(y))
    assert (m.confusion == confusion_matrix(y, pred)).all()
    assert m.accuracy == pytest.approx(accuracy_score(y, pred))
    assert m.binned_auc() == pytest.approx(roc_auc_score(y, score), abs=1e-3)


# -- the checks do not depend on the chunk size ---------------------------------------------


@pytest.fixture(scope="module")
def planted():
    rng = np.random.default_rng(4)
    n = 3000
    train = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n).astype(float),
            "income": rng.lognormal(10, 0.5, n),
            "city": rng.choice(["a", "b", "c"], n),
            "mostly_num": [str(i) if i % 50 else "n/a" for i in range(n)],
            "y": rng.integers(0, 2, n),
        }
    )
    train.loc[[5, 800, 2100], "age"] = 999.0  # planted sentinel
    train.loc[[7, 9], "income"] = np.inf  # planted infinities
    train = pd.concat([train, train.iloc[100:160]], ignore_index=True)  # planted duplicates
    test = train.sample(1000, random_state=1).reset_index(drop=True)  # planted overlap
    return train, test


CHECKS = ["data.integrity", "data.train_test_overlap", "data.provenance"]


def _audit(train, test):
    return assay.audit(train=train, test=test, target="y", config={"include": CHECKS})


def _audit_on(engine, train, test):
    """The results of the same audit, its data checks reading ``engine`` (the context's
    ``data_engine``) instead of the default local one."""
    from assay.core import runner
    from assay.core.audit import build_context, select_checks
    from assay.core.config import AuditConfig

    cfg = AuditConfig(target="y", include=CHECKS)
    ctx = build_context(
        train=train, test=test, current=None, model=None, config=cfg, trust_model=False
    )
    ctx.data_engine = engine
    return runner.run(select_checks(cfg), ctx)


def test_checks_are_the_same_for_any_chunk_size(planted):
    train, test = planted
    default = _audit(train, test)
    frames = {"train": pl.from_pandas(train), "test": pl.from_pandas(test)}
    chunked = _audit_on(LocalAuditEngine(frames, chunk_rows=137, profile_rows=251), train, test)
    for a, b in zip(default.checks, chunked, strict=True):
        assert (a.id, a.status, a.summary) == (b.id, b.status, b.summary)
        assert a.metrics == pytest.approx(b.metrics, rel=1e-9), a.id
        assert [(f.message, f.rows) for f in a.findings] == [
            (f.message, f.rows) for f in b.findings
        ]
    integrity = default.check("data.integrity")
    assert integrity.status == "fail"  # infinities
    found = {f.metrics.get("sentinel_value") for f in integrity.findings}
    assert 999.0 in found
    assert integrity.metrics["duplicate_rows_train"] == 60
    overlap = default.check("data.train_test_overlap")
    assert overlap.status == "fail" and overlap.metrics["overlap_rows_test"] == 1000


def test_clean_data_stays_quiet():
    rng = np.random.default_rng(5)
    n = 4000
    df = pd.DataFrame(
        {"x": rng.normal(size=n), "z": rng.normal(size=n), "y": rng.integers(0, 2, n)}
    )
    r = _audit(df.iloc[:3000], df.iloc[3000:].reset_index(drop=True))
    assert [c.status for c in r.checks] == ["pass", "pass", "pass"]


def test_overlap_finds_keys_whose_first_half_collides():
    """Two train keys sharing h1 (a 64-bit collision) are told apart by h2."""
    from assay.engine._rowhash import counts_from_keys

    u = np.uint64
    train = counts_from_keys(np.array([5, 5, 9], u), np.array([1, 2, 3], u))
    other = counts_from_keys(np.array([5, 5, 7], u), np.array([2, 4, 3], u), offset=0)
    stats = overlap_stats(train, other)
    assert stats.overlap_rows == 1
    assert stats.candidates.select("first", "train_first").rows() == [(0, 1)]
    assert stats.sizes().tolist() == [2]
