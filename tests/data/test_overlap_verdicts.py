"""data.train_test_overlap against chance (#14): random splits of a table with natural
duplicates stay quiet; copies planted from train into test are still caught."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assay.data.overlap import chance_overlap, judge_overlap, overlap_p_value

from .helpers import run

CHECK = "data.train_test_overlap"


def _with_duplicates(n: int, seed: int, dup_share: float = 0.2) -> pd.DataFrame:
    """``n`` rows, ``dup_share`` of them in groups of 2-3 identical feature rows."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "a": rng.normal(size=n).round(6),
            "b": rng.integers(0, 1000, n),
            "c": rng.choice(list("uvwxyz"), n),
        }
    )
    k = int(dup_share * n)
    src = rng.choice(n, k // 2, replace=False)
    dst = rng.choice(np.setdiff1d(np.arange(n), src), k - len(src), replace=False)
    df.iloc[dst] = df.iloc[rng.choice(src, len(dst))].to_numpy()
    df = df.astype({"a": float, "b": int, "c": str})
    df["y"] = rng.integers(0, 2, n)
    return df


def _split(df: pd.DataFrame, seed: int, test_share: float = 0.3):
    order = np.random.default_rng(seed + 1000).permutation(len(df))
    cut = round((1 - test_share) * len(df))
    return df.iloc[order[:cut]].reset_index(drop=True), df.iloc[order[cut:]].reset_index(drop=True)


def _plant(train: pd.DataFrame, test: pd.DataFrame, share: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    k = max(1, int(share * len(test)))
    at = rng.choice(len(test), k, replace=False)
    out = test.copy()
    out.iloc[at] = train.iloc[rng.choice(len(train), k, replace=False)].to_numpy()
    return out.astype(test.dtypes.to_dict())


def test_random_splits_of_a_table_with_natural_duplicates_stay_quiet():
    # With the flat "+1 point over the train-internal duplicate share" line, about a
    # quarter of these splits warned.
    df = _with_duplicates(1000, 0)
    statuses = [
        run(CHECK, test, train=train).status
        for train, test in map(lambda s: _split(df, s), range(40))
    ]
    assert statuses.count("pass") >= 38, statuses


@pytest.mark.parametrize("share", [0.05, 0.10])
def test_planted_copies_are_caught_on_top_of_natural_duplicates(share):
    train, test = _split(_with_duplicates(5000, 1), 0)
    r = run(CHECK, _plant(train, test, share, 2), train=train)
    assert r.status in ("warn", "fail"), r.summary
    assert r.metrics["overlap_test_p_value"] < 0.05
    assert r.metrics["overlap_excess_test"] > 0


@pytest.mark.parametrize("share", [0.02, 0.03, 0.05])
def test_a_few_planted_copies_are_caught_in_a_table_without_duplicates(share):
    train, test = _split(_with_duplicates(4000, 3, dup_share=0.0), 0)
    r = run(CHECK, _plant(train, test, share, 4), train=train)
    assert r.status == "warn", r.summary
    assert r.metrics["overlap_rows_test"] == int(share * len(test))
    assert r.metrics["overlap_test_p_value"] < 0.001


def test_the_evidence_is_stated():
    train, test = _split(_with_duplicates(1000, 0), 0)
    r = run(CHECK, test, train=train)
    for key in ("overlap_expected_test", "overlap_test_p_value", "overlap_excess_test"):
        assert key in r.metrics
    assert 0 < r.metrics["overlap_expected_test"] < len(test)


# -- the pure pieces ------------------------------------------------------------------


def test_chance_overlap_of_groups():
    # A pair: overlaps iff exactly one of the two lands in test (each then 1 row).
    mean, var = chance_overlap(np.array([2]), 0.5)
    assert mean == pytest.approx(0.5) and var == pytest.approx(0.25)
    # Singletons never overlap; triples: k ~ Bin(3, q), overlap k when k < 3.
    mean, var = chance_overlap(np.array([1, 1, 3]), 0.3)
    probs = {1: 3 * 0.3 * 0.49, 2: 3 * 0.09 * 0.7}
    ex = sum(k * p for k, p in probs.items())
    ex2 = sum(k * k * p for k, p in probs.items())
    assert mean == pytest.approx(ex) and var == pytest.approx(ex2 - ex * ex)
    assert chance_overlap(np.array([], dtype=int), 0.3) == (0.0, 0.0)


def test_overlap_p_value_has_a_continuity_correction():
    assert overlap_p_value(10, 10.0, 4.0) == pytest.approx(0.5987, abs=1e-3)  # z = -0.25
    assert overlap_p_value(0, 0.0, 0.0) == 1.0
    assert overlap_p_value(3, 0.0, 0.0) == 0.0  # no chance overlap possible, yet some
    assert overlap_p_value(20, 10.0, 4.0) < 1e-5


def test_judge_overlap_boundaries():
    kw = {"alpha": 0.05, "warn": 0.005, "fail": 0.1}
    assert judge_overlap(0.02, 0.001, **kw) == "warn"
    assert judge_overlap(0.005, 0.049, **kw) == "warn"  # both at their boundary
    assert judge_overlap(0.005, 0.05, **kw) == "pass"  # p not below alpha
    assert judge_overlap(0.0049, 0.0, **kw) == "pass"  # clear, not material
    assert judge_overlap(0.1, 1e-9, **kw) == "fail"
    assert judge_overlap(0.3, 0.2, **kw) == "pass"  # large excess, within chance
