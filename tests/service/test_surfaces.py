"""The service's own surfaces (issue 7): too many fields, too deep, no token in the
logs, and a Schemathesis run over the OpenAPI spec with no server errors."""

from __future__ import annotations

import logging

from tests.service.conftest import ADMIN, fuzz_api, prediction_records


def test_too_many_feature_fields_refused_and_nothing_stored(registered, auth):
    rec = prediction_records(1)[0]
    rec["features"].update({f"f{i}": 0 for i in range(1001)})
    r = registered.post("/api/v1/models/churn/predictions", json={"records": [rec]}, headers=auth)
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "features"
    wide = {f"c{i}": [1] for i in range(1010)}
    r = registered.post(
        "/api/v1/models",
        json={"name": "wide", "reference": [{k: v[0] for k, v in wide.items()}]},
        headers=auth,
    )
    assert r.status_code == 422
    assert registered.get("/api/v1/models/churn", headers=auth).json()["predictions"] == 0


def test_deeply_nested_json_refused(registered, auth):
    body = b'{"records": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    r = registered.post(
        "/api/v1/models/churn/predictions",
        content=body,
        headers={**auth, "Content-Type": "application/json"},
    )
    assert r.status_code in (400, 413, 422), r.text
    assert r.json()["error"]["code"] in ("too_deep", "bad_request", "invalid_records")


def test_no_token_is_ever_logged(registered, auth, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "assay_wrong-token-should-not-appear-0123456789"
    made = registered.post("/api/v1/tokens", json={"scope": "read"}, headers=auth).json()["token"]
    reader = {"Authorization": f"Bearer {made}"}
    registered.get("/api/v1/models/churn", headers=reader)
    registered.post("/api/v1/models/churn/predictions", json={"records": []}, headers=reader)
    registered.get("/api/v1/models", headers={"Authorization": f"Bearer {wrong}"})
    registered.post(
        "/api/v1/models/churn/predictions",
        json={"records": prediction_records(3)},
        headers=auth,
    )
    registered.get("/api/v1/models/churn/windows?size=2rows", headers=auth)
    text = "\n".join(
        f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records
    )
    assert caplog.records  # the requests were logged (httpx, the service)...
    for secret in (ADMIN, made, wrong):  # ...but never a token
        assert secret not in text


def test_schemathesis_finds_no_server_error(registered, auth):
    failures, seen = fuzz_api(registered.app, {"Authorization": f"Bearer {ADMIN}"}, 15)
    assert failures == []
    assert {s for s in seen if s < 300}, "no request got through"  # not all 4xx
