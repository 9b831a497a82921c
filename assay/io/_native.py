"""Gradient-boosting models in their libraries' own file formats: no pickle.

XGBoost (``.json``, ``.ubj``), LightGBM (a ``.txt`` model file) and CatBoost
(``.cbm``) are parsed by the library's own loader, which rebuilds trees from
numbers and runs no code from the file. Each library is an optional extra.

The task (binary, multiclass, regression), the classes and the feature names
are read from the file where it holds them and checked against the audit's
data: a missing column, a column count that does not match a model trained
without names, or a class the model never predicts is a one-line error.

Example
-------
>>> NATIVE_SUFFIXES[".cbm"]
'catboost'
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import polars as pl

from assay.errors import MissingExtraError, ModelError, SchemaError
from assay.io.models import ModelAdapter, Prediction

__all__ = ["NATIVE_SUFFIXES", "BoosterInfo", "NativeAdapter", "load_native"]

NATIVE_SUFFIXES = {".json": "xgboost", ".ubj": "xgboost", ".txt": "lightgbm", ".cbm": "catboost"}
"""File suffix → the library whose own loader reads it."""

Task = Literal["binary", "multiclass", "regression"]

_XGB_TASKS: dict[str, Task] = {
    "binary:logistic": "binary",
    "binary:logitraw": "binary",
    "multi:softprob": "multiclass",
    "multi:softmax": "multiclass",
}
_XGB_REGRESSION = ("reg:", "count:poisson")
_LGB_TASKS: dict[str, Task] = {
    "binary": "binary",
    "cross_entropy": "binary",
    "xentropy": "binary",
    "multiclass": "multiclass",
    "softmax": "multiclass",
    "multiclassova": "multiclass",
    "multiclass_ova": "multiclass",
    "ova": "multiclass",
    "ovr": "multiclass",
}
_LGB_REGRESSION = {
    "regression", "regression_l2", "l2", "mean_squared_error", "mse", "l2_root", "rmse",
    "root_mean_squared_error", "regression_l1", "l1", "mae", "mean_absolute_error", "huber",
    "fair", "poisson", "quantile", "mape", "mean_absolute_percentage_error", "gamma", "tweedie",
}  # fmt: skip
_CB_TASKS: dict[str, Task] = {
    "Logloss": "binary",
    "CrossEntropy": "binary",
    "MultiClass": "multiclass",
    "MultiClassOneVsAll": "multiclass",
}
_CB_REGRESSION = {
    "RMSE", "MAE", "Quantile", "MAPE", "Poisson", "Tweedie", "Huber", "Expectile", "Lq",
    "LogLinQuantile", "LogCosh", "Cox", "Fair", "SMAPE", "R2", "MSLE", "MedianAbsoluteError",
}  # fmt: skip
_CB_EXPONENT = {"Poisson", "Tweedie"}
"""CatBoost losses whose prediction is exp(raw score)."""

_GENERIC_NAMES = {
    "xgboost": re.compile(r"f\d+"),
    "lightgbm": re.compile(r"Column_\d+"),
    "catboost": re.compile(r"\d+"),
}
"""Names a library makes up when the model was trained on an array without names."""


@dataclass(frozen=True)
class BoosterInfo:
    """What a native model file says about itself."""

    library: str
    objective: str
    task: Task
    classes: tuple[Any, ...] | None
    feature_names: tuple[str, ...] | None
    """``None`` when the model was trained without names (columns are taken by position)."""
    n_features: int
    categorical: tuple[int, ...] = ()
    """Positions of categorical features (CatBoost)."""


def _unsupported(p: Path, library: str, objective: str) -> ModelError:
    return ModelError(
        f"model file {p} is a {library} model with objective {objective!r}, which Assay "
        "cannot audit (it audits binary, multiclass and regression models)"
    )


def _generic(library: str, names: list[str] | None) -> bool:
    pattern = _GENERIC_NAMES[library]
    return not names or all(pattern.fullmatch(n) for n in names)


class NativeModel:
    """A loaded booster with scikit-learn's ``predict`` / ``predict_proba`` on a pandas frame."""

    def __init__(self, booster: Any, info: BoosterInfo) -> None:
        self.booster = booster
        self.info = info
        if info.feature_names is not None:
            self.feature_names_in_ = np.asarray(info.feature_names, dtype=object)

    def _input(self, X: pd.DataFrame) -> Any:
        info = self.info
        if info.feature_names is not None:
            X = X[list(info.feature_names)]
        if X.shape[1] != info.n_features:
            raise ModelError(
                f"the {info.library} model takes {info.n_features} features, got {X.shape[1]}"
            )
        if info.library == "catboost":
            X = X.copy()
            for i in info.categorical:
                name = X.columns[i]
                X[name] = X[name].astype(object).where(X[name].notna(), "nan").astype(str)
            return X if info.feature_names is not None else X.to_numpy(dtype=object)
        if info.library == "lightgbm":
            text = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
            if text:
                X = X.astype({c: "category" for c in text})
            return X if info.feature_names is not None else X.to_numpy(dtype=float)
        text = [str(c) for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
        if text:
            raise ModelError(
                f"column(s) {', '.join(text[:5])} hold text; Assay reads XGBoost models "
                "trained on numeric features only"
            )
        return X.to_numpy(dtype=np.float32)

    def _scores(self, X: pd.DataFrame) -> np.ndarray:
        """Probabilities (n, k) for a classifier, values (n,) for a regressor."""
        data = self._input(X)
        info, b = self.info, self.booster
        if info.library == "xgboost":
            import xgboost as xgb

            names = list(info.feature_names) if info.feature_names is not None else None
            dm = xgb.DMatrix(data, feature_names=names)
            if info.objective in ("binary:logitraw", "multi:softmax"):
                raw = np.asarray(b.predict(dm, output_margin=True), dtype=float)
            else:
                raw = np.asarray(b.predict(dm), dtype=float)
            if info.objective == "binary:logitraw":
                raw = 1.0 / (1.0 + np.exp(-raw))
            elif info.objective == "multi:softmax":
                raw = np.exp(raw - raw.max(axis=1, keepdims=True))
                raw /= raw.sum(axis=1, keepdims=True)
        elif info.library == "lightgbm":
            raw = np.asarray(b.predict(data), dtype=float)
        elif info.task == "regression":
            kind = "Exponent" if info.objective in _CB_EXPONENT else "RawFormulaVal"
            raw = np.asarray(b.predict(data, prediction_type=kind), dtype=float)
        else:
            raw = np.asarray(b.predict(data, prediction_type="Probability"), dtype=float)
        if info.task == "regression":
            return raw.reshape(-1)
        if raw.ndim == 1:
            raw = np.column_stack([1.0 - raw, raw])
        return raw

    def onnx_proto(self) -> Any:
        """The model as an ONNX graph made by the library's own exporter.

        XGBoost and LightGBM go through onnxmltools, CatBoost through its own
        ``save_model(format="onnx")``. The graph takes one float32 matrix ``X`` (the
        features in the model's order) and returns labels, then probabilities for a
        classifier. Raises ``ValueError`` for what the exporters cannot express.
        """
        info = self.info
        if info.categorical or (info.library == "lightgbm" and self._lgb_categorical()):
            raise ValueError("the exporters do not write the categorical features of the model")
        if info.classes is not None and list(info.classes) != list(range(len(info.classes))):
            raise ValueError(
                "the ONNX graph labels classes by position, but this model's classes are "
                f"{_list(info.classes)}"
            )
        if info.library == "catboost":
            proto = self._catboost_onnx()
        else:
            import onnxmltools
            from onnxmltools.convert.common.data_types import FloatTensorType

            initial = [("X", FloatTensorType([None, info.n_features]))]
            if info.library == "xgboost":
                booster = self.booster.copy()  # onnxmltools reads only f0, f1, ... names
                booster.feature_names = None
                booster.feature_types = None
                proto = onnxmltools.convert_xgboost(booster, initial_types=initial)
            else:
                proto = onnxmltools.convert_lightgbm(
                    self.booster, initial_types=initial, zipmap=False
                )
        for out in proto.graph.output:  # rows: any number (some exporters write 1)
            dims = out.type.tensor_type.shape.dim
            if len(dims):
                dims[0].dim_param = "N"
        return proto

    def _lgb_categorical(self) -> bool:
        return bool(getattr(self.booster, "pandas_categorical", None))

    def _catboost_onnx(self) -> Any:
        import tempfile

        import onnx

        with tempfile.TemporaryDirectory(prefix="assay-onnx-") as tmp:
            path = Path(tmp) / "model.onnx"
            self.booster.save_model(str(path), format="onnx")
            proto = onnx.load(str(path))
        old = proto.graph.input[0].name
        proto.graph.input[0].name = "X"
        for node in proto.graph.node:
            node.input[:] = ["X" if name == old else name for name in node.input]
        return proto

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        scores = self._scores(X)
        if self.info.task == "regression":
            return scores
        return np.asarray(self.info.classes, dtype=object)[scores.argmax(axis=1)]


class NativeClassifier(NativeModel):
    """A classifying booster: ``classes_`` from the file, ``predict_proba`` in that order."""

    def __init__(self, booster: Any, info: BoosterInfo) -> None:
        super().__init__(booster, info)
        self.classes_ = np.asarray(info.classes)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self._scores(X)


def _key(v: Any) -> str:
    """A class label as text, so 1, 1.0, True and '1' from a CSV compare equal."""
    if isinstance(v, (bool, np.bool_)):
        return str(int(v))
    if isinstance(v, (int, float, np.integer, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


class NativeAdapter(ModelAdapter):
    """A native booster checked against the audit's columns, task and classes."""

    model: NativeModel

    @property
    def info(self) -> BoosterInfo:
        return self.model.info

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out.update(
            {
                "format": Path(self.path).suffix.lower() if self.path else None,
                "objective": self.info.objective,
                "task": self.info.task,
            }
        )
        return out

    def check_columns(self, X: pl.DataFrame) -> None:
        """Raise :class:`SchemaError` when ``X``'s columns do not fit the model's features."""
        info = self.info
        if info.feature_names is not None:
            missing = [n for n in info.feature_names if n not in X.columns]
            if missing:
                extra = [c for c in X.columns if c not in info.feature_names]
                raise SchemaError(
                    f"model file {self.path} expects feature column(s) {_list(missing)} that "
                    f"the data lacks" + (f"; the data has {_list(extra)} instead" if extra else "")
                )
        elif X.width != info.n_features:
            verb = "more" if X.width > info.n_features else "fewer"
            raise SchemaError(
                f"model file {self.path} was trained without feature names on "
                f"{info.n_features} columns (taken by position), but the data has {X.width} "
                f"feature columns ({verb}): {_list(X.columns, 12)}; --ignore the extra ones or "
                "give the columns the model was trained on, in its order"
            )

    def _check_task(self, classes: list[Any] | None) -> None:
        info = self.info
        if info.task == "regression" and classes is not None:
            raise ModelError(
                f"model file {self.path} is a regression model (objective {info.objective!r}) "
                "but the audit's task is classification; pass --task regression or check the "
                "target column"
            )

    def predict(self, X: pl.DataFrame, classes: list[Any] | None) -> Prediction:
        self.check_columns(X)
        self._check_task(classes)
        info = self.info
        try:
            scores = self.model._scores(X.to_pandas())
        except ModelError:
            raise
        except Exception as exc:
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(
                f"the {info.library} model from {self.path} failed to predict: {msg}"
            ) from exc
        if info.task == "regression":
            return Prediction(labels=scores)
        if classes is None:  # decisions only, in the model's own labels
            labels = np.asarray(info.classes, dtype=object)[scores.argmax(axis=1)]
            return Prediction(labels=np.asarray(labels.tolist()))
        index = {_key(c): i for i, c in enumerate(info.classes or ())}
        unknown = [c for c in classes if _key(c) not in index]
        if unknown:
            raise ModelError(
                f"model file {self.path} predicts classes {_list(info.classes or ())} but the "
                f"target holds {_list(unknown)}, which the model does not know; encode the "
                "target as the model was trained"
            )
        proba = scores[:, [index[_key(c)] for c in classes]]
        labels = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
        return Prediction(labels=np.asarray(labels.tolist()), proba=proba)


def _list(values: Any, n: int = 8) -> str:
    items = [repr(v) if isinstance(v, str) else str(v) for v in list(values)]
    more = f" and {len(items) - n} more" if len(items) > n else ""
    return ", ".join(items[:n]) + more


def _import(library: str, p: Path) -> Any:
    try:
        return __import__(library)
    except ImportError:
        raise MissingExtraError(library, library, f"loading the {library} model {p}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


# -- XGBoost -------------------------------------------------------------------------------
def _load_xgboost(p: Path) -> NativeModel:
    with open(p, "rb") as fh:
        head = fh.read(64).lstrip()
    if not head.startswith(b"{"):
        raise ModelError(
            f"model file {p} is not an XGBoost model (Assay reads {p.suffix} files as XGBoost "
            "JSON/UBJSON models saved with save_model)"
        )
    xgb = _import("xgboost", p)
    booster = xgb.Booster()
    try:
        booster.load_model(str(p))
        config = json.loads(booster.save_config())["learner"]
    except Exception as exc:
        raise ModelError(
            f"model file {p} could not be read by XGBoost: {_first_line(exc)}"
        ) from None
    objective = str(config["objective"]["name"])
    params = config.get("learner_model_param", {})
    if objective in _XGB_TASKS:
        task = _XGB_TASKS[objective]
    elif objective.startswith(_XGB_REGRESSION) and objective != "reg:logistic":
        task = "regression"
    else:
        raise _unsupported(p, "XGBoost", objective)
    if int(params.get("num_target", 1) or 1) > 1:
        raise ModelError(f"model file {p} is a multi-output XGBoost model; Assay audits one target")
    n_class = int(params.get("num_class", 0) or 0)
    classes: tuple[Any, ...] | None = None
    if task == "binary":
        classes = (0, 1)
    elif task == "multiclass":
        classes = tuple(range(n_class))
    names = booster.feature_names
    info = BoosterInfo(
        library="xgboost",
        objective=objective,
        task=task,
        classes=classes,
        feature_names=None if _generic("xgboost", names) else tuple(names),
        n_features=int(booster.num_features()),
    )
    return _model(booster, info)


# -- LightGBM ------------------------------------------------------------------------------
def _lightgbm_header(p: Path) -> dict[str, str]:
    """The ``key=value`` lines before the first tree of a LightGBM model file."""
    header: dict[str, str] = {}
    with open(p, encoding="utf-8", errors="replace") as fh:
        first = fh.readline().strip()
        if first != "tree":
            raise ModelError(
                f"model file {p} is not a LightGBM model file (its first line is not 'tree'; "
                "save one with Booster.save_model)"
            )
        for line in fh:
            line = line.strip()
            if line.startswith("Tree=") or line == "end of trees":
                break
            key, sep, value = line.partition("=")
            if sep:
                header[key] = value
    return header


def _load_lightgbm(p: Path) -> NativeModel:
    header = _lightgbm_header(p)
    objective = header.get("objective", "").split(" ")[0]
    if objective in _LGB_TASKS:
        task = _LGB_TASKS[objective]
    elif objective in _LGB_REGRESSION:
        task = "regression"
    else:
        raise _unsupported(p, "LightGBM", objective or "(none)")
    lgb = _import("lightgbm", p)
    try:
        booster = lgb.Booster(model_file=str(p))
    except Exception as exc:
        raise ModelError(
            f"model file {p} could not be read by LightGBM: {_first_line(exc)}"
        ) from None
    n_class = int(header.get("num_class", "1") or 1)
    classes: tuple[Any, ...] | None = None
    if task == "binary":
        classes = (0, 1)
    elif task == "multiclass":
        classes = tuple(range(n_class))
    names = booster.feature_name()
    info = BoosterInfo(
        library="lightgbm",
        objective=objective,
        task=task,
        classes=classes,
        feature_names=None if _generic("lightgbm", names) else tuple(names),
        n_features=int(booster.num_feature()),
    )
    return _model(booster, info)


# -- CatBoost ------------------------------------------------------------------------------
def _load_catboost(p: Path) -> NativeModel:
    with open(p, "rb") as fh:
        if fh.read(4) != b"CBM1":
            raise ModelError(
                f"model file {p} is not a CatBoost model (a .cbm file starts with 'CBM1'; "
                "save one with save_model(..., format='cbm'))"
            )
    cb = _import("catboost", p)
    model = cb.CatBoost()
    try:
        model.load_model(str(p), format="cbm")
        objective = str(model.get_all_params().get("loss_function", "")).split(":")[0]
    except Exception as exc:
        raise ModelError(
            f"model file {p} could not be read by CatBoost: {_first_line(exc)}"
        ) from None
    if objective in _CB_TASKS:
        task = _CB_TASKS[objective]
    elif objective in _CB_REGRESSION:
        task = "regression"
    else:
        raise _unsupported(p, "CatBoost", objective or "(none)")
    classes: tuple[Any, ...] | None = None
    if task != "regression":
        found = getattr(model, "classes_", None)
        classes = tuple(np.asarray(found).tolist()) if found is not None and len(found) else None
        if classes is None:
            n = 2 if task == "binary" else int(model.get_all_params().get("classes_count", 0))
            classes = tuple(range(n))
    names = [str(n) for n in (model.feature_names_ or [])]
    info = BoosterInfo(
        library="catboost",
        objective=objective,
        task=task,
        classes=classes,
        feature_names=None if _generic("catboost", names) else tuple(names),
        n_features=len(names),
        categorical=tuple(int(i) for i in model.get_cat_feature_indices()),
    )
    return _model(model, info)


def _model(booster: Any, info: BoosterInfo) -> NativeModel:
    return (
        NativeModel(booster, info) if info.task == "regression" else NativeClassifier(booster, info)
    )


_LOADERS = {"xgboost": _load_xgboost, "lightgbm": _load_lightgbm, "catboost": _load_catboost}


def load_native(path: str | Path) -> NativeAdapter:
    """Load an XGBoost, LightGBM or CatBoost model file with the library's own loader.

    Raises
    ------
    MissingExtraError
        When the library is not installed (names the extra to install).
    ModelError
        When the file is not a model of that library, or its objective is not
        binary, multiclass or regression.
    """
    p = Path(path)
    library = NATIVE_SUFFIXES[p.suffix.lower()]
    return NativeAdapter(_LOADERS[library](p), kind=library, path=str(p))
