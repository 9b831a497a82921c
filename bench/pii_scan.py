"""Benchmark: ``security.pii`` on a 50,000-row, 15-column table (run by hand).

The table mixes what a real customer table holds: an e-mail column, a phone
column, a free-text notes column where 1 row in 40 carries an e-mail or a phone
number, order ids and invalid card-like reference numbers (look-alikes that
must stay quiet), a city, a date of birth, categoricals and numbers. The check
runs through ``assay.audit`` (test split only, that one check), in a fresh
process, so the time includes importing Presidio and building its engine.

Usage: ``.venv/bin/python bench/pii_scan.py [ROWS]``
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd


def make_table(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    i = np.arange(n)
    area = rng.choice([212, 415, 646, 718, 312, 617, 305, 206], size=n)
    phone = [
        f"({a}) {e}-{s:04d}"
        for a, e, s in zip(area, rng.integers(201, 989, n), i % 10000, strict=True)
    ]
    notes = np.array([f"customer asked about delivery of order {k}" for k in i], dtype=object)
    pick = i % 40 == 0
    notes[pick] = [
        f"call back on 415-555-{k % 10000:04d} or mail c{k}@example.org" for k in i[pick]
    ]
    ref = [f"4{k:015d}"[:16] for k in rng.integers(10**14, 10**15, n)]
    return pd.DataFrame(
        {
            "email": [f"user{k}@example.com" for k in i],
            "phone": phone,
            "notes": notes,
            "order_id": [f"ORD-2024-{k:06d}" for k in i],
            "ref_number": [" ".join(r[j : j + 4] for j in range(0, 16, 4)) for r in ref],
            "city": rng.choice(["Paris", "Lyon", "Nice", "Lille", "Nantes"], n),
            "dob": rng.choice(["1980-01-02", "1975-05-06", "1990-07-08"], n),
            "segment": rng.choice(["a", "b", "c"], n),
            "channel": rng.choice(["web", "shop", "phone"], n),
            "plan": rng.choice(["free", "pro"], n),
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
            "x3": rng.normal(size=n),
            "amount": rng.gamma(2.0, 50.0, n),
            "y": rng.integers(0, 2, n),
        }
    )


def main() -> None:
    import assay
    import assay.security  # registers the security checks

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    df = make_table(n)
    start, cpu = time.perf_counter(), time.process_time()
    result = assay.audit(test=df, target="y", config={"include": ["security.pii"]})
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    r = result.check("security.pii")
    print(
        f"rows={n:,} columns={df.shape[1]} wall={wall:.2f}s cpu={cpu:.2f}s "
        f"check={r.duration_s:.2f}s (wall, including importing Presidio)"
    )
    print(f"status={r.status} metrics={dict(r.metrics)}")
    for f in r.findings:
        print(f"  {f.status:5} {f.column}: {f.message}")
    print(r.details["sample"])


if __name__ == "__main__":
    main()
