"""Planted-problem benchmark: Assay against Evidently and Deepchecks.

    .venv/bin/python -m bench.planted.run --seeds 3 --out bench/out/planted
    .venv/bin/python -m bench.planted.run --datasets adult --problems drift_scale --no-peers

Writes results.json and results.md (one table per problem type) under --out.
Peers run in bench/.venv-peers (pip install deepchecks==0.19.1 evidently==0.7.23 polars
"scikit-learn<1.6" "pandas<3" "numpy<2" "category-encoders<2.7" "pyarrow<19") via
peer_worker.py, one process per tool.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

from .datasets import LOADERS
from .planters import PLANTERS, applicable, make_case
from .score import ALL_DETECTORS, DETECTORS, flagged, judge, run_assay, wilson

ROOT = Path(__file__).resolve().parents[2]
PEER_PY = ROOT / "bench" / ".venv-peers" / "bin" / "python"
WORKER = Path(__file__).with_name("peer_worker.py")
_GROUP_ERR = re.compile(r"accuracy|error|MAE|residual", re.I)


def relevant(problem: str, flags: list[dict]) -> list[dict]:
    """Flags that speak to ``problem`` (group errors: error-rate gaps only, since a
    selection-rate gap is a real property of the data, not a planted error)."""
    checks = DETECTORS[problem]
    out = [f for f in flags if f.get("check") in checks]
    if problem == "group_errors":
        out = [f for f in out if _GROUP_ERR.search(f.get("message", ""))]
    return out


def peer_relevant(problem: str, tool: str, flags: list[dict]) -> list[dict]:
    from .peer_worker import DEEPCHECKS, EVIDENTLY

    table = EVIDENTLY if tool == "evidently" else DEEPCHECKS
    name = table.get(problem)
    if not name:
        return []
    key = name.split()[0]
    return [f for f in flags if key.startswith(f.get("check", "?")) or f.get("check") in name]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", nargs="*", default=list(LOADERS))
    ap.add_argument("--problems", nargs="*", default=list(PLANTERS))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "planted"))
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--peers", nargs="*", default=["evidently", "deepchecks"])
    ap.add_argument(
        "--tables-only", action="store_true", help="rewrite results.md from results.json"
    )
    args = ap.parse_args(argv)
    out = Path(args.out)
    if args.tables_only:
        rows = json.loads((out / "results.json").read_text())
        (out / "results.md").write_text(tables(rows, args))
        print(tables(rows, args))
        return
    cases_dir = out / "cases"
    cases_dir.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    for dname in args.datasets:
        ds = LOADERS[dname]()
        for seed in range(args.seeds):
            for problem in ["clean", *args.problems]:
                why = None if problem == "clean" else applicable(problem, ds)
                if why:
                    continue
                case = make_case(ds, problem, seed)
                checks = ALL_DETECTORS if problem == "clean" else DETECTORS[problem]
                res, secs = run_assay(case, checks)
                flags = flagged(res, checks)
                errors = [f for f in flags if "error" in f]
                key = f"{dname}-{seed}-{problem}"
                rec = {
                    "case": key,
                    "dataset": dname,
                    "seed": seed,
                    "problem": problem,
                    "truth": case.truth,
                    "assay": {"flags": flags, "seconds": secs, "errors": errors},
                }
                if problem != "clean":
                    rel = relevant(problem, flags)
                    rec["assay"]["found"], rec["assay"]["extra"] = judge(case.truth, rel)
                rows.append(rec)
                print(
                    f"{key}: assay {secs:.1f}s {rec['assay'].get('found', len(flags))}",
                    file=sys.stderr,
                    flush=True,
                )
                if not args.no_peers:
                    d = cases_dir / key
                    d.mkdir(exist_ok=True)
                    for n in ("train", "test", "current"):
                        getattr(case, n).to_parquet(d / f"{n}.parquet")
                    (d / "meta.json").write_text(
                        json.dumps(
                            {
                                "target": case.target,
                                "task": ds.task,
                                "problem": problem,
                                "categorical": ds.categorical,
                            }
                        )
                    )
    if not args.no_peers and PEER_PY.exists():
        by_key = {r["case"]: r for r in rows}
        for tool in args.peers:
            t0 = time.perf_counter()
            proc = subprocess.run(
                [str(PEER_PY), str(WORKER), tool, *[str(cases_dir / k) for k in by_key]],
                capture_output=True,
                text=True,
            )
            print(f"{tool}: {time.perf_counter() - t0:.0f}s", file=sys.stderr)
            for line in proc.stdout.splitlines():
                if not line.startswith("{"):
                    continue
                r = json.loads(line)
                rec = by_key[r["case"]]
                if "flags" in r and rec["problem"] != "clean":
                    rel = peer_relevant(rec["problem"], tool, r["flags"])
                    r["detected"] = bool(rel)
                    r["found"], r["extra"] = judge(rec["truth"], rel)
                rec[tool] = r
            if proc.returncode:
                print(proc.stderr[-2000:], file=sys.stderr)
    (out / "results.json").write_text(json.dumps(rows, indent=1, default=str))
    (out / "results.md").write_text(tables(rows, args))
    print(tables(rows, args))


def _fmt(k, n):
    if n == 0:
        return "—"
    lo, hi = wilson(k, n)
    return f"{k / n:.2f} ({k}/{n}; {lo:.2f}–{hi:.2f})"


def tables(rows: list[dict], args) -> str:
    tools = ["assay", *([] if args.no_peers else args.peers)]
    clean = [r for r in rows if r["problem"] == "clean"]
    lines = []
    for problem in args.problems:
        rs = [r for r in rows if r["problem"] == problem]
        if not rs:
            continue
        lines += [
            f"#### {problem}",
            "",
            "| tool | recall (found and named) | detected (any relevant alarm) | "
            "false alarms on clean controls | findings naming unplanted things | "
            "median time per case (s) | note |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for tool in tools:
            got = [r[tool] for r in rs if tool in r]
            ok = [g for g in got if "found" in g]
            note = ""
            if not ok:
                why = {g.get("unsupported") or g.get("error") for g in got} - {None}
                lines.append(
                    f"| {tool} | — | — | — | — | — | {'; '.join(sorted(why)) or 'not run'} |"
                )
                continue
            k = sum(bool(g["found"]) for g in ok)
            det = sum(bool(g.get("detected", g["found"] or g["extra"])) for g in ok)
            extra = sum(g["extra"] > 0 for g in ok)
            if tool == "assay":
                fa = sum(bool(relevant(problem, r["assay"]["flags"])) for r in clean)
                nfa = len(clean)
            else:
                # a clean control where this problem's check could not run is left out
                cl = [
                    r[tool]
                    for r in clean
                    if tool in r
                    and "flags" in r[tool]
                    and problem not in r[tool].get("check_errors", {})
                ]
                fa = sum(bool(peer_relevant(problem, tool, c["flags"])) for c in cl)
                nfa = len(cl)
            secs = sorted(g["seconds"] for g in got)
            errs = [g for g in got if "error" in g]
            if errs:
                note = f"{len(errs)} case(s) errored: {errs[0]['error'][:120]}"
            if tool != "assay" and nfa < len(clean):
                note += f" {len(clean) - nfa} clean control(s) where the check could not run."
            lines.append(
                f"| {tool} | {_fmt(k, len(ok))} | {_fmt(det, len(ok))} | {_fmt(fa, nfa)} | "
                f"{_fmt(extra, len(ok))} | {secs[len(secs) // 2]:.2f} | {note} |"
            )
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
