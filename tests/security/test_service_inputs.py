"""Bounded inputs in the monitoring service (security hardening, #13).

Each attack drives the real app in process; each also keeps a clean input accepted.
"""

from __future__ import annotations

import io
import json

import pandas as pd
import polars as pl
import pytest

from tests.service import conftest as _monitor
from tests.service.conftest import ADMIN, prediction_records, reference_frame

# the service fixtures, reused (tests/service/conftest.py is not a conftest here)
auth, backend, settings_extra = _monitor.auth, _monitor.backend, _monitor.settings_extra
client, registered = _monitor.client, _monitor.registered

PRED = "/api/v1/models/churn/predictions"
WINDOWS = "/api/v1/models/churn/windows"
PAGE = "/dashboard/models/churn"


def _error(r, status: int) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def _csv(rows: list[str]) -> bytes:
    return ("id,timestamp,x,colour\n" + "\n".join(rows) + "\n").encode()


def _login(c) -> None:
    r = c.post("/dashboard/login", data={"token": ADMIN}, follow_redirects=False)
    assert r.status_code in (302, 303), r.text


# -- 1. one out-of-range timestamp must not break a model for good -------------


@pytest.mark.parametrize("ts", [1e300, -1.0, 4e11, "2201-01-01T00:00:00Z", "1969-12-31T23:59:59Z"])
def test_json_timestamp_out_of_range_is_422_naming_record_and_field(registered, auth, ts):
    recs = prediction_records(5)
    recs[2]["timestamp"] = ts
    err = _error(registered.post(PRED, json={"records": recs}, headers=auth), 422)
    assert {(d["record"], d["field"]) for d in err["details"]} == {(2, "timestamp")}
    assert "1970" in err["message"] and "2200" in err["message"]
    assert registered.store.counts("churn") == (0, 0)


def test_csv_timestamp_out_of_range_is_422_naming_row(registered, auth):
    body = _csv(["r1,1700000000,0.1,red", "r2,400000000000,2,blue"])
    r = registered.post(PRED, content=body, headers={**auth, "Content-Type": "text/csv"})
    err = _error(r, 422)
    assert {(d["record"], d["field"]) for d in err["details"]} == {(1, "timestamp")}
    assert registered.store.counts("churn") == (0, 0)


def test_parquet_datetime_out_of_range_is_422(registered, auth):
    import datetime as dt

    df = pl.DataFrame(
        {
            "id": ["a", "b"],
            "timestamp": [dt.datetime(2024, 1, 1), dt.datetime(2500, 1, 1)],
            "x": [0.1, 0.2],
            "colour": ["red", "blue"],
        }
    )
    buf = io.BytesIO()
    df.write_parquet(buf)
    r = registered.post(
        PRED,
        content=buf.getvalue(),
        headers={**auth, "Content-Type": "application/vnd.apache.parquet"},
    )
    err = _error(r, 422)
    assert {(d["record"], d["field"]) for d in err["details"]} == {(1, "timestamp")}


def test_timestamps_at_the_range_edges_are_accepted(registered, auth):
    recs = prediction_records(4)
    recs[0]["timestamp"] = 0
    recs[1]["timestamp"] = "1970-01-01T00:00:00Z"
    recs[2]["timestamp"] = "2200-12-31T23:59:59Z"
    recs[3]["timestamp"] = 7_289_654_399
    r = registered.post(PRED, json={"records": recs}, headers=auth)
    assert r.status_code == 200 and r.json()["stored"] == 4, r.text
    body = _csv(["c1,1700000000,0.1,red", "c2,7289654399,2,blue"])
    r = registered.post(PRED, content=body, headers={**auth, "Content-Type": "text/csv"})
    assert r.status_code == 200 and r.json()["stored"] == 2, r.text
    assert registered.get(WINDOWS + "?size=366d", headers=auth).status_code == 200


@pytest.mark.parametrize("ts", [1e300, 4e11, -5.0])
def test_windows_and_dashboard_skip_a_stored_out_of_range_row(registered, auth, ts):
    """An old database may hold such a row (accepted before the range existed)."""
    good = prediction_records(30)
    assert registered.post(PRED, json={"records": good}, headers=auth).status_code == 200
    registered.store.insert_predictions(
        "churn", [("bad", ts, json.dumps({"x": 0.1, "colour": "red"}), "1", 0.5)]
    )
    for size in ("1d", "10rows"):
        r = registered.get(f"{WINDOWS}?size={size}", headers=auth)
        assert r.status_code == 200, r.text
        assert sum(w["rows"] for w in r.json()["windows"]) == 30
    _login(registered)
    assert registered.get(PAGE).status_code == 200
    assert registered.get(PAGE + "?size=10rows").status_code == 200


# -- 2. window sizes and other query parameters are bounded --------------------


