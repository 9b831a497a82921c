"""Reruns that work: the "run the check again" command repeats the audit's options.

The audit is run for real through the CLI with a pickled model (needs
``--trust-model``), a path with a space, a sensitive column, ``--task`` and a
config file; the rerun command taken from the plan (and from report.html) is
split with :func:`shlex.split` and run through the CLI again, and must
reproduce the check's result.
"""

from __future__ import annotations

import html
import json
import re
import shlex
from pathlib import Path

import numpy as np
import pytest

from assay.governance import remediation_plan, rerun_command
from assay.governance._plan import audit_invocation

from ..cli.helpers import run_cli
from ..conftest import fit_logreg, make_binary

CHECKS = ("data.target_leakage", "evaluation.performance")


@pytest.fixture(scope="module")
def audited(tmp_path_factory) -> tuple[Path, dict]:
    """A real CLI audit in a folder whose name has a space; a leaking column planted."""
    import joblib

    d = tmp_path_factory.mktemp("rerun") / "my project"
    d.mkdir()
    df = make_binary(800, seed=3)
    df["leak"] = df["y"] + np.random.default_rng(0).normal(0, 0.05, len(df))
    train, test = df.iloc[:500], df.iloc[500:]
    train.to_csv(d / "train data.csv", index=False)
    test.to_csv(d / "test.csv", index=False)
    joblib.dump(fit_logreg(train.drop(columns="leak")), d / "model.pkl")
    (d / "cfg.yaml").write_text("n_bootstrap: 60\nseed: 7\n", encoding="utf-8")
    args = ["audit", "--test", "test.csv", "--train", "train data.csv", "--target", "y"]
    args += ["--model", "model.pkl", "--trust-model", "--sensitive", "colour"]
    args += ["--task", "binary", "--config", "cfg.yaml", "--out", "first"]
    for c in CHECKS:
        args += ["--check", c]
    proc = run_cli(*args, cwd=d)
    assert proc.returncode == 1, proc.stderr  # the planted leak fails the gate
    return d, json.loads((d / "first" / "report.json").read_text(encoding="utf-8"))


def _check(report: dict, cid: str) -> dict:
    return next(c for c in report["checks"] if c["id"] == cid)


def test_invocation_is_recorded(audited):
    _, report = audited
    inv = report["extra"]["invocation"]
    assert inv["command"] == "audit"
    assert inv["args"][:2] == ["--test", "test.csv"]
    assert "--trust-model" in inv["args"]
    assert inv["args"][inv["args"].index("--config") + 1] == "cfg.yaml"


def test_plan_rerun_repeats_every_option(audited):
    _, report = audited
    step = next(s for s in remediation_plan(report) if s["check_id"] == "data.target_leakage")
    words = shlex.split(step["rerun"])
    assert words[:2] == ["assay", "audit"]
    assert "…" not in words
    recorded = report["extra"]["invocation"]["args"]
    kept = [w for w in recorded if w not in ("--check", "--out")]
    kept = [w for w in kept if w not in (*CHECKS, "first")]
    assert words[2:] == [*kept, "--check", "data.target_leakage"]
    assert "'train data.csv'" in step["rerun"]  # quoted for the shell
    assert words[words.index("--train") + 1] == "train data.csv"
    for opt, val in (("--sensitive", "colour"), ("--task", "binary"), ("--config", "cfg.yaml")):
        assert words[words.index(opt) + 1] == val
    assert words[-2:] == ["--check", "data.target_leakage"]
    assert words.count("--check") == 1 and "--out" not in words


