"""Verdict calibration: how often does Assay alarm on an honest model and clean data,
and do its alarms replicate?

For each real dataset, model kind (linear, gradient-boosted trees, random forest)
and seed: a random sample of at most ``--rows`` rows is split 70/30 at random, the
model is fitted on the 70%, and the default audit runs as a new user runs it (the
dataset's sensitive attribute given when it has one). Every ``warn`` and ``fail``
is recorded, and the gate's exit code. Where the dataset has rows the audit did not
use, each alarmed check is run again on a fresh, disjoint sample of the same size
(a new split, the model refitted): an alarm *replicates* when the check alarms
again there.

Run by hand (minutes to hours, by the grid)::

    .venv/bin/python -m bench.verdicts.run --seeds 0 1 --out bench/verdicts/out.jsonl
    .venv/bin/python -m bench.verdicts.run --table bench/verdicts/out.jsonl

The table gives, per check, the clean alarm rate with its Wilson 95% interval and
the replication rate of its alarms; and the share of audits whose gate passed.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.planted.datasets import Dataset
from bench.verdicts.datasets import LOADERS

MODELS = ("linear", "gbm", "forest")


def build_model(kind: str, ds: Dataset, seed: int) -> Any:
    """An honest model of ``kind`` for ``ds``'s task (one-hot categories, scaled numbers)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    reg = ds.task == "regression"
    enc = ColumnTransformer(
        [
            ("num", StandardScaler(), ds.numeric),
            ("cat", OneHotEncoder(handle_unknown="ignore", min_frequency=5), ds.categorical),
        ],
        sparse_threshold=0.0,
    )
    if kind == "linear":
        est = Ridge(alpha=1.0) if reg else LogisticRegression(max_iter=2000)
    elif kind == "gbm":
        cls = HistGradientBoostingRegressor if reg else HistGradientBoostingClassifier
        est = cls(random_state=seed)
    elif kind == "forest":
        cls = RandomForestRegressor if reg else RandomForestClassifier
        est = cls(n_estimators=100, min_samples_leaf=3, random_state=seed, n_jobs=1)
    else:
        raise ValueError(f"--models: unknown model kind {kind!r}; known: {', '.join(MODELS)}")
    return make_pipeline(enc, est)


