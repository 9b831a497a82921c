"""The outbox delivered by two server processes on one PostgreSQL, to a real webhook
receiver on localhost: a receiver slower than the dispatch lease still gets each
alert once (no second process sends it while the first is still waiting for the
answer); and when the process in the middle of a delivery is killed, the other sends
it again with the same ``Idempotency-Key``: every alert arrives, and once per key."""

from __future__ import annotations

import http.server
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import yaml

from tests.service.conftest import (
    ADMIN,
    empty_database,
    free_port,
    postgres_url,
    prediction_records,
    reference_frame,
    start_server,
)
from tests.service.test_scheduler import _in, _wait

HOLD_S = 14.0
"""How long the receiver holds the first request for an idempotency key: longer
than the dispatch lease (10 s), so another process could take the lease meanwhile."""


class _Receiver(http.server.BaseHTTPRequestHandler):
    got: list  # (arrival time, idempotency key, body)
    release: threading.Event
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        key = self.headers["Idempotency-Key"]
        with self.lock:
            first = all(k != key for _, k, _ in self.got)
            self.got.append((time.time(), key, body))
        if first:
            self.release.wait(HOLD_S)
        try:
            self.send_response(204)
            self.end_headers()
        except OSError:
            pass  # the service died while we held it

    def log_message(self, *args):
        pass


def _deliveries(api) -> list[dict]:
    alerts = api.get("/api/v1/models/churn/alerts").json()["alerts"]
    return [d for a in alerts for d in a["deliveries"]]


def test_two_servers_deliver_each_alert_once_to_a_slow_receiver_and_across_a_kill(tmp_path):
    url = postgres_url()
    from assay.service import open_store

    empty_database(url)  # opening migrates: whatever an earlier test left
    store = open_store(url)
    store._drop_all()
    store.migrate()
    handler = type("R", (_Receiver,), {"got": [], "release": threading.Event()})
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    config = tmp_path / "assay-serve.yaml"
    config.write_text(
        yaml.safe_dump({"webhook_allow_networks": ["127.0.0.0/8"], "evaluate_every_s": 1})
    )
    ports = [free_port(), free_port()]
    with ThreadPoolExecutor(2) as pool:  # start both at once (each imports for seconds)
        procs = list(pool.map(lambda p: start_server(url, p, config), ports))
    apis = [
        httpx.Client(
            base_url=f"http://127.0.0.1:{p}",
            headers={"Authorization": f"Bearer {ADMIN}"},
            timeout=30,
        )
        for p in ports
    ]
    try:
        a, b = apis
        ref = reference_frame()
        reg = {"name": "churn", "target": "y", "prediction": "pred", "score": "score"}
        r = a.post("/api/v1/models", json={**reg, "reference": ref.to_dict("records")})
        assert r.status_code == 201, r.text
        policy = {
            "window": "1m",
            "grace": "1s",
            "triggers": [{"metric": "drift_share", "op": ">", "value": 0.3, "name": "drift"}],
            "actions": {"webhook": {"url": hook, "timeout_s": 30}},  # > HOLD_S
        }
        assert b.put("/api/v1/models/churn/policy", json=policy).status_code == 200
        m = int(time.time() // 60)
        for api, bucket, recs in (
            (a, m - 4, prediction_records(300, start=0, seed=1)),
            (b, m - 3, prediction_records(300, start=300, seed=2)),
            (a, m - 2, prediction_records(300, start=600, shift=2.0, seed=3)),
        ):
            r = api.post(
                "/api/v1/models/churn/predictions", json={"records": _in(bucket, 60, recs)}
            )
            assert r.is_success, r.text

        # 1. a receiver slower than the lease: one delivery, from one process
        _wait(lambda: handler.got, 90, "no alert delivered")
        _wait(lambda: [d for d in _deliveries(a) if d["status"] == "done"], 60, "not answered")
        time.sleep(4)  # both processes poll the outbox twice more
        assert len(handler.got) == 1, [k for _, k, _ in handler.got]
        (done,) = _deliveries(b)
        assert done["status"] == "done" and done["attempts"] == 1

        # 2. kill the process in the middle of the next delivery: the other sends it again
        bucket = int(time.time() // 60) - 1
        recs = prediction_records(300, start=900, shift=2.0, seed=4)
        r = b.post("/api/v1/models/churn/predictions", json={"records": _in(bucket, 60, recs)})
        assert r.is_success, r.text
        _wait(lambda: len(handler.got) >= 2, 60, "the second alert was not sent")
        rows = store._read("SELECT claimed_by FROM outbox WHERE status = 'pending'")
        assert len(rows) == 1 and rows[0][0], rows
        pid = int(rows[0][0].split(":")[1])
        victim = next(i for i, p in enumerate(procs) if p.pid == pid)
        os.kill(procs[victim].pid, signal.SIGKILL)
        procs[victim].wait(10)
        handler.release.set()  # the held request ends with its sender gone
        survivor = apis[1 - victim]
        _wait(lambda: len(handler.got) >= 3, 40, "the survivor did not send it again")
        _wait(
            lambda: all(d["status"] == "done" for d in _deliveries(survivor)), 30, "not marked done"
        )
        time.sleep(3)
        keys = [k for _, k, _ in handler.got]
        # at least once, and exactly once per idempotency key: the first alert once,
        # the second twice (its first sender died before the answer), nothing lost
        assert len(keys) == 3 and len(set(keys)) == 2 and keys[1] == keys[2], keys
        assert len(survivor.get("/api/v1/models/churn/alerts").json()["alerts"]) == 2
        assert len(_deliveries(survivor)) == 2
    finally:
        for api in apis:
            api.close()
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait(10)
        receiver.shutdown()
        receiver.server_close()
        store.close()
