"""Drift benchmark: Assay against Evidently's DataDriftPreset and a hand-vectorized floor.

Generates a reference and a current table of N rows x 25 columns each (20
numeric of five shapes, 5 categorical with 5 to 1,000 categories), with drift
planted in 6 known columns, written as Parquet. Then, each in its own process
(peak memory is that process's peak resident set size, from ``wait4``):

- ``evidently``: Evidently's ``Report([DataDriftPreset()])``, HTML and JSON
  saved; run with the Python of its own virtual environment
  (``bench/.venv-evidently``, never installed next to Assay);
- ``assay-features``: ``assay.drift.drift(..., include drift.features)`` and
  ``result.save`` (report.json, report.html, junit.xml);
- ``assay-cli``: the ``assay drift`` command, all four drift checks
  (multivariate on its stated 10,000-row samples);
- ``floor``: the same statistics hand-vectorized (Polars read, NumPy sorts;
  exact KS and Wasserstein, PSI, chi-square, Jensen-Shannon), no report;
- ``assay-dask`` (with ``--dask``): ``assay drift --engine dask`` on a new
  ``LocalCluster``, drift.features only; its peak RSS is the client process's
  (the workers are separate processes).

Each run reads the Parquet files itself. "work" is measured inside the
process (read to report written); "process" is the whole process, interpreter
start and imports included.

Set up Evidently once::

    python3 -m venv bench/.venv-evidently
    bench/.venv-evidently/bin/pip install evidently polars pyarrow "pandas<3"

Run::

    .venv/bin/python bench/drift_vs_evidently.py            # 100k and 1M rows
    .venv/bin/python bench/drift_vs_evidently.py --rows 100000 --skip evidently
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
OUT = ROOT / "bench" / "out" / "drift"
ASSAY_PY = ROOT / ".venv" / "bin" / "python"
EVIDENTLY_PY = ROOT / "bench" / ".venv-evidently" / "bin" / "python"
PLANTED = ("num_00", "num_05", "num_11", "num_17", "cat_1", "cat_4")
CARDINALITIES = (5, 20, 100, 500, 1000)
TOOLS = ("evidently", "assay-features", "assay-cli", "floor")
OPTIONAL_TOOLS = ("assay-dask",)


# -- data -------------------------------------------------------------------------------


def generate(n: int, folder: Path, seed: int = 0) -> tuple[Path, Path]:
    """Reference and current Parquet files of ``n`` rows each, drift in :data:`PLANTED`."""
    import numpy as np
    import polars as pl

    folder.mkdir(parents=True, exist_ok=True)
    ref_path, cur_path = folder / "reference.parquet", folder / "current.parquet"
    if ref_path.exists() and cur_path.exists():
        return ref_path, cur_path
    rng = np.random.default_rng(seed)

    def numeric(i: int, size: int, drifted: bool) -> np.ndarray:
        kind = i % 5
        if kind == 0:
            mu, sd = 10.0 * i, 1.0 + i
            if drifted and i == 0:
                mu += 0.3 * sd
            if drifted and i == 5:
                sd *= 1.5
            return rng.normal(mu, sd, size)
        if kind == 1:
            return rng.lognormal(0.25 if drifted and i == 11 else 0.0, 0.5, size)
        if kind == 2:
            x = rng.uniform(0, 10, size)
            if drifted and i == 17:
                x[rng.random(size) < 0.25] += 5.0
            return x
        if kind == 3:
            return rng.exponential(2.0, size)
        return rng.gamma(2.0, 2.0, size)

    def categorical(j: int, size: int, drifted: bool) -> np.ndarray:
        k = CARDINALITIES[j]
        names = np.array([f"c{j}_{v:04d}" for v in range(k)])
        w = 1.0 / np.arange(1, k + 1) ** 1.1
        if drifted and j == 1:
            w = w[::-1]
        idx = rng.choice(k, size=size, p=w / w.sum())
        out = names[idx]
        if drifted and j == 4:
            novel = rng.random(size) < 0.15
            new = np.array([f"c4_new_{v:02d}" for v in range(50)])
            out = np.where(novel, new[rng.integers(0, 50, size)], out)
        return out

    for path, drifted in ((ref_path, False), (cur_path, True)):
        cols = {f"num_{i:02d}": numeric(i, n, drifted) for i in range(20)}
        cols.update({f"cat_{j}": categorical(j, n, drifted) for j in range(5)})
        pl.DataFrame(cols).write_parquet(path, row_group_size=100_000)
    return ref_path, cur_path


# -- workers (each runs in its own process) -------------------------------------------------


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_assay(ref: str, cur: str, out: str) -> dict:
    t0 = time.perf_counter()
    from assay.drift import drift

    t1 = time.perf_counter()
    result = drift(ref, cur, config={"include": ["drift.features"]})
    result.save(out)
    t2 = time.perf_counter()
    check = result.check("drift.features")
    found = sorted({f.column for f in check.findings if f.status in ("warn", "fail")})
    return {"work_s": t2 - t1, "import_s": t1 - t0, "found": found, "status": check.status}


def worker_floor(ref: str, cur: str, out: str) -> dict:
    """The same statistics, hand-vectorized: exact KS and Wasserstein, PSI, JS, chi-square."""
    t1 = time.perf_counter()
    import numpy as np
    import polars as pl
    from scipy import special

    r, c = pl.read_parquet(ref), pl.read_parquet(cur)
    rows = {}
    for name, dtype in r.schema.items():
        if dtype.is_numeric():
            a = r.get_column(name).drop_nulls().drop_nans().to_numpy()
            b = c.get_column(name).drop_nulls().drop_nans().to_numpy()
            a, b = np.sort(a), np.sort(b)
            allv = np.sort(np.concatenate([a, b]), kind="stable")
            fa = np.searchsorted(a, allv, side="right") / a.size
            fb = np.searchsorted(b, allv, side="right") / b.size
            gap = np.abs(fa - fb)
            ks = float(gap.max())
            w = float(np.sum(gap[:-1] * np.diff(allv))) / max(float(a.std()), 1e-3)
            cuts = a[(np.arange(1, 10) * a.size) // 10]
            pa = (
                np.diff(np.concatenate([[0], np.searchsorted(a, cuts, "right"), [a.size]])) / a.size
            )
            pb = (
                np.diff(np.concatenate([[0], np.searchsorted(b, cuts, "right"), [b.size]])) / b.size
            )
            pa, pb = np.maximum(pa, 1e-4), np.maximum(pb, 1e-4)
            psi = float(np.sum((pb - pa) * np.log(pb / pa)))
            rows[name] = {"ks": ks, "wasserstein": w, "psi": psi, "drifted": w >= 0.1}
        else:
            va = r.get_column(name).drop_nulls().value_counts(name="a")
            vb = c.get_column(name).drop_nulls().value_counts(name="b")
            j = va.join(vb, on=name, how="full", coalesce=True).fill_null(0)
            ca = j.get_column("a").to_numpy().astype(float)
            cb = j.get_column("b").to_numpy().astype(float)
            pa, pb = ca / ca.sum(), cb / cb.sum()
            m = (pa + pb) / 2
            with np.errstate(divide="ignore", invalid="ignore"):
                kl = np.where(pa > 0, pa * np.log(pa / m), 0) + np.where(
                    pb > 0, pb * np.log(pb / m), 0
                )
            js = float(np.sqrt(kl.sum() / 2))
            tot = ca + cb
            ea, eb = tot * ca.sum() / tot.sum(), tot * cb.sum() / tot.sum()
            chi2 = float(((ca - ea) ** 2 / ea).sum() + ((cb - eb) ** 2 / eb).sum())
            chi2_p = float(special.chdtrc(ca.size - 1, chi2))
            qa, qb = np.maximum(pa, 1e-4), np.maximum(pb, 1e-4)
            psi = float(np.sum((qb - qa) * np.log(qb / qa)))
            rows[name] = {"js": js, "chi2_p": chi2_p, "psi": psi, "drifted": js >= 0.1}
    Path(out).mkdir(parents=True, exist_ok=True)
    (Path(out) / "floor.json").write_text(json.dumps(rows, indent=1))
    t2 = time.perf_counter()
    found = sorted(k for k, v in rows.items() if v["drifted"])
    return {"work_s": t2 - t1, "found": found}


def worker_evidently(ref: str, cur: str, out: str) -> dict:
    t0 = time.perf_counter()
    import pandas as pd
    from evidently import Report
    from evidently.presets import DataDriftPreset

    t1 = time.perf_counter()
    r, c = pd.read_parquet(ref), pd.read_parquet(cur)
    snapshot = Report([DataDriftPreset()]).run(current_data=c, reference_data=r)
    Path(out).mkdir(parents=True, exist_ok=True)
    snapshot.save_html(str(Path(out) / "evidently.html"))
    snapshot.save_json(str(Path(out) / "evidently.json"))
    t2 = time.perf_counter()
    found = []
    for m in snapshot.dict()["metrics"]:
        cfg = m.get("config", {})
        if cfg.get("type", "").endswith("ValueDrift"):
            p_value = "p_value" in cfg.get("method", "")
            v, th = float(m["value"]), float(cfg["threshold"])
            if (v < th) if p_value else (v >= th):
                found.append(cfg["column"])
    return {"work_s": t2 - t1, "import_s": t1 - t0, "found": sorted(found)}


WORKERS = {"assay-features": worker_assay, "floor": worker_floor, "evidently": worker_evidently}


# -- orchestration -----------------------------------------------------------------------------


def _run_measured(cmd: list[str], timeout: float) -> tuple[float, float, int, str]:
    """Run ``cmd``; return (wall seconds, the child's peak RSS in MB from ``wait4``,
    exit code, stdout)."""
    import tempfile

    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as fout, tempfile.TemporaryFile("w+") as ferr:
        p = subprocess.Popen(cmd, stdout=fout, stderr=ferr, text=True)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                p.kill()
                raise TimeoutError(f"{cmd[0]} ran past {timeout} s")
            time.sleep(0.05)
        wall = time.perf_counter() - start
        p.returncode = os.waitstatus_to_exitcode(status)
        fout.seek(0)
        ferr.seek(0)
        out, err = fout.read(), ferr.read()
    if p.returncode not in (0, 1):
        sys.stderr.write(err[-3000:])
    return wall, usage.ru_maxrss / 1024, p.returncode, out


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def run_tool(tool: str, ref: Path, cur: Path, out: Path, timeout: float) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    if tool in ("assay-cli", "assay-dask"):
        cmd = [str(ROOT / ".venv" / "bin" / "assay"), "drift", "--reference", str(ref)]
        cmd += ["--current", str(cur), "--out", str(out)]
        if tool == "assay-dask":  # drift.features on a new LocalCluster (started in the run)
            config = out / "features-only.yaml"
            config.write_text("checks:\n  include: [drift.features]\n", encoding="utf-8")
            cmd += ["--engine", "dask", "--config", str(config)]
        wall, rss, rc, _ = _run_measured(cmd, timeout)
        report = json.loads((out / "report.json").read_text())
        features = next(c for c in report["checks"] if c["id"] == "drift.features")
        found = sorted({f["column"] for f in features["findings"] if f["status"] != "pass"})
        work = sum(c["duration_s"] or 0 for c in report["checks"])
        res = {"found": found, "checks_s": work, "rc": rc}
        res["report_bytes"] = _size(out / "report.json") + _size(out / "report.html")
    else:
        python = EVIDENTLY_PY if tool == "evidently" else ASSAY_PY
        cmd = [str(python), __file__, "--worker", tool, str(ref), str(cur), str(out)]
        wall, rss, rc, stdout = _run_measured(cmd, timeout)
        if rc != 0:
            raise RuntimeError(f"{tool} failed (exit {rc})")
        res = json.loads(stdout.strip().splitlines()[-1])
        if tool == "evidently":
            res["report_bytes"] = _size(out / "evidently.html") + _size(out / "evidently.json")
        elif tool == "assay-features":
            res["report_bytes"] = _size(out / "report.json") + _size(out / "report.html")
        else:
            res["report_bytes"] = _size(out / "floor.json")
    res.update(tool=tool, process_s=wall, peak_rss_mb=rss)
    planted = set(PLANTED)
    res["planted_found"] = len(planted & set(res["found"]))
    res["false_alarms"] = len(set(res["found"]) - planted)
    return res


def _fmt_bytes(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e5 else f"{n / 1e3:.0f} kB"


def table(results: list[dict]) -> str:
    lines = [
        "| rows per side | tool | work | process | peak RSS | planted found | false alarms "
        "| report size |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        work = r.get("work_s", r.get("checks_s"))
        lines.append(
            f"| {r['rows']:,} | {r['tool']} | {work:.2f} s | {r['process_s']:.2f} s "
            f"| {r['peak_rss_mb']:,.0f} MB | {r['planted_found']}/6 | {r['false_alarms']} "
            f"| {_fmt_bytes(r['report_bytes'])} |"
        )
    return "\n".join(lines)


def ratios(results: list[dict]) -> list[str]:
    out = []
    for n in sorted({r["rows"] for r in results}):
        by = {r["tool"]: r for r in results if r["rows"] == n}
        a, e, f = by.get("assay-features"), by.get("evidently"), by.get("floor")
        parts = []
        if a and e:
            parts.append(f"Evidently/Assay work time {e['work_s'] / a['work_s']:.1f}x")
            parts.append(f"process time {e['process_s'] / a['process_s']:.1f}x")
            parts.append(f"Assay/Evidently peak RSS {a['peak_rss_mb'] / e['peak_rss_mb']:.2f}")
        if a and f:
            parts.append(f"Assay/floor work time {a['work_s'] / f['work_s']:.2f}x")
            parts.append(f"Assay/floor peak RSS {a['peak_rss_mb'] / f['peak_rss_mb']:.2f}")
        c = by.get("assay-cli")
        if c and e:
            speedup = e["process_s"] / c["process_s"]
            parts.append(f"Evidently/`assay drift` (all checks) process time {speedup:.1f}x")
        out.append(f"- {n:,} rows: " + "; ".join(parts))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--skip", nargs="*", default=[], choices=TOOLS)
    ap.add_argument(
        "--dask",
        action="store_true",
        help="also run `assay drift --engine dask` (drift.features; peak RSS is the client's)",
    )
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--worker", nargs=4, metavar=("TOOL", "REF", "CUR", "OUT"))
    args = ap.parse_args()
    if args.worker:
        tool, ref, cur, out = args.worker
        print(json.dumps(WORKERS[tool](ref, cur, out)))
        return
    if "evidently" not in args.skip and not EVIDENTLY_PY.exists():
        sys.exit(f"Evidently's environment is missing: see the set-up in {__file__}")
    results = []
    for n in args.rows:
        ref, cur = generate(n, OUT / f"data-{n}")
        for tool in TOOLS + (OPTIONAL_TOOLS if args.dask else ()):
            if tool in args.skip:
                continue
            print(f"{n:,} rows: {tool} ...", file=sys.stderr, flush=True)
            res = run_tool(tool, ref, cur, OUT / f"{tool}-{n}", args.timeout)
            res["rows"] = n
            results.append(res)
            print(f"  {json.dumps(res)}", file=sys.stderr, flush=True)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    (OUT / "results.json").write_text(
        json.dumps({"machine": machine, "results": results}, indent=1)
    )
    print(f"Machine: {machine}\n")
    print(table(results))
    print()
    print("\n".join(ratios(results)))


if __name__ == "__main__":
    main()
