"""Late data into a window that was already judged (a backfill after the grace
period): the window is computed again, the change recorded, and the policy judged
on it again: an alert when the window now crosses the policy, none twice when it
had already alerted, none when the late data is clean. On SQLite and PostgreSQL."""

from __future__ import annotations

import http.server
import threading

import pytest

from tests.service.conftest import ADMIN, judge, prediction_records
from tests.service.test_scheduler import HOUR, _in, _post

H = 1_700_000_000 // HOUR
POLICY = {
    "name": "hourly",
    "window": "1h",
    "grace": "10m",
    "triggers": [{"metric": "drift_share", "op": ">", "value": 0.3, "name": "drift-high"}],
}
HDR = {"Authorization": f"Bearer {ADMIN}"}
LATER = (H + 3) * HOUR + 601  # every hour below H + 3 has closed, grace included

SETTINGS = {"recompute_every_s": 0, "webhook_allow_networks": ["127.0.0.0/8"]}
pytestmark = pytest.mark.parametrize("settings_extra", [SETTINGS], indirect=True)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request) -> str:
    return request.param


def _hours(c):
    return c.get("/api/v1/models/churn/windows?size=1h", headers=HDR).json()["windows"]


def _alerts(c):
    return c.get("/api/v1/models/churn/alerts", headers=HDR).json()["alerts"]


def _setup(c, auth, hours):
    assert c.put("/api/v1/models/churn/policy", json=POLICY, headers=auth).status_code == 200
    for i, h in enumerate(hours):
        _post(c, _in(h, HOUR, prediction_records(300, start=1000 * i, seed=i + 1)), auth)
    assert judge(c, now=LATER) == 0  # clean hours: judged, no alert
    state = c.get("/api/v1/models/churn/policy", headers=auth).json()["state"]["1h"]
    assert state["last_start"] == _hours(c)[-1]["start"]


def test_a_backfill_that_crosses_the_policy_alerts_once(registered, auth):
    c = registered
    _setup(c, auth, [H, H + 1, H + 2])
    # an hour later, drifted rows arrive for the middle hour, long after its grace period
    late = _in(H + 1, HOUR, prediction_records(600, start=5000, shift=2.0, seed=9))
    _post(c, late, auth)
    assert judge(c, now=LATER + HOUR) == 1
    middle = _hours(c)[1]
    assert middle["rows"] == 900 and middle["revision"] == 2 and middle["drift_share"] > 0.3
    (change,) = c.store.window_changes("churn", "1h")
    assert change["revision"] == 2 and change["before"]["rows"] == 300
    (alert,) = _alerts(c)
    assert alert["kind"] == "drift-high" and alert["window_start"] == middle["start"]
    # more late rows into the same hour: computed again, still one alert
    _post(c, _in(H + 1, HOUR, prediction_records(300, start=7000, shift=2.0, seed=10)), auth)
    assert judge(c, now=LATER + 2 * HOUR) == 0
    assert _hours(c)[1]["revision"] == 3 and len(_alerts(c)) == 1
    # a tick with nothing new judges nothing again
    assert judge(c, now=LATER + 3 * HOUR) == 0 and len(_alerts(c)) == 1


def test_a_clean_backfill_stays_quiet(registered, auth):
    c = registered
    _setup(c, auth, [H, H + 1, H + 2])
    _post(c, _in(H + 1, HOUR, prediction_records(300, start=5000, seed=11)), auth)
    assert judge(c, now=LATER + HOUR) == 0
    assert _hours(c)[1]["revision"] == 2 and _alerts(c) == []


def test_a_backfill_into_an_hour_that_had_no_rows_is_judged(registered, auth):
    c = registered
    _setup(c, auth, [H, H + 2])  # nothing at all in H + 1 when H + 2 was judged
    late = _in(H + 1, HOUR, prediction_records(300, start=5000, shift=2.0, seed=12))
    _post(c, late, auth)
    assert judge(c, now=LATER + HOUR) == 1
    hours = _hours(c)
    assert [w["revision"] for w in hours if w["stored"]] == [1, 1, 1]
    (alert,) = _alerts(c)
    assert alert["window_start"] == hours[1]["start"]


@pytest.fixture
def receiver():
    """A webhook receiver on localhost: the idempotency keys it was sent, in order."""
    got: list[str] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            got.append(self.headers["Idempotency-Key"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", got
    server.shutdown()
    server.server_close()


def test_a_backfill_into_an_hour_that_already_alerted_raises_nothing_new(
    registered, auth, receiver
):
    c = registered
    url, got = receiver
    policy = {**POLICY, "actions": {"webhook": {"url": url}}}
    assert c.put("/api/v1/models/churn/policy", json=policy, headers=auth).status_code == 200
    _post(c, _in(H, HOUR, prediction_records(300, seed=1)), auth)
    _post(c, _in(H + 1, HOUR, prediction_records(300, start=300, shift=2.0, seed=2)), auth)
    _post(c, _in(H + 2, HOUR, prediction_records(300, start=600, seed=3)), auth)
    assert judge(c, now=LATER) == 1
    _post(c, _in(H + 1, HOUR, prediction_records(300, start=900, shift=2.5, seed=4)), auth)
    assert judge(c, now=LATER + HOUR) == 0
    assert _hours(c)[1]["revision"] == 2 and len(_alerts(c)) == 1
    actions = c.store.list_actions("churn")
    assert len(got) == 1, actions  # delivered once, not again for the recomputed hour
    assert [d["status"] for d in actions] == ["done"], actions


def test_a_backfill_that_completes_a_streak_alerts_on_the_window_ending_it(registered, auth):
    c = registered
    policy = {
        **POLICY,
        "triggers": [
            {"metric": "drift_share", "op": ">", "value": 0.3, "consecutive": 2, "name": "two"}
        ],
    }
    assert c.put("/api/v1/models/churn/policy", json=policy, headers=auth).status_code == 200
    _post(c, _in(H, HOUR, prediction_records(300, seed=1)), auth)
    _post(c, _in(H + 1, HOUR, prediction_records(300, start=300, seed=2)), auth)
    _post(c, _in(H + 2, HOUR, prediction_records(300, start=600, shift=2.0, seed=3)), auth)
    _post(c, _in(H + 3, HOUR, prediction_records(300, start=900, seed=4)), auth)
    assert judge(c, now=(H + 4) * HOUR + 601) == 0  # one drifted hour alone: no alert
    _post(c, _in(H + 1, HOUR, prediction_records(600, start=5000, shift=2.0, seed=5)), auth)
    assert judge(c, now=(H + 5) * HOUR) == 1
    (alert,) = _alerts(c)
    assert alert["window_start"] == _hours(c)[2]["start"]  # the streak H+1, H+2 ends at H+2
