"""``assay drift`` end to end (a real subprocess)."""

from __future__ import annotations

import json

import pytest

from ..cli.helpers import run_cli, run_cli_subprocess
from .helpers import PLANTED, planted_tables


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("drift_cli")
    ref, cur = planted_tables(2000, 1500, seed=7)
    ref.to_csv(d / "ref.csv", index=False)
    cur.to_parquet(d / "cur.parquet")
    cur.drop(columns="steady").to_csv(d / "cur_missing.csv", index=False)
    return d


def test_drift_writes_the_report(files):
    out = files / "out"
    proc = run_cli_subprocess(  # drift through the installed script
        "drift",
        "--reference",
        files / "ref.csv",
        "--current",
        files / "cur.parquet",
        "--out",
        out,
        "--n-bootstrap",
        "50",
    )
    assert proc.returncode == 1, proc.stderr  # the domain classifier fails the gate
    assert sorted(p.name for p in out.iterdir() if p.suffix != ".md") == [
        "junit.xml",
        "report.html",
        "report.json",
    ]
    report = json.loads((out / "report.json").read_text())
    ids = [c["id"] for c in report["checks"]]
    assert sorted(ids) == [
        "drift.features",
        "drift.multivariate",
        "drift.prediction",
        "drift.target",
    ]
    features = next(c for c in report["checks"] if c["id"] == "drift.features")
    assert {f["column"] for f in features["findings"]} == set(PLANTED)
    assert report["inputs"]["reference"]["kind"] == "csv"
    assert "drift.features" in proc.stdout and "Report written" in proc.stdout


def test_bad_usage_is_one_line_and_exit_2(files, tmp_path):
    proc = run_cli(
        "drift",
        "--reference",
        files / "ref.csv",
        "--current",
        files / "cur.parquet",
        "--out",
        tmp_path / "x",
        "--engine",
        "spark",
    )
    assert proc.returncode == 2 and proc.stderr.startswith("error:"), proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "'local' or 'dask'" in proc.stderr
    missing = run_cli(
        "drift", "--reference", files / "nope.csv", "--current", files / "cur.parquet"
    )
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    lacking = run_cli(
        "drift",
        "--reference",
        files / "ref.csv",
        "--current",
        files / "cur_missing.csv",
        "--out",
        tmp_path / "y",
    )
    assert lacking.returncode == 2 and "lacks feature column(s) steady" in lacking.stderr
    assert not (tmp_path / "y").exists()
