"""Time the clustering and anomaly checks (issue 21) and run them on real data.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python bench/unsupervised.py            # all
    OMP_NUM_THREADS=1 .venv/bin/python bench/unsupervised.py --synthetic-only

Synthetic, 50,000 rows x 20 numeric features (reference and current each):

- clustering: six Gaussian blobs, k-means (k=6); in current data one blob is
  split in two along one feature (the split must be named);
- anomaly: standard normal rows plus 2% planted anomalies (labelled), an
  IsolationForest fitted on separate data; current data shifts five features
  by 2.5 SD (the rate change must be named).

Real data (``../shared/datasets``, read only here, never by the tests):

- bank marketing (45,211 customers): k-means (k=4) on the seven numeric
  columns after scaling, first half as reference, second half (later calls) as
  current, ``marital`` as the sensitive attribute;
- credit default (Taiwan, 30,000 clients): IsolationForest on the 20 numeric
  payment columns, with defaults as the known "anomaly" class (how far does an
  unsupervised detector find them?), contamination stated as 22%.

Times are wall-clock seconds of ``assay.audit`` (each check's ``duration_s``
is printed too), one process, ``OMP_NUM_THREADS=1``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets"
CONFIG = {"seed": 0, "n_bootstrap": 500}


def _run(title: str, **kw) -> dict:
    import assay

    t0 = time.perf_counter()
    r = assay.audit(config=kw.pop("config", CONFIG), **kw)
    total = time.perf_counter() - t0
    print(f"\n== {title}: audit {total:.1f} s")
    out = {"title": title, "total_s": round(total, 2), "checks": {}}
    for c in r.checks:
        print(f"  {c.id:22s} {c.status:7s} {c.duration_s:6.2f} s  {c.summary[:150]}")
        out["checks"][c.id] = {
            "status": c.status,
            "seconds": round(c.duration_s or 0.0, 2),
            "summary": c.summary,
        }
    return out


def synthetic_clustering(n: int, d: int) -> dict:
    from sklearn.cluster import KMeans

    rng = np.random.default_rng(0)
    centers = rng.normal(0, 6, size=(6, d))

    def draw(seed: int, split: bool) -> pd.DataFrame:
        r = np.random.default_rng(seed)
        which = r.integers(0, 6, n)
        X = centers[which] + r.normal(size=(n, d))
        if split:
            half = r.random(n) < 0.5
            X[(which == 0) & half, 0] += 3.5
            X[(which == 0) & ~half, 0] -= 3.5
        return pd.DataFrame(X, columns=[f"x{i}" for i in range(d)])

    fit = draw(1, False)
    t0 = time.perf_counter()
    model = KMeans(n_clusters=6, n_init=3, random_state=0).fit(fit)
    print(f"k-means fit on {n:,} x {d}: {time.perf_counter() - t0:.1f} s")
    return _run(
        f"clustering, synthetic {n:,} x {d}",
        test=draw(2, False),
        current=draw(3, True),
        model=model,
        task="clustering",
    )


def synthetic_anomaly(n: int, d: int) -> dict:
    from sklearn.ensemble import IsolationForest

    def draw(seed: int, shift: float) -> pd.DataFrame:
        r = np.random.default_rng(seed)
        X = r.normal(size=(n, d))
        y = np.zeros(n, dtype=int)
        k = int(0.02 * n)
        X[:k] += r.normal(0, 4, (k, d))
        y[:k] = 1
        X[:, :5] += shift
        df = pd.DataFrame(X, columns=[f"f{i}" for i in range(d)])
        df["label"] = y
        return df

    fit = draw(1, 0.0).drop(columns="label")
    model = IsolationForest(n_estimators=100, contamination=0.02, random_state=0).fit(fit)
    return _run(
        f"anomaly, synthetic {n:,} x {d}",
        test=draw(2, 0.0),
        current=draw(3, 2.5),
        model=model,
        task="anomaly",
        target="label",
        config={**CONFIG, "thresholds": {"anomaly.rate": {"contamination": 0.02}}},
    )


def bank() -> dict | None:
    from sklearn.cluster import KMeans
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    path = DATA / "bank_marketing" / "bank-full.csv.gz"
    if not path.exists():
        print(f"skipped: {path} not found")
        return None
    df = pd.read_csv(path, sep=";")
    num = ["age", "balance", "day", "duration", "campaign", "pdays", "previous"]
    df = df[[*num, "marital"]]
    half = len(df) // 2
    ref, cur = df.iloc[:half].reset_index(drop=True), df.iloc[half:].reset_index(drop=True)
    model = make_pipeline(StandardScaler(), KMeans(n_clusters=4, n_init=3, random_state=0))
    model.fit(ref[num])
    return _run(
        "clustering, bank marketing (k-means k=4, 7 numeric columns)",
        test=ref,
        current=cur,
        model=model,
        task="clustering",
        sensitive="marital",
    )


def credit() -> dict | None:
    from sklearn.ensemble import IsolationForest

    path = DATA / "credit_default_taiwan" / "credit_default_taiwan.csv.gz"
    if not path.exists():
        print(f"skipped: {path} not found")
        return None
    df = pd.read_csv(path).drop(columns=["ID", "SEX", "EDUCATION", "MARRIAGE"])
    target = "default_payment_next_month"
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(df))
    fit, test = df.iloc[idx[:10_000]], df.iloc[idx[10_000:]].reset_index(drop=True)
    model = IsolationForest(n_estimators=200, contamination=0.22, random_state=0)
    model.fit(fit.drop(columns=target))
    return _run(
        "anomaly, credit default (IsolationForest, defaults as the known class)",
        test=test,
        model=model,
        task="anomaly",
        target=target,
        config={**CONFIG, "thresholds": {"anomaly.rate": {"contamination": 0.22}}},
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--features", type=int, default=20)
    ap.add_argument("--synthetic-only", action="store_true")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args()
    import warnings

    warnings.simplefilter("ignore")
    print(
        f"python {platform.python_version()}, {os.cpu_count()} cpus, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}"
    )
    results = [
        synthetic_clustering(args.rows, args.features),
        synthetic_anomaly(args.rows, args.features),
    ]
    if not args.synthetic_only:
        results += [r for r in (bank(), credit()) if r is not None]
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
