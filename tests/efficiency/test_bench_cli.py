"""``assay bench`` end to end (a real subprocess), and the efficiency checks in an audit."""

from __future__ import annotations

import json

import pytest

import assay

from ..cli.helpers import run_cli, run_cli_subprocess
from .conftest import EFFICIENCY_IDS

CONFIG = """\
thresholds:
  efficiency.inference:
    time_budget_s: 0.5
    latency_budget_ms: 5000
    instances:
      - {name: my-server, usd_per_hour: 0.72, cores: 8}
  efficiency.quantization: {time_budget_s: 0.5}
  efficiency.distillation: {time_budget_s: 0.5}
"""


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, small, logreg):
    import skops.io as sio

    d = tmp_path_factory.mktemp("bench")
    train, test = small
    train.to_csv(d / "train.csv", index=False)
    test.to_csv(d / "test.csv", index=False)
    sio.dump(logreg, d / "model.skops")
    (d / "assay.yaml").write_text(CONFIG)
    return d


def test_bench_writes_the_audit_outputs_and_prints_the_tables(workdir):
    out = workdir / "out"
    proc = run_cli_subprocess(  # bench through the installed script
        "bench",
        "--model",
        workdir / "model.skops",
        "--data",
        workdir / "test.csv",
        "--train",
        workdir / "train.csv",
        "--target",
        "y",
        "--out",
        out,
        "--trust-model",
        "--latency-budget-ms",
        "4000",
        "--n-bootstrap",
        "30",
        cwd=workdir,  # picks up ./assay.yaml
    )
    assert proc.returncode == 0, proc.stderr
    assert {"junit.xml", "report.html", "report.json"} <= {p.name for p in out.iterdir()}
    rep = json.loads((out / "report.json").read_text())
    checks = {c["id"]: c for c in rep["checks"]}
    assert sorted(checks) == sorted(EFFICIENCY_IDS)
    assert all(c["status"] in ("pass", "warn") for c in checks.values()), [
        (c["id"], c["summary"]) for c in checks.values()
    ]
    inf = checks["efficiency.inference"]
    assert inf["thresholds"]["latency_budget_ms"] == 4000.0  # the flag wins over the file
    for c in checks.values():  # instances given once serve all three checks
        assert [i["name"] for i in c["details"]["instances"]] == ["my-server"]
    assert "usd_per_million_my_server" in inf["metrics"]
    for words in (
        "Inference by batch size",
        "ONNX variants",
        "Distilled students",
        "$ per million, my-server",
        "Report written to",
    ):
        assert words in proc.stdout, words
    html = (out / "report.html").read_text()
    assert "Throughput by batch size" in html and "<svg" in html


def test_bench_guesses_the_target_and_skips_distillation_without_train(workdir):
    out = workdir / "guess"
    proc = run_cli(
        "bench",
        "--model",
        workdir / "model.skops",
        "--data",
        workdir / "test.csv",
        "--out",
        out,
        "--trust-model",
        "--n-bootstrap",
        "20",
        cwd=workdir,
    )
    assert proc.returncode == 0, proc.stderr
    assert "using 'y' as the target" in proc.stderr
    rep = json.loads((out / "report.json").read_text())
    dist = next(c for c in rep["checks"] if c["id"] == "efficiency.distillation")
    assert dist["status"] == "skipped" and "no training data" in dist["summary"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--latency-budget-ms", "0"), "--latency-budget-ms must be a positive number"),
        (("--target", "nope"), "nope"),
    ],
)
def test_bench_bad_input_is_one_line_and_exit_2(workdir, args, words):
    proc = run_cli(
        "bench",
        "--model",
        workdir / "model.skops",
        "--data",
        workdir / "test.csv",
        "--trust-model",
        "--out",
        workdir / "bad",
        *args,
        cwd=workdir,
    )
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and words in last, proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_model_file_is_exit_2(workdir):
    proc = run_cli("bench", "--model", workdir / "none.skops", "--data", workdir / "test.csv")
    assert proc.returncode == 2 and "does not exist" in proc.stderr


def test_audit_runs_the_efficiency_checks_only_when_enabled(small, logreg):
    train, test = small
    fast = {cid: {"time_budget_s": 0.3} for cid in EFFICIENCY_IDS}
    fast["efficiency.inference"]["latency_budget_ms"] = 5000
    base = {"n_bootstrap": 20, "thresholds": fast}
    plain = assay.audit(train=train, test=test, target="y", model=logreg, config=base)
    assert not any(c.id.startswith("efficiency.") for c in plain.checks)
    enabled = assay.audit(
        train=train, test=test, target="y", model=logreg, config={**base, "enable": ["efficiency"]}
    )
    ran = {c.id: c.status for c in enabled.checks if c.area == "efficiency"}
    assert sorted(ran) == sorted(EFFICIENCY_IDS)
    assert set(ran.values()) <= {"pass", "warn"}, ran
