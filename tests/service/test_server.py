"""A real ``assay serve`` on loopback: the client, the CLI, and SIGKILL durability."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import httpx
import pandas as pd

from tests.service.conftest import ADMIN, prediction_records, reference_frame, start_server


def _frame(recs: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(
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


def test_client_against_real_server(server, tmp_path):
    from assay.service import Client

    url, _, db = server
    with Client(url, ADMIN) as c:
        c.register_model("churn", reference_frame(), target="y", prediction="pred", score="score")
        assert c.log_predictions("churn", _frame(prediction_records(1500))) == 1500
        assert c.log_predictions("churn", _frame(prediction_records(100))) == 100  # resent
        assert c.log_labels("churn", pd.DataFrame({"id": ["r0", "r1"], "label": [1, 0]})) == 2
        info = c.model("churn")
        assert (info["predictions"], info["labels"]) == (1500, 2)
        windows = c.windows("churn", "500rows")
        assert [w["rows"] for w in windows] == [500, 500, 500]
    # the CLI: a read token, and ingest of a file
    code = "import sys; from assay.cli.main import main; sys.argv[0] = 'assay'; main()"
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "token",
            "create",
            "--store",
            f"sqlite:///{db}",
            "--scope",
            "write",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    token_file = tmp_path / "token"
    token_file.write_text(out.stdout.strip())
    path = tmp_path / "preds.parquet"
    _frame(prediction_records(50, start=5000)).to_parquet(path)
    res = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "ingest",
            "--url",
            url,
            "--token-file",
            str(token_file),
            "--model",
            "churn",
            str(path),
        ],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    assert "50 rows acknowledged" in res.stderr
    info = httpx.get(
        f"{url}/api/v1/models/churn", headers={"Authorization": f"Bearer {ADMIN}"}
    ).json()
    assert info["predictions"] == 1550


def test_sigkill_loses_no_acknowledged_record(server):
    url, proc, db = server
    headers = {"Authorization": f"Bearer {ADMIN}"}
    ref = reference_frame(200)[["x", "colour", "score"]]
    r = httpx.post(
        f"{url}/api/v1/models",
        json={"name": "m", "score": "score", "reference": ref.to_dict("records")},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    acked: list[str] = []
    errors: list[str] = []
    stop = threading.Event()

    def ingest() -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=10) as http:
            batch = 0
            while not stop.is_set():
                recs = prediction_records(200, start=batch * 200, seed=batch)
                try:
                    resp = http.post("/api/v1/models/m/predictions", json={"records": recs})
                except httpx.TransportError:
                    return  # the server died mid-request: that batch was not acknowledged
                if resp.status_code != 200:
                    errors.append(resp.text)
                    return
                acked.extend(rec["id"] for rec in recs)
                batch += 1

    t = threading.Thread(target=ingest)
    t.start()
    deadline = time.monotonic() + 20
    while len(acked) < 3000 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    stop.set()
    t.join(15)
    assert not errors, errors[:1]
    assert len(acked) >= 3000

    port = int(url.rsplit(":", 1)[1])
    proc2 = start_server(db, port)
    try:
        info = httpx.get(f"{url}/api/v1/models/m", headers=headers).json()
        assert info["predictions"] >= len(acked)
    finally:
        proc2.terminate()
        proc2.wait(10)
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ids = [row[0] for row in conn.execute("SELECT id FROM predictions WHERE model = 'm'")]
    finally:
        conn.close()
    assert len(ids) == len(set(ids)), "a record was stored twice"
    assert set(acked) <= set(ids), "an acknowledged record was lost"
