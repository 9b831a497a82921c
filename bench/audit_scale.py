"""Time an audit without model training at 100k and 1M rows x 25 columns.

Usage::

    .venv/bin/python bench/audit_scale.py            # 100k and 1M rows, local engine
    .venv/bin/python bench/audit_scale.py --rows 100000
    .venv/bin/python bench/audit_scale.py --rows 1000000 --engine dask --worker-memory 4GB

Each size runs in a fresh process so the peak resident memory (ru_maxrss) is
that size's alone. Data: 25 columns (15 numeric, 8 categorical strings, 1
boolean, the binary target), train and test each of the given row count,
written to Parquet and audited from the files as the CLI does (the local
engine reads one file per table; the Dask engine a folder of 100k-row files,
one row group each). No model is trained: the audit runs the data checks
(model checks skip). With ``--engine dask`` a ``LocalCluster`` of
``--workers`` worker processes (one thread each, ``--worker-memory`` each) is
started in the child; the figures are the client's peak RSS, each worker's
peak RSS and the bytes the workers spilled to disk.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_frame(n: int, seed: int):
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    cols = {}
    for i in range(15):
        x = rng.normal(size=n)
        if i % 5 == 0:
            x[rng.random(n) < 0.02] = np.nan
        cols[f"num_{i}"] = x
    cats = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    for i in range(8):
        k = 3 + i * 4
        values = [f"{c}_{j}" for c in cats for j in range(k // 8 + 1)][:k]
        # The draws of rng.choice(values, n) (same generator calls, same rows), gathered
        # from a Polars Series: converting a NumPy string array took 0.1 s per column.
        cols[f"cat_{i}"] = pl.Series(values).gather(rng.integers(0, k, n))
    cols["flag"] = rng.random(n) < 0.3
    alpha_0 = (cols["cat_0"] == "alpha_0").to_numpy()
    logit = cols["num_1"] - 0.5 * cols["num_2"] + alpha_0 * 0.7
    cols["target"] = (logit + rng.logistic(size=n) > 0).astype(np.int8)
    return pl.DataFrame(cols)


FILE_ROWS = 100_000


WHOLE_ROWS = 2_000_000
"""Up to this size a table is drawn whole (the same rows for both engines); above it
the Dask inputs are drawn file by file, so the parent never holds a 50M-row table."""


def _write_part(path: str, rows: int, seed: int) -> None:
    make_frame(rows, seed).write_parquet(path, row_group_size=FILE_ROWS)


def write_inputs(n: int, workdir: Path, engine: str, jobs: int = 1) -> None:
    from concurrent.futures import ProcessPoolExecutor

    for name, seed in (("train", 1), ("test", 2)):
        if engine == "local":
            make_frame(n, seed).write_parquet(workdir / f"{name}.parquet")
            continue
        (workdir / name).mkdir()
        parts = [
            (str(workdir / name / f"part-{i // FILE_ROWS:05d}.parquet"), i, min(FILE_ROWS, n - i))
            for i in range(0, n, FILE_ROWS)
        ]
        if n <= WHOLE_ROWS:
            whole = make_frame(n, seed)
            for path, i, rows in parts:
                whole.slice(i, rows).write_parquet(path, row_group_size=FILE_ROWS)
            continue
        # Seeds apart by 10**9 per table: with 10**6 train file 10 was test file 0.
        # Each file's rows depend only on its seed, so drawing them in parallel
        # (--jobs) writes the same files.
        with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
            list(
                pool.map(
                    _write_part,
                    [p for p, _, _ in parts],
                    [r for _, _, r in parts],
                    [seed * 10**9 + i for _, i, _ in parts],
                    chunksize=8,
                )
            )


def _progress(check_id: str, done: int, total: int) -> None:
    """Print each check as it starts (stderr), so a long run shows how far it got."""
    stamp = time.strftime("%H:%M:%S", time.gmtime())
    print(f"[{stamp} UTC] {done}/{total} {check_id}", file=sys.stderr, flush=True)


def _worker_stats(dask_worker) -> dict:
    import resource as res

    # Bytes ever written to the spill directory (``spilled_total`` is only what is on
    # disk now: the 50M run read 0 at its end after 317 MB had been spilled mid-run).
    metrics = getattr(dask_worker.data, "cumulative_metrics", {})
    return {
        "peak_rss_mb": round(res.getrusage(res.RUSAGE_SELF).ru_maxrss / 1024),
        "spilled_mb": round(metrics.get(("disk-write", "bytes"), 0) / 2**20),
    }


def child(n: int, workdir: str, engine: str, workers: int, memory: str, skip: list) -> None:
    import assay

    config = {"exclude": list(skip)}
    extra: dict = {}
    t0 = time.perf_counter()
    if engine == "local":
        result = assay.audit(
            train=os.path.join(workdir, "train.parquet"),
            test=os.path.join(workdir, "test.parquet"),
            target="target",
            config=config,
            progress=_progress,
        )
    else:
        import logging

        from distributed import Client, LocalCluster

        logging.getLogger("distributed").setLevel(logging.ERROR)
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            memory_limit=memory,
            dashboard_address=None,
        )
        client = Client(cluster)
        t0 = time.perf_counter()  # the cluster's start is not the audit's time
        result = assay.audit(
            train=os.path.join(workdir, "train"),
            test=os.path.join(workdir, "test"),
            target="target",
            config=config,
            engine="dask",
            scheduler=client,
            progress=_progress,
        )
        extra["workers"] = list(client.run(_worker_stats).values())
        extra["worker_memory"] = memory
        client.close()
        cluster.close()
    total = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "rows": n,
                "engine": engine,
                "seconds": round(total, 2),
                "peak_rss_mb": round(peak_mb),
                **extra,
                "checks": {c.id: [c.status, round(c.duration_s or 0, 2)] for c in result.checks},
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="*", default=[100_000, 1_000_000])
    ap.add_argument("--engine", choices=("local", "dask"), default="local")
    ap.add_argument("--workers", type=int, default=2, help="Dask workers (default 2)")
    ap.add_argument("--worker-memory", default="4GB", help="memory limit per Dask worker")
    ap.add_argument("--skip", nargs="*", default=[], help="check ids to leave out")
    ap.add_argument(
        "--data-dir", help="folder for the generated Parquet (in a temporary folder, removed after)"
    )
    ap.add_argument("--jobs", type=int, default=1, help="processes drawing the Dask input files")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--workdir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.workdir, args.engine, args.workers, args.worker_memory, args.skip)
        return
    print(
        f"# machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.platform()}"
    )
    for n in args.rows:
        with tempfile.TemporaryDirectory(dir=args.data_dir) as d:
            t0 = time.perf_counter()
            write_inputs(n, Path(d), args.engine, args.jobs)
            print(f"# {n:,} rows per side written in {time.perf_counter() - t0:.0f} s", flush=True)
            proc = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    *("--child", str(n), "--workdir", d, "--engine", args.engine),
                    *("--workers", str(args.workers), "--worker-memory", args.worker_memory),
                    *(["--skip", *args.skip] if args.skip else []),
                ],
                stdout=subprocess.PIPE,
                text=True,
                check=False,
            )
            if proc.returncode != 0:  # its stderr went to ours
                raise SystemExit(proc.returncode)
            rec = json.loads(proc.stdout.strip().splitlines()[-1])
            print(
                f"{n:>9,} rows x 25 cols ({args.engine}): {rec['seconds']:6.2f} s, peak RSS "
                f"{rec['peak_rss_mb']:,} MB"
            )
            for i, w in enumerate(rec.get("workers", [])):
                print(
                    f"    worker {i} ({rec['worker_memory']}): peak RSS {w['peak_rss_mb']:,} MB, "
                    f"spilled {w['spilled_mb']:,} MB"
                )
            for cid, (status, secs) in rec["checks"].items():
                print(f"    {cid:32s} {status:8s} {secs:6.2f} s")


if __name__ == "__main__":
    main()
