"""The PostgreSQL store survives its server restarting under a running ingest:
requests during the outage get 503 with Retry-After (never 500), every acknowledged
row is stored, and ingest goes on afterwards. The test starts its own throwaway
PostgreSQL (it must restart it), so it runs wherever the server binaries are."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from tests.service.conftest import (
    ADMIN,
    ThrowawayPostgres,
    free_port,
    prediction_records,
    reference_frame,
)
from tests.service.conftest import start_server as start_assay

psycopg = pytest.importorskip("psycopg", reason="needs psycopg: pip install 'assay[postgres]'")


@pytest.fixture(scope="module")
def pg():
    server = ThrowawayPostgres()  # its own: the test stops and starts it
    yield server
    server.close()


def test_ingest_survives_a_postgres_restart(pg, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_assay(pg.url, port)
    headers = {"Authorization": f"Bearer {ADMIN}"}
    acked: list[str] = []
    statuses: list[int] = []
    retry_after: list[str] = []
    stop = threading.Event()
    try:
        ref = reference_frame(200)
        reg = {"name": "m", "target": "y", "prediction": "pred", "score": "score"}
        r = httpx.post(
            f"{url}/api/v1/models",
            json={**reg, "reference": ref.to_dict("records")},
            headers=headers,
        )
        assert r.status_code == 201, r.text

        def ingest() -> None:
            with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
                batch = 0
                while not stop.is_set():
                    recs = prediction_records(100, start=batch * 100, seed=batch)
                    resp = http.post("/api/v1/models/m/predictions", json={"records": recs})
                    statuses.append(resp.status_code)
                    if resp.status_code == 200:
                        acked.extend(rec["id"] for rec in recs)
                    elif resp.status_code == 503:
                        retry_after.append(resp.headers.get("retry-after", ""))
                        time.sleep(0.05)
                    batch += 1  # a refused batch is never resent: it must not be stored

        t = threading.Thread(target=ingest)
        t.start()
        _until(lambda: len(acked) >= 1000, 30)
        pg.stop()  # the database goes away under the running ingest
        _until(lambda: 503 in statuses, 30)
        ready = httpx.get(f"{url}/readyz")
        assert ready.status_code == 503 and ready.headers["retry-after"]
        time.sleep(1.0)
        before = len(acked)
        pg.start()
        _until(lambda: len(acked) >= before + 1000, 60)  # ingest resumed by itself
        stop.set()
        t.join(30)
        assert httpx.get(f"{url}/readyz").status_code == 200
    finally:
        stop.set()
        proc.terminate()
        proc.wait(10)
    assert set(statuses) <= {200, 503}, sorted(set(statuses))  # never a 500
    assert statuses.count(503) >= 1 and all(v.isdigit() for v in retry_after)
    with psycopg.connect(pg.url) as conn:
        stored = {r[0] for r in conn.execute("SELECT id FROM predictions WHERE model = 'm'")}
    assert set(acked) <= stored, f"{len(set(acked) - stored)} acknowledged rows lost"
    print(f"\n{len(acked)} rows acknowledged, {statuses.count(503)} requests got 503")


def _until(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
