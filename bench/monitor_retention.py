"""Retention footprint of the monitoring store: a SQLite store with ``--days`` days of
predictions (``--rows-per-day``), every day judged by the scheduler (1d windows),
then retention (``--keep``) applied; prints rows, used bytes (pages in use x page
size), file size and the time the batched deletes took.

Usage: .venv/bin/python bench/monitor_retention.py [--days 30] [--rows-per-day 10000]
       [--keep 7d]
       .venv/bin/python bench/monitor_retention.py --look 1000000
         (the scheduler's look at a model of that many rows: every day's fingerprint,
         then only the last hour's, as after ingest touched it)
"""

from __future__ import annotations

import argparse
import io
import json
import os
import tempfile
import time

import numpy as np
import polars as pl


def _used(store) -> tuple[int, int]:
    page = store._read("PRAGMA page_size")[0][0]
    count = store._read("PRAGMA page_count")[0][0]
    free = store._read("PRAGMA freelist_count")[0][0]
    return (count - free) * page, os.path.getsize(store.path)


def main() -> None:
    from assay.io.schema import infer_schema
    from assay.service import ModelRecord, Settings, open_store
    from assay.service._scheduler import Scheduler

    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--rows-per-day", type=int, default=10_000)
    ap.add_argument("--keep", default="7d")
    ap.add_argument("--look", type=int, default=0)
    a = ap.parse_args()
    if a.look:
        _look(a.look)
        return
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/m.db")
        x = rng.normal(size=2000)
        ref = pl.DataFrame(
            {"x": x, "c": rng.choice(["a", "b"], 2000), "score": 1 / (1 + np.exp(-x))}
        )
        buf = io.BytesIO()
        ref.write_parquet(buf)
        schema = infer_schema(
            ref, target=None, task=None, prediction_columns=["score"], name="reference"
        )
        store.create_model(
            ModelRecord(
                "m", time.time(), schema.task, None, None, "score", schema.to_dict(), buf.getvalue()
            )
        )
        day0 = (int(time.time()) // 86400 - a.days) * 86400
        for d in range(a.days):
            xs = rng.normal(size=a.rows_per_day)
            rows = [
                (
                    f"d{d}-{i}",
                    day0 + d * 86400 + i * 86400 / a.rows_per_day,
                    json.dumps({"x": float(xs[i]), "c": "a" if xs[i] > 0 else "b"}),
                    "null",
                    float(1 / (1 + np.exp(-xs[i]))),
                )
                for i in range(a.rows_per_day)
            ]
            store.insert_predictions("m", rows)
        sched = Scheduler(store, Settings(evaluate_every_s=0))
        t0 = time.perf_counter()
        while sched.run_once() or len(store.window_results("m", "1d", 10_000)) < a.days:
            pass
        judged = time.perf_counter() - t0
        rows_before = store.counts("m")[0]
        used_before, file_before = _used(store)
        keep = Settings(evaluate_every_s=0, retention=a.keep)
        sched = Scheduler(store, keep)
        t0 = time.perf_counter()
        sched.run_once()
        took = time.perf_counter() - t0
        used_after, file_after = _used(store)
        print(
            f"{a.days} days x {a.rows_per_day:,} rows; {a.days} 1d windows judged in {judged:.1f} s"
        )
        mib = 2**20
        rows_after = store.counts("m")[0]
        kept = len(store.window_results("m", "1d", 10_000))
        print(
            f"before: {rows_before:,} rows, {used_before / mib:.1f} MiB used, "
            f"file {file_before / mib:.1f} MiB"
        )
        print(
            f"after retention {a.keep}: {rows_after:,} rows, {used_after / mib:.1f} MiB used, "
            f"file {file_after / mib:.1f} MiB (freed pages are reused by new rows); "
            f"{kept} window results kept; the batched deletes took {took:.2f} s"
        )
        store.close()


def _look(n: int) -> None:
    from assay.service import ModelRecord, open_store

    with tempfile.TemporaryDirectory() as tmp:
        s = open_store(f"sqlite:///{tmp}/m.db")
        s.create_model(ModelRecord("m", 0.0, None, None, None, None, {}, b""))
        for k in range(0, n, 50_000):
            rows = [(f"r{i}", 1.7e9 + i, '{"x":1}', "null", 0.5) for i in range(k, k + 50_000)]
            s.insert_predictions("m", rows)
        t0 = time.perf_counter()
        s.time_fingerprints("m", 86400)
        t1 = time.perf_counter()
        s.time_fingerprints("m", 3600, 1.7e9 + n - 3600, 1.7e9 + n)
        t2 = time.perf_counter()
        full, last = 1000 * (t1 - t0), 1000 * (t2 - t1)
        print(f"{n:,} rows: every day {full:.0f} ms; the last hour {last:.1f} ms")
        s.close()


if __name__ == "__main__":
    main()
