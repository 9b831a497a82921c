"""Are the group gaps flagged on clean controls real? Re-score them on unused rows.

A clean control uses 4,000 rows of a dataset (train/test/current); the rest were
never seen by the model or the audit. For every error-rate / MAE gap that
``fairness.group_metrics`` flags on a clean control, this fits the same model
and measures the same two groups on those unused rows. A gap that holds there
is a property of the population (a real disparity), not a false alarm of the
check.

    .venv/bin/python -m bench.planted.verify_clean bench/out/planted_full/results.json
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np

from .datasets import LOADERS
from .planters import base_case, split_order
from .score import fit_model

_GROUP = re.compile(
    r"Group (\S+?)=(.+?) has an? (error rate|MAE) .*? (?:for|that of) (\S+?)=(.+?)[:( ]"
)


def _unused(ds, seed: int):
    """The rows the seed's split never used (``None`` when it used them all)."""
    idx, sizes = split_order(ds, seed)
    rest = idx[sum(sizes) :]
    if sizes != (2000, 1000, 1000) or not len(rest):
        return None
    return ds.frame.iloc[rest].reset_index(drop=True)


def _score(model, df, target: str, regression: bool) -> np.ndarray:
    pred = model.predict(df.drop(columns=[target]))
    y = df[target].to_numpy()
    return np.abs(pred - y) if regression else (pred != y).astype(float)


def main(path: str) -> None:
    rows = json.loads(Path(path).read_text())
    print("| case | flagged on the 1,000 test rows | same groups on unused rows (n) |")
    print("| --- | --- | --- |")
    for r in rows:
        if r["problem"] != "clean":
            continue
        for f in r["assay"]["flags"]:
            if f.get("check") != "fairness.group_metrics":
                continue
            m = _GROUP.search(f.get("message", ""))
            if not m:
                continue
            col, g1, kind, _, g2 = m.groups()
            ds = LOADERS[r["dataset"]]()
            rest = _unused(ds, r["seed"])
            if rest is None:
                print(f"| {r['case']} | {col}={g1} vs {g2} | no unused rows (all used) |")
                continue
            case = base_case(ds, r["seed"])
            model = fit_model(case)
            loss = _score(model, rest, ds.target, ds.task == "regression")
            values = rest[col].astype(str).to_numpy()
            a, b = loss[values == g1], loss[values == g2]
            if kind == "MAE":
                held = f"MAE {a.mean():,.0f} vs {b.mean():,.0f} ({a.mean() / b.mean():.2f}×)"
            else:
                held = f"error {a.mean():.3f} vs {b.mean():.3f} (gap {a.mean() - b.mean():+.3f})"
            fm = f.get("metrics") or {}
            if kind == "MAE":
                seen = f"MAE {fm.get('mae', np.nan):,.0f} vs {fm.get('reference_mae', np.nan):,.0f}"
            else:
                seen = (
                    f"error {fm.get('error_rate', np.nan):.3f} vs "
                    f"{fm.get('reference_error_rate', np.nan):.3f}"
                )
            print(
                f"| {r['case']} | {col}={g1} vs {g2}: {seen} "
                f"| {held} (n = {len(a):,} / {len(b):,}) |"
            )


if __name__ == "__main__":
    main(sys.argv[1])
