"""MLflow models audited through ``assay audit`` (model directories and models:/ and
runs:/ URIs from a real local file store), and the ``assay`` evaluator run for real
inside ``mlflow.models.evaluate``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from typer.testing import CliRunner

from assay.cli.main import app

mlflow = pytest.importorskip("mlflow")
xgb = pytest.importorskip("xgboost")
lgb = pytest.importorskip("lightgbm")

REQS = ["scikit-learn"]  # given, so MLflow does not infer requirements in a subprocess


class _Always(mlflow.pyfunc.PythonModel):
    """A pyfunc model (Python code MLflow pickles): predicts class 1 for every row."""

    def predict(self, context, model_input, params=None):
        return np.ones(len(model_input), dtype=int)


def run_cli(*args, env=None):
    result = CliRunner().invoke(
        app, [str(a) for a in args], env={"COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
    )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def one_line_error(result) -> str:
    assert result.exit_code == 2, result.stdout + result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    d = tmp_path_factory.mktemp("mlflow")
    env = {
        "MLFLOW_TRACKING_URI": (d / "mlruns").as_uri(),
        "MLFLOW_ALLOW_FILE_STORE": "true",
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        mp.delenv("MLFLOW_REGISTRY_URI", raising=False)
        frame = load_breast_cancer(as_frame=True).frame.iloc[:, [*range(8), -1]]
        frame = frame.rename(columns=lambda c: c.replace(" ", "_"))
        train = frame.sample(frac=0.6, random_state=0)
        test = frame.drop(train.index)
        train.to_csv(d / "train.csv", index=False)
        test.to_csv(d / "test.csv", index=False)
        X, y = train.drop(columns="target"), train["target"]
        sk = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
        xg = xgb.XGBClassifier(n_estimators=10, max_depth=2).fit(X, y)
        lg = lgb.train({"objective": "binary", "verbose": -1}, lgb.Dataset(X, y), 10)
        mlflow.sklearn.save_model(sk, d / "sk_skops", pip_requirements=REQS)
        mlflow.sklearn.save_model(
            sk, d / "sk_pickle", serialization_format="cloudpickle", pip_requirements=REQS
        )
        mlflow.xgboost.save_model(xg, d / "xgb", pip_requirements=REQS)
        mlflow.lightgbm.save_model(lg, d / "lgb", pip_requirements=REQS)
        mlflow.pyfunc.save_model(d / "pyfunc", python_model=_Always(), pip_requirements=REQS)
        with mlflow.start_run() as run:
            mlflow.sklearn.log_model(
                sk, name="model", registered_model_name="cancer", pip_requirements=REQS
            )
        models = {"sk_skops": sk, "sk_pickle": sk, "xgb": xg, "lgb": lg}
        yield {"dir": d, "env": env, "run_id": run.info.run_id, "models": models, "test": test}


def _audit(store, model, *extra, env=None):
    d = store["dir"]
    out = d / f"out_{str(model).replace('/', '_').replace(':', '')}_{len(extra)}"
    result = run_cli(
        "audit", "--test", d / "test.csv", "--train", d / "train.csv", "--target", "target",
        "--model", model, "--check", "evaluation.performance", "--n-bootstrap", "50",
        "--out", out, *extra, env=env,
    )  # fmt: skip
    return result, out


def _accuracy(out) -> float:
    report = json.loads((out / "report.json").read_text())
    return next(c for c in report["checks"] if c["id"] == "evaluation.performance")["metrics"][
        "accuracy"
    ]


@pytest.mark.parametrize(
    ("name", "kind"), [("sk_skops", "skops"), ("xgb", "xgboost"), ("lgb", "lightgbm")]
)
def test_model_directory_audited_without_trust(store, name, kind):
    result, out = _audit(store, store["dir"] / name)
    assert result.exit_code == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["inputs"]["model"]["kind"] == kind
    X, y = store["test"].drop(columns="target"), store["test"]["target"]
    own = store["models"][name].predict(X)
    own = (np.asarray(own) > 0.5).astype(int) if name == "lgb" else own  # a Booster gives p
    assert _accuracy(out) == pytest.approx(accuracy_score(y, own), abs=1e-9)


def test_pickled_sklearn_flavour_needs_trust(store):
    result, _ = _audit(store, store["dir"] / "sk_pickle")
    line = one_line_error(result)
    assert "cloudpickle" in line and "--trust-model" in line and "skops" in line
    trusted, out = _audit(store, store["dir"] / "sk_pickle", "--trust-model")
    assert trusted.exit_code == 0, trusted.stderr
    assert _accuracy(out) > 0.85


def test_pyfunc_only_needs_trust(store):
    result, _ = _audit(store, store["dir"] / "pyfunc")
    line = one_line_error(result)
    assert "python_function" in line and "--trust-model" in line


def test_registry_and_run_uris_from_a_file_store(store):
    for uri in ("models:/cancer/1", f"runs:/{store['run_id']}/model"):
        result, out = _audit(store, uri)
        assert result.exit_code == 0, result.stderr
        assert json.loads((out / "report.json").read_text())["inputs"]["model"]["path"] == uri
    missing, _ = _audit(store, "models:/no_such_model/1")
    assert "could not be found" in one_line_error(missing)


def test_uri_needs_a_local_store(store):
    result, _ = _audit(store, "models:/cancer/1", env={"MLFLOW_TRACKING_URI": "http://127.0.0.1:9"})
    assert "not a local file store" in one_line_error(result)


def _evaluate(store, model, tag):
    test = store["test"]
    with mlflow.start_run(run_name=tag) as run:
        mlflow.models.evaluate(
            model,
            test,
            targets="target",
            model_type="classifier",
            evaluators=["assay"],
            evaluator_config={"assay": {"n_bootstrap": 50, "include": ["evaluation.performance"]}},
        )
    client = mlflow.tracking.MlflowClient()
    return client, run.info.run_id, client.get_run(run.info.run_id).data.metrics


def test_evaluator_logs_report_and_metrics_with_intervals(store, tmp_path):
    assert os.environ["MLFLOW_TRACKING_URI"] == store["env"]["MLFLOW_TRACKING_URI"]
    client, run_id, metrics = _evaluate(store, f"runs:/{store['run_id']}/model", "good")
    names = {a.path for a in client.list_artifacts(run_id, "assay")}
    assert names == {"assay/report.json", "assay/report.html", "assay/model_card.md"}
    local = client.download_artifacts(run_id, "assay", str(tmp_path))
    report = json.loads(Path(local, "report.json").read_text())
    perf = next(c for c in report["checks"] if c["id"] == "evaluation.performance")["metrics"]
    assert metrics["assay.accuracy"] == pytest.approx(perf["accuracy"])
    assert (
        metrics["assay.accuracy_low"] <= metrics["assay.accuracy"] <= metrics["assay.accuracy_high"]
    )
    assert metrics["assay.roc_auc_low"] > 0.9 and metrics["assay.gate_failed"] == 0
    assert "Model card" in Path(local, "model_card.md").read_text()


def test_evaluator_reports_a_useless_model(store):
    # Planted: a model that predicts one class for every row (the pyfunc above).
    _, _, metrics = _evaluate(store, str(store["dir"] / "pyfunc"), "useless")
    y = store["test"]["target"]
    assert metrics["assay.accuracy"] == pytest.approx(float(np.mean(y == 1)))
    assert metrics["assay.balanced_accuracy_high"] < 0.6


def test_evaluator_on_a_prediction_column(store):
    # No model: mlflow.evaluate(predictions=...) hands the evaluator the predictions.
    test = store["test"].copy()
    test["pred"] = np.where(test["mean_radius"] > 15, 0, 1)  # a crude rule: planted errors
    with mlflow.start_run() as run:
        mlflow.models.evaluate(
            data=test,
            targets="target",
            predictions="pred",
            model_type="classifier",
            evaluators=["assay"],
            evaluator_config={"assay": {"n_bootstrap": 50, "include": ["evaluation.performance"]}},
        )
    metrics = mlflow.tracking.MlflowClient().get_run(run.info.run_id).data.metrics
    assert metrics["assay.accuracy"] == pytest.approx(accuracy_score(test["target"], test["pred"]))
    assert metrics["assay.accuracy_high"] < 0.95


def test_mlmodel_pointing_outside_its_directory_is_refused(store, tmp_path):
    import shutil

    crafted = tmp_path / "crafted"
    shutil.copytree(store["dir"] / "xgb", crafted)
    secret = tmp_path / "outside.ubj"
    shutil.copy(crafted / "model.ubj", secret)  # a real model file, but outside the folder
    mlmodel = (crafted / "MLmodel").read_text()
    (crafted / "MLmodel").write_text(mlmodel.replace("data: model.ubj", "data: ../outside.ubj"))
    result, _ = _audit(store, crafted)
    assert "outside the model directory" in one_line_error(result)
    (crafted / "MLmodel").write_text(mlmodel)  # the same folder, untouched, loads
    result, _ = _audit(store, crafted)
    assert result.exit_code == 0, result.stderr
