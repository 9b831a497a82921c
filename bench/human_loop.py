"""Humans and models in production (issue 17): the simulation targets, measured.

1. Live champion/challenger (assay.monitoring.sequential): the false-positive rate of
   the always-valid confidence sequence under no difference, checked after every
   batch, over ``--reps`` replications of ``--labels`` labels; and the share of runs
   that detect a true 2-point AUC difference (0.80 vs 0.82) on 20,000 labels, with the
   labels needed. The per-row quantity is the log-loss (and Brier) difference: AUC is
   not a mean of per-row terms.
2. Feedback loops (assay.monitoring.feedback): coverage of the inverse-propensity-
   weighted 95% interval for the model's accuracy on the cases it declines, over
   ``--ipw-reps`` replications, against the unweighted average of explored outcomes.
3. Automation bias (assay.monitoring.human): how often a rubber-stamping reviewer and
   a random overrider are flagged, an informative reviewer is flagged, and a reviewer
   exactly at gap_min (0.1) is flagged (the test's size), with 500 decisions each.

Usage: .venv/bin/python bench/human_loop.py [--reps 500] [--ipw-reps 200] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assay.monitoring.feedback import feedback_loop  # noqa: E402
from assay.monitoring.human import agreement_gap, by_reviewer  # noqa: E402
from assay.monitoring.sequential import compare_sequential  # noqa: E402
from tests.monitoring.test_feedback import credit_stream  # noqa: E402
from tests.monitoring.test_human import simulate  # noqa: E402
from tests.monitoring.test_sequential import shadow_stream  # noqa: E402


def wilson(k: int, n: int) -> str:
    from assay.monitoring.human import wilson as w

    low, high = w(k, n)
    return f"{k}/{n} = {k / n:.3f} (Wilson 95% {low:.3f}–{high:.3f})"


def sequential(reps: int, labels: int, batch: int) -> dict:
    out = {}
    for metric in ("log_loss", "brier"):
        alarms = 0
        for seed in range(reps):
            y, a, b = shadow_stream(labels, 0.80, 0.80, seed=10_000 + seed)
            r = compare_sequential(y, a, b, metric=metric, batch_size=batch, grid=0)
            alarms += r.decision != "continue"
        out[f"false_positive_{metric}"] = wilson(alarms, reps)
        for rho in (0.5, 0.7):
            hits, when = 0, []
            for seed in range(200):
                y, a, b = shadow_stream(20_000, 0.80, 0.82, seed=seed, rho=rho)
                r = compare_sequential(y, a, b, metric=metric, batch_size=batch, grid=0)
                if r.decision == "challenger_better":
                    hits += 1
                    when.append(r.decided_at)
            out[f"detected_{metric}_rho{rho}"] = wilson(hits, 200)
            out[f"median_labels_{metric}_rho{rho}"] = float(np.median(when)) if when else None
    return out


def ipw(reps: int) -> dict:
    logs, y = credit_stream(2_000_000, seed=12345)
    declined = ~logs["model_decision"]
    truth = float(np.mean(((logs["score"] >= 0.5) == (y == 1))[declined]))
    covered, naive, est, widths = 0, [], [], []
    for seed in range(reps):
        logs, _ = credit_stream(20_000, seed=seed)
        r = feedback_loop(**logs)
        u = r.unobserved
        covered += u["low"] <= truth <= u["high"]
        est.append(u["estimate"])
        naive.append(r.naive_unobserved)
        widths.append(u["high"] - u["low"])
    return {
        "truth": truth,
        "coverage": wilson(covered, reps),
        "mean_ipw": float(np.mean(est)),
        "mean_naive": float(np.mean(naive)),
        "mean_width": float(np.mean(widths)),
    }


def reviewers(reps: int) -> dict:
    counts = {"stamp": 0, "random": 0, "careful": 0}
    for seed in range(reps):
        d = simulate({"s": "stamp", "r": "random", "c": "careful"}, n_each=500, seed=seed)
        rows = by_reviewer(d.prediction, d.decision, d.label, d.reviewer, d.seconds)
        flagged = {r["reviewer"] for r in rows if r["judged"] and r["q_no_information"] <= 0.05}
        counts["stamp"] += "s" in flagged
        counts["random"] += "r" in flagged
        counts["careful"] += "c" in flagged
    rng = np.random.default_rng(11)
    boundary = 0
    for _ in range(reps):
        y = rng.integers(0, 2, 500)
        pred = np.where(rng.random(500) < 0.8, y, 1 - y)
        dec = np.where(rng.random(500) < np.where(pred == y, 0.9, 0.8), pred, 1 - pred)
        boundary += agreement_gap(pred, dec, y)["p_no_information"] <= 0.05
    return {
        "rubber_stamper_flagged": wilson(counts["stamp"], reps),
        "random_overrider_flagged": wilson(counts["random"], reps),
        "informative_flagged": wilson(counts["careful"], reps),
        "boundary_gap_0.1_flagged": wilson(boundary, reps),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--labels", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--ipw-reps", type=int, default=200)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    results = {}
    for name, fn in (
        ("sequential", lambda: sequential(a.reps, a.labels, a.batch)),
        ("ipw", lambda: ipw(a.ipw_reps)),
        ("reviewers", lambda: reviewers(min(a.reps, 200))),
    ):
        start = time.perf_counter()
        results[name] = fn()
        results[name]["seconds"] = round(time.perf_counter() - start, 1)
        print(name, json.dumps(results[name], indent=1), flush=True)
    if a.json:
        a.json.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
