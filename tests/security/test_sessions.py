"""Dashboard sessions and login throttling (security hardening, #13).

- the dashboard cookie is a random server-side session id, never the token;
  the session dies on expiry, logout and when its token is revoked, and grants
  ``read`` only;
- wrong logins and wrong API bearer tokens are throttled per client (429 with
  ``Retry-After``), with exponential back-off, expiry and a bounded table;
- what held before still holds: the login's same-origin check and escaping.
"""

from __future__ import annotations

import types

import pytest

pytest.importorskip("fastapi", reason="needs the service extra: pip install 'assay[service]'")

from fastapi.testclient import TestClient

from assay.service import _auth
from assay.service._auth import (
    SESSION_TTL_S,
    create_token,
    digest,
    revoke_token,
    token_key,
)
from assay.service._throttle import (
    API_MAX_FAILURES,
    BASE_LOCKOUT_S,
    LOGIN_MAX_FAILURES,
    WINDOW_S,
    Throttle,
    throttle_for,
)
from tests.service import conftest as _monitor
from tests.service.conftest import ADMIN, BACKENDS, fresh_store, reference_frame

# the service fixtures, reused (tests/service/conftest.py is not a conftest here)
client, registered, auth = _monitor.client, _monitor.registered, _monitor.auth
settings_extra = _monitor.settings_extra

COOKIE = "assay_dashboard"
HOSTILE = '<script>alert("x")</script>'


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """These tests run on SQLite, and on PostgreSQL when ASSAY_TEST_POSTGRES is set."""
    return request.param


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _login(client, token: str = ADMIN, **extra):
    return client.post(
        "/dashboard/login",
        data={"token": token, "next": "/dashboard"},
        follow_redirects=False,
        **extra,
    )


def _logged_in(client, token: str = ADMIN) -> str:
    r = _login(client, token)
    assert r.status_code == 303, r.text
    return r.cookies[COOKIE]


def _home(client, session_id: str):
    client.cookies.clear()
    client.cookies.set(COOKIE, session_id, path="/dashboard")
    return client.get("/dashboard", follow_redirects=False)


def _sessions(store) -> list[tuple]:
    return store._read("SELECT * FROM sessions")


def _other_client(client, host: str = "10.9.9.9") -> TestClient:
    return TestClient(client.app, client=(host, 50000))


# -- sessions ------------------------------------------------------------------


def test_cookie_is_a_random_session_id_not_the_token(client):
    first = _login(client)
    session_id = first.cookies[COOKIE]
    assert session_id and ADMIN not in session_id
    assert session_id not in {digest(ADMIN), token_key(ADMIN)}
    client.cookies.clear()
    second = _logged_in(client)
    assert second != session_id  # a fresh random id per login, derived from nothing
    rows = _sessions(client.store)
    assert len(rows) == 2
    for row in rows:
        assert session_id not in row and second not in row  # only digests are stored
        assert ADMIN not in row and digest(ADMIN) not in row
    by_hash = {r[0]: r for r in rows}
    row = by_hash[digest(session_id)]
    assert row[1] == token_key(ADMIN) and row[2] == "admin"
    assert row[4] - row[3] == pytest.approx(SESSION_TTL_S) and not row[5]
    cookie = first.headers["set-cookie"].lower()
    for part in ("httponly", "samesite=strict", "path=/dashboard", f"max-age={SESSION_TTL_S}"):
        assert part in cookie, (part, cookie)
    assert "secure" not in cookie  # plain http: a Secure cookie would never come back
    assert _home(client, session_id).status_code == 200


def test_cookie_is_secure_over_https(client):
    https = TestClient(client.app, base_url="https://testserver")
    cookie = _login(https).headers["set-cookie"].lower()
    assert "secure" in cookie and "httponly" in cookie


def test_the_old_token_cookie_no_longer_logs_in(client):
    assert _home(client, ADMIN).status_code == 303  # the raw token is not a session


def test_logout_deletes_the_session_server_side(client):
    session_id = _logged_in(client)
    assert _home(client, session_id).status_code == 200
    out = client.post("/dashboard/logout", follow_redirects=False)
    assert out.status_code == 303 and f'{COOKIE}=""' in out.headers["set-cookie"]
    assert _sessions(client.store) == []
    replay = _home(client, session_id)  # the cookie kept (copied, stolen) after logout
    assert replay.status_code == 303
    assert replay.headers["location"].startswith("/dashboard/login")


def test_expired_session_is_redirected_to_login(client, monkeypatch):
    session_id = _logged_in(client)
    now = _auth.time.time()
    fake = types.SimpleNamespace(time=lambda: now + SESSION_TTL_S - 60)
    monkeypatch.setattr(_auth, "time", fake)
    assert _home(client, session_id).status_code == 200  # a minute before it ends
    fake.time = lambda: now + SESSION_TTL_S + 1
    r = _home(client, session_id)
    assert r.status_code == 303 and r.headers["location"].startswith("/dashboard/login")


