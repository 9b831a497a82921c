"""Two server processes on one PostgreSQL: ingest goes through either, each closed
window is computed once, each alert delivered once; when the process evaluating a
model is killed, the other takes its models over. ``--workers`` refuses SQLite."""

from __future__ import annotations

import http.server
import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest
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
from tests.service.test_scheduler import _in, _Receiver, _wait


def test_two_servers_one_postgres_evaluate_once_and_take_over(tmp_path):
    url = postgres_url()
    from assay.service import open_store

    empty_database(url)  # opening migrates: whatever an earlier test left
    fresh = open_store(url)
    fresh._drop_all()
    fresh.close()
    handler = type("R", (_Receiver,), {"got": [], "release": threading.Event()})
    handler.release.set()  # no holding here
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    config = tmp_path / "assay-serve.yaml"
    config.write_text(
        yaml.safe_dump({"webhook_allow_networks": ["127.0.0.0/8"], "evaluate_every_s": 1})
    )
    ports = [free_port(), free_port()]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:  # start both at once (each imports for seconds)
        procs = list(pool.map(lambda p: start_server(url, p, config), ports))
    apis = [
        httpx.Client(base_url=f"http://127.0.0.1:{p}", headers={"Authorization": f"Bearer {ADMIN}"})
        for p in ports
    ]
    try:
        a, b = apis
        ref = reference_frame()
        reg = {"name": "churn", "target": "y", "prediction": "pred", "score": "score"}
        assert a.post(
            "/api/v1/models", json={**reg, "reference": ref.to_dict("records")}
        ).is_success
        policy = {
            "window": "1m",
            "grace": "1s",
            "triggers": [{"metric": "drift_share", "op": ">", "value": 0.3, "name": "drift"}],
            "actions": {"webhook": {"url": hook}},
        }
        assert b.put("/api/v1/models/churn/policy", json=policy).status_code == 200
        m = int(time.time() // 60)
        for api, bucket, recs in (
            (a, m - 5, prediction_records(300, start=0, seed=1)),
            (b, m - 4, prediction_records(300, start=300, seed=2)),
            (a, m - 3, prediction_records(300, start=600, shift=2.0, seed=3)),
        ):
            r = api.post(
                "/api/v1/models/churn/predictions", json={"records": _in(bucket, 60, recs)}
            )
            assert r.is_success, r.text
        _wait(lambda: handler.got, 90, "no alert delivered")
        time.sleep(4)  # both processes tick 4 more times
        assert len(handler.got) == 1
        ws = b.get("/api/v1/models/churn/windows").json()["windows"]
        stored = [w for w in ws if w["stored"]]
        assert len(stored) == 3 and {w["revision"] for w in stored} == {1}  # computed once
        # kill the process that holds the model's evaluation; the other takes over
        with _store(url) as store:
            holder = store._read("SELECT holder FROM leases WHERE name = 'evaluate:churn'")[0][0]
        pid = int(holder.split(":")[1])
        victim = next(i for i, p in enumerate(procs) if p.pid == pid)
        os.kill(procs[victim].pid, signal.SIGKILL)
        procs[victim].wait(10)
        survivor = apis[1 - victim]
        bucket = int(time.time() // 60) - 1
        recs = prediction_records(300, start=900, shift=2.0, seed=4)
        r = survivor.post(
            "/api/v1/models/churn/predictions", json={"records": _in(bucket, 60, recs)}
        )
        assert r.is_success, r.text
        _wait(lambda: len(handler.got) >= 2, 60, "the survivor did not take over")
        time.sleep(3)
        keys = [h["Idempotency-Key"] for _, h, _ in handler.got]
        assert len(keys) == 2 and len(set(keys)) == 2
        assert len(survivor.get("/api/v1/models/churn/alerts").json()["alerts"]) == 2
    finally:
        for api in apis:
            api.close()
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait(10)
        receiver.shutdown()
        receiver.server_close()


class _store:
    def __init__(self, url):
        from assay.service import open_store

        self.s = open_store(url)

    def __enter__(self):
        return self.s

    def __exit__(self, *exc):
        self.s.close()


def test_workers_refuse_a_sqlite_store(tmp_path):
    code = "import sys; from assay.cli.main import main; sys.argv[0] = 'assay'; main()"
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "serve",
            "--store",
            f"sqlite:///{tmp_path}/m.db",
            "--workers",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2 and "needs a postgresql:// store" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("n", [2])
def test_workers_serve_on_postgres(n, tmp_path):
    url = postgres_url()
    port = free_port()
    proc = start_server(url, port, args=("--workers", str(n)))
    try:
        r = httpx.get(f"http://127.0.0.1:{port}/readyz")
        assert r.status_code == 200 and r.json()["store"] == "postgres"
        headers = {"Authorization": f"Bearer {ADMIN}"}
        for _ in range(4):  # several connections: answered by either worker
            with httpx.Client(headers=headers) as c:
                assert c.get(f"http://127.0.0.1:{port}/api/v1/models").status_code == 200
    finally:
        proc.terminate()
        proc.wait(20)
