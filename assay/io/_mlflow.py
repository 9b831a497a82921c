"""MLflow models: a model directory (it holds an ``MLmodel`` file), or a
``models:/name/version`` / ``runs:/run_id/path`` URI read from a local file store.

Each flavour is loaded through the safe path for its files, never through
MLflow's own loader (which unpickles):

- ``sklearn`` saved with skops: Assay's skops loader and its reviewed allow-list;
  saved as pickle or cloudpickle: only with ``trust_model`` (unpickling runs code);
- ``xgboost``, ``lightgbm`` (a Booster), ``catboost``: the library's own model
  file (:mod:`assay.io._native`); a LightGBM scikit-learn model is stored like
  the sklearn flavour (skops or pickle) and loaded the same way;
- ``python_function`` only: only with ``trust_model`` (loading it runs the
  model's Python code).

Example
-------
>>> is_mlflow_uri("models:/churn/3"), is_mlflow_uri("model.skops")
(True, False)
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.parse
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from assay.errors import InputError, MissingExtraError, ModelError, UntrustedModelError
from assay.io.models import ModelAdapter, TrustWarning, load_model, wrap_model

__all__ = ["is_mlflow_uri", "load_mlflow"]

_URI_PREFIXES = ("models:/", "runs:/")
_NATIVE_FILES = {"xgboost": "xgboost", "catboost": "catboost"}


def is_mlflow_uri(value: str) -> bool:
    """Whether ``value`` is a ``models:/`` or ``runs:/`` URI."""
    return str(value).startswith(_URI_PREFIXES)


def _require_local_store(uri: str) -> None:
    """Refuse a URI unless the tracking (and registry) store is a local file store."""
    tracking = os.environ.get("MLFLOW_TRACKING_URI", "")
    if not tracking:
        raise InputError(
            f"--model {uri} is an MLflow URI but MLFLOW_TRACKING_URI is not set; set it to "
            "a local file store (e.g. file:///path/to/mlruns) or give the model directory"
        )
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
        value = os.environ.get(name, "")
        if value and urllib.parse.urlparse(value).scheme not in ("", "file"):
            raise InputError(
                f"--model {uri}: {name}={value} is not a local file store; Assay reads MLflow "
                "URIs from file:// stores only (no network). Download the model directory "
                "and give its path"
            )


def _import_mlflow(what: str) -> Any:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # no network at run time
    try:
        import mlflow
    except ImportError:
        raise MissingExtraError("mlflow-skinny", "mlflow", what) from None
    return mlflow


def _download(uri: str, dst: str) -> Path:
    _require_local_store(uri)
    # MLflow 3 refuses file stores unless told; reading one is what was asked for here.
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # one-line errors
    mlflow = _import_mlflow(f"reading the MLflow model {uri}")
    try:
        local = mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=dst)
    except Exception as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"MLflow model {uri} could not be found in the store: {msg}") from None
    return Path(local)


def _read_mlmodel(folder: Path, uri: str) -> dict[str, Any]:
    import yaml

    path = folder / "MLmodel"
    if not path.is_file():
        raise ModelError(f"MLflow model {uri} has no MLmodel file; give an MLflow model directory")
    try:
        meta = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ModelError(f"the MLmodel file of {uri} is not readable YAML ({exc})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("flavors"), dict):
        raise ModelError(f"the MLmodel file of {uri} has no 'flavors' mapping")
    return meta


def _data_file(folder: Path, flavor: dict[str, Any], key: str, uri: str) -> Path:
    """The flavour's model file, which must lie inside the model directory."""
    from assay.io.paths import UnsafePathError, safe_path

    name = flavor.get(key)
    if not isinstance(name, str) or not name:
        raise ModelError(f"the MLmodel file of {uri} names no model file ({key!r})")
    try:
        return safe_path(name, folder, must_exist=True)
    except UnsafePathError as exc:
        raise UntrustedModelError(
            f"the MLmodel file of {uri} points outside the model directory ({exc})"
        ) from None
    except InputError as exc:
        raise ModelError(f"MLflow model {uri}: {exc}") from None


