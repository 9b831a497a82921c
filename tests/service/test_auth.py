"""Tokens: every route but /healthz and /readyz needs one (401), of the right scope (403)."""

from __future__ import annotations

import re

import pytest

from assay.service._auth import create_token, digest
from tests.service.conftest import BACKENDS


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """These tests run on SQLite, and on PostgreSQL when ASSAY_TEST_POSTGRES is set."""
    return request.param


PUBLIC = ("/healthz", "/readyz")  # liveness and readiness probes: no token


def _routes(client):
    spec = client.get("/openapi.json").json()
    for path, ops in spec["paths"].items():
        for method in ops:
            yield method.upper(), re.sub(r"\{[^}]+\}", "churn", path)


def test_every_route_but_healthz_needs_a_token(client):
    seen = 0
    for method, path in _routes(client):
        r = client.request(method, path)
        if path in PUBLIC:
            assert r.status_code == 200
            continue
        seen += 1
        assert r.status_code == 401, (method, path, r.status_code)
        assert r.json()["error"]["code"] == "unauthorized"
        assert r.headers["www-authenticate"] == "Bearer"
        bad = client.request(method, path, headers={"Authorization": "Bearer wrong"})
        assert bad.status_code == 401, (method, path)
        client.app.state.throttles = None  # one wrong token per route: stay under the lockout
    assert seen >= 7


def test_wrong_scope_is_403(client):
    read = create_token(client.store, "read")
    write = create_token(client.store, "write")
    for method, path in _routes(client):
        if path in PUBLIC:
            continue
        needed = {"GET": "read", "POST": "write", "PUT": "write"}[method]
        if path.startswith("/api/v1/tokens"):  # create and revoke
            needed = "admin"
        for token, scope in ((read, "read"), (write, "write")):
            r = client.request(method, path, headers={"Authorization": f"Bearer {token}"})
            allowed = scope == needed or (scope == "write" and needed == "read")
            if allowed:
                assert r.status_code not in (401, 403), (method, path, scope)
            else:
                assert r.status_code == 403, (method, path, scope, r.status_code)
                assert r.json()["error"]["code"] == "forbidden"


def test_tokens_are_stored_hashed(client, auth):
    r = client.post("/api/v1/tokens", json={"scope": "read"}, headers=auth)
    token = r.json()["token"]
    rows = client.store._read("SELECT hash, scope FROM tokens")
    assert (digest(token), "read") in rows
    assert all(token not in str(row) for row in rows)
    assert (
        client.get("/api/v1/models", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