def samples(ds: Dataset, rows: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The audit's sample and a disjoint one of the same size (or ``None``)."""
    order = np.random.default_rng(seed).permutation(len(ds.frame))
    n = min(rows, len(ds.frame))
    main = ds.frame.iloc[order[:n]].reset_index(drop=True)
    rest = order[n : 2 * n]
    spare = ds.frame.iloc[rest].reset_index(drop=True) if len(rest) == n else None
    return main, spare


def split(frame: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    order = np.random.default_rng(seed + 1000).permutation(len(frame))
    cut = round(0.7 * len(frame))
    return frame.iloc[order[:cut]].reset_index(drop=True), frame.iloc[order[cut:]].reset_index(
        drop=True
    )


def one_audit(
    ds: Dataset, kind: str, frame: pd.DataFrame, seed: int, include: list[str] | None = None
) -> Any:
    import assay

    train, test = split(frame, seed)
    model = build_model(kind, ds, seed).fit(train[ds.features], train[ds.target])
    config: dict[str, Any] = {"seed": seed, "categorical": ds.categorical}
    if include:
        config["include"] = include
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return assay.audit(
            train=train,
            test=test,
            target=ds.target,
            model=model,
            sensitive=ds.group,
            task=ds.task,
            config=config,
        )


def run_case(
    ds: Dataset, kind: str, seed: int, rows: int, checks: list[str] | None = None
) -> dict[str, Any]:
    main, spare = samples(ds, rows, seed)
    t0 = time.perf_counter()
    result = one_audit(ds, kind, main, seed, include=checks)
    alarms = {c.id: c.status for c in result.checks if c.status in ("warn", "fail")}
    statuses = {c.id: c.status for c in result.checks}
    replicated: dict[str, bool | None] = dict.fromkeys(alarms)
    if spare is not None and alarms:
        again = one_audit(ds, kind, spare, seed + 7919, include=sorted(alarms))
        got = {c.id: c.status for c in again.checks}
        replicated = {cid: got.get(cid) in ("warn", "fail") for cid in alarms}
    return {
        "dataset": ds.name,
        "task": ds.task,
        "model": kind,
        "seed": seed,
        "rows": len(main),
        "gate_failed": bool(result.gate_failed()),
        "statuses": statuses,
        "alarms": alarms,
        "replicated": replicated,
        "summaries": {c.id: c.summary for c in result.checks if c.id in alarms},
        "seconds": round(time.perf_counter() - t0, 1),
    }


# -- the table --------------------------------------------------------------------


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes in ``n`` trials."""
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, mid - half), min(1.0, mid + half)


def table(rows: list[dict[str, Any]]) -> str:
    ran: dict[str, int] = defaultdict(int)
    alarmed: dict[str, int] = defaultdict(int)
    failed: dict[str, int] = defaultdict(int)
    rep_k: dict[str, int] = defaultdict(int)
    rep_n: dict[str, int] = defaultdict(int)
    for r in rows:
        for cid, status in r["statuses"].items():
            if status in ("skipped", "error"):
                continue
            ran[cid] += 1
            if status in ("warn", "fail"):
                alarmed[cid] += 1
                failed[cid] += status == "fail"
                rep = r["replicated"].get(cid)
                if rep is not None:
                    rep_n[cid] += 1
                    rep_k[cid] += bool(rep)
    out = [
        "| check | audits | alarms (fail) | clean alarm rate | Wilson 95% | replicated |",
        "| --- | ---: | ---: | ---: | --- | ---: |",
    ]
    for cid in sorted(ran, key=lambda c: (-alarmed[c] / ran[c], c)):
        lo, hi = wilson(alarmed[cid], ran[cid])
        rep = f"{rep_k[cid]}/{rep_n[cid]}" if rep_n[cid] else "–"
        out.append(
            f"| `{cid}` | {ran[cid]} | {alarmed[cid]} ({failed[cid]}) | "
            f"{alarmed[cid] / ran[cid]:.2f} | {lo:.2f}–{hi:.2f} | {rep} |"
        )
    n = len(rows)
    passed = sum(not r["gate_failed"] for r in rows)
    lo, hi = wilson(passed, n)
    per_audit = sum(len(r["alarms"]) for r in rows) / max(n, 1)
    out.append("")
    out.append(
        f"Gate passed (exit 0) in **{passed} of {n}** clean audits ({passed / max(n, 1):.0%}, "
        f"Wilson 95% {lo:.2f}–{hi:.2f}); {per_audit:.1f} warn/fail results per audit."
    )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", nargs="*", default=list(LOADERS))
    ap.add_argument("--models", nargs="*", default=list(MODELS))
    ap.add_argument("--seeds", nargs="*", type=int, default=[0])
    ap.add_argument("--rows", type=int, default=4000, help="rows per audit (70/30 split)")
    ap.add_argument("--out", type=Path, default=Path("bench/verdicts/out.jsonl"))
    ap.add_argument("--checks", nargs="*", help="only these check ids (default: the audit's)")
    ap.add_argument("--table", type=Path, help="print the table of a results file and stop")
    args = ap.parse_args(argv)
    if args.table:
        rows = [json.loads(x) for x in args.table.read_text().splitlines() if x.strip()]
        print(table(rows))
        return 0
    unknown = sorted(set(args.datasets) - set(LOADERS))
    if unknown:
        ap.error(f"--datasets: unknown {', '.join(unknown)}; known: {', '.join(LOADERS)}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    with args.out.open("a", encoding="utf-8") as fh:
        for name in args.datasets:
            ds = LOADERS[name]()
            for kind in args.models:
                for seed in args.seeds:
                    r = run_case(ds, kind, seed, args.rows, args.checks)
                    rows.append(r)
                    fh.write(json.dumps(r) + "\n")
                    fh.flush()
                    alarms = ", ".join(f"{k}={v}" for k, v in r["alarms"].items()) or "none"
                    print(
                        f"{name:14s} {kind:7s} seed {seed}: gate "
                        f"{'FAIL' if r['gate_failed'] else 'pass'} ({r['seconds']} s); {alarms}",
                        flush=True,
                    )
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