def _sklearn_file(folder: Path, flavor: dict[str, Any], uri: str, trust_model: bool) -> Any:
    """A scikit-learn-API model stored by the sklearn (or lightgbm) flavour."""
    path = _data_file(folder, flavor, "pickled_model", uri)
    fmt = str(flavor.get("serialization_format", "cloudpickle"))
    if fmt == "skops" or path.suffix.lower() == ".skops":
        return load_model(path, trust_model=trust_model)
    if not trust_model:
        raise UntrustedModelError(
            f"MLflow model {uri} stores its model as {fmt} ({path.name}), which runs code when "
            "loaded; log it with serialization_format='skops', or pass --trust-model if you "
            "trust its source"
        )
    renamed = path.with_suffix(".pkl")  # load_model unpickles only files named as pickles
    if renamed != path:
        shutil.copyfile(path, renamed)
    return load_model(renamed, trust_model=True)


class _PyfuncModel:
    """An MLflow pyfunc model with ``predict`` on a pandas frame (labels or values only)."""

    def __init__(self, model: Any) -> None:
        self.pyfunc = model

    def predict(self, X: Any) -> np.ndarray:
        out = self.pyfunc.predict(X)
        values = out.to_numpy() if hasattr(out, "to_numpy") else np.asarray(out)
        return values.reshape(values.shape[0], -1)[:, 0] if values.ndim > 1 else values


def _load_pyfunc(folder: Path, uri: str, trust_model: bool) -> ModelAdapter:
    if not trust_model:
        raise UntrustedModelError(
            f"MLflow model {uri} has only the python_function flavour: loading it runs the "
            "model's Python code (and unpickles it); pass --trust-model if you trust its source"
        )
    mlflow = _import_mlflow(f"loading the MLflow pyfunc model {uri}")
    warnings.warn(f"loading {uri} with mlflow.pyfunc: this runs its code", TrustWarning, 2)
    try:
        model = mlflow.pyfunc.load_model(str(folder))
    except Exception as exc:
        raise ModelError(
            f"MLflow model {uri} could not be loaded by mlflow.pyfunc: {exc}"
        ) from None
    try:
        raw = model.get_raw_model()
    except Exception:
        raw = None
    if raw is not None and hasattr(raw, "predict"):
        return wrap_model(raw)
    return ModelAdapter(_PyfuncModel(model), kind="mlflow-pyfunc")


def _load_folder(folder: Path, uri: str, trust_model: bool) -> ModelAdapter:
    from assay.io._native import _LOADERS, NativeAdapter

    flavors = _read_mlmodel(folder, uri)["flavors"]
    if "sklearn" in flavors:
        return _sklearn_file(folder, flavors["sklearn"], uri, trust_model)
    for name, library in _NATIVE_FILES.items():
        if name in flavors:
            path = _data_file(folder, flavors[name], "data", uri)
            return NativeAdapter(_LOADERS[library](path), kind=library, path=uri)
    if "lightgbm" in flavors:
        flavor = flavors["lightgbm"]
        if "pickled_model" in flavor or str(flavor.get("data", "")).endswith((".pkl", ".skops")):
            flavor = {"pickled_model": flavor.get("pickled_model", flavor.get("data")), **flavor}
            return _sklearn_file(folder, flavor, uri, trust_model)
        path = _data_file(folder, flavor, "data", uri)
        return NativeAdapter(_LOADERS["lightgbm"](path), kind="lightgbm", path=uri)
    if "python_function" in flavors:
        return _load_pyfunc(folder, uri, trust_model)
    raise ModelError(
        f"MLflow model {uri} has flavour(s) {', '.join(map(str, flavors))}, none of which Assay "
        "reads (sklearn, xgboost, lightgbm, catboost, or python_function with --trust-model)"
    )


def load_mlflow(uri: str, *, trust_model: bool = False) -> ModelAdapter:
    """Load an MLflow model directory or ``models:/`` / ``runs:/`` URI (local store only).

    Raises
    ------
    UntrustedModelError
        For a pickled sklearn model or a pyfunc-only model without ``trust_model``.
    InputError
        For a URI when ``MLFLOW_TRACKING_URI`` is unset or not a local file store.
    """
    tmp = tempfile.mkdtemp(prefix="assay-mlflow-")
    try:
        if is_mlflow_uri(uri):
            folder = _download(uri, tmp)
        else:
            folder = Path(tmp) / "model"  # a copy: a pickle is renamed before loading
            shutil.copytree(uri, folder, symlinks=True)
        adapter = _load_folder(folder, uri, trust_model)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    adapter.path = uri
    return adapter
