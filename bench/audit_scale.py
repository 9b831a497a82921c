"""Time an audit without model training at 100k and 1M rows x 25 columns.

Usage::

    .venv/bin/python bench/audit_scale.py            # 100k and 1M rows
    .venv/bin/python bench/audit_scale.py --rows 100000

Each size runs in a fresh process so the peak resident memory (ru_maxrss) is
that size's alone. Data: 25 columns (15 numeric, 8 categorical strings, 1
boolean, the binary target), train and test each of the given row count,
written to Parquet and audited from the files as the CLI does. No model is
trained: the audit runs the data checks (model checks skip).
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
        cols[f"cat_{i}"] = rng.choice([f"{c}_{j}" for c in cats for j in range(k // 8 + 1)][:k], n)
    cols["flag"] = rng.random(n) < 0.3
    logit = cols["num_1"] - 0.5 * cols["num_2"] + (cols["cat_0"] == "alpha_0") * 0.7
    cols["target"] = (logit + rng.logistic(size=n) > 0).astype(np.int8)
    return pl.DataFrame(cols)


def child(n: int, workdir: str) -> None:
    import assay

    t0 = time.perf_counter()
    result = assay.audit(
        train=os.path.join(workdir, "train.parquet"),
        test=os.path.join(workdir, "test.parquet"),
        target="target",
    )
    total = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "rows": n,
                "seconds": round(total, 2),
                "peak_rss_mb": round(peak_mb),
                "checks": {c.id: [c.status, round(c.duration_s or 0, 2)] for c in result.checks},
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="*", default=[100_000, 1_000_000])
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--workdir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.workdir)
        return
    print(
        f"# machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.platform()}"
    )
    for n in args.rows:
        with tempfile.TemporaryDirectory() as d:
            make_frame(n, 1).write_parquet(Path(d) / "train.parquet")
            make_frame(n, 2).write_parquet(Path(d) / "test.parquet")
            proc = subprocess.run(
                [sys.executable, __file__, "--child", str(n), "--workdir", d],
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                print(proc.stderr, file=sys.stderr)
                raise SystemExit(proc.returncode)
            rec = json.loads(proc.stdout.strip().splitlines()[-1])
            print(
                f"{n:>9,} rows x 25 cols: {rec['seconds']:6.2f} s, peak RSS "
                f"{rec['peak_rss_mb']:,} MB"
            )
            for cid, (status, secs) in rec["checks"].items():
                print(f"    {cid:32s} {status:8s} {secs:6.2f} s")


if __name__ == "__main__":
    main()
