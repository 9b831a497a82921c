"""The faster ingest path (#16 item 6) stores what the old one did and refuses what it
refused: multi-row INSERTs on SQLite and COPY on PostgreSQL against the row-by-row
``executemany``; the column-wise validation against the per-record one; bad rows in a
large batch named by record and field with nothing stored; Arrow IPC bodies; the
scheduler leaving the open window alone."""

from __future__ import annotations

import io
import json

import polars as pl
import pytest

from assay.service import ModelRecord
from assay.service import _records as records_module
from assay.service._records import (
    TooManyRows,
    body_records,
    validate_predictions,
)
from assay.service._store import INSERT_CHUNK, _SQLStore
from tests.service.conftest import BACKENDS, fresh_store, judge, prediction_records

FIELDS = ("id", "timestamp", "features", "prediction", "score")
KW = {"columns": {"x", "colour"}, "features": ["x", "colour"], "numeric": {"x"}}
PRED = "/api/v1/models/churn/predictions"
ARROW = "application/vnd.apache.arrow.stream"


def _model(name: str = "m") -> ModelRecord:
    return ModelRecord(name, 0.0, "binary", "y", None, None, {"features": ["x"]}, b"PAR1")


def _rows(n: int, prefix: str = "r") -> list[tuple]:
    """Validated-looking rows with awkward values: quotes, non-ASCII, nulls, ints."""
    out = []
    for i in range(n):
        feats = json.dumps({"x": i * 0.5 if i % 7 else None, "colour": f'r"é\\{i % 3}'})
        pred = json.dumps(["yes", 1, True, None, 2.5][i % 5])
        score = None if i % 11 == 0 else (i if i % 2 else i / 3)
        out.append((f"{prefix}{i}", 1_700_000_000 + i / 10, feats, pred, score))
    return out


