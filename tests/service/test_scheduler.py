"""The scheduler judges windows as they close, with no request: grace periods, late
data, stored results, idempotent alerts; and a real server that alerts a webhook
receiver on its own and survives being killed mid-delivery."""

from __future__ import annotations

import http.server
import json
import os
import signal
import threading
import time
from typing import ClassVar

import httpx
import pytest
import yaml

from tests.service.conftest import ADMIN, free_port, judge, prediction_records, start_server

HOUR = 3600
H = 1_700_000_000 // HOUR  # an hour bucket in 2023
POLICY = {
    "name": "hourly",
    "window": "1h",
    "grace": "10m",
    "triggers": [{"metric": "drift_share", "op": ">", "value": 0.3, "name": "drift-high"}],
}


def _in(bucket: int, seconds: int, recs: list[dict]) -> list[dict]:
    """``recs`` with timestamps spread over the bucket ``[bucket, bucket + 1) * seconds``."""
    step = (seconds - 1) / max(len(recs), 1)
    return [{**r, "timestamp": bucket * seconds + i * step} for i, r in enumerate(recs)]


def _post(client, recs, auth):
    r = client.post("/api/v1/models/churn/predictions", json={"records": recs}, headers=auth)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("settings_extra", [{"recompute_every_s": 0}], indirect=True)
def test_windows_close_after_grace_and_late_data_is_recorded(registered, auth):
    c = registered
    assert c.put("/api/v1/models/churn/policy", json=POLICY, headers=auth).status_code == 200
    _post(c, _in(H, HOUR, prediction_records(300, seed=1)), auth)
    _post(c, _in(H + 1, HOUR, prediction_records(300, start=300, shift=2.0, seed=2)), auth)
    # reading evaluates nothing: both hours are closed by the clock, nothing is stored
    body = c.get("/api/v1/models/churn/windows?size=1h", headers=auth).json()
    assert body["scheduled"] and body["pending"] == 2
    assert [w["stored"] for w in body["windows"]] == [False, False]
    assert c.get("/api/v1/models/churn/alerts", headers=auth).json()["alerts"] == []

    # 5 minutes after the second hour ends: it is in its grace period, not judged
    assert judge(c, now=(H + 2) * HOUR + 300) == 0
    body = c.get("/api/v1/models/churn/windows?size=1h", headers=auth).json()
    first, second = body["windows"]
    assert first["stored"] and first["revision"] == 1 and first["drift_status"] != "fail"
    assert not second["stored"] and second["drift_share"] > 0.3  # computed now, not judged
    assert body["pending"] == 1  # by the request's real clock it closed long ago
    # when the grace period ends, it is judged and the alert raised: once
    assert judge(c, now=(H + 2) * HOUR + 601) == 1
    assert judge(c, now=(H + 2) * HOUR + 700) == 0
    alerts = c.get("/api/v1/models/churn/alerts", headers=auth).json()["alerts"]
    assert [a["kind"] for a in alerts] == ["drift-high"]
    body = c.get("/api/v1/models/churn/windows?size=1h", headers=auth).json()
    assert [w["stored"] for w in body["windows"]] == [True, True]
    assert body["windows"][1]["alerts"] == ["drift-high"]
    got = c.get("/api/v1/models/churn/policy", headers=auth).json()
    assert got["window"] == "1h" and got["state"]["1h"]["last_start"] == body["windows"][1]["start"]

    # late data for the first hour: it is computed again and the change recorded
    _post(c, _in(H, HOUR, prediction_records(200, start=600, seed=3)), auth)
    assert judge(c, now=(H + 2) * HOUR + 800) == 0
    first = c.get("/api/v1/models/churn/windows?size=1h", headers=auth).json()["windows"][0]
    assert first["rows"] == 500 and first["revision"] == 2
    (change,) = c.store.window_changes("churn", "1h")
    assert change["revision"] == 2 and change["before"]["rows"] == 300
    # a tick with nothing new recomputes nothing
    judge(c, now=(H + 2) * HOUR + 900)
    assert len(c.store.window_changes("churn", "1h")) == 1


def test_a_backfill_into_a_closed_window_is_not_recomputed_every_tick(registered, auth):
    c = registered  # recompute_every_s: 60 (the default)
    assert c.put("/api/v1/models/churn/policy", json=POLICY, headers=auth).status_code == 200
    _post(c, _in(H, HOUR, prediction_records(100, seed=1)), auth)
    judge(c)
    _post(c, _in(H, HOUR, prediction_records(100, start=100, seed=2)), auth)
    judge(c)  # changed, but computed less than 60 s ago: it waits
    assert c.store.window_results("churn", "1h")[0]["rows"] == 100
    c.app.state.scheduler._computed.clear()  # as if the minute had passed
    judge(c)
    assert c.store.window_results("churn", "1h")[0]["rows"] == 200


def test_a_restarted_scheduler_raises_no_alert_twice(registered, auth):
    from assay.service._scheduler import Scheduler

    c = registered
    assert c.put("/api/v1/models/churn/policy", json=POLICY, headers=auth).status_code == 200
    _post(c, _in(H, HOUR, prediction_records(300, seed=1)), auth)
    _post(c, _in(H + 1, HOUR, prediction_records(300, start=300, shift=2.0, seed=2)), auth)
    assert judge(c) == 1
    # a new process: no memory, the same store; and a lost state (crash before saving)
    app = c.app
    fresh = Scheduler(c.store, app.state.settings, app.state.dispatcher)
    assert fresh.run_once() == 0
    with c.store._write() as cur:
        cur.execute("DELETE FROM schedules")
    assert fresh.run_once() == 0
    assert len(c.store.list_alerts("churn")) == 1


