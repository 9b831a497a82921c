"""Convert a scikit-learn model to ONNX and quantize it (skl2onnx, onnxmltools, ONNX Runtime).

Everything here is imported lazily: ``import assay`` pulls in none of these
libraries. A model that cannot be converted raises :class:`ConversionError`
with a one-line reason, which the quantization check turns into a skip.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from assay.core.registry import SkipCheck, extra_skip_reason, require_extra

ML_OPSET = 3
"""``ai.onnx.ml`` opset targeted: the newest onnxmltools' LightGBM converter writes."""


class ConversionError(Exception):
    """The model could not be turned into a working ONNX graph."""


def _parts(model: Any) -> Iterator[Any]:
    """The model and every estimator nested in its pipelines and column transformers."""
    yield model
    for _, step in getattr(model, "steps", []) or []:
        yield from _parts(step)
    for item in getattr(model, "transformers_", []) or []:
        if len(item) >= 2 and not isinstance(item[1], str):
            yield from _parts(item[1])


def final_estimator(model: Any) -> Any:
    steps = getattr(model, "steps", None)
    return final_estimator(steps[-1][1]) if steps else model


def _register_boosting_converters(model: Any) -> None:
    """Register onnxmltools' LightGBM / XGBoost converters with skl2onnx where needed."""
    modules = {type(p).__module__.split(".")[0] for p in _parts(model)}
    wanted = modules & {"lightgbm", "xgboost"}
    if not wanted:
        return
    require_extra("efficiency")  # onnxmltools, for these models only
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )

    cls_opts = {"nocl": [True, False], "zipmap": [True, False, "columns"]}
    if "lightgbm" in wanted:
        import lightgbm
        from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm

        update_registered_converter(
            lightgbm.LGBMClassifier,
            "LightGbmLGBMClassifier",
            calculate_linear_classifier_output_shapes,
            convert_lightgbm,
            options=cls_opts,
        )
        update_registered_converter(
            lightgbm.LGBMRegressor,
            "LightGbmLGBMRegressor",
            calculate_linear_regressor_output_shapes,
            convert_lightgbm,
            options={"split": None},
        )
    if "xgboost" in wanted:
        import xgboost
        from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost

        update_registered_converter(
            xgboost.XGBClassifier,
            "XGBoostXGBClassifier",
            calculate_linear_classifier_output_shapes,
            convert_xgboost,
            options=cls_opts,
        )
        update_registered_converter(
            xgboost.XGBRegressor,
            "XGBoostXGBRegressor",
            calculate_linear_regressor_output_shapes,
            convert_xgboost,
        )


class _IntAttributes:
    """A converter container that writes boolean list attributes as integers.

    skl2onnx's HistGradientBoosting converter passes NumPy booleans in an
    integer attribute (``nodes_missing_value_tracks_true``), which recent
    protobuf refuses; ONNX stores them as 0/1 integers anyway.
    """

    def __init__(self, container: Any) -> None:
        self._container = container

    def __getattr__(self, name: str) -> Any:
        return getattr(self._container, name)

    def add_node(self, *args: Any, **attrs: Any) -> Any:
        for k, v in attrs.items():
            if isinstance(v, list) and any(isinstance(x, (bool, np.bool_)) for x in v):
                attrs[k] = [int(x) for x in v]
        return self._container.add_node(*args, **attrs)


def _hist_gradient_boosting_converters(model: Any) -> dict[Any, Any]:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    found = [
        p
        for p in _parts(model)
        if isinstance(p, (HistGradientBoostingClassifier, HistGradientBoostingRegressor))
    ]
    if not found:
        return {}
    for p in found:
        categorical = getattr(p, "is_categorical_", None)
        if categorical is not None and np.any(categorical):
            raise ConversionError(
                "skl2onnx does not convert the categorical splits of "
                f"{type(p).__name__} (categorical_features): the ONNX graph would ignore them"
            )
    from skl2onnx._supported_operators import sklearn_operator_name_map
    from skl2onnx.common._registration import get_converter

    out = {}
    for cls in {type(p) for p in found}:
        original = get_converter(sklearn_operator_name_map[cls])

        def convert(scope: Any, operator: Any, container: Any, _orig: Any = original) -> Any:
            return _orig(scope, operator, _IntAttributes(container))

        out[cls] = convert
    return out


def _kind(s: pd.Series) -> str:
    dtype = s.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "float"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_numeric_dtype(dtype):
        return "float"
    return "string"


@dataclass
class OnnxModel:
    """A converted graph and how to feed it from a pandas frame."""

    proto: Any
    mode: str  # "matrix": one float tensor; "columns": one input per column
    columns: list[str]
    kinds: dict[str, str]

    def feed(self, X: pd.DataFrame) -> dict[str, np.ndarray]:
        if self.mode == "matrix":
            return {"X": X[self.columns].to_numpy(dtype=np.float32)}
        feed = {}
        for c in self.columns:
            s = X[c]
            kind = self.kinds[c]
            if kind == "string":
                arr = s.astype(object).where(s.notna(), "").astype(str).to_numpy()
            elif kind == "int":
                arr = s.to_numpy(dtype=np.int64)
            else:
                arr = s.to_numpy(dtype=np.float32, na_value=np.nan)
            feed[c] = arr.reshape(-1, 1)
        return feed

    def session(self) -> Any:
        return session_of(self.proto)

    @property
    def size_bytes(self) -> int:
        return self.proto.ByteSize()


