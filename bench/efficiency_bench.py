"""`assay bench` on the demo model and the bundled UCI Adult data; prints Markdown.

Run by hand (never in the test suite):

    .venv/bin/python bench/efficiency_bench.py [--demo-dir /tmp/demo] [--out /tmp/assay-bench]

It runs ``assay demo --out DEMO_DIR`` when DEMO_DIR has no ``model.skops`` yet,
writes the bundled Adult train and test splits as CSV, times
``assay bench --model DEMO_DIR/model.skops --data test.csv --train train.csv
--trust-model`` in a fresh process, and prints the figures of its
``report.json`` as Markdown tables for ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _assay(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "assay.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--demo-dir", type=Path, default=Path("/tmp/demo"))
    ap.add_argument("--out", type=Path, default=Path("/tmp/assay-bench"))
    ap.add_argument(
        "--also",
        default="",
        help="comma-separated extra models trained on the same data and benched too: "
        "lightgbm (ONNX through onnxmltools), mlp (int8 quantization applies)",
    )
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from assay.demo.run_demo import load_adult

    model = args.demo_dir / "model.skops"
    if not model.exists():
        proc = _assay("demo", "--out", str(args.demo_dir))
        if proc.returncode != 0:
            sys.exit(proc.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    train, test = load_adult()
    train.to_csv(args.out / "train.csv", index=False)
    test.to_csv(args.out / "test.csv", index=False)
    report(model, args.out, "report")
    for name in filter(None, args.also.split(",")):
        extra = args.out / f"{name}.skops"
        _train_extra(name, train, extra)
        print(f"\n## {name} on the same data\n")
        report(extra, args.out, f"report-{name}")


def _train_extra(name: str, train, path: Path) -> None:
    import skops.io as sio
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from assay.demo.run_demo import TARGET

    X, y = train.drop(columns=TARGET), train[TARGET]
    cat = [c for c in X.columns if not str(X[c].dtype).startswith(("int", "float"))]
    num = [c for c in X.columns if c not in cat]
    X = X.assign(**{c: X[c].fillna("?") for c in cat})
    onehot = OneHotEncoder(handle_unknown="ignore", min_frequency=20)
    if name == "lightgbm":
        import lightgbm

        est = lightgbm.LGBMClassifier(n_estimators=200, learning_rate=0.08, verbose=-1)
        pre = ColumnTransformer([("cat", onehot, cat), ("num", "passthrough", num)])
    elif name == "mlp":
        from sklearn.neural_network import MLPClassifier

        est = MLPClassifier(hidden_layer_sizes=(64, 32), max_iter=30, random_state=0)
        pre = ColumnTransformer([("cat", onehot, cat), ("num", StandardScaler(), num)])
    else:
        sys.exit(f"unknown extra model {name!r}: use lightgbm or mlp")
    sio.dump(Pipeline([("prepare", pre), ("model", est)]).fit(X, y), path)


def report(model: Path, out: Path, name: str) -> None:
    """Run ``assay bench`` on ``model`` and print its figures as Markdown."""
    start = time.perf_counter()
    proc = _assay(
        "bench",
        "--model",
        str(model),
        "--data",
        str(out / "test.csv"),
        "--train",
        str(out / "train.csv"),
        "--trust-model",
        "--out",
        str(out / name),
    )
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(proc.stderr)
    print(proc.stdout)
    rep = json.loads((out / name / "report.json").read_text())
    checks = {c["id"]: c for c in rep["checks"]}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"\nMachine: {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; load average {load:.1f} at the start."
    )
    print(f"`assay bench` wall time: {wall:.1f} s (a fresh process, reading both CSVs).\n")
    for cid, c in checks.items():
        print(f"- `{cid}`: {c['status']} in {c['duration_s']:.1f} s — {c['summary']}")
    inf = checks["efficiency.inference"]
    if inf["status"] not in ("skipped", "error"):
        d = inf["details"]
        print("\n| batch size | calls | p50 ms | p95 ms | rows/s |")
        print("| ---: | ---: | ---: | ---: | ---: |")
        s = d["single_row"]
        print(
            f"| 1 (single rows) | {s['repetitions']} | {s['p50_ms']:.3g} | {s['p95_ms']:.3g} "
            f"| {s['rows_per_s']:,.0f} |"
        )
        for b in d["batches"]:
            print(
                f"| {b['batch_size']:,} | {b['repetitions']} | {b['p50_ms']:.3g} | "
                f"{b['p95_ms']:.3g} | {b['rows_per_s']:,.0f} |"
            )
    for cid in ("efficiency.quantization", "efficiency.distillation"):
        c = checks[cid]
        rows = c["details"].get("variants") if c["status"] not in ("skipped", "error") else None
        if not rows:
            continue
        names = list(rows[0]["usd_per_million"])
        head = " | ".join(f"$/M {n}" for n in names)
        print(
            f"\n| {cid} variant | p50 ms | rows/s | size | agreement | "
            f"{rows[0]['metric_name']} change [CI] | {head} |"
        )
        print("| --- " + "| ---: " * (5 + len(names)) + "|")
        for r in rows:
            ci = (
                f" [{r['metric_change_low']:+.3f}, {r['metric_change_high']:+.3f}]"
                if r["metric_change_low"] is not None
                else ""
            )
            costs = " | ".join(f"{r['usd_per_million'][n]:.2g}" for n in names)
            print(
                f"| {r['label']} | {r['latency_p50_ms']:.3g} | {r['rows_per_s']:,.0f} | "
                f"{r['size_bytes'] / 1e3:,.0f} kB | {r['agreement']:.1%} | "
                f"{r['metric_change']:+.3f}{ci} | {costs} |"
            )


if __name__ == "__main__":
    main()
