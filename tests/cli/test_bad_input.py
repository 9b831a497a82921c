"""Bad input: one line on stderr naming the problem, exit 2, no traceback, no report."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from .helpers import run_cli, run_cli_subprocess


@pytest.fixture()
def files(tmp_path, binary_data):
    train, test, _ = binary_data
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    return tmp_path


def assert_usage_error(proc, out_dir, *needles):
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert not out_dir.exists() or not any(out_dir.iterdir()), list(out_dir.iterdir())


def audit(files, *extra):
    out = files / "out"
    args = [
        "audit",
        "--train",
        files / "train.csv",
        "--test",
        files / "test.csv",
        "--out",
        out,
        *extra,
    ]
    return run_cli(*args), out


def test_missing_file(files):
    proc = run_cli_subprocess(
        "audit", "--test", files / "nope.csv", "--target", "y", "--out", files / "o"
    )
    assert_usage_error(proc, files / "o", "nope.csv", "does not exist")


def test_empty_file(files):
    (files / "test.csv").write_text("")
    proc, out = audit(files, "--target", "y")
    assert_usage_error(proc, out, "test.csv", "empty")


def test_unreadable_parquet(files):
    (files / "test.parquet").write_bytes(b"PAR1 not really parquet")
    proc = run_cli("audit", "--test", files / "test.parquet", "--target", "y", "--out", files / "o")
    assert_usage_error(proc, files / "o", "test.parquet", "Parquet")


def test_target_absent_suggests_near_match(files):
    proc, out = audit(files, "--target", "yy")
    assert_usage_error(proc, out, "'yy'", "Did you mean 'y'")


def test_nan_in_target(files, binary_data):
    test = binary_data[1].astype({"y": float})
    test.loc[[3, 9], "y"] = np.nan
    test.to_csv(files / "test.csv", index=False)
    proc, out = audit(files, "--target", "y")
    assert_usage_error(proc, out, "'y'", "2 missing value")


def test_one_class_only(files, binary_data):
    binary_data[1].assign(y=1).to_csv(files / "test.csv", index=False)
    proc = run_cli("audit", "--test", files / "test.csv", "--target", "y", "--out", files / "o")
    assert_usage_error(proc, files / "o", "one class only")


def test_different_columns(files, binary_data):
    binary_data[1].rename(columns={"x2": "x_two"}).to_csv(files / "test.csv", index=False)
    proc, out = audit(files, "--target", "y")
    assert_usage_error(proc, out, "different columns", "x2", "x_two")


def test_all_null_target(files, binary_data):
    binary_data[1].assign(y=np.nan).to_csv(files / "test.csv", index=False)
    proc, out = audit(files, "--target", "y")
    assert_usage_error(proc, out, "'y'", "missing value")


def test_model_that_fails_to_predict(files, binary_data):
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    train = binary_data[0]
    model = LogisticRegression().fit(train[["x1", "colour"]].assign(colour=1.0), train["y"])
    sio.dump(model, files / "m.skops")
    proc, out = audit(files, "--target", "y", "--model", files / "m.skops")
    assert_usage_error(proc, out, "failed to predict")


def test_pickle_without_trust(files):
    (files / "m.pkl").write_bytes(pickle.dumps({"not": "a model"}))
    proc, out = audit(files, "--target", "y", "--model", files / "m.pkl")
    assert_usage_error(proc, out, "m.pkl", "--trust-model")


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--task", "ranking"], "task must be one of"),
        (["--check", "data.integrty"], "Did you mean 'data.integrity'"),
        (["--fail-on", "sometimes"], "fail_on"),
        (["--ignore", "nosuch"], "'nosuch'"),
    ],
)
def test_bad_options(files, extra, needle):
    proc, out = audit(files, "--target", "y", *extra)
    assert_usage_error(proc, out, needle)


def test_bad_config_file(files):
    (files / "assay.yaml").write_text("target: y\nthreshold: {}\n")
    proc, out = audit(files, "--config", files / "assay.yaml")
    assert_usage_error(proc, out, "assay.yaml", "unknown field", "threshold")


def test_all_null_feature_is_reported_not_fatal(files, binary_data):
    """An all-null feature column is a data problem the audit reports, naming it."""
    binary_data[1].assign(empty=pd.NA).to_csv(files / "test.csv", index=False)
    binary_data[0].assign(empty=pd.NA).to_csv(files / "train.csv", index=False)
    proc, out = audit(files, "--target", "y", "--check", "data.integrity")
    assert proc.returncode == 1, proc.stderr
    assert "empty" in (out / "report.json").read_text()
