"""The HTTP API in process: models, records, windows, alerts, the error envelope."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from tests.service.conftest import BACKENDS, judge, prediction_records, reference_frame


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """These tests run on SQLite, and on PostgreSQL when ASSAY_TEST_POSTGRES is set."""
    return request.param


def _error(r, status: int) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def test_healthz_needs_no_token(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    from assay.service._store import MIGRATIONS

    assert r.json()["schema_version"] == len(MIGRATIONS)


def test_register_and_get_model_with_counts(registered, auth):
    r = registered.get("/api/v1/models/churn", headers=auth)
    body = r.json()
    assert body["features"] == ["x", "colour"] and body["task"] == "binary"
    assert body["predictions"] == 0 and body["labels"] == 0
    names = [m["name"] for m in registered.get("/api/v1/models", headers=auth).json()["models"]]
    assert names == ["churn"]
    again = registered.post(
        "/api/v1/models",
        json={"name": "churn", "reference": reference_frame(10).to_dict("records")},
        headers=auth,
    )
    _error(again, 409)


def test_register_model_from_csv_upload(client, auth):
    buf = io.BytesIO()
    reference_frame(200).to_csv(buf, index=False)
    r = client.post(
        "/api/v1/models",
        data={"name": "csvmodel", "target": "y", "score": "score"},
        files={"reference": ("ref.csv", buf.getvalue(), "text/csv")},
        headers=auth,
    )
    assert r.status_code == 201, r.text
    assert r.json()["target"] == "y"


def test_predictions_are_idempotent_by_id(registered, auth):
    recs = prediction_records(50)
    r = registered.post("/api/v1/models/churn/predictions", json={"records": recs}, headers=auth)
    assert r.json() == {"accepted": 50, "stored": 50, "duplicates": 0}
    r = registered.post(
        "/api/v1/models/churn/predictions",
        json={"records": recs[:10] + prediction_records(5, start=50)},
        headers=auth,
    )
    assert r.json() == {"accepted": 15, "stored": 5, "duplicates": 10}
    assert registered.get("/api/v1/models/churn", headers=auth).json()["predictions"] == 55


def test_predictions_as_csv_and_parquet(registered, auth):
    recs = prediction_records(20)
    df = pd.DataFrame(
        [
            {
                "id": r["id"],
                "timestamp": r["timestamp"],
                **r["features"],
                "prediction": r["prediction"],
                "score": r["score"],
            }
            for r in recs
        ]
    )
    csv = df.iloc[:10].to_csv(index=False).encode()
    r = registered.post(
        "/api/v1/models/churn/predictions",
        content=csv,
        headers={**auth, "Content-Type": "text/csv"},
    )
    assert r.status_code == 200 and r.json()["stored"] == 10, r.text
    buf = io.BytesIO()
    df.iloc[10:].to_parquet(buf)
    r = registered.post(
        "/api/v1/models/churn/predictions",
        content=buf.getvalue(),
        headers={**auth, "Content-Type": "application/vnd.apache.parquet"},
    )
    assert r.status_code == 200 and r.json()["stored"] == 10, r.text


def test_invalid_record_rejects_whole_batch_naming_record_and_field(registered, auth):
    recs = prediction_records(10)
    recs[3]["features"]["x"] = "not a number"
    recs[7]["timestamp"] = "yesterday"
    del recs[8]["features"]["colour"]
    r = registered.post("/api/v1/models/churn/predictions", json={"records": recs}, headers=auth)
    err = _error(r, 422)
    found = {(d["record"], d["field"]) for d in err["details"]}
    assert found == {(3, "features.x"), (7, "timestamp"), (8, "features.colour")}
    assert registered.get("/api/v1/models/churn", headers=auth).json()["predictions"] == 0


def test_malformed_and_wrong_type_bodies_store_nothing(registered, auth):
    url = "/api/v1/models/churn/predictions"
    _error(
        registered.post(
            url, content=b"{not json", headers={**auth, "Content-Type": "application/json"}
        ),
        400,
    )
    _error(registered.post(url, json={"records": "nope"}, headers=auth), 400)
    _error(registered.post(url, json=[1, 2], headers=auth), 400)
    _error(registered.post(url, content=b"x", headers={**auth, "Content-Type": "text/plain"}), 415)
    _error(
        registered.post(
            url,
            content=b"PAR1junk",
            headers={**auth, "Content-Type": "application/vnd.apache.parquet"},
        ),
        400,
    )
    _error(
        registered.post(
            url, json={"records": [{"id": [1], "timestamp": 1, "features": {}}]}, headers=auth
        ),
        422,
    )
    _error(
        registered.post(
            "/api/v1/models/churn/labels", json={"records": [{"id": "a"}]}, headers=auth
        ),
        422,
    )
    assert registered.get("/api/v1/models/churn", headers=auth).json()["predictions"] == 0
    assert registered.store.counts("churn") == (0, 0)


def test_oversized_body_is_refused_before_buffering(registered, auth):
    url = "/api/v1/models/churn/predictions"
    big = b"x" * 2_000_001
    err = _error(
        registered.post(url, content=big, headers={**auth, "Content-Type": "application/json"}), 413
    )
    assert err["code"] == "payload_too_large"

    def chunks():  # no Content-Length: the limit applies while streaming
        for _ in range(30):
            yield b" " * 100_000

    r = registered.post(url, content=chunks(), headers={**auth, "Content-Type": "application/json"})
    _error(r, 413)
    assert registered.store.counts("churn") == (0, 0)


def test_unknown_model_404_and_405_and_validation_use_envelope(client, auth):
    assert _error(client.get("/api/v1/models/nope", headers=auth), 404)["code"] == "not_found"
    assert _error(client.get("/no/such/route"), 404)["code"] == "not_found"
    assert _error(client.delete("/healthz"), 405)["code"] == "method_not_allowed"
    err = _error(client.get("/api/v1/models/nope/windows?limit=zero", headers=auth), 422)
    assert err["details"][0]["field"].endswith("limit")


@pytest.mark.parametrize("settings_extra", [{"default_window": "300rows"}], indirect=True)
def test_windows_catch_planted_drift_and_raise_alert(registered, auth):
    clean = prediction_records(300, seed=1)
    shifted = prediction_records(300, start=300, shift=2.0, seed=2)
    r = registered.post(
        "/api/v1/models/churn/predictions", json={"records": clean + shifted}, headers=auth
    )
    assert r.status_code == 200
    labels = [{"id": rec["id"], "label": rec["prediction"]} for rec in clean[:100]]
    assert (
        registered.post(
            "/api/v1/models/churn/labels", json={"records": labels}, headers=auth
        ).status_code
        == 200
    )
    assert judge(registered) == 1  # the scheduler judges the closed windows
    body = registered.get("/api/v1/models/churn/windows?size=300rows", headers=auth).json()
    assert body["scheduled"] and body["pending"] == 0
    first, second = body["windows"]
    assert first["rows"] == second["rows"] == 300
    assert "x" not in first["drifted_columns"] and first["drift_status"] != "fail"
    assert "x" in second["drifted_columns"] and second["drift_share"] > 0
    assert second["prediction_drift"]["status"] == "fail"
    assert first["realized_performance"] == {"labeled_rows": 100, "accuracy": 1.0}
    assert second["realized_performance"] is None
    assert "estimated_accuracy" in (second["estimated_performance"] or {"estimated_accuracy": 0})
    assert second["alerts"] == ["drift"] and first["alerts"] == []
    alerts = registered.get("/api/v1/models/churn/alerts", headers=auth).json()["alerts"]
    assert [a["window_start"] for a in alerts] == [second["start"]]
    # time windows: 300 rows every 10 s = 50 min per half -> at most 3 hourly windows
    hourly = registered.get("/api/v1/models/churn/windows?size=1h", headers=auth).json()
    assert sum(w["rows"] for w in hourly["windows"]) == 600
    _error(registered.get("/api/v1/models/churn/windows?size=soon", headers=auth), 422)


def test_openapi_documents_routes(client):
    spec = client.get("/openapi.json").json()
    assert "/api/v1/models/{name}/predictions" in spec["paths"]
    body = spec["paths"]["/api/v1/models/{name}/predictions"]["post"]["requestBody"]
    assert {"application/json", "text/csv"} <= set(body["content"])