def test_a_short_ttl_is_honoured(client, monkeypatch):
    monkeypatch.setattr(_auth, "SESSION_TTL_S", 0)
    session_id = _logged_in(client)
    assert _home(client, session_id).status_code == 303


def test_revoking_the_token_kills_its_sessions(registered, auth):
    client = registered
    token = client.post("/api/v1/tokens", json={"scope": "read"}, headers=auth).json()["token"]
    session_id = _logged_in(client, token)
    admin_session = _logged_in(client)
    assert _home(client, session_id).status_code == 200
    assert revoke_token(client.store, token) is True
    assert _home(client, session_id).status_code == 303
    assert [bool(r[5]) for r in _sessions(client.store) if r[0] == digest(session_id)] == [True]
    assert _home(client, admin_session).status_code == 200  # other tokens' sessions live
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/models", headers=bearer).status_code == 401
    assert revoke_token(client.store, token) is False
    assert revoke_token(client.store, "never-issued") is False


def test_a_deleted_token_row_kills_the_session_too(client):
    token = create_token(client.store, "read")
    session_id = _logged_in(client, token)
    client.store.delete_token(token_key(token))
    assert _home(client, session_id).status_code == 303


def test_a_session_grants_read_only(client):
    session_id = _logged_in(client)  # made from the admin token
    assert _auth.session_scope(client.store, session_id) == "read"
    client.cookies.clear()
    client.cookies.set(COOKIE, session_id)
    as_bearer = {"Authorization": f"Bearer {session_id}"}
    assert client.get("/api/v1/models", headers=as_bearer).status_code == 401
    r = client.post("/api/v1/tokens", json={"scope": "admin"})  # cookie only: no token
    assert r.status_code == 401


def test_sessions_are_stored_revoked_and_purged(client):
    store = client.store
    store.add_session("h-old", "tid", "read", 0.0, 10.0)
    store.add_session("h-live", "tid", "read", 100.0, 1e12)  # purges h-old (expired)
    assert store.get_session("h-old") is None
    got = store.get_session("h-live")
    assert got is not None and got.token_id == "tid" and got.token_scope is None
    assert not got.revoked and got.expires_at == 1e12
    store.delete_session("h-live")
    assert store.get_session("h-live") is None


def test_an_existing_database_gets_the_sessions_table_on_open(backend, tmp_path):
    from assay.service import open_store
    from assay.service._store import MIGRATIONS
    from tests.service.conftest import postgres_url

    store = fresh_store(backend, tmp_path)
    with store._write() as cur:  # a database as the release before sessions left it
        cur.execute("DROP TABLE sessions")
        for table in ("window_changes", "window_results", "schedules", "leases", "changes"):
            cur.execute(f"DROP TABLE {table}")
        for table in ("audit_decisions", "audits", "human_decisions", "challenger_predictions"):
            cur.execute(f"DROP TABLE {table}")  # migrations 6 and 7
        cur.execute("DROP INDEX outbox_status")
        cur.execute("ALTER TABLE outbox DROP COLUMN delivered_at")
        for column in ("claimed_by", "claimed_until"):  # migration 8
            cur.execute(f"ALTER TABLE outbox DROP COLUMN {column}")
        cur.execute("DELETE FROM schema_migrations WHERE version >= 3")
    assert store.schema_version() == 2
    store.close()
    url = f"sqlite:///{tmp_path / 'm.db'}" if backend == "sqlite" else postgres_url()
    again = open_store(url)
    try:
        assert again.schema_version() == len(MIGRATIONS) >= 3
        again.add_session("h", "tid", "read", 0.0, 1e12)
        assert again.get_session("h") is not None
    finally:
        again.close()


# -- login throttling ----------------------------------------------------------


def test_wrong_logins_are_throttled_and_a_correct_token_waits_too(client):
    for _ in range(LOGIN_MAX_FAILURES):
        assert _login(client, "wrong").status_code == 401
    locked = _login(client, "wrong")
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) == BASE_LOCKOUT_S
    assert "Too many failed logins" in locked.text and 'type="password"' in locked.text
    right = _login(client)  # the right token from a locked-out client
    assert right.status_code == 429 and "set-cookie" not in right.headers
    assert _sessions(client.store) == []
    other = _login(_other_client(client))  # another client is unaffected
    assert other.status_code == 303


def test_300_wrong_logins_are_not_all_checked(client, monkeypatch):
    calls = []
    real = _auth.token_scope

    def counting(store, token):
        calls.append(token)
        return real(store, token)

    monkeypatch.setattr(_auth, "token_scope", counting)
    codes = [_login(client, f"guess-{i}").status_code for i in range(300)]
    assert codes[:LOGIN_MAX_FAILURES] == [401] * LOGIN_MAX_FAILURES
    assert set(codes[LOGIN_MAX_FAILURES:]) == {429}
    assert len(calls) == LOGIN_MAX_FAILURES  # the rest never reach the token table


