"""Ingestion load on ``assay serve``: batch rows/s (1,000-row batches) and
single-record latency p50/p99, from this (second) process over loopback.

Usage: .venv/bin/python bench/ingest_load.py [--seconds 20]
Starts a server on a free port with a fresh SQLite store in a temp folder.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time

import httpx
import numpy as np

TOKEN = "bench-token"


def _records(n: int, start: int) -> list[dict]:
    rng = np.random.default_rng(start)
    x = rng.normal(size=n)
    return [
        {
            "id": f"r{start + i}",
            "timestamp": 1.7e9 + start + i,
            "features": {"x": float(x[i]), "c": "a"},
            "prediction": int(x[i] > 0),
            "score": float(1 / (1 + np.exp(-x[i]))),
        }
        for i in range(n)
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--singles", type=int, default=2000)
    args = ap.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp = tempfile.mkdtemp()
    code = "import sys; from assay.cli.main import main; sys.argv[0] = 'assay'; main()"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            code,
            "serve",
            "--store",
            f"sqlite:///{tmp}/bench.db",
            "--port",
            str(port),
        ],
        env={**os.environ, "ASSAY_TOKEN": TOKEN},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(url + "/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
        ref = [
            {"x": float(v), "c": "a", "score": 0.5}
            for v in np.random.default_rng(0).normal(size=500)
        ]
        http.post(
            "/api/v1/models", json={"name": "m", "score": "score", "reference": ref}
        ).raise_for_status()
        import json

        bodies = [json.dumps({"records": _records(1000, i * 1000)}).encode() for i in range(50)]
        rows, t0, i = 0, time.perf_counter(), 0
        while time.perf_counter() - t0 < args.seconds:
            body = (
                bodies[i % len(bodies)]
                if i < len(bodies)
                else json.dumps({"records": _records(1000, i * 1000)}).encode()
            )
            r = http.post(
                "/api/v1/models/m/predictions",
                content=body,
                headers={"Content-Type": "application/json"},
            )
            r.raise_for_status()
            rows += 1000
            i += 1
        batch_rate = rows / (time.perf_counter() - t0)
        lat = []
        singles = [
            json.dumps({"records": _records(1, 10**9 + k)}).encode() for k in range(args.singles)
        ]
        for body in singles:
            t = time.perf_counter()
            http.post(
                "/api/v1/models/m/predictions",
                content=body,
                headers={"Content-Type": "application/json"},
            ).raise_for_status()
            lat.append((time.perf_counter() - t) * 1000)
        lat_a = np.array(lat)
        print(f"batch: {batch_rate:,.0f} rows/s over {rows:,} rows (1,000-row JSON batches)")
        print(
            f"single: p50 {np.percentile(lat_a, 50):.2f} ms, p99 {np.percentile(lat_a, 99):.2f} ms "
            f"over {len(lat)} requests"
        )
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