def test_rerun_through_the_cli_reproduces_the_check(audited):
    d, report = audited
    words = shlex.split(rerun_command(report, "data.target_leakage"))
    proc = run_cli(*words[1:], "--out", "again", cwd=d)
    assert proc.returncode == 1, proc.stderr
    again = json.loads((d / "again" / "report.json").read_text(encoding="utf-8"))
    assert [c["id"] for c in again["checks"]] == ["data.target_leakage"]
    first, second = _check(report, "data.target_leakage"), _check(again, "data.target_leakage")
    assert second["status"] == first["status"] == "fail"
    assert second["metrics"] == first["metrics"]
    assert again["settings"]["seed"] == 7 and again["settings"]["n_bootstrap"] == 60
    assert again["inputs"]["model"]["kind"] == "joblib"
    assert again["inputs"]["train"]["file_sha256"] == report["inputs"]["train"]["file_sha256"]


def test_without_trust_the_same_command_is_refused(audited):
    """The control: dropping --trust-model (what reruns used to do) fails with exit 2."""
    d, report = audited
    words = shlex.split(rerun_command(report, "evaluation.performance"))
    words.remove("--trust-model")
    proc = run_cli(*words[1:], "--out", "refused", cwd=d)
    assert proc.returncode == 2
    assert "--trust-model" in proc.stderr and "Traceback" not in proc.stderr


def test_html_report_shows_the_full_rerun(audited):
    d, report = audited
    page = (d / "first" / "report.html").read_text(encoding="utf-8")
    assert html.escape(rerun_command(report, "data.target_leakage"), quote=True) in page
    assert "--trust-model" in page


def test_python_api_audit_falls_back_to_inputs(audited):
    """No recorded command line: paths, trust, seed and bootstrap come from the report."""
    import assay

    d, _ = audited
    r = assay.audit(
        test=d / "test.csv",
        target="y",
        model=d / "model.pkl",
        trust_model=True,
        config={"include": ["evaluation.performance"], "n_bootstrap": 40, "seed": 3},
    ).to_dict()
    words = shlex.split(rerun_command(r, "evaluation.performance"))
    assert "--trust-model" in words and "…" not in words
    assert words[words.index("--n-bootstrap") + 1] == "40"
    assert words[words.index("--seed") + 1] == "3"
    assert words[words.index("--model") + 1] == str(d / "model.pkl")
    proc = run_cli(*words[1:], "--out", str(d / "api-again"))
    assert proc.returncode == 0, proc.stderr
    again = json.loads((d / "api-again" / "report.json").read_text(encoding="utf-8"))
    assert (
        _check(again, "evaluation.performance")["metrics"]
        == _check(r, "evaluation.performance")["metrics"]
    )


def test_edited_invocation_cannot_inject(audited):
    _, report = audited
    hostile = json.loads(json.dumps(report))
    hostile["extra"]["invocation"]["args"][1] = "t.csv; rm -rf ~"
    words = shlex.split(rerun_command(hostile, "x.y"))
    assert words[words.index("--test") + 1] == "t.csv; rm -rf ~"  # one word, quoted
    hostile["extra"]["invocation"]["args"] += ["--evil-option", "x"]
    cmd = rerun_command(hostile, "x.y")  # unknown option: the recorded line is not used
    assert "--evil-option" not in cmd and "--trust-model" in cmd  # inputs say joblib


def test_audit_invocation_drops_unset_options():
    args = audit_invocation(
        {"--test": Path("a b.csv"), "--train": None, "--trust-model": False, "--score": []}
    )
    assert args == ["--test", "a b.csv"]


def test_every_audit_option_can_be_recorded():
    """A new `assay audit` option must be added to the rerun's known options, or reruns drop it."""
    import typer.main

    from assay.cli.main import app
    from assay.governance._plan import AUDIT_FLAG_OPTIONS, AUDIT_VALUE_OPTIONS

    command = typer.main.get_command(app).commands["audit"]
    options = {o for p in command.params for o in p.opts if o.startswith("--")}
    assert options - {"--help"} <= AUDIT_VALUE_OPTIONS | AUDIT_FLAG_OPTIONS
    source = Path(__file__).resolve().parents[2] / "assay" / "cli" / "main.py"
    recorded = set(re.findall(r'^\s+"(--[a-z-]+)": ', source.read_text(encoding="utf-8"), re.M))
    assert options - {"--help"} <= recorded  # and the CLI passes each one to the record