@pytest.fixture(params=BACKENDS)
def pair(request, tmp_path):
    """Two empty stores on one backend: the new insert path and the old row-by-row one."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    new = fresh_store(request.param, tmp_path / "a")
    new.create_model(_model())
    yield new, request.param, tmp_path
    new.close()


def _old_insert(store, model: str, rows: list[tuple]) -> int:
    """What ``insert_predictions`` did before: ``executemany`` of one INSERT per row."""
    import time

    with store._write() as cur:
        return _SQLStore._insert_rows(store, cur, model, rows, time.time())


def _stored(store) -> list[tuple]:
    return [r[:5] for r in store.load_predictions("m")]


def test_new_insert_stores_what_executemany_stored(pair):
    new, backend, tmp_path = pair
    batch = _rows(2 * INSERT_CHUNK + 37)  # two full chunks and a remainder
    batch.insert(5, (batch[3][0], 1_800_000_000.0, "{}", "null", None))  # same id again
    resent = [*_rows(10, prefix="r"), *_rows(5, prefix="s")]  # 10 known ids, 5 new
    got = [new.insert_predictions("m", batch), new.insert_predictions("m", resent)]
    assert got == [2 * INSERT_CHUNK + 37, 5]
    rows_new = _stored(new)
    old = fresh_store(backend, tmp_path / "b")
    try:
        old.create_model(_model())
        assert [_old_insert(old, "m", batch), _old_insert(old, "m", resent)] == got
        rows_old = _stored(old)
    finally:
        old.close()
    assert rows_new == rows_old
    assert len(rows_new) == 2 * INSERT_CHUNK + 37 + 5
    first = next(r for r in rows_new if r[0] == batch[3][0])
    assert first[1] == batch[3][1]  # the first of two rows with one id was kept


def test_a_failed_batch_leaves_nothing_and_the_next_one_is_stored(pair):
    new, _, _ = pair
    bad = [*_rows(3), ("x", "not a number", "{}", "null", None)]
    if new.dialect == "sqlite":
        bad = [*_rows(3), ("x", 1.0, None, "null", None)]  # NOT NULL features
    with pytest.raises(Exception):  # noqa: B017 - the driver's own error type
        new.insert_predictions("m", bad)
    assert new.counts("m") == (0, 0)
    assert new.insert_predictions("m", _rows(3)) == 3  # the COPY table is still usable


def _records(n: int) -> list[dict]:
    return prediction_records(n, start=0)


def test_bad_rows_in_a_large_batch_are_named_and_nothing_is_stored(registered, auth):
    c = registered
    recs = _records(5000)
    recs[17]["timestamp"] = "yesterday"
    recs[2500]["features"]["x"] = "abc"
    recs[3000]["features"]["shoe_size"] = 44
    del recs[4000]["features"]["colour"]
    recs[4999]["score"] = "high"
    recs[4999]["extra"] = 1
    r = c.post(PRED, json={"records": recs}, headers=auth)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"]["details"] == [
        {"record": 17, "field": "timestamp", "message": "'yesterday' is not an ISO-8601 timestamp"},
        {"record": 2500, "field": "features.x", "message": "must be a finite number, not 'abc'"},
        {
            "record": 3000,
            "field": "features.shoe_size",
            "message": "is not a column of the reference data",
        },
        {
            "record": 4000,
            "field": "features.colour",
            "message": "is missing (send null for a missing value)",
        },
        {
            "record": 4999,
            "field": "score",
            "message": "must be a finite number or null, not 'high'",
        },
        {
            "record": 4999,
            "field": "extra",
            "message": "is not a record field (id, timestamp, features, prediction, score)",
        },
    ]
    assert body["error"]["message"].startswith("6 invalid record(s); the batch was not stored")
    assert c.get("/api/v1/models/churn", headers=auth).json()["predictions"] == 0
    good = c.post(PRED, json={"records": _records(5000)}, headers=auth)
    assert good.json() == {"accepted": 5000, "stored": 5000, "duplicates": 0}


def _frame(recs: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": [r["id"] for r in recs],
            "timestamp": [float(r["timestamp"]) for r in recs],
            "x": [r["features"]["x"] for r in recs],
            "colour": [r["features"]["colour"] for r in recs],
            "prediction": [r["prediction"] for r in recs],
            "score": [r["score"] for r in recs],
        }
    )


def _decoded(rows: list[tuple]) -> list[tuple]:
    return [(i, float(t), json.loads(f), json.loads(p), s) for i, t, f, p, s in rows]


def _always_slow(*args, **kwargs):
    raise records_module._Slow


@pytest.mark.parametrize("prediction", [[1, 0, None], [True, False, None], ["a", 'b"', None]])
def test_json_arrow_parquet_and_per_record_rows_agree(prediction, monkeypatch):
    recs = _records(3)
    for r, p in zip(recs, prediction, strict=True):
        r["prediction"] = p
    body_json = json.dumps({"records": recs}).encode()
    got_json = validate_predictions(
        body_records(body_json, "application/json", fields=FIELDS), **KW
    )
    buf_a, buf_p = io.BytesIO(), io.BytesIO()
    _frame(recs).write_ipc_stream(buf_a)
    _frame(recs).write_parquet(buf_p)
    got_arrow = validate_predictions(body_records(buf_a.getvalue(), ARROW, fields=FIELDS), **KW)
    got_parquet = validate_predictions(
        body_records(buf_p.getvalue(), "application/parquet", fields=FIELDS), **KW
    )
    monkeypatch.setattr(records_module, "_fast_json_rows", _always_slow)  # the per-record checks
    slow = validate_predictions(recs, **KW)
    assert _decoded(got_json) == _decoded(got_arrow) == _decoded(got_parquet) == _decoded(slow)
    assert [r[3] for r in _decoded(slow)] == prediction


def test_arrow_bodies_are_stored_capped_and_checked(registered, auth):
    c = registered
    recs = _records(1200)
    buf = io.BytesIO()
    _frame(recs).write_ipc_stream(buf)
    headers = {**auth, "Content-Type": ARROW}
    r = c.post(PRED, content=buf.getvalue(), headers=headers)
    assert r.json() == {"accepted": 1200, "stored": 1200, "duplicates": 0}, r.text
    stored = c.store.load_predictions("churn")
    assert [(s[0], s[1], json.loads(s[2])) for s in stored[:2]] == [
        (x["id"], x["timestamp"], x["features"]) for x in recs[:2]
    ]
    with pytest.raises(TooManyRows):
        body_records(buf.getvalue(), ARROW, fields=FIELDS, max_rows=1199)
    bad = c.post(PRED, content=b"not arrow", headers=headers)
    assert bad.status_code == 400 and "not readable Arrow IPC stream" in bad.text
    buf = io.BytesIO()
    _frame(recs[:2]).with_columns(pl.Series("x", [1.0, float("nan")])).write_ipc_stream(buf)
    r = c.post(PRED, content=buf.getvalue(), headers=headers)
    assert r.status_code == 422
    assert r.json()["error"]["details"] == [
        {"record": 1, "field": "features.x", "message": "must be a finite number, not nan"}
    ]


def test_a_model_registered_elsewhere_is_found_and_a_found_one_is_kept(tmp_path):
    a = fresh_store("sqlite", tmp_path)
    from assay.service import open_store

    b = open_store(f"sqlite:///{tmp_path / 'm.db'}")  # another process on the same file
    try:
        assert a.get_model("m") is None
        assert b.create_model(_model())
        found = a.get_model("m")
        assert found is not None and found.reference == b"PAR1"
        assert a.get_model("m") is found  # no second read
    finally:
        a.close()
        b.close()


def test_the_scheduler_does_not_fingerprint_the_open_window(registered, auth):
    c = registered
    day = 86_400
    midnight = (1_700_000_000 // day) * day
    now = midnight + 6 * 3600  # six hours into a day (past any grace period)
    recs = [{**r, "timestamp": now - 600 + i} for i, r in enumerate(_records(200))]
    old = [{**r, "id": f"o{i}", "timestamp": now - day + i} for i, r in enumerate(_records(200))]
    store = c.store
    calls = []
    real = store.time_fingerprints

    def spy(model, seconds, start=None, end=None):
        calls.append((start, end))
        return real(model, seconds, start, end)

    store.time_fingerprints = spy
    assert c.post(PRED, json={"records": recs + old}, headers=auth).status_code == 200
    judge(c, now=now)  # first look: every closed day, not today's
    judge(c, now=now + 1)  # nothing new
    r = c.post(PRED, json={"records": [{**recs[0], "id": "live", "timestamp": now}]}, headers=auth)
    assert r.status_code == 200
    judge(c, now=now + 2)  # only today's window changed: it is open, nothing to count
    assert calls and all(end is not None and end <= midnight for _, end in calls)
    windows = c.get("/api/v1/models/churn/windows?size=1d", headers=auth).json()["windows"]
    assert [w["stored"] for w in windows] == [True, False]  # yesterday judged, today open


def test_a_backfill_waiting_to_be_recomputed_is_not_counted_on_every_tick(registered, auth):
    c = registered
    day = 86_400
    midnight = (1_700_000_000 // day) * day
    now = midnight + 6 * 3600
    store = c.store
    calls = []
    real = store.time_fingerprints

    def spy(model, seconds, start=None, end=None):
        calls.append((start, end))
        return real(model, seconds, start, end)

    store.time_fingerprints = spy

    def backfill(start: int) -> None:  # into yesterday, a closed (and judged) window
        recs = [
            {**r, "timestamp": midnight - day + start + i}
            for i, r in enumerate(prediction_records(100, start=start))
        ]
        assert c.post(PRED, json={"records": recs}, headers=auth).status_code == 200

    backfill(0)
    judge(c, now=now)
    assert store.window_results("churn", "1d")[0]["rows"] == 100
    calls.clear()
    for k in range(3):  # recomputed less than a minute ago: it waits, uncounted
        backfill(100 * (k + 1))
        judge(c, now=now + k + 1)
    assert calls == []
    assert store.window_results("churn", "1d")[0]["rows"] == 100
    c.app.state.scheduler._computed.clear()  # as if the minute had passed
    judge(c, now=now + 10)
    assert calls == [(midnight - day, midnight)]  # counted once, then recomputed
    assert store.window_results("churn", "1d")[0]["rows"] == 400


def test_an_sqlite_with_fewer_bound_values_gets_smaller_chunks(tmp_path):
    import sqlite3

    store = fresh_store("sqlite", tmp_path)
    try:
        store.create_model(_model())
        store._conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)  # SQLite < 3.32
        batch = _rows(INSERT_CHUNK + 3)
        assert store.insert_predictions("m", batch) == INSERT_CHUNK + 3
        assert _stored(store) == [tuple(r) for r in batch]
    finally:
        store.close()
