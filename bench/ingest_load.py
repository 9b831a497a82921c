"""Ingestion load on ``assay serve``: batch rows/s (JSON batches of 1,000 records;
Parquet or Arrow IPC bodies of ``--columnar-rows`` rows; every batch with fresh ids)
and single-record latency p50/p99, from this (second) process over loopback.

Besides rows/s (wall clock, which moves with the machine's load) it reports the
server's CPU time per 1,000 rows (``/proc/PID/stat`` of the server processes, all
threads), the client's, and the load average before and after: on a shared machine
the CPU time is the figure to compare between code versions.

Usage: .venv/bin/python bench/ingest_load.py [--seconds 20] [--body json,parquet,arrow]
       [--columnar-rows 10000] [--timestamps live|fixed] [--store sqlite|postgres]
       [--workers 1] [--clients 1] [--singles 2000] [--rss-every 10]

``--timestamps live`` (default) stamps each batch a little later than the one before,
near now, as a running model's log does; ``fixed`` gives every batch the same 1,000
timestamps of November 2023 (the bench before issue 16's ingest work): a backfill into
a closed window, which the service's scheduler recomputes while the bench runs.
``--store postgres`` starts a throwaway PostgreSQL server (``initdb`` + ``pg_ctl`` into
a temporary folder, Unix socket only, as ``tests/service/conftest.py`` does, but with
``fsync`` left on) and ``--workers N`` runs ``assay serve --workers N`` on it; use
``--clients N`` to keep N batches in flight (one thread and connection each).
Set ``PYTHONPATH`` to another checkout's root to measure that code's server.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import httpx
import numpy as np

TOKEN = "bench-token"
PATH = "/api/v1/models/m/predictions"
CT = {
    "json": "application/json",
    "parquet": "application/vnd.apache.parquet",
    "arrow": "application/vnd.apache.arrow.stream",
}


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


class Bodies:
    """Request bodies with fresh ids (and, when ``live``, later timestamps) for batch
    ``i`` of client ``c``, made cheaply so that the client is not the bottleneck."""

    def __init__(self, live: bool, columnar_rows: int) -> None:
        self.live, self.n = live, columnar_rows
        self.t0 = int(time.time()) - 600  # ten minutes ago: today's (open) window
        recs = _records(1000, 0)
        for k, r in enumerate(recs):
            r["id"] = f"B000000000-{k}"
            r["timestamp"] = 1_700_000_000 + k / 1000  # 10-digit whole seconds, replaced
        self.template = json.dumps({"records": recs}).encode()
        self._frame = None

    def json(self, c: int, i: int) -> bytes:
        body = self.template.replace(b"B000000000-", f"B{c}{i:08d}-".encode())
        if self.live:  # batch i covers second t0 + i: later than every batch before
            body = body.replace(
                b'"timestamp": 1700000000.', f'"timestamp": {self.t0 + i}.'.encode()
            )
        return body

    def columnar(self, kind: str, c: int, i: int) -> bytes:
        import polars as pl

        if self._frame is None:
            rng = np.random.default_rng(0)
            x = rng.normal(size=self.n)
            self._frame = pl.DataFrame(
                {
                    "k": np.arange(self.n),
                    "off": np.arange(self.n) / self.n,
                    "x": x,
                    "c": ["a"] * self.n,
                    "prediction": (x > 0).astype(np.int64),
                    "score": 1 / (1 + np.exp(-x)),
                }
            )
        base = float(self.t0 + i) if self.live else 1.7e9
        df = self._frame.select(
            (pl.lit(f"{kind[0].upper()}{c}{i:08d}-") + pl.col("k").cast(pl.String)).alias("id"),
            (pl.col("off") + base).alias("timestamp"),
            "x",
            "c",
            "prediction",
            "score",
        )
        buf = io.BytesIO()
        if kind == "parquet":
            df.write_parquet(buf)
        else:
            df.write_ipc_stream(buf)
        return buf.getvalue()


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (the uvicorn workers of ``--workers N``)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        with contextlib.suppress(OSError):
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/children") as f:
                    todo += [int(x) for x in f.read().split()]
    return out


def _cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds of ``pids`` (all their threads)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in pids:
        with contextlib.suppress(OSError), open(f"/proc/{p}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / tick


def _load() -> str:
    return "/".join(f"{v:.2f}" for v in os.getloadavg())


def _batch_run(url: str, kind: str, args, pid: int, bodies: Bodies) -> dict:
    ctype = CT[kind]
    per = 1000 if kind == "json" else bodies.n
    if kind != "json":  # built before the clock starts (a pool, reused with new ids after)
        pool = {
            (c, i): bodies.columnar(kind, c, i) for c in range(args.clients) for i in range(200)
        }
    rows = [0] * args.clients
    stop = time.perf_counter() + args.seconds
    errors: list[str] = []

    def client(c: int) -> None:
        http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
        i = 0
        while time.perf_counter() < stop and not errors:
            if kind == "json":
                body = bodies.json(c, i)
            else:
                body = pool.get((c, i)) or bodies.columnar(kind, c, i)
            r = http.post(PATH, content=body, headers={"Content-Type": ctype})
            if r.status_code != 200 or r.json()["stored"] != per:
                errors.append(f"{r.status_code} {r.text[:300]}")
                return
            rows[c] += per
            i += 1

    pids = _tree(pid)
    load0, cpu0, me0 = _load(), _cpu_s(pids), time.process_time()
    rss = [_rss_mib(pid)]
    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(c,)) for c in range(args.clients)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        for t in threads:
            t.join(args.rss_every)
        rss.append(_rss_mib(pid))
    elapsed = time.perf_counter() - t0
    cpu, me = _cpu_s(pids) - cpu0, time.process_time() - me0
    if errors:
        raise SystemExit(f"batch ({kind}) failed: {errors[0]}")
    n = sum(rows)
    out = {
        "kind": kind,
        "rows_per_s": n / elapsed,
        "rows": n,
        "seconds": elapsed,
        "batch_rows": per,
        "server_cpu_ms_per_1000": cpu / n * 1e6,
        "client_cpu_ms_per_1000": me / n * 1e6,
        "load": f"{load0} -> {_load()}",
        "rss_mib": rss,
    }
    print(
        f"batch ({kind}, {per:,}-row bodies, {args.clients} client(s)): "
        f"{n / elapsed:,.0f} rows/s over {n:,} rows in {elapsed:.0f} s; server CPU "
        f"{out['server_cpu_ms_per_1000']:.2f} ms per 1,000 rows, client CPU "
        f"{out['client_cpu_ms_per_1000']:.2f} ms; load average {out['load']}; "
        f"server RSS MiB {rss[0]:.0f} -> {rss[-1]:.0f}",
        flush=True,
    )
    return out


def _singles(http: httpx.Client, n: int, live: bool) -> dict:
    t0 = time.time()
    lat = []
    for k in range(n):
        rec = _records(1, 10**9 + k)
        if live:
            rec[0]["timestamp"] = t0 + k / 1000
        body = json.dumps({"records": rec}).encode()
        t = time.perf_counter()
        http.post(PATH, content=body, headers={"Content-Type": CT["json"]}).raise_for_status()
        lat.append((time.perf_counter() - t) * 1000)
    a = np.array(lat)
    p50, p99 = float(np.percentile(a, 50)), float(np.percentile(a, 99))
    print(f"single: p50 {p50:.2f} ms, p99 {p99:.2f} ms over {n} requests; load {_load()}")
    return {"p50_ms": p50, "p99_ms": p99, "n": n}


def _bin(name: str) -> str:
    found = (
        shutil.which(name) or (sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [""])[-1]
    )
    if not found:
        raise SystemExit(f"--store postgres needs the PostgreSQL server binary {name}")
    return found


class Postgres:
    """A throwaway PostgreSQL server (fsync on), as ``postgres`` when run as root."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="assay-bench-pg-")
        self.root = os.geteuid() == 0
        if self.root:
            shutil.chown(self.dir, "postgres")
        self.port = _free_port()
        self._run(_bin("initdb"), "-D", f"{self.dir}/data", "-A", "trust", "-U", "postgres")
        with open(f"{self.dir}/data/postgresql.conf", "a") as conf:
            conf.write(
                f"listen_addresses = ''\nunix_socket_directories = '{self.dir}'\n"
                f"port = {self.port}\n"
            )
        self._run(_bin("pg_ctl"), "-D", f"{self.dir}/data", "-l", f"{self.dir}/log", "-w", "start")
        self.url = f"postgresql://postgres@/postgres?host={self.dir}&port={self.port}"

    def _run(self, *argv: str) -> None:
        cmd = list(argv)
        if self.root:
            cmd = ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(cmd)]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._run(_bin("pg_ctl"), "-D", f"{self.dir}/data", "-m", "fast", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--singles", type=int, default=2000)
    ap.add_argument("--body", default="json,parquet", help="comma list: json, parquet, arrow")
    ap.add_argument("--columnar-rows", type=int, default=10_000)
    ap.add_argument("--timestamps", choices=["live", "fixed"], default="live")
    ap.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--clients", type=int, default=1)
    ap.add_argument("--rss-every", type=float, default=10)
    ap.add_argument("--json-out", help="write the figures here as JSON")
    args = ap.parse_args()
    kinds = [k.strip() for k in args.body.split(",") if k.strip()]
    if args.body == "both":
        kinds = ["json", "parquet"]
    port = _free_port()
    tmp = tempfile.mkdtemp()
    pg = Postgres() if args.store == "postgres" else None
    store = pg.url if pg else f"sqlite:///{tmp}/bench.db"
    code = "import sys; from assay.cli.main import main; sys.argv[0] = 'assay'; main()"
    argv = [sys.executable, "-c", code, "serve", "--store", store, "--port", str(port)]
    if args.workers > 1:
        argv += ["--workers", str(args.workers)]
    # run from the temporary folder: from the checkout, ``-c`` would put its ``assay``
    # ahead of PYTHONPATH (and measure this checkout whatever PYTHONPATH says)
    env = {**os.environ, "ASSAY_TOKEN": TOKEN}
    where = subprocess.run(
        [sys.executable, "-c", "import assay; print(assay.__file__)"],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
    )
    print(f"server code: {where.stdout.strip()}", flush=True)
    proc = subprocess.Popen(argv, env=env, cwd=tmp)
    url = f"http://127.0.0.1:{port}"
    results: dict = {"args": vars(args), "batches": []}
    try:
        for _ in range(600):
            try:
                httpx.get(url + "/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        time.sleep(1.0 if args.workers > 1 else 0)  # every worker up
        http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
        ref = [
            {"x": float(v), "c": "a", "score": 0.5}
            for v in np.random.default_rng(0).normal(size=500)
        ]
        http.post(
            "/api/v1/models", json={"name": "m", "score": "score", "reference": ref}
        ).raise_for_status()
        bodies = Bodies(args.timestamps == "live", args.columnar_rows)
        for kind in kinds:
            results["batches"].append(_batch_run(url, kind, args, proc.pid, bodies))
        if args.singles:
            results["single"] = _singles(http, args.singles, args.timestamps == "live")
    finally:
        proc.terminate()
        proc.wait(20)
        if pg:
            pg.close()
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
