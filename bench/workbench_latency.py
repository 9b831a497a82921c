"""The workbench (issue 18): time from upload to report on the bundled demo data.

Starts ``assay serve`` (a real server, SQLite store in a temporary folder), uploads
the demo file (``assay/demo/data/adult.csv.gz``, decompressed: 48,842 rows, or the
first ``--rows``) as one file through ``POST /api/v1/audits`` with what the browser
flow chooses (target ``income``, Assay's reference model, no sensitive column
ticked), polls ``GET /api/v1/audits/{id}`` every 0.25 s and reports the seconds from
the start of the upload to the finished report, split into: upload and checks
before queueing, waiting in the queue, reading and splitting plus fitting the
reference model, the checks, and writing the outputs and the evidence pack. The
server's own count (``extra.workbench.seconds`` in report.json) is printed too.

Usage: .venv/bin/python bench/workbench_latency.py [--rows N] [--json out.json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-admin-token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demo_csv(path: Path, rows: int | None) -> int:
    src = ROOT / "assay" / "demo" / "data" / "adult.csv.gz"
    with gzip.open(src, "rt") as fh, open(path, "w") as out:
        n = -1
        for n, line in enumerate(fh):
            if rows is not None and n > rows:
                break
            out.write(line)
    return min(n, rows) if rows is not None else n


def serve(db: Path, port: int) -> subprocess.Popen:
    code = "import sys; from assay.cli.main import main; sys.argv[0] = 'assay'; main()"
    argv = [sys.executable, "-c", code, "serve", "--store", f"sqlite:///{db}"]
    argv += ["--port", str(port)]
    proc = subprocess.Popen(
        argv, env={**os.environ, "ASSAY_TOKEN": TOKEN}, stdout=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start in 120 s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=None, help="only the first N rows")
    ap.add_argument("--json", type=Path, default=None, help="write the numbers here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "adult.csv"
        rows = demo_csv(csv, args.rows)
        port = free_port()
        proc = serve(Path(tmp) / "bench.db", port)
        url, auth = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {TOKEN}"}
        try:
            spec = {"target": "income", "model": "reference"}
            t0 = time.monotonic()
            with open(csv, "rb") as fh:
                r = httpx.post(
                    f"{url}/api/v1/audits",
                    headers=auth,
                    files={"data": ("adult.csv", fh, "text/csv")},
                    data={"spec": json.dumps(spec)},
                    timeout=300,
                )
            if r.status_code != 202:
                raise SystemExit(f"upload refused: {r.status_code} {r.text}")
            queued = time.monotonic() - t0
            audit = r.json()["id"]
            marks: dict[str, float] = {}
            while True:
                view = httpx.get(f"{url}/api/v1/audits/{audit}", headers=auth, timeout=30).json()
                now = time.monotonic() - t0
                if view["state"] == "running":
                    marks.setdefault("running", now)
                    p = view.get("progress") or {}
                    if p.get("total"):
                        marks.setdefault("first_check", now)
                    if p.get("current_check") == "writing the report":
                        marks.setdefault("writing", now)
                if view["state"] not in ("queued", "running"):
                    break
                time.sleep(0.25)
            total = time.monotonic() - t0
            if view["state"] != "done":
                raise SystemExit(f"the audit ended {view['state']}: {view.get('reason')}")
            report = httpx.get(f"{url}{view['links']['report.json']}", headers=auth).json()
        finally:
            proc.terminate()
            proc.wait(30)
    wb = report["extra"]["workbench"]
    running = marks.get("running", queued)
    first = marks.get("first_check", running)
    writing = marks.get("writing", total)
    out = {
        "rows": rows,
        "upload_to_report_s": round(total, 1),
        "upload_and_validation_s": round(queued, 1),
        "queue_s": round(running - queued, 1),
        "read_split_fit_s": round(first - running, 1),
        "checks_s": round(writing - first, 1),
        "write_and_pack_s": round(total - writing, 1),
        "server_seconds": wb["seconds"],
        "checks": len(report["checks"]),
        "summary": report.get("summary"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average": os.getloadavg()[0],
    }
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
