"""Schemathesis over the service's OpenAPI schema with every scope: no generated
input, whoever sends it, ends in a server error (the admin run lives in
tests/service/test_surfaces.py)."""

from __future__ import annotations

import pytest

from tests.service import conftest as _monitor

auth = _monitor.auth
backend = _monitor.backend
client = _monitor.client
registered = _monitor.registered
settings_extra = _monitor.settings_extra


@pytest.mark.parametrize("scope", ["read", "write", None])
def test_no_server_error_for_any_scope(registered, scope):
    from assay.service._auth import create_token

    headers = {}
    if scope is not None:
        headers = {"Authorization": f"Bearer {create_token(registered.store, scope)}"}
    failures, seen = _monitor.fuzz_api(registered.app, headers, 8)
    assert failures == []
    if scope is None:
        # nothing but the health check and the login page answers without a token
        assert all(s in (200, 303, 401, 403, 404, 405, 413, 415, 422, 429) for s in seen)
    else:
        assert {s for s in seen if s < 300}, "no request got through"
