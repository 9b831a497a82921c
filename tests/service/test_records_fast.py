"""The column-wise fast path of prediction validation agrees with the per-record
checks: the same rows for a clean batch, and the per-record errors for a bad one."""

from __future__ import annotations

import datetime as dt
import io
import json

import polars as pl
import pytest

from assay.service._records import (
    RecordsError,
    TableRecords,
    body_records,
    validate_predictions,
)

FIELDS = ("id", "timestamp", "features", "prediction", "score")
KW = {"columns": {"x", "c"}, "features": ["x", "c"], "numeric": {"x"}}


def _frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": ["a", "b", "c"],
            "timestamp": [1.7e9, 1.7e9 + 1, 1.7e9 + 2],
            "x": [0.5, None, -1.25],
            "c": ["u", "v", None],
            "prediction": [1, 0, 1],
            "score": [0.9, 0.1, None],
        }
    )


def _slow(table: TableRecords) -> list[tuple]:
    """The rows the per-record reading of the table gives, decoded."""
    recs = table.records()
    return [
        (str(r["id"]), float(r["timestamp"]), r["features"], r["prediction"], r["score"])
        for r in recs
    ]


def _decoded(rows: list[tuple]) -> list[tuple]:
    return [(i, t, json.loads(f), json.loads(p), s) for i, t, f, p, s in rows]


@pytest.mark.parametrize("kind", ["parquet", "csv", "json"])
def test_fast_path_rows_match_records(kind: str) -> None:
    df = _frame()
    if kind == "parquet":
        buf = io.BytesIO()
        df.write_parquet(buf)
        body, ct = buf.getvalue(), "application/vnd.apache.parquet"
    elif kind == "csv":
        body, ct = df.write_csv().encode(), "text/csv"
    else:
        recs = [
            {
                "id": r["id"],
                "timestamp": r["timestamp"],
                "features": {"x": r["x"], "c": r["c"]},
                "prediction": r["prediction"],
                "score": r["score"],
            }
            for r in df.iter_rows(named=True)
        ]
        body, ct = json.dumps({"records": recs}).encode(), "application/json"
    rows = validate_predictions(body_records(body, ct, fields=FIELDS), **KW)
    want = _slow(TableRecords(df, FIELDS))
    assert _decoded(rows) == want


def test_table_bad_records_are_named() -> None:
    df = _frame().with_columns(
        pl.Series("x", [0.5, float("inf"), 1.0]),
        pl.Series("timestamp", ["2024-01-01", "no", "2024-01-02"]),
    )
    buf = io.BytesIO()
    df.write_parquet(buf)
    with pytest.raises(RecordsError) as err:
        validate_predictions(
            body_records(buf.getvalue(), "application/parquet", fields=FIELDS), **KW
        )
    got = {(e["record"], e["field"]) for e in err.value.errors}
    assert got == {(1, "timestamp"), (1, "features.x")}


def test_table_missing_feature_and_bad_json_score_are_named() -> None:
    buf = io.BytesIO()
    _frame().drop("c").write_parquet(buf)
    with pytest.raises(RecordsError) as err:
        validate_predictions(
            body_records(buf.getvalue(), "application/parquet", fields=FIELDS), **KW
        )
    assert {e["field"] for e in err.value.errors} == {"features.c"}
    recs = [
        {"id": "a", "timestamp": 1, "features": {"x": 1, "c": "u"}, "score": 0.5},
        {"id": "b", "timestamp": 2, "features": {"x": True, "c": "u"}, "score": "hi"},
    ]
    with pytest.raises(RecordsError) as err:
        validate_predictions(recs, **KW)
    assert {(e["record"], e["field"]) for e in err.value.errors} == {
        (1, "features.x"),
        (1, "score"),
    }


def test_table_aware_datetimes_are_utc_seconds() -> None:
    when = dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    df = _frame().with_columns(
        pl.Series("timestamp", [when] * 3, dtype=pl.Datetime("us", "Europe/Berlin"))
    )
    rows = validate_predictions(TableRecords(df, FIELDS), **KW)
    assert rows[0][1] == when.timestamp()
    naive = _frame().with_columns(pl.Series("timestamp", [dt.datetime(1970, 1, 1, 0, 1)] * 3))
    assert validate_predictions(TableRecords(naive, FIELDS), **KW)[0][1] == 60.0