@pytest.mark.parametrize(
    "size",
    ["99999999999999999999d", "367d", "0m", "59s", "1000001rows", "9" * 5000 + "rows"],
)
def test_window_size_out_of_bounds_is_422_naming_size(registered, auth, size):
    assert registered.post(PRED, json={"records": prediction_records(20)}, headers=auth)
    r = registered.get(WINDOWS, params={"size": size}, headers=auth)
    err = _error(r, 422)
    assert err["details"][0]["field"] == "size"
    _login(registered)
    assert registered.get(PAGE, params={"size": size}).status_code == 422


@pytest.mark.parametrize("size", ["1m", "366d", "8784h", "1rows", "1000000rows"])
def test_window_size_at_the_bounds_is_accepted(registered, auth, size):
    assert registered.post(PRED, json={"records": prediction_records(20)}, headers=auth)
    r = registered.get(WINDOWS, params={"size": size, "limit": 1}, headers=auth)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("limit", ["99999999999999999999999", "-1", "0", "201", "1e3"])
def test_windows_limit_out_of_bounds_is_422(registered, auth, limit):
    err = _error(registered.get(WINDOWS, params={"limit": limit}, headers=auth), 422)
    assert err["details"][0]["field"].endswith("limit")


# -- 3. a small body that expands to many rows ---------------------------------


def _small_parquet(rows: int, cols: int = 1) -> bytes:
    df = pl.DataFrame({f"c{i}": pl.zeros(rows, dtype=pl.Int8, eager=True) for i in range(cols)})
    buf = io.BytesIO()
    df.write_parquet(buf, compression="zstd")
    return buf.getvalue()


def _forbid_reading(monkeypatch, body: bytes) -> None:
    """Fail the test if ``body``'s rows are ever materialized by Polars."""
    real = pl.read_parquet

    def guarded(source, *a, **k):
        if isinstance(source, io.BytesIO) and source.getvalue() == body:
            raise AssertionError("read_parquet called on an over-cap body")
        return real(source, *a, **k)

    monkeypatch.setattr(pl, "read_parquet", guarded)


def test_parquet_that_expands_past_the_row_cap_is_413_before_reading(registered, auth, monkeypatch):
    body = _small_parquet(1_000_000)
    assert len(body) < 20_000  # the amplification: a few KB for a million rows

    _forbid_reading(monkeypatch, body)
    r = registered.post(
        PRED, content=body, headers={**auth, "Content-Type": "application/vnd.apache.parquet"}
    )
    err = _error(r, 413)
    assert err["code"] == "too_many_rows" and "100000" in err["message"].replace(",", "")
    assert registered.store.counts("churn") == (0, 0)


def test_parquet_with_too_many_columns_is_refused_before_reading(registered, auth, monkeypatch):
    body = _small_parquet(2, cols=1_100)

    _forbid_reading(monkeypatch, body)
    r = registered.post(
        PRED, content=body, headers={**auth, "Content-Type": "application/vnd.apache.parquet"}
    )
    err = _error(r, 400)
    assert "1100 columns" in err["message"]


def _capped_client(tmp_path, cap: int):
    from fastapi.testclient import TestClient

    from assay.service import Settings, create_app, open_store

    store = open_store(f"sqlite:///{tmp_path / 'cap.db'}")
    app = create_app(Settings(admin_token=ADMIN, max_rows_per_request=cap), store)
    return TestClient(app), store


def test_row_cap_on_json_and_csv_and_the_setting_is_honoured(tmp_path, auth):
    c, store = _capped_client(tmp_path, 10)
    with c:
        ref = reference_frame(50).to_dict("records")
        r = c.post("/api/v1/models", json={"name": "churn", "reference": ref}, headers=auth)
        err = _error(r, 413)  # the reference is capped too
        assert err["code"] == "too_many_rows"
        ref = reference_frame(10).to_dict("records")
        cols = {"target": "y", "prediction": "pred", "score": "score"}
        r = c.post("/api/v1/models", json={"name": "churn", "reference": ref, **cols}, headers=auth)
        assert r.status_code == 201, r.text
        assert (
            c.post(PRED, json={"records": prediction_records(10)}, headers=auth).status_code == 200
        )
        err = _error(c.post(PRED, json={"records": prediction_records(11)}, headers=auth), 413)
        assert err["code"] == "too_many_rows" and "10" in err["message"]
        body = _csv([f"k{i},1700000000,0.1,red" for i in range(11)])
        err = _error(c.post(PRED, content=body, headers={**auth, "Content-Type": "text/csv"}), 413)
        assert err["code"] == "too_many_rows"
        body = _csv([f"k{i},1700000000,0.1,red" for i in range(10)])
        r = c.post(PRED, content=body, headers={**auth, "Content-Type": "text/csv"})
        assert r.status_code == 200, r.text
        assert store.counts("churn") == (20, 0)
        labels = {"records": [{"id": f"r{i}", "label": 1} for i in range(11)]}
        err = _error(c.post("/api/v1/models/churn/labels", json=labels, headers=auth), 413)
        assert err["code"] == "too_many_rows"
    store.close()