def test_policy_window_grace_and_retention_are_validated(registered, auth):
    url = "/api/v1/models/churn/policy"
    for key, value in (("window", "2x"), ("window", "30s"), ("grace", "soon"), ("retention", "1m")):
        r = registered.put(url, json={**POLICY, key: value}, headers=auth)
        assert r.status_code == 422, (key, value)
        assert r.json()["error"]["details"][0]["field"] == key


# -- a real server, a real receiver ------------------------------------------------


class _Receiver(http.server.BaseHTTPRequestHandler):
    """Records every delivery; holds the first one until ``release`` is set (so the
    service can be killed in the middle of it); keeps one alert per idempotency key."""

    got: ClassVar[list] = []
    release: ClassVar[threading.Event]

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        first = not type(self).got
        type(self).got.append((time.time(), dict(self.headers), body))
        if first:
            type(self).release.wait(30)
        try:
            self.send_response(204)
            self.end_headers()
        except OSError:
            pass  # the service died while we held it

    def log_message(self, *args):
        pass


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = predicate()
        if out:
            return out
        time.sleep(0.1)
    raise AssertionError(f"{what} within {timeout} s")


def test_real_server_alerts_on_its_own_once_across_a_kill(tmp_path):
    handler = type("R", (_Receiver,), {"got": [], "release": threading.Event()})
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    config = tmp_path / "assay-serve.yaml"  # the operator allows the loopback receiver
    config.write_text(
        yaml.safe_dump(
            {
                "webhook_allow_networks": ["127.0.0.0/8"],
                "metrics_allow_networks": ["127.0.0.1/32"],  # the scrape address
                "evaluate_every_s": 1,
            }
        )
    )
    db, port = tmp_path / "served.db", free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_server(db, port, config)
    procs = [proc]
    try:
        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30)
        from tests.service.conftest import reference_frame

        ref = reference_frame()
        reg = {"name": "churn", "target": "y", "prediction": "pred", "score": "score"}
        r = api.post("/api/v1/models", json={**reg, "reference": ref.to_dict("records")})
        assert r.status_code == 201, r.text
        policy = {
            "name": "minutely",
            "window": "1m",
            "grace": "1s",
            "triggers": [{"metric": "drift_share", "op": ">", "value": 0.3, "name": "drift"}],
            "actions": {"webhook": {"url": hook}},
        }
        assert api.put("/api/v1/models/churn/policy", json=policy).status_code == 200
        # stream three minutes that have just closed: two like the reference, one drifted
        m = int(time.time() // 60)
        minutes = [
            (m - 4, prediction_records(300, start=0, seed=1)),
            (m - 3, prediction_records(300, start=300, seed=2)),
            (m - 2, prediction_records(300, start=600, shift=2.0, seed=3)),
        ]
        for bucket, recs in minutes:
            assert api.post(
                "/api/v1/models/churn/predictions", json={"records": _in(bucket, 60, recs)}
            ).is_success
        acked = time.time()
        # read nothing: the receiver gets the alert on the service's own initiative
        _wait(lambda: handler.got, 60, "no webhook arrived")
        latency = handler.got[0][0] - acked
        assert latency <= 60, latency
        alerts = api.get("/api/v1/models/churn/alerts").json()["alerts"]
        assert [a["kind"] for a in alerts] == ["drift"]
        assert alerts[0]["window_start"] == f"{json.loads(handler.got[0][2])['window']}"
        assert alerts[0]["deliveries"][0]["status"] == "pending"  # held by the receiver
        # kill the service in the middle of that delivery, then start it again
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        handler.release.set()
        proc = start_server(db, port, config)
        procs.append(proc)
        _wait(lambda: len(handler.got) >= 2, 60, "the held delivery was not sent again")
        time.sleep(3)  # three more ticks: nothing more arrives
        keys = [h["Idempotency-Key"] for _, h, _ in handler.got]
        assert len(handler.got) == 2 and len(set(keys)) == 1, keys
        bodies = {json.loads(b)["id"] for _, _, b in handler.got}
        assert len(bodies) == 1
        alerts = api.get("/api/v1/models/churn/alerts").json()["alerts"]
        assert len(alerts) == 1 and alerts[0]["deliveries"][0]["status"] == "done"
        # the scrape address reads the metrics without a token
        from prometheus_client.parser import text_string_to_metric_families

        text = httpx.get(f"{url}/metrics").text
        done = [
            s.value
            for f in text_string_to_metric_families(text)
            for s in f.samples
            if s.name == "assay_deliveries_total" and s.labels["status"] == "done"
        ]
        assert done == [1.0]  # this process delivered it once
        print(f"\nalert latency after ingest: {latency:.2f} s")
        api.close()
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait(10)
        receiver.shutdown()
        receiver.server_close()


@pytest.mark.parametrize("settings_extra", [{"evaluate_every_s": 0}], indirect=True)
def test_settings_refuse_a_bad_default_window(settings_extra):
    from assay.errors import ConfigError
    from assay.service import Settings

    with pytest.raises(ConfigError, match="default_window"):
        Settings(default_window="1s")
    with pytest.raises(ConfigError, match="retention"):
        Settings(retention="5m")
    assert Settings(retention="90d").retention_s == 90 * 86400
