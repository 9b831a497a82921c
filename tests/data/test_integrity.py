"""data.integrity: every planted problem is flagged and named; clean data passes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import polars as pl
import pytest

from assay.data.integrity import duplicate_row_positions, profile_columns

from .helpers import by_column, clean_binary, planted_integrity, run

CHECK = "data.integrity"


@pytest.fixture(scope="module", params=["pandas", "polars"])
def planted(request):
    df = planted_integrity()
    data = df if request.param == "pandas" else pl.from_pandas(df)
    return run(CHECK, data)


def _one(result, column, split="test"):
    found = by_column(result, column, split)
    assert len(found) == 1, [f.message for f in result.findings]
    return found[0]


def test_missing_values_warn_and_fail_by_share(planted):
    warn = _one(planted, "income_2")
    assert warn.status == "warn"
    assert warn.metrics["missing_share"] == pytest.approx(0.4, abs=0.005)
    assert "income_2" in warn.message and "40" in warn.message
    fail = _one(planted, "mostly_empty")
    assert fail.status == "fail"
    assert fail.metrics["missing_share"] == pytest.approx(0.6, abs=0.005)


def test_all_null_column_fails(planted):
    f = _one(planted, "empty")
    assert f.status == "fail"
    assert "every value is missing" in f.message


def test_infinities_fail_with_their_rows(planted):
    f = _one(planted, "ratio")
    assert f.status == "fail"
    assert f.rows == (30, 300)
    assert f.metrics["infinite_count"] == 2


def test_constant_and_near_constant_columns_warn(planted):
    const = _one(planted, "country")
    assert const.status == "warn" and "'FR'" in const.message
    near = _one(planted, "rare_flag")
    assert near.status == "warn"
    assert near.metrics["dominant_share"] == pytest.approx(0.996)


def test_numbers_mixed_with_text_warn_and_show_the_tokens(planted):
    f = _one(planted, "amount_text")
    assert f.status == "warn"
    assert "'NA'" in f.message and "'?'" in f.message
    assert f.metrics["numeric_share"] == pytest.approx(0.9)


def test_identifier_used_as_feature_warns(planted):
    f = _one(planted, "customer_id")
    assert f.status == "warn" and "identifier" in f.message


def test_duplicate_rows_are_listed_by_position(planted):
    (f,) = [f for f in planted.findings if f.rows and f.column is None]
    assert f.status == "warn" and f.split == "test"
    assert f.rows == tuple(range(900, 920))
    assert planted.metrics["duplicate_rows_test"] == 20
    assert planted.metrics["duplicate_share_test"] == pytest.approx(0.02)


def test_status_summary_metrics_and_details(planted):
    assert planted.status == "fail"
    # The summary names the worst problem's column.
    assert "'empty'" in planted.summary or "'mostly_empty'" in planted.summary
    m = planted.metrics
    assert (m["n_rows_test"], m["n_columns_test"]) == (1000, 10)
    assert m["columns_with_missing"] == 2 and m["columns_all_null"] == 1
    assert m["columns_with_infinities"] == 1 and m["columns_constant"] == 1
    assert m["columns_near_constant"] == 1 and m["columns_mixed_type"] == 1
    assert m["splits_with_duplicate_rows"] == 1 and m["identifier_features"] == 1
    table = {r["column"]: r for r in planted.details["columns"]}
    assert set(table) == set(planted_integrity().columns)
    assert table["income_2"]["missing_share"] == pytest.approx(0.4, abs=0.005)
    assert table["customer_id"]["type"] == "identifier"
    assert table["country"]["n_unique"] == 1 and table["country"]["dominant_share"] == 1.0
    (chart,) = planted.details["charts"]
    assert chart["kind"] == "bars" and chart["title"] == "Missing values by column"
    labels = [i["label"] for i in chart["items"]]
    assert labels[:3] == ["empty", "mostly_empty", "income_2"]
    assert {i["status"] for i in chart["items"]} == {"fail", "warn"}
    json.dumps(planted.to_dict(), allow_nan=False)


def test_clean_data_passes_on_every_split():
    df = clean_binary(3000)
    r = run(CHECK, df.iloc[2000:], train=df.iloc[:2000], current=df.iloc[2000:].drop(columns="y"))
    assert r.status == "pass", r.summary
    assert r.findings == ()
    assert {r_["split"] for r_ in r.details["columns"]} == {"train", "test", "current"}
    assert r.details["charts"] == []
    assert r.metrics["n_rows_train"] == 2000 and r.metrics["n_columns_current"] == 4


def test_findings_name_the_split():
    df = clean_binary(2000)
    train = df.iloc[:1000].reset_index(drop=True)
    test = df.iloc[1000:].reset_index(drop=True)
    test.loc[:199, "x2"] = np.nan
    r = run(CHECK, test, train=train)
    (f,) = r.findings
    assert (f.column, f.split, f.status) == ("x2", "test", "warn")


def test_duplicated_column_names_fail():
    df = clean_binary(500)
    dup = pd.concat([df, df[["x1"]]], axis=1)
    r = run(CHECK, dup)
    (f,) = [f for f in r.findings if "more than once" in f.message]
    assert (f.status, f.column, f.split) == ("fail", "x1", "test")
    assert r.metrics["duplicated_column_names"] == 1


def test_identifier_judged_by_the_models_own_features():
    from sklearn.linear_model import LogisticRegression

    df = clean_binary(600)
    df["row_id"] = np.arange(len(df))
    without = LogisticRegression().fit(df[["x1", "x2", "x3"]], df["y"])
    with_id = LogisticRegression().fit(df[["x1", "x2", "x3", "row_id"]], df["y"])
    assert not by_column(run(CHECK, df, model=without), "row_id")
    (f,) = by_column(run(CHECK, df, model=with_id), "row_id")
    assert f.status == "warn" and "the model uses it" in f.message


def test_few_duplicates_are_reported_but_pass():
    df = clean_binary(1000)
    df.iloc[500] = df.iloc[3]
    r = run(CHECK, df)
    assert r.status == "pass"
    (f,) = r.findings
    assert (f.status, f.rows) == ("pass", (500,))


def test_duplicate_positions_are_capped_but_counted():
    a = np.arange(1000).repeat(3)
    df = pl.DataFrame({"a": a, "y": a % 2})
    r = run(CHECK, df)
    (f,) = [f for f in r.findings if f.rows]
    assert len(f.rows) == 1000
    assert r.metrics["duplicate_rows_test"] == 2000
    assert f.metrics["duplicate_count"] == 2000


def test_profile_counts_nan_as_missing_and_ignores_it_in_unique_values():
    df = pl.DataFrame(
        {
            "f": [1.0, None, float("nan"), 1.0, 2.0],
            "s": ["a", "a", None, "b", "a"],
            "t": ["1", "2", "x", None, "3"],
        }
    )
    f, s, t = profile_columns(df)
    assert (f.n_missing, f.n_unique, f.dominant_count) == (2, 2, 2)
    assert (s.n_missing, s.n_unique, s.dominant_share) == (1, 2, 0.75)
    assert t.n_numeric_like == 3 and t.n_present == 4


def test_object_columns_are_flagged_as_mixed():
    from assay.core.context import AuditContext, AuditSettings
    from assay.core.registry import get_check
    from assay.io.readers import TableSource
    from assay.io.schema import Schema

    df = pl.DataFrame({"o": pl.Series([1, "a", None, 2.5] * 5, dtype=pl.Object), "y": [0, 1] * 10})
    types = {"o": "categorical", "y": "boolean"}
    schema = Schema(types=types, target="y", task="binary", features=("o",), classes=(0, 1))
    ctx = AuditContext(
        frames={"test": df},
        sources={"test": TableSource(name="test", path=None, kind="polars")},
        schema=schema,
        settings=AuditSettings(),
    )
    out = get_check(CHECK).fn(ctx, get_check(CHECK).thresholds)
    (f,) = [f for f in out.findings if "Python objects" in f.message]
    assert (f.status, f.column) == ("warn", "o")


def test_duplicate_rows_compare_nulls_as_equal():
    df = pl.DataFrame({"a": [1, None, 1, None, 2], "b": ["x", None, "x", None, "x"]})
    assert duplicate_row_positions(df).to_list() == [2, 3]
