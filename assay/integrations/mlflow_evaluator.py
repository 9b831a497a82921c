"""Assay as an MLflow model evaluator: ``mlflow.evaluate(..., evaluators=["assay"])``.

Registered through MLflow's ``mlflow.model_evaluator`` entry point group (see
``pyproject.toml``). It runs an Assay audit on the evaluation data and logs to
the run:

- artifacts ``assay/report.json``, ``assay/report.html`` and ``assay/model_card.md``;
- metrics ``assay.<metric>`` with ``assay.<metric>_low`` / ``_high`` (the
  confidence interval) for every headline metric of ``evaluation.performance``,
  and ``assay.checks_fail``, ``assay.checks_warn``, ``assay.gate_failed``.

``evaluator_config`` takes the fields of :class:`assay.AuditConfig` (for example
``sensitive``, ``n_bootstrap``, ``include``, ``exclude``, ``thresholds``) and
``train`` (a pandas or Polars frame with the target, for the checks that need it).
The model is the one MLflow loaded; when MLflow exposes the underlying
estimator (``get_raw_model``) Assay audits it directly, so classifiers keep
their probabilities.

Example
-------
>>> AssayEvaluator.can_evaluate(model_type="classifier", evaluator_config={})
True
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from mlflow.models.evaluation.base import EvaluationResult, ModelEvaluator

__all__ = ["ARTIFACTS", "AssayEvaluator"]

ARTIFACTS = ("report.json", "report.html", "model_card.md")
"""Files of the audit logged under the run's ``assay/`` artifact folder."""

_TASKS = {"classifier": None, "regressor": "regression"}
_CONFIG_ONLY = ("target", "task", "prediction")


def _frame(dataset: Any) -> tuple[pd.DataFrame, str]:
    """The evaluation data as one frame with the target (and predictions) as columns."""
    features = dataset.features_data
    if not isinstance(features, pd.DataFrame):
        features = pd.DataFrame(np.asarray(features), columns=list(dataset.feature_names))
    frame = features.reset_index(drop=True).copy()
    target = dataset.targets_name or "target"
    if dataset.has_targets:
        frame[target] = np.asarray(dataset.labels_data)
    if dataset.has_predictions:
        frame[dataset.predictions_name or "prediction"] = np.asarray(dataset.predictions_data)
    return frame, target


def _model(model: Any) -> Any:
    """The estimator behind a pyfunc model where MLflow exposes it, else the pyfunc."""
    if model is None:
        return None
    try:
        raw = model.get_raw_model()
    except Exception:
        raw = None
    if raw is not None and hasattr(raw, "predict"):
        return raw
    from assay.io._mlflow import _PyfuncModel

    return _PyfuncModel(model)


def _finite(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and np.isfinite(v) else None


def headline_metrics(report: dict[str, Any]) -> dict[str, float]:
    """``assay.*`` metrics from a report: test-set metrics with intervals, and counts."""
    out: dict[str, float] = {}
    perf = next((c for c in report["checks"] if c["id"] == "evaluation.performance"), None)
    metrics = (perf or {}).get("metrics") or {}
    for name in metrics:
        if name.startswith("train_") or name.endswith(("_low", "_high")):
            continue
        v, low, high = (_finite(metrics.get(k)) for k in (name, f"{name}_low", f"{name}_high"))
        if v is None or low is None or high is None:
            continue
        out[f"assay.{name}"] = v
        out[f"assay.{name}_low"] = low
        out[f"assay.{name}_high"] = high
    summary = report.get("summary", {})
    out["assay.checks_fail"] = float(summary.get("fail", 0))
    out["assay.checks_warn"] = float(summary.get("warn", 0))
    out["assay.gate_failed"] = float(bool((report.get("gate") or {}).get("failed", False)))
    return out


class AssayEvaluator(ModelEvaluator):
    """Runs an Assay audit inside ``mlflow.evaluate`` and logs its report and metrics."""

    name = "assay"

    @classmethod
    def can_evaluate(cls, *, model_type: str, evaluator_config: Any, **kwargs: Any) -> bool:
        return model_type in _TASKS

    def evaluate(
        self,
        *,
        model_type: str,
        dataset: Any,
        run_id: str,
        evaluator_config: dict[str, Any] | None,
        model: Any = None,
        extra_metrics: Any = None,
        custom_artifacts: Any = None,
        predictions: Any = None,
        **kwargs: Any,
    ) -> EvaluationResult:
        import json

        from mlflow.entities import Metric
        from mlflow.models.evaluation.artifacts import (
            JsonEvaluationArtifact,
            TextEvaluationArtifact,
        )
        from mlflow.tracking import MlflowClient

        import assay

        config = dict(evaluator_config or {})
        train = config.pop("train", None)
        for key in _CONFIG_ONLY:
            config.pop(key, None)  # taken from mlflow.evaluate's own arguments
        test, target = _frame(dataset)
        estimator = _model(model)
        prediction = None
        if estimator is None and dataset.has_predictions:
            prediction = dataset.predictions_name or "prediction"
        result = assay.audit(
            train=train,
            test=test,
            target=target,
            model=estimator,
            prediction=prediction,
            config=config,
            task=_TASKS[model_type],
        )
        client = MlflowClient()
        artifacts: dict[str, Any] = {}
        with tempfile.TemporaryDirectory(prefix="assay-mlflow-") as tmp:
            written = result.save(tmp)
            for name in ARTIFACTS:
                path = Path(written.get(name, Path(tmp) / name))
                client.log_artifact(run_id, str(path), artifact_path="assay")
                uri = f"{client.get_run(run_id).info.artifact_uri}/assay/{name}"
                kind = JsonEvaluationArtifact if name.endswith(".json") else TextEvaluationArtifact
                content = path.read_text(encoding="utf-8")
                artifacts[f"assay_{Path(name).stem}"] = kind(
                    uri=uri, content=json.loads(content) if name.endswith(".json") else content
                )
            report = json.loads((Path(tmp) / "report.json").read_text(encoding="utf-8"))
        metrics = headline_metrics(report)
        now = int(time.time() * 1000)
        client.log_batch(run_id, metrics=[Metric(k, v, now, 0) for k, v in metrics.items()])
        return EvaluationResult(metrics=metrics, artifacts=artifacts, run_id=run_id)
