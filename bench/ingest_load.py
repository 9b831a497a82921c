"""Ingestion load on ``assay serve``: batch rows/s (1,000-row batches, JSON and/or
Parquet bodies, every batch with fresh ids) and single-record latency p50/p99, from
this (second) process over loopback; the server's RSS is sampled during the batch run.

Usage: .venv/bin/python bench/ingest_load.py [--seconds 20] [--body json|parquet|both]
       [--rss-every 10]
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


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _json_template() -> tuple[bytes, bytes]:
    """A 1,000-record JSON body whose ids share a fixed-width prefix, so each batch
    gets fresh ids by one bytes replace (the client stays cheap)."""
    import json

    recs = _records(1000, 0)
    for k, r in enumerate(recs):
        r["id"] = f"B000000000-{k}"
    return json.dumps({"records": recs}).encode(), b"B000000000-"


_BASE: list = []


def _parquet_body(i: int) -> bytes:
    """A 1,000-row Parquet body with fresh ids (the rest of the frame is built once)."""
    import io

    import polars as pl

    if not _BASE:
        _BASE.append(_base_frame())
    df = _BASE[0].with_columns((pl.lit(f"P{i:09d}-") + pl.col("k").cast(pl.String)).alias("id"))
    buf = io.BytesIO()
    df.select("id", pl.exclude("id", "k")).write_parquet(buf)
    return buf.getvalue()


def _base_frame():
    import polars as pl

    recs = _records(1000, 0)
    return pl.DataFrame(
        {
            "k": list(range(1000)),
            "timestamp": [r["timestamp"] for r in recs],
            "x": [r["features"]["x"] for r in recs],
            "c": [r["features"]["c"] for r in recs],
            "prediction": [r["prediction"] for r in recs],
            "score": [r["score"] for r in recs],
        }
    )


def _batch_run(http: httpx.Client, kind: str, seconds: float, pid: int, every: float) -> None:
    template, prefix = _json_template()
    ctype = "application/json" if kind == "json" else "application/vnd.apache.parquet"
    pool = [_parquet_body(i) for i in range(600)] if kind == "parquet" else []
    rows, t0, i = 0, time.perf_counter(), 0
    next_sample, samples = t0, []
    while (now := time.perf_counter()) - t0 < seconds:
        if now >= next_sample:
            samples.append((now - t0, _rss_mib(pid)))
            next_sample += every
        if kind == "json":
            body = template.replace(prefix, f"B{i:09d}-".encode())
        else:  # prebuilt for the first 600 batches, then built in the loop
            body = pool[i] if i < len(pool) else _parquet_body(i)
        r = http.post("/api/v1/models/m/predictions", content=body, headers={"Content-Type": ctype})
        r.raise_for_status()
        assert r.json()["stored"] == 1000, r.json()
        rows += 1000
        i += 1
    elapsed = time.perf_counter() - t0
    samples.append((elapsed, _rss_mib(pid)))
    print(
        f"batch ({kind}): {rows / elapsed:,.0f} rows/s over {rows:,} rows in {elapsed:.0f} s "
        f"(1,000-row {kind} batches, fresh ids)"
    )
    print(f"server RSS ({kind}) MiB at t=s: " + ", ".join(f"{t:.0f}:{m:.0f}" for t, m in samples))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--singles", type=int, default=2000)
    ap.add_argument("--body", choices=["json", "parquet", "both"], default="both")
    ap.add_argument("--rss-every", type=float, default=10)
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

        kinds = ["json", "parquet"] if args.body == "both" else [args.body]
        for kind in kinds:
            _batch_run(http, kind, args.seconds, proc.pid, args.rss_every)
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
        print(
            f"single: p50 {np.percentile(lat_a, 50):.2f} ms, p99 {np.percentile(lat_a, 99):.2f} ms "
            f"over {len(lat)} requests"
        )
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