def session_of(proto: Any) -> Any:
    """An ONNX Runtime CPU session on one thread (see :mod:`._timing`)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(
        proto.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


def _first_line(exc: BaseException) -> str:
    """The first line of an error, short and without a final full stop."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = text if len(text) <= 200 else text[:197] + "..."
    return text.rstrip(".") if not text.endswith("...") else text


def convert(model: Any, X: pd.DataFrame, *, classifier: bool) -> OnnxModel:
    """Convert ``model`` (fitted on frames like ``X``) to ONNX, probabilities as a tensor.

    Inputs are one float tensor when every column is numeric and the model
    takes a matrix, else one input per column (string, int64 or float). A native
    booster (:mod:`assay.io._native`) is exported by its own library instead.
    """
    if callable(getattr(model, "onnx_proto", None)):
        return _convert_native(model, X)
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, Int64TensorType, StringTensorType

    _register_boosting_converters(model)
    custom = _hist_gradient_boosting_converters(model)
    columns = [str(c) for c in X.columns]
    kinds = {c: _kind(X[c]) for c in columns}
    modes = ["columns"] if any(k == "string" for k in kinds.values()) else ["matrix", "columns"]
    last = final_estimator(model)
    if not classifier:
        option_sets: list[Any] = [None]
    elif hasattr(last, "predict_proba"):
        option_sets = [{id(last): {"zipmap": False}}]  # probabilities as one tensor
    else:  # decision scores only (skl2onnx's default ZipMap does not apply to them)
        option_sets = [{id(last): {"raw_scores": True}}, None]
    types = {"float": FloatTensorType, "int": Int64TensorType, "string": StringTensorType}
    problem: BaseException | None = None
    for mode in modes:
        if mode == "matrix":
            initial = [("X", FloatTensorType([None, len(columns)]))]
        else:
            initial = [(c, types[kinds[c]]([None, 1])) for c in columns]
        for options in option_sets:
            try:
                proto = convert_sklearn(
                    model,
                    initial_types=initial,
                    options=options,
                    target_opset={"": _main_opset(), "ai.onnx.ml": ML_OPSET},
                    custom_conversion_functions=custom or None,
                )
                converted = OnnxModel(proto, mode, columns, kinds)
                converted.session().run(None, converted.feed(X.iloc[:2]))
            except Exception as exc:
                problem = exc
                continue
            return converted
    assert problem is not None
    raise ConversionError(_first_line(problem))


def _convert_native(model: Any, X: pd.DataFrame) -> OnnxModel:
    """An XGBoost, LightGBM or CatBoost model through the library's own ONNX exporter."""
    columns = [str(c) for c in X.columns]
    try:
        converted = OnnxModel(
            model.onnx_proto(), "matrix", columns, dict.fromkeys(columns, "float")
        )
        converted.session().run(None, converted.feed(X.iloc[:2]))
    except ImportError as exc:
        raise SkipCheck(extra_skip_reason("efficiency", exc.name or "onnxmltools")) from None
    except Exception as exc:
        raise ConversionError(_first_line(exc)) from None
    return converted


def _main_opset() -> int:
    import onnx
    from skl2onnx import get_latest_tested_opset_version

    return min(get_latest_tested_opset_version(), onnx.defs.onnx_opset_version())


@contextlib.contextmanager
def _quiet_root_logger() -> Iterator[None]:
    """ONNX Runtime's quantizer logs advice on the root logger; keep it off the console."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(previous)


def quantize_int8(converted: OnnxModel) -> tuple[OnnxModel | None, str]:
    """Dynamic int8 quantization of the graph's weights (``quantize_dynamic``).

    Returns ``(None, reason)`` when no operator of the graph can be quantized
    (tree ensembles and linear-model operators of ``ai.onnx.ml`` cannot).
    ONNX Runtime's API works on files: a temporary directory is used and removed.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.registry import IntegerOpsRegistry

    before = {n.op_type for n in converted.proto.graph.node}
    ops = ", ".join(sorted(before - {"Cast", "Concat", "Identity", "Reshape"}))
    not_applicable = (
        "dynamic int8 quantization applies to none of the graph's operators "
        f"({ops}); it quantizes matrix products and convolutions, as in neural networks"
    )
    if not before & set(IntegerOpsRegistry):
        return None, not_applicable
    try:
        with tempfile.TemporaryDirectory(prefix="assay-int8-") as tmp, _quiet_root_logger():
            out = Path(tmp) / "int8.onnx"
            quantize_dynamic(converted.proto, out, weight_type=QuantType.QInt8)
            proto = onnx.load(str(out))
    except Exception as exc:
        return None, f"ONNX Runtime could not quantize the graph ({_first_line(exc)})"
    if {n.op_type for n in proto.graph.node} == before:
        return None, not_applicable
    return OnnxModel(proto, converted.mode, converted.columns, converted.kinds), ""


def onnx_predictions(
    session: Any, feed: dict[str, np.ndarray], *, classifier: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Labels (or values) and, for classifiers, the probability tensor."""
    outputs = session.run(None, feed)
    labels = np.asarray(outputs[0]).reshape(len(next(iter(feed.values()))), -1)
    labels = labels[:, 0]
    proba = None
    if classifier and len(outputs) > 1:
        raw = outputs[1]
        if isinstance(raw, list):  # a ZipMap output: [{class: p}]
            keys = list(raw[0].keys())
            raw = np.array([[d[k] for k in keys] for d in raw], dtype=float)
        proba = np.asarray(raw, dtype=np.float64)
    return labels, proba
