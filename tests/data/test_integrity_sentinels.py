"""data.integrity: sentinel codes (999, -1, ...) and physically impossible values (a zero
dimension, a negative count) are named with their column, value and row count; heavy tails
and ordinary outliers stay quiet."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assay.data.integrity import judge_impossible, judge_sentinel

from .helpers import by_column, run

CHECK = "data.integrity"


def _table(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "income": rng.normal(50_000, 12_000, n).round(0),
            "age": rng.integers(18, 90, n),
            "x": rng.uniform(3.5, 9.0, n).round(2),
            "y_dim": rng.uniform(3.5, 9.0, n).round(2),
            "z": rng.uniform(2.0, 5.5, n).round(2),
            "children": rng.poisson(1.2, n),
            "y": rng.integers(0, 2, n),
        }
    )


def _sentinels(result):
    return [f for f in result.findings if f.metrics.get("sentinel_value") is not None]


def test_planted_999_sentinel_is_named_with_value_and_row_count():
    df = _table()
    df.loc[[5, 80, 700, 1500, 1999], "age"] = 999
    r = run(CHECK, df)
    (f,) = by_column(r, "age")
    assert f.status == "warn", f.message
    assert "999" in f.message and "5 rows" in f.message and "'age'" in f.message
    assert f.metrics["sentinel_value"] == 999 and f.metrics["sentinel_count"] == 5
    assert set(f.rows) == {5, 80, 700, 1500, 1999}
    assert r.status == "warn" and r.metrics["columns_with_sentinels"] == 1


def test_single_666_in_a_binary_column_is_a_sentinel():
    df = _table()
    df["flag"] = (np.arange(len(df)) % 3 == 0).astype(int)
    df.loc[17, "flag"] = 666
    (f,) = by_column(run(CHECK, df), "flag")
    assert f.status == "warn" and "666" in f.message and "1 row" in f.message


def test_zero_dimension_is_an_impossible_value():
    df = _table()
    df.loc[[3, 33, 333], "x"] = 0.0
    r = run(CHECK, df)
    (f,) = by_column(r, "x")
    assert f.status == "warn", f.message
    assert "zero" in f.message and "3 rows" in f.message
    assert f.metrics["impossible_value"] == 0 and f.metrics["impossible_count"] == 3
    assert not by_column(r, "y_dim") and not by_column(r, "z")


def test_negative_value_in_a_non_negative_column():
    df = _table()
    df.loc[[10, 20], "children"] = -1
    (f,) = by_column(run(CHECK, df), "children")
    assert f.status == "warn" and "-1" in f.message and "2 rows" in f.message


def test_heavy_tailed_clean_table_stays_quiet():
    rng = np.random.default_rng(4)
    n = 5000
    df = pd.DataFrame(
        {
            "income": rng.lognormal(10, 1.0, n),
            "claims": rng.lognormal(0, 1.5, n).round(2),
            "visits": rng.negative_binomial(1, 0.05, n),
            "gain": np.where(rng.random(n) < 0.9, 0.0, rng.lognormal(8, 1.2, n).round(0)),
            "temp": rng.normal(12, 8, n).round(1),
            "y": rng.integers(0, 2, n),
        }
    )
    r = run(CHECK, df)
    assert r.status == "pass", [f.message for f in r.findings]
    assert r.findings == ()


def test_a_lone_far_outlier_that_is_no_code_is_a_note_not_a_warning():
    df = _table()
    df["pressure"] = np.random.default_rng(1).normal(1017, 7, len(df)).round(1)
    df.loc[44, "pressure"] = 5503.8
    r = run(CHECK, df)
    (f,) = by_column(r, "pressure")
    assert f.status == "pass" and "5503.8" in f.message
    assert r.status == "pass"


@pytest.mark.parametrize(
    ("count", "gap", "far", "code", "rest_unique", "expected"),
    [
        (2, 6.0, 11.0, True, 10, "warn"),  # code-like, separated, far
        (1, 6.0, 11.0, True, 10, "warn"),  # a single code-like value
        (1, 6.0, 11.0, False, 10, "pass"),  # a single ordinary value: at most a note
        (4, 30.0, 30.0, False, 10, "pass"),  # a repeated real extreme (a shared fare)
        (2, 5.0, 11.0, True, 10, "pass"),  # not separated from the rest (gap <= 5)
        (2, 6.0, 10.0, True, 10, "pass"),  # not far from the bulk (<= 10)
        (2, 60.0, 60.0, True, 1, "pass"),  # the rest is constant: a rare flag, not a code
    ],
)
def test_judge_sentinel_boundaries(count, gap, far, code, rest_unique, expected):
    th = {"sentinel_gap": 5.0, "sentinel_far": 10.0, "sentinel_max_share": 0.01}
    status, reason = judge_sentinel(
        count=count, n=1000, gap=gap, far=far, code_like=code, rest_unique=rest_unique, params=th
    )
    assert status == expected, reason
    assert reason


def test_judge_sentinel_share_cap():
    th = {"sentinel_gap": 5.0, "sentinel_far": 10.0, "sentinel_max_share": 0.01}
    kw = {"gap": 9.0, "far": 20.0, "code_like": True, "rest_unique": 5, "params": th}
    assert judge_sentinel(count=10, n=1000, **kw)[0] == "warn"
    assert judge_sentinel(count=11, n=1000, **kw)[0] == "pass"


def test_judge_impossible_boundaries():
    th = {"impossible_max_share": 0.01, "zero_min_gap": 0.2, "zero_min_scales": 0.5}
    # Zeros in a strictly positive column whose smallest other value is far from zero.
    assert judge_impossible("zero", count=3, n=1000, rest_min=2.0, rest_median=6.0,
                            resolution=0.01, params=th)[0] == "warn"  # fmt: skip
    # ... not when the rest comes close to zero (a heavy tail towards zero).
    assert judge_impossible("zero", count=3, n=1000, rest_min=1.19, rest_median=6.0,
                            resolution=0.01, params=th)[0] == "pass"  # fmt: skip
    # ... not for counts, where zero is the next value (within 10 resolutions).
    assert judge_impossible("zero", count=3, n=1000, rest_min=1.0, rest_median=2.0,
                            resolution=1.0, params=th)[0] == "pass"  # fmt: skip
    # ... not when the smallest other value is within half a robust scale of zero
    # (a fare of 0 next to fares from 4 with a spread of 17).
    assert judge_impossible("zero", count=3, n=1000, rest_min=4.0, rest_median=14.0,
                            resolution=0.0001, rest_scale=17.0, params=th)[0] == "pass"  # fmt: skip
    # Too many zeros are a category of their own, not an error.
    assert judge_impossible("zero", count=11, n=1000, rest_min=2.0, rest_median=6.0,
                            resolution=0.01, params=th)[0] == "pass"  # fmt: skip
    assert judge_impossible("negative", count=2, n=1000, rest_min=0.0, rest_median=1.0,
                            resolution=1.0, params=th)[0] == "warn"  # fmt: skip
    # A negative that is no code (-0.8 degrees) is a tail crossing zero.
    assert judge_impossible("negative", count=1, n=1000, rest_min=0.1, rest_median=60.0,
                            resolution=0.1, code_like=False, params=th)[0] == "pass"  # fmt: skip
    # Negatives of many different values are a tail crossing zero, not a code.
    assert judge_impossible("negative", count=3, n=1000, rest_min=0.0, rest_median=1.0,
                            resolution=1.0, n_distinct=3, params=th)[0] == "pass"  # fmt: skip
    assert judge_impossible("negative", count=11, n=1000, rest_min=0.0, rest_median=1.0,
                            resolution=1.0, params=th)[0] == "pass"  # fmt: skip


def test_a_census_style_top_code_is_a_note_not_a_warning():
    """Adult's capital_gain: mostly 0, a long tail to ~27k, and 99999 for every value
    above the cap. A top-code, not an 'unknown' code: noted, never a warning."""
    df = _table()
    rng = np.random.default_rng(2)
    gain = np.where(rng.random(len(df)) < 0.9, 0, rng.lognormal(8, 0.8, len(df))).round(0)
    gain[[3, 90, 400, 1200]] = 99999
    df["capital_gain"] = gain
    r = run(CHECK, df)
    (f,) = by_column(r, "capital_gain")
    assert f.status == "pass" and "top-code" in f.message, f.message
    assert r.status == "pass"
