"""Load and wrap models: scikit-learn-like objects, ``.skops``, ``.onnx``, native
XGBoost/LightGBM/CatBoost files (:mod:`assay.io._native`), MLflow models
(:mod:`assay.io._mlflow`), and pickle/joblib only when explicitly trusted.

Every model is wrapped in a :class:`ModelAdapter` that takes a Polars frame of
features and returns labels and, for classifiers, class probabilities aligned to
the audit's class order.

Example
-------
>>> from sklearn.dummy import DummyClassifier
>>> import numpy as np, polars as pl
>>> m = DummyClassifier().fit(np.zeros((4, 1)), [0, 1, 1, 1])
>>> wrap_model(m).describe()["kind"]
'python'
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from assay.errors import MissingExtraError, ModelError, UntrustedModelError

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".jbl", ".sav", ".cloudpickle", ".cpkl", ".dill")

_COMPRESSED_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x04\x22\x4d\x18", b"\x28\xb5\x2f\xfd")
"""gzip, bz2, xz, lz4 and zstd: the wrappers joblib compresses pickles in."""


def sniff_model_file(path: str | Path) -> str:
    """What a model file holds, judged from its first bytes, never by unpickling.

    Returns ``"zip"`` (a skops archive, among others), ``"pickle"`` (a pickle,
    or a joblib/zlib/gzip/bz2/xz/lz4/zstd stream, which holds one) or
    ``"other"`` (e.g. an ONNX protobuf).

    >>> import pickle, tempfile, os
    >>> with tempfile.NamedTemporaryFile(suffix=".onnx", delete=False) as f:
    ...     _ = f.write(pickle.dumps({"a": 1}))
    >>> sniff_model_file(f.name)
    'pickle'
    >>> os.remove(f.name)
    """
    with open(path, "rb") as fh:
        head = fh.read(512)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if len(head) >= 2 and head[0] == 0x80 and head[1] <= 5:  # PROTO opcode, protocols 2-5
        return "pickle"
    if head.startswith(_COMPRESSED_MAGIC) or (
        len(head) >= 2 and head[0] == 0x78 and head[1] in (0x01, 0x5E, 0x9C, 0xDA)  # zlib
    ):
        return "pickle"
    if head[:1] in (b"(", b"]", b"}", b")", b"c") and _parses_as_pickle(head):  # protocol 0-1
        return "pickle"
    return "other"


def _parses_as_pickle(head: bytes) -> bool:
    """Whether ``head`` reads as a run of pickle opcodes (parsed, not executed)."""
    import io
    import pickletools

    n = 0
    try:
        for _ in pickletools.genops(io.BytesIO(head)):
            n += 1
    except Exception:
        return n >= 3
    return n >= 2


class TrustWarning(UserWarning):
    """Loading a pickle runs arbitrary code; emitted when a user trusts one."""


@dataclass
class Prediction:
    """Predicted labels (or values) and, for classifiers, probabilities.

    ``proba`` has one column per class in the audit's class order.
    """

    labels: np.ndarray
    proba: np.ndarray | None = None


class ModelAdapter:
    """Uniform ``predict`` over a scikit-learn-like object or an ONNX session."""

    def __init__(self, model: Any, *, kind: str, path: str | None = None) -> None:
        self.model = model
        self.kind = kind
        self.path = path

    # -- introspection -------------------------------------------------------
    @property
    def classes(self) -> list[Any] | None:
        cls = getattr(self.model, "classes_", None)
        return None if cls is None else list(np.asarray(cls).tolist())

    @property
    def feature_names(self) -> list[str] | None:
        names = getattr(self.model, "feature_names_in_", None)
        if names is not None:
            return [str(n) for n in names]
        if self.kind == "onnx":
            inputs = self.model.get_inputs()
            if len(inputs) > 1:
                return [i.name for i in inputs]
        return None

    def describe(self) -> dict[str, Any]:
        m = self.model
        return {
            "kind": self.kind,
            "path": self.path,
            "class": f"{type(m).__module__}.{type(m).__name__}",
            "has_predict_proba": self.kind == "onnx" or hasattr(m, "predict_proba"),
        }

    # -- prediction ----------------------------------------------------------
    def _frame(self, X: pl.DataFrame) -> Any:
        names = self.feature_names
        if names is not None:
            missing = [n for n in names if n not in X.columns]
            if missing:
                raise ModelError(
                    f"the model expects feature column(s) {missing} that the data does not have"
                )
            X = X.select(names)
        return X.to_pandas()

    def predict(self, X: pl.DataFrame, classes: list[Any] | None) -> Prediction:
        """Predict on ``X``; probabilities are re-ordered to ``classes``."""
        try:
            if self.kind == "onnx":
                return self._predict_onnx(X, classes)
            frame = self._frame(X)
            labels = np.asarray(self.model.predict(frame))
            proba = None
            if classes is not None and hasattr(self.model, "predict_proba"):
                raw = np.asarray(self.model.predict_proba(frame), dtype=float)
                proba = self._align(raw, self.classes, classes)
        except ModelError:
            raise
        except Exception as exc:
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(f"the model failed to predict: {type(exc).__name__}: {msg}") from exc
        if labels.shape[0] != X.height:
            raise ModelError(
                f"the model returned {labels.shape[0]} predictions for {X.height} rows"
            )
        return Prediction(labels=labels.reshape(-1), proba=proba)

    @staticmethod
    def _align(raw: np.ndarray, model_classes: list[Any] | None, classes: list[Any]) -> np.ndarray:
        if raw.ndim == 1:
            raw = np.column_stack([1 - raw, raw])
        if model_classes is None:
            if raw.shape[1] != len(classes):
                raise ModelError(
                    f"predict_proba returned {raw.shape[1]} columns for {len(classes)} classes"
                )
            return raw
        index = {str(c): i for i, c in enumerate(model_classes)}
        out = np.zeros((raw.shape[0], len(classes)))
        for j, c in enumerate(classes):
            i = index.get(str(c))
            if i is not None:
                out[:, j] = raw[:, i]
        return out

    def _predict_onnx(self, X: pl.DataFrame, classes: list[Any] | None) -> Prediction:
        sess = self.model
        inputs = sess.get_inputs()
        if len(inputs) == 1:
            arr = X.select(pl.all().cast(pl.Float32)).to_numpy()
            feed: dict[str, np.ndarray] = {inputs[0].name: arr.astype(np.float32)}
        else:
            feed = {}
            for inp in inputs:
                if inp.name not in X.columns:
                    raise ModelError(f"the ONNX model expects input column {inp.name!r}")
                col = X.get_column(inp.name)
                if "string" in inp.type:
                    feed[inp.name] = col.cast(pl.String).fill_null("").to_numpy().reshape(-1, 1)
                elif "int" in inp.type:
                    feed[inp.name] = col.fill_null(0).to_numpy().astype(np.int64).reshape(-1, 1)
                else:
                    feed[inp.name] = col.cast(pl.Float32).to_numpy().reshape(-1, 1)
        outputs = sess.run(None, feed)
        labels = np.asarray(outputs[0]).reshape(-1)
        proba = None
        if len(outputs) > 1 and classes is not None:
            raw = outputs[1]
            if isinstance(raw, list):  # ZipMap: list of {class: prob}
                keys = list(raw[0].keys())
                raw_arr = np.array([[d[k] for k in keys] for d in raw], dtype=float)
                proba = self._align(raw_arr, keys, classes)
            else:
                proba = self._align(np.asarray(raw, dtype=float), None, classes)
        return Prediction(labels=labels, proba=proba)


def wrap_model(model: Any) -> ModelAdapter:
    """Wrap an in-memory model with ``predict`` (and optionally ``predict_proba``)."""
    if isinstance(model, ModelAdapter):
        return model
    if not hasattr(model, "predict"):
        raise ModelError(
            f"model of type {type(model).__name__} has no predict method; give a "
            "scikit-learn-compatible estimator"
        )
    return ModelAdapter(model, kind="python")


# What a model of an unsupervised task must have instead of ``predict`` (any one).
TASK_METHODS: dict[str, tuple[str, ...]] = {
    "clustering": ("predict", "fit_predict", "labels_"),
    "anomaly": ("decision_function", "score_samples", "predict"),
}


def load_model(
    path: str | Path, *, trust_model: bool = False, task: str | None = None
) -> ModelAdapter:
    """Load a model file. Pickle and joblib are refused unless ``trust_model``.

    The format is read from the file's content as well as its name: a pickle
    is never unpickled because of its file name, and a pickle named ``.skops``
    or ``.onnx`` is refused whatever ``trust_model`` says. A ``.skops`` file
    loads only the types skops trusts and those on Assay's reviewed list
    (:mod:`assay.io._skops_trust`: scikit-learn, NumPy and SciPy types rebuilt
    from plain data; trees and sparse matrices are bounds-checked after
    loading); others are listed and refused without ``trust_model``. An
    ``.onnx`` file whose tensors point at external data outside its own folder
    is refused before anything is read.

    A model must have ``predict``, except for ``task="clustering"`` (``predict``,
    ``fit_predict`` or ``labels_``: DBSCAN, AgglomerativeClustering...) and
    ``task="anomaly"`` (``decision_function``, ``score_samples`` or ``predict``).

    Raises
    ------
    UntrustedModelError
        For a pickle/joblib file without ``trust_model``, a pickle under another
        format's name, a skops file with untrusted types, or an ONNX file whose
        external data lies outside its folder — before any byte is unpickled.
    """
    p = Path(path)
    if str(path).startswith(("models:/", "runs:/")) or (p.is_dir() and (p / "MLmodel").is_file()):
        from assay.io._mlflow import load_mlflow

        return load_mlflow(str(path), trust_model=trust_model)
    if not p.exists():
        raise ModelError(f"model file {p} does not exist; check the path")
    if not p.is_file():
        raise ModelError(f"model path {p} is not a file")
    suffix = p.suffix.lower()
    content = sniff_model_file(p)
    if suffix in PICKLE_SUFFIXES:
        if not trust_model:
            raise UntrustedModelError(
                f"model file {p} is a pickle/joblib file, which can run arbitrary code when "
                "loaded; save it with skops or ONNX, or pass --trust-model if you trust its source"
            )
        warnings.warn(
            f"loading {p} with pickle/joblib: this runs any code the file contains",
            TrustWarning,
            stacklevel=2,
        )
        try:
            import joblib

            return ModelAdapter(joblib.load(p), kind="joblib", path=str(p))
        except Exception as exc:
            raise ModelError(f"model file {p} could not be unpickled: {exc}") from None
    if content == "pickle":
        raise UntrustedModelError(
            f"model file {p} is named {suffix or 'without a suffix'} but holds a pickle, which "
            "can run arbitrary code when loaded; Assay never unpickles a file named as another "
            "format. If you trust its source, rename it to .pkl and pass --trust-model"
        )
    if suffix == ".skops":
        return _load_skops(p, trust_model=trust_model, content=content, task=task)
    if suffix == ".onnx":
        return _load_onnx(p)
    from assay.io._native import NATIVE_SUFFIXES, load_native

    if suffix in NATIVE_SUFFIXES:
        return load_native(p)
    raise ModelError(
        f"model file {p} has an unknown format {suffix!r}; use .skops, .onnx, XGBoost "
        ".json/.ubj, LightGBM .txt, CatBoost .cbm, an MLflow model directory, "
        "or a pickle/joblib file with --trust-model"
    )


def _load_skops(p: Path, *, trust_model: bool, content: str, task: str | None) -> ModelAdapter:
    """Load a skops archive: skops's defaults plus Assay's reviewed list, or all with trust."""
    if content != "zip":
        raise ModelError(f"model file {p} is not a skops archive (a skops file is a zip archive)")
    try:
        import skops.io as sio
    except ImportError:
        raise MissingExtraError("skops", "skops", "loading a .skops model") from None
    try:
        untrusted = sio.get_untrusted_types(file=p)
    except Exception as exc:
        raise ModelError(f"model file {p} could not be read by skops: {exc}") from None
    if not trust_model:
        _refuse_unreviewed(p, untrusted)
    try:
        model = sio.load(p, trusted=untrusted or None)
    except Exception as exc:
        raise ModelError(f"model file {p} could not be loaded by skops: {exc}") from None
    if not trust_model:
        from assay.io._skops_trust import MalformedModelError, check_loaded_structures

        try:
            check_loaded_structures(model)
        except MalformedModelError as exc:
            raise UntrustedModelError(
                f"model file {p} is malformed or crafted: {exc}; scikit-learn would read "
                "outside its arrays. Re-save the model, or pass --trust-model only if you "
                "trust its source"
            ) from None
    return wrap_model_path(model, "skops", p, task=task)


def _refuse_unreviewed(p: Path, untrusted: list[str]) -> None:
    """Raise naming every type neither skops nor Assay's reviewed list trusts."""
    from assay.io._skops_trust import reviewed_range, sklearn_reviewed, trusted_types

    allowed = trusted_types()
    left = [t for t in untrusted if t not in allowed]
    if not left:
        return
    shown = ", ".join(left[:10]) + (f" and {len(left) - 10} more" if len(left) > 10 else "")
    note = ""
    if not sklearn_reviewed() and any(t.startswith("sklearn.") for t in left):
        import sklearn

        note = (
            f" (Assay's scikit-learn entries are reviewed for scikit-learn {reviewed_range()}; "
            f"{sklearn.__version__} is installed, so they are not trusted)"
        )
    raise UntrustedModelError(
        f"model file {p} contains {len(left)} type(s) that neither skops nor Assay trusts "
        f"by default: {shown}{note}; loading them could run code. Pass --trust-model only "
        "if you trust its source"
    )


