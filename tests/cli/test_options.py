"""The options ``assay audit``, ``assay drift`` and ``assay bench`` share are declared once
(``assay.cli._options``) and behave alike: the same flag, the same help, the same
one-line error and exit 2 on bad input, the same gate exit."""

from __future__ import annotations

import json

import pytest
import skops.io as sio
import typer.main

from assay.cli import _options
from assay.cli.main import app
from tests.conftest import fit_logreg, make_binary

from .helpers import run_cli

SHARED = ("--out", "--config", "--fail-on", "--seed", "--n-bootstrap", "--ignore")


def _options_of(command: str) -> dict[str, str]:
    """``{flag: help}`` of one command, as click sees it."""
    group = typer.main.get_command(app)
    cmd = group.commands[command]  # type: ignore[attr-defined]
    return {opt: p.help for p in cmd.params for opt in getattr(p, "opts", [])}


def test_audit_and_drift_declare_the_shared_options_alike():
    audit, drift, bench = (_options_of(c) for c in ("audit", "drift", "bench"))
    for flag in SHARED:
        assert audit[flag] == drift[flag], flag
    for flag in ("--scheduler", "--categorical"):
        assert audit[flag] == drift[flag], flag
    for flag in ("--out", "--seed", "--n-bootstrap", "--trust-model"):
        assert audit[flag] == bench[flag], flag
    assert audit["--fail-on"] == "Gate level: 'fail' (default) or 'warn'."


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("options")
    df = make_binary(400, seed=5)
    df.to_csv(d / "data.csv", index=False)
    shifted = df.assign(x1=df["x1"] + 3.0)
    shifted.to_csv(d / "shifted.csv", index=False)
    sio.dump(fit_logreg(df), d / "model.skops")
    (d / "bad.yaml").write_text("seed: [1, 2]\n")
    return d


def _args(command: str, files, out) -> list:
    if command == "audit":
        return ["audit", "--test", files / "data.csv", "--target", "y", "--out", out]
    if command == "drift":
        return ["drift", "--reference", files / "data.csv", "--current", files / "shifted.csv",
                "--out", out]  # fmt: skip
    return ["bench", "--model", files / "model.skops", "--data", files / "data.csv",
            "--target", "y", "--out", out]  # fmt: skip


def _usage_error(proc, out) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert not out.exists() or not any(out.iterdir())
    return lines[0]


@pytest.mark.parametrize("command", ["audit", "drift", "bench"])
def test_a_bad_config_file_is_one_line_and_exit_2(files, tmp_path, command):
    out = tmp_path / "out"
    proc = run_cli(*_args(command, files, out), "--config", files / "bad.yaml")
    assert _usage_error(proc, out) == "error: seed must be an integer, not [1, 2]"


@pytest.mark.parametrize("command", ["audit", "drift", "bench"])
def test_an_out_that_is_a_file_is_one_line_and_exit_2(files, tmp_path, command):
    out = tmp_path / "taken"
    out.write_text("not a folder")
    proc = run_cli(*_args(command, files, out), cwd=tmp_path)
    assert proc.returncode == 2 and "--out" in proc.stderr, proc.stderr
    assert out.read_text() == "not a folder"


@pytest.mark.parametrize("command", ["audit", "drift"])
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--engine", "spark"], "--engine must be 'local' or 'dask', not 'spark'"),
        (["--scheduler", "tcp://127.0.0.1:1"], "--scheduler needs --engine dask"),
    ],
)
def test_engine_flags_are_checked_alike(files, tmp_path, command, extra, message):
    out = tmp_path / "out"
    proc = run_cli(*_args(command, files, out), *extra)
    assert _usage_error(proc, out) == f"error: {message}"


def test_the_gate_exit_follows_fail_on_in_drift(files, tmp_path):
    """The planted shift fails drift's gate (exit 1); with a clean pair it passes (0)."""
    shifted = run_cli(*_args("drift", files, tmp_path / "a"), "--n-bootstrap", "20")
    assert shifted.returncode == 1, shifted.stderr
    assert "gate (fail): FAILED" in shifted.stdout
    same = ["drift", "--reference", files / "data.csv", "--current", files / "data.csv"]
    clean = run_cli(*same, "--out", tmp_path / "b", "--n-bootstrap", "20", "--seed", "3")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    report = json.loads((tmp_path / "b" / "report.json").read_text())
    assert report["settings"]["seed"] == 3 and report["settings"]["engine"] == "local"


def test_audit_records_its_options_in_order(files, tmp_path):
    """``extra.invocation.args``: the options as given, in the documented order,
    the config file that was read, no default engine."""
    (tmp_path / "assay.yaml").write_text("n_bootstrap: 20\n")
    out = tmp_path / "out"
    proc = run_cli(
        "audit", "--out", out, "--target", "y", "--test", files / "data.csv",
        "--check", "data.integrity", "--seed", "4", "--ignore", "x2,noise", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr
    args = json.loads((out / "report.json").read_text())["extra"]["invocation"]["args"]
    assert args == [
        "--test", str(files / "data.csv"), "--target", "y", "--ignore", "x2,noise",
        "--config", "assay.yaml", "--seed", "4", "--check", "data.integrity", "--out", str(out),
    ]  # fmt: skip


def test_split_csv_and_check_engine():
    assert _options.split_csv(["a, b", "c", " ,"]) == ["a", "b", "c"]
    assert _options.split_csv(None) == []
    _options.check_engine("dask", "tcp://h:1")  # allowed
    with pytest.raises(typer.Exit) as exc:
        _options.check_engine("local", "tcp://h:1")
    assert exc.value.exit_code == 2