def test_lockout_backs_off_exponentially_and_success_resets(client):
    clock = FakeClock()
    throttle_for(client.app, "login").clock = clock
    for _ in range(LOGIN_MAX_FAILURES):
        _login(client, "wrong")
    assert int(_login(client, "wrong").headers["retry-after"]) == BASE_LOCKOUT_S
    waits = []
    wait = BASE_LOCKOUT_S
    for _ in range(6):
        clock.now += wait + 1  # wait out the lockout, then fail once more
        assert _login(client, "wrong").status_code == 401
        wait = int(_login(client, "wrong").headers["retry-after"])
        waits.append(wait)
    assert waits == [120, 240, 480, 900, 900, 900]  # doubling, capped at 15 minutes
    clock.now += wait + 1
    assert _login(client).status_code == 303  # success resets the count
    client.cookies.clear()
    for _ in range(LOGIN_MAX_FAILURES - 1):
        assert _login(client, "wrong").status_code == 401
    assert _login(client).status_code == 303


def test_failure_counts_expire(client):
    clock = FakeClock()
    throttle_for(client.app, "login").clock = clock
    for _ in range(LOGIN_MAX_FAILURES - 1):
        assert _login(client, "wrong").status_code == 401
    clock.now += WINDOW_S + 1
    for _ in range(LOGIN_MAX_FAILURES - 1):
        assert _login(client, "wrong").status_code == 401
    assert len(throttle_for(client.app, "login")) == 1


def test_wrong_bearer_tokens_are_throttled_per_client(client, auth):
    for _ in range(API_MAX_FAILURES):
        r = client.get("/api/v1/models", headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401
    locked = client.get("/api/v1/models", headers={"Authorization": "Bearer wrong"})
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) == BASE_LOCKOUT_S
    error = locked.json()["error"]
    assert error["code"] == "too_many_requests"
    assert error["details"] == {"retry_after_s": BASE_LOCKOUT_S}
    assert client.get("/api/v1/models", headers=auth).status_code == 429  # correct, same client
    assert _other_client(client).get("/api/v1/models", headers=auth).status_code == 200
    assert client.get("/healthz").status_code == 200  # no token needed, never throttled


def test_missing_header_does_not_count_and_success_resets(client, auth):
    for _ in range(API_MAX_FAILURES + 5):
        assert client.get("/api/v1/models").status_code == 401
    for _ in range(API_MAX_FAILURES - 1):
        client.get("/api/v1/models", headers={"Authorization": "Bearer wrong"})
    assert client.get("/api/v1/models", headers=auth).status_code == 200
    for _ in range(API_MAX_FAILURES - 1):
        r = client.get("/api/v1/models", headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401


def test_the_throttle_table_is_bounded():
    clock = FakeClock()
    t = Throttle(max_failures=2, max_entries=100, clock=clock)
    for i in range(1000):
        t.failure(f"10.0.{i // 256}.{i % 256}")
    assert len(t) == 100
    assert "10.0.0.0" not in t._entries and "10.0.3.231" in t._entries  # oldest out first
    t.failure("a")
    assert t.failure("a") == BASE_LOCKOUT_S and t.retry_after("a") == BASE_LOCKOUT_S
    clock.now += BASE_LOCKOUT_S + WINDOW_S - 1
    assert t.retry_after("a") == 0.0 and "a" in t._entries  # counted 15 min past the lockout
    clock.now += 2
    assert t.retry_after("a") == 0.0 and "a" not in t._entries  # then it expires


# -- what held before still holds -------------------------------------------------


def test_cross_site_login_and_logout_are_refused(client):
    for origin in ("https://evil.example", "null"):
        r = _login(client, headers={"Origin": origin})
        assert r.status_code == 403 and "set-cookie" not in r.headers, origin
    assert _sessions(client.store) == []
    session_id = _logged_in(client)
    evil = client.post(
        "/dashboard/logout", headers={"Origin": "https://evil.example"}, follow_redirects=False
    )
    assert "set-cookie" not in evil.headers
    assert _home(client, session_id).status_code == 200  # not logged out cross-site
    same = _login(client, headers={"Origin": "http://testserver"})
    assert same.status_code == 303


def test_dashboard_still_escapes_every_stored_and_requested_string(client, auth):
    ref = reference_frame(200).rename(columns={"y": HOSTILE})
    r = client.post(
        "/api/v1/models",
        json={"name": "evil", "target": HOSTILE, "reference": ref.to_dict("records")},
        headers=auth,
    )
    assert r.status_code == 201, r.text
    _logged_in(client)
    r = client.get("/dashboard/models/evil")
    page = r.text
    assert r.status_code == 200
    assert HOSTILE not in page and "&lt;script&gt;alert(" in page
    form = client.get("/dashboard/login", params={"next": f'/dashboard/x"><script>{HOSTILE}'})
    assert "<script" not in form.text
    client.cookies.clear()
    for _ in range(LOGIN_MAX_FAILURES + 1):
        locked = client.post(
            "/dashboard/login", data={"token": "x", "next": f"/dashboard/{HOSTILE}"}
        )
    assert locked.status_code == 429 and "<script" not in locked.text