def onnx_external_data(path: Path) -> list[str]:
    """The external-data locations an ONNX model's tensors refer to (nothing is read but
    the model file itself; needs the ``onnx`` package)."""
    import onnx
    from onnx.external_data_helper import _get_all_tensors

    model = onnx.load(str(path), load_external_data=False)
    found = []
    for t in _get_all_tensors(model):
        if t.data_location == onnx.TensorProto.EXTERNAL:
            where = {e.key: e.value for e in t.external_data}.get("location", "")
            found.append(where)
    return found


def _check_onnx_external(p: Path) -> bool:
    """Refuse external data outside the model's folder; ``True`` when there is some."""
    from assay.io.paths import UnsafePathError, safe_path

    locations = onnx_external_data(p)
    for where in locations:
        try:
            safe_path(where, p.parent, must_exist=True)
        except UnsafePathError as exc:
            raise UntrustedModelError(
                f"model file {p} refers to external data {where!r} outside its folder "
                f"({exc}); Assay reads external data only from the model's own folder"
            ) from None
    return bool(locations)


def _load_onnx(p: Path) -> ModelAdapter:
    try:
        import onnxruntime as ort
    except ImportError:
        raise MissingExtraError("onnxruntime", "onnx", "loading an .onnx model") from None
    try:
        import onnx  # noqa: F401
    except ImportError:
        external = None  # cannot inspect: load from bytes, where no external file can be reached
    else:
        try:
            external = _check_onnx_external(p)
        except UntrustedModelError:
            raise
        except Exception as exc:
            raise ModelError(f"model file {p} is not a readable ONNX model: {exc}") from None
    try:
        source = str(p) if external else p.read_bytes()
        sess = ort.InferenceSession(source, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ModelError(f"model file {p} could not be loaded by ONNX Runtime: {exc}") from None
    return ModelAdapter(sess, kind="onnx", path=str(p))


def wrap_model_path(model: Any, kind: str, path: Path, *, task: str | None = None) -> ModelAdapter:
    """Wrap a loaded model; refuse one without the methods its task needs."""
    wanted = TASK_METHODS.get(str(task), ("predict",))
    if not any(hasattr(model, m) for m in wanted):
        if wanted == ("predict",):
            raise ModelError(
                f"model file {path} holds a {type(model).__name__} with no predict method"
            )
        raise ModelError(
            f"model file {path} holds a {type(model).__name__} with none of "
            f"{', '.join(wanted)}; a {task} model needs one of them"
        )
    return ModelAdapter(model, kind=kind, path=str(path))