def test_parquet_reference_upload_is_capped_before_reading(tmp_path, auth):
    c, store = _capped_client(tmp_path, 100)
    with c:
        r = c.post(
            "/api/v1/models",
            data={"name": "big"},
            files={"reference": ("ref.parquet", _small_parquet(1_000_000), "application/x")},
            headers=auth,
        )
        assert _error(r, 413)["code"] == "too_many_rows"
        assert store.get_model("big") is None
    store.close()


def test_clean_parquet_and_csv_batches_still_accepted(registered, auth):
    recs = prediction_records(200)
    df = pd.DataFrame([{"id": r["id"], "timestamp": r["timestamp"], **r["features"]} for r in recs])
    buf = io.BytesIO()
    df.to_parquet(buf)
    r = registered.post(
        PRED,
        content=buf.getvalue(),
        headers={**auth, "Content-Type": "application/vnd.apache.parquet"},
    )
    assert r.status_code == 200 and r.json()["stored"] == 200, r.text


# -- 4. model names match whole -------------------------------------------------


@pytest.mark.parametrize("name", ["nl\n", "a\nb", "-a", "", "a" * 129, "a b", "é"])
def test_bad_model_names_are_refused(client, auth, name):
    ref = reference_frame(20).to_dict("records")
    err = _error(
        client.post("/api/v1/models", json={"name": name, "reference": ref}, headers=auth), 422
    )
    assert err["details"][0]["field"] == "name"
    assert client.store.list_models() == []


@pytest.mark.parametrize("name", ["a", "A.b_c-1", "a" * 128])
def test_good_model_names_are_accepted(client, auth, name):
    ref = reference_frame(20).to_dict("records")
    r = client.post("/api/v1/models", json={"name": name, "reference": ref}, headers=auth)
    assert r.status_code == 201, r.text


# -- 5. non-finite numbers in the reference -------------------------------------


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_reference_with_non_finite_number_is_422_naming_column(client, auth, token):
    rows = [{"x": 0.5, "y": 1}, {"x": 1.5, "y": 0}]
    text = json.dumps({"name": "m", "reference": rows}).replace("1.5", token)
    r = client.post(
        "/api/v1/models", content=text, headers={**auth, "Content-Type": "application/json"}
    )
    err = _error(r, 422)
    assert "'x'" in err["message"] and err["details"][0]["field"] == "reference.x"
    assert client.store.list_models() == []


def test_reference_csv_upload_with_inf_is_422(client, auth):
    csv = b"x,y\n0.5,1\ninf,0\n"
    r = client.post(
        "/api/v1/models",
        data={"name": "m"},
        files={"reference": ("ref.csv", csv, "text/csv")},
        headers=auth,
    )
    assert _error(r, 422)["details"][0]["field"] == "reference.x"


def test_reference_with_nulls_is_still_accepted(client, auth):
    rows = [{"x": 0.5, "y": 1}, {"x": None, "y": 0}, {"x": 2.0, "y": 1}]
    r = client.post("/api/v1/models", json={"name": "m", "reference": rows}, headers=auth)
    assert r.status_code == 201, r.text


# -- 6. the defences that held still hold ---------------------------------------


def test_body_over_the_limit_is_still_413(registered, auth):
    big = b"x" * 2_000_001
    r = registered.post(PRED, content=big, headers={**auth, "Content-Type": "application/json"})
    assert _error(r, 413)["code"] == "payload_too_large"
    assert registered.store.counts("churn") == (0, 0)


def test_deeply_nested_json_is_still_422(registered, auth):
    deep = b'{"records": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}"
    r = registered.post(PRED, content=deep, headers={**auth, "Content-Type": "application/json"})
    assert r.status_code in (400, 422), r.text
    _error(r, r.status_code)
    deep_ref = b'{"name": "d", "reference": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    r = registered.post(
        "/api/v1/models", content=deep_ref, headers={**auth, "Content-Type": "application/json"}
    )
    assert _error(r, 422)["code"] == "too_deep"
    assert registered.store.counts("churn") == (0, 0)


def test_json_of_millions_of_tiny_objects_is_refused_before_parsing(registered, auth, monkeypatch):
    """Tiny objects by the million (~3 bytes each) cost gigabytes once parsed: the
    braces are counted first (here 1.5 MB, within the test client's body limit)."""
    from assay.service import _records

    def no_parse(body):
        raise AssertionError("the body was parsed")

    monkeypatch.setattr(_records, "_loads", no_parse)
    body = b'{"records": [' + b"{}," * 500_000 + b"{}]}"
    r = registered.post(PRED, content=body, headers={**auth, "Content-Type": "application/json"})
    assert _error(r, 413)["code"] == "too_many_rows"
