"""data.train_test_overlap: copied rows are found at their positions; chance overlap passes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from assay.data.overlap import overlapping_rows

from .helpers import clean_binary, run

CHECK = "data.train_test_overlap"


def _copy_rows(test: pd.DataFrame, train: pd.DataFrame, at: list[int], src: list[int]):
    out = test.copy()
    out.iloc[at] = train.iloc[src].to_numpy()
    return out


@pytest.fixture(scope="module")
def split():
    df = clean_binary(3000, seed=4)
    return df.iloc[:2000].reset_index(drop=True), df.iloc[2000:].reset_index(drop=True)


@pytest.mark.parametrize("kind", ["pandas", "polars"])
def test_copied_rows_warn_with_their_positions(split, kind):
    train, test = split
    at = [5, 17, 250, 600, 999, *range(100, 125)]  # 30 rows: 3% of test
    at.sort()
    test = _copy_rows(test, train, at, list(range(len(at))))
    convert = (lambda d: d) if kind == "pandas" else pl.from_pandas
    r = run(CHECK, convert(test), train=convert(train))
    assert r.status == "warn", r.summary
    (f,) = r.findings
    assert f.split == "test" and f.rows == tuple(at)
    assert r.metrics["overlap_rows_test"] == 30
    assert r.metrics["overlap_share_test"] == pytest.approx(0.03)
    assert r.details["examples"][0] == {"split": "test", "row": 5, "train_row": 0}


def test_heavy_copying_fails_and_the_target_is_ignored(split):
    train, test = split
    at = list(range(0, 1000, 5))  # 20%
    test = _copy_rows(test, train, at, at)
    test.loc[at, "y"] = 1 - test.loc[at, "y"]  # a different label does not hide a copy
    r = run(CHECK, test, train=train)
    assert r.status == "fail"
    assert r.findings[0].rows == tuple(at)
    assert "copies of training rows" in r.summary


def test_current_is_checked_too(split):
    train, test = split
    current = _copy_rows(test, train, list(range(50)), list(range(50))).drop(columns="y")
    r = run(CHECK, test, train=train, current=current)
    assert r.metrics["overlap_rows_test"] == 0
    assert r.metrics["overlap_rows_current"] == 50
    (f,) = r.findings
    assert (f.split, f.status, f.rows) == ("current", "warn", tuple(range(50)))


def test_clean_split_passes(split):
    train, test = split
    r = run(CHECK, test, train=train)
    assert r.status == "pass" and r.findings == ()
    assert r.metrics["overlap_share_test"] == 0


def test_chance_overlap_of_coarse_features_passes():
    # Two coarse features: most test rows equal some train row by chance alone.
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "a": rng.integers(0, 4, 3000),
            "b": rng.choice(["x", "y", "z"], 3000),
            "y": rng.integers(0, 2, 3000),
        }
    )
    r = run(CHECK, df.iloc[2000:], train=df.iloc[:2000])
    assert r.metrics["overlap_share_test"] > 0.9
    assert r.metrics["chance_share"] > 0.9
    assert r.status == "pass", r.summary
    assert r.findings[0].status == "pass"


def test_a_fresh_row_id_does_not_hide_a_copy(split):
    train, test = split
    train = train.assign(row_id=np.arange(len(train)))
    test = _copy_rows(test, train.drop(columns="row_id"), list(range(100)), list(range(100)))
    test = test.assign(row_id=np.arange(10_000, 10_000 + len(test)))
    r = run(CHECK, test, train=train)
    assert r.metrics["overlap_rows_test"] == 100
    assert "row_id" in r.details["left_out_columns"]
    assert r.status == "warn"


def test_nulls_compare_equal_and_dtypes_are_reconciled():
    train = pl.DataFrame({"a": [1, 2, None, 4], "b": ["x", None, "z", "w"]})
    test = pl.DataFrame({"a": [2.0, None, 5.0], "b": [None, "z", "w"]})
    assert overlapping_rows(test, train, ["a", "b"]).to_list() == [0, 1]
    cat = test.with_columns(pl.col("b").cast(pl.Categorical))
    assert overlapping_rows(cat, train, ["a", "b"]).to_list() == [0, 1]


def test_skipped_without_train(split):
    r = run(CHECK, split[1])
    assert r.status == "skipped"
