"""Native booster files (XGBoost .json/.ubj, LightGBM .txt, CatBoost .cbm) audited
through the real ``assay audit`` command without --trust-model, and refused with
one-line errors when they do not fit the data."""

from __future__ import annotations

import json
import pickle
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.metrics import accuracy_score, r2_score
from typer.testing import CliRunner

from assay.cli.main import app
from assay.errors import MissingExtraError
from assay.io.models import load_model

xgb = pytest.importorskip("xgboost")
lgb = pytest.importorskip("lightgbm")
cb = pytest.importorskip("catboost")


class _Result:
    def __init__(self, result) -> None:
        self.returncode = result.exit_code
        self.stdout = result.stdout
        self.stderr = result.stderr


def run_cli(*args):
    """``assay`` in-process (typer's CliRunner): the same command, without a new interpreter."""
    result = CliRunner().invoke(
        app, [str(a) for a in args], env={"COLUMNS": "200", "NO_COLOR": "1"}
    )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return _Result(result)


def _split(frame: pd.DataFrame, target: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = frame.rename(columns=lambda c: c.replace(" ", "_"))
    train = frame.sample(frac=0.6, random_state=0)
    return train, frame.drop(train.index)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("native")
    cancer = load_breast_cancer(as_frame=True).frame.iloc[:, [*range(8), -1]]
    iris = load_iris(as_frame=True).frame
    diabetes = load_diabetes(as_frame=True).frame
    out = {}
    for name, frame in (("cancer", cancer), ("iris", iris), ("diabetes", diabetes)):
        train, test = _split(frame, "target")
        train.to_csv(d / f"{name}_train.csv", index=False)
        test.to_csv(d / f"{name}_test.csv", index=False)
        out[name] = (train, test)
    Xc, yc = out["cancer"][0].drop(columns="target"), out["cancer"][0]["target"]
    Xi, yi = out["iris"][0].drop(columns="target"), out["iris"][0]["target"]
    Xd, yd = out["diabetes"][0].drop(columns="target"), out["diabetes"][0]["target"]
    models = {
        "xgb_binary.json": xgb.XGBClassifier(n_estimators=20, max_depth=3).fit(Xc, yc),
        "xgb_multi.ubj": xgb.XGBClassifier(n_estimators=10, max_depth=2).fit(Xi, yi),
        "lgb_regression.txt": lgb.LGBMRegressor(n_estimators=30, verbose=-1).fit(Xd, yd),
        "lgb_positional.txt": lgb.LGBMClassifier(n_estimators=10, verbose=-1).fit(
            Xc.to_numpy(), yc
        ),
        "lgb_scores.txt": lgb.LGBMRegressor(n_estimators=5, verbose=-1).fit(Xc, yc),
        "cb_binary.cbm": cb.CatBoostClassifier(
            iterations=20, verbose=0, allow_writing_files=False, thread_count=1
        ).fit(Xc, yc.map({0: "malignant", 1: "benign"})),
        "cb_multi.cbm": cb.CatBoostClassifier(
            iterations=10, verbose=0, allow_writing_files=False, thread_count=1
        ).fit(Xi, yi),
    }
    for fname, m in models.items():
        if fname.startswith("lgb"):
            m.booster_.save_model(d / fname)
        else:
            m.save_model(str(d / fname))
    return d, out, models


def _audit(d, data: str, model: str, *extra: str):
    out = d / f"out_{model}_{data}"
    proc = run_cli(
        "audit",
        "--test", d / f"{data}_test.csv",
        "--train", d / f"{data}_train.csv",
        "--target", "target",
        "--model", d / model,
        "--check", "evaluation.performance",
        "--n-bootstrap", "50",
        "--out", out,
        *extra,
    )  # fmt: skip
    return proc, out


@pytest.mark.parametrize(
    ("model", "data", "task"),
    [
        ("xgb_binary.json", "cancer", "binary"),
        ("xgb_multi.ubj", "iris", "multiclass"),
        ("lgb_regression.txt", "diabetes", "regression"),
        ("lgb_positional.txt", "cancer", "binary"),
        ("cb_multi.cbm", "iris", "multiclass"),
    ],
)
def test_native_model_audited_without_trust(files, model, data, task):
    d, frames, models = files
    proc, out = _audit(d, data, model)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    described = report["inputs"]["model"]
    assert described["kind"] == model.split("_")[0].replace("xgb", "xgboost").replace(
        "lgb", "lightgbm"
    ).replace("cb", "catboost")
    assert described["task"] == task
    perf = next(c for c in report["checks"] if c["id"] == "evaluation.performance")
    test = frames[data][1]
    X, y = test.drop(columns="target"), test["target"]
    # The audit's number equals the library's own predictions scored by scikit-learn.
    own = models[model].predict(X.to_numpy() if "positional" in model else X)
    if task == "regression":
        assert perf["metrics"]["r2"] == pytest.approx(r2_score(y, own), abs=1e-6)
    else:
        assert perf["metrics"]["accuracy"] == pytest.approx(
            accuracy_score(y, np.asarray(own).reshape(-1)), abs=1e-9
        )
        assert perf["metrics"]["accuracy"] > 0.85


def test_full_default_audit_of_a_booster(files):
    d, _, _ = files
    out = d / "full"
    proc = run_cli(
        "audit", "--test", d / "cancer_test.csv", "--train", d / "cancer_train.csv",
        "--target", "target", "--model", d / "xgb_binary.json", "--n-bootstrap", "50",
        "--out", out,
    )  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads((out / "report.json").read_text())
    errors = [c["id"] + ": " + c["summary"] for c in report["checks"] if c["status"] == "error"]
    assert errors == []


def _one_line_error(proc) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_missing_named_column_is_named(files):
    d, frames, _ = files
    test = frames["cancer"][1].rename(columns={"mean_texture": "texture"})
    test.to_csv(d / "renamed_test.csv", index=False)
    for model in ("xgb_binary.json", "cb_binary.cbm"):
        proc = run_cli(
            "audit", "--test", d / "renamed_test.csv", "--target", "target",
            "--model", d / model, "--out", d / "o_renamed",
        )  # fmt: skip
        line = _one_line_error(proc)
        assert "mean_texture" in line


def test_positional_model_with_extra_column_is_refused(files):
    d, frames, _ = files
    test = frames["cancer"][1].assign(row_id=np.arange(len(frames["cancer"][1])))
    test.to_csv(d / "extra_test.csv", index=False)
    proc = run_cli(
        "audit", "--test", d / "extra_test.csv", "--target", "target",
        "--model", d / "lgb_positional.txt", "--out", d / "o_extra",
    )  # fmt: skip
    line = _one_line_error(proc)
    assert "8 columns" in line and "9 feature columns" in line and "'row_id'" in line


def test_classes_the_model_does_not_know(files):
    d, _, _ = files  # cb_binary was trained on 'malignant'/'benign'; the data holds 0/1
    proc = run_cli(
        "audit", "--test", d / "cancer_test.csv", "--target", "target",
        "--model", d / "cb_binary.cbm", "--out", d / "o_classes",
    )  # fmt: skip
    line = _one_line_error(proc)
    assert "'benign', 'malignant'" in line and "0, 1" in line


def test_regression_model_on_a_class_target(files):
    d, _, _ = files
    proc = run_cli(
        "audit", "--test", d / "cancer_test.csv", "--target", "target",
        "--model", d / "lgb_scores.txt", "--out", d / "o_task",
    )  # fmt: skip
    line = _one_line_error(proc)
    assert "regression model" in line and "--task regression" in line


def test_files_that_are_not_models(files, tmp_path):
    d, _, _ = files
    (tmp_path / "m.json").write_text('{"hello": 1}')
    (tmp_path / "m.txt").write_text("not a model\n")
    (tmp_path / "m.cbm").write_bytes(b"\x00" * 16)
    (tmp_path / "p.json").write_bytes(pickle.dumps({"a": 1}))
    for name, words in [
        ("m.json", "could not be read by XGBoost"),
        ("m.txt", "not a LightGBM model file"),
        ("m.cbm", "not a CatBoost model"),
        ("p.json", "holds a pickle"),
    ]:
        proc = run_cli(
            "audit", "--test", d / "cancer_test.csv", "--target", "target",
            "--model", tmp_path / name, "--out", tmp_path / "o",
        )  # fmt: skip
        assert words in _one_line_error(proc)


def test_missing_library_names_the_extra(files, monkeypatch):
    d, _, _ = files
    monkeypatch.setitem(sys.modules, "xgboost", None)  # import xgboost now raises ImportError
    with pytest.raises(MissingExtraError) as info:
        load_model(d / "xgb_binary.json")
    assert info.value.extra == "xgboost"
    assert "pip install 'assay[xgboost]'" in str(info.value)


@pytest.mark.parametrize(
    ("model", "data"),
    [("xgb_binary.json", "cancer"), ("lgb_regression.txt", "diabetes"), ("cb_multi.cbm", "iris")],
)
def test_quantization_uses_the_library_onnx_export(files, model, data):
    pytest.importorskip("onnxmltools")
    d, _, _ = files
    config = d / "fast.yaml"
    config.write_text("thresholds:\n  efficiency.quantization:\n    time_budget_s: 0.2\n")
    proc, out = _audit(d, data, model, "--check", "efficiency.quantization", "--config", config)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    check = next(c for c in report["checks"] if c["id"] == "efficiency.quantization")
    assert check["status"] == "pass", check["summary"]
    assert check["metrics"]["onnx_float32_agreement"] >= 0.99


def test_quantization_skips_a_graph_that_would_relabel_classes(files):
    pytest.importorskip("onnxmltools")
    d, frames, _ = files  # cb_binary's classes are names; its ONNX graph labels by position
    test = frames["cancer"][1].assign(
        target=lambda f: f["target"].map({0: "malignant", 1: "benign"})
    )
    test.to_csv(d / "named_test.csv", index=False)
    out = d / "o_named"
    proc = run_cli(
        "audit", "--test", d / "named_test.csv", "--target", "target", "--model",
        d / "cb_binary.cbm", "--check", "efficiency.quantization", "--out", out,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    check = next(c for c in report["checks"] if c["id"] == "efficiency.quantization")
    assert check["status"] == "skipped" and "'benign', 'malignant'" in check["summary"]
