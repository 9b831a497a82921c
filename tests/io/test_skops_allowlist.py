"""Assay's reviewed skops allow-list: what it claims loads without --trust-model, the rest is
refused by name, and crafted trees and sparse matrices are caught before they are used."""

from __future__ import annotations

import importlib
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assay.errors import UntrustedModelError
from assay.io import _skops_trust as trust
from assay.io.models import load_model

sio = pytest.importorskip("skops.io")
sklearn = pytest.importorskip("sklearn")

from sklearn.base import ClassifierMixin, RegressorMixin  # noqa: E402
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.tree import DecisionTreeClassifier  # noqa: E402

pytestmark = pytest.mark.skipif(
    not trust.sklearn_reviewed(), reason="installed scikit-learn is outside the reviewed range"
)

RNG = np.random.RandomState(0)
X = RNG.rand(40, 4) + 0.1
Y_CLASS = (X[:, 0] > np.median(X[:, 0])).astype(int)
Y_REG = X @ np.array([1.0, 2.0, 0.5, -1.0]) + 0.1 * RNG.rand(40)
Y_CLASS2 = np.column_stack([Y_CLASS, Y_CLASS[::-1]])
Y_REG2 = np.column_stack([Y_REG, 2 * Y_REG])


def _lr() -> LogisticRegression:
    return LogisticRegression()


def _dt() -> DecisionTreeClassifier:
    return DecisionTreeClassifier(max_depth=3, random_state=0)


# Parameters that let a class fit on the toy table, or keep it small and fast. The key is
# the class name; the value builds the estimator. Two-output targets are marked by name.
SPECIAL: dict[str, Callable[[], Any]] = {}
_SMALL = {"n_estimators": 5, "random_state": 0}
for _name in [
    "RandomForestClassifier",
    "RandomForestRegressor",
    "ExtraTreesClassifier",
    "ExtraTreesRegressor",
    "RandomTreesEmbedding",
    "IsolationForest",
    "BaggingClassifier",
    "BaggingRegressor",
    "GradientBoostingClassifier",
    "GradientBoostingRegressor",
    "AdaBoostClassifier",
    "AdaBoostRegressor",
]:
    SPECIAL[_name] = (lambda n: lambda: _cls(n)(**_SMALL))(_name)
for _name in ("HistGradientBoostingClassifier", "HistGradientBoostingRegressor"):
    SPECIAL[_name] = (lambda n: lambda: _cls(n)(max_iter=5, random_state=0))(_name)
for _name in ("CCA", "PLSCanonical"):
    SPECIAL[_name] = (lambda n: lambda: _cls(n)(n_components=1))(_name)
for _name in ("GaussianRandomProjection", "SparseRandomProjection"):
    SPECIAL[_name] = (lambda n: lambda: _cls(n)(n_components=2, random_state=0))(_name)
for _name in [
    "KNeighborsClassifier",
    "KNeighborsRegressor",
    "KNeighborsTransformer",
    "NearestNeighbors",
    "RadiusNeighborsClassifier",
    "RadiusNeighborsRegressor",
    "RadiusNeighborsTransformer",
]:
    SPECIAL[_name] = (lambda n: lambda: _cls(n)(algorithm="brute"))(_name)
SPECIAL["RadiusNeighborsClassifier"] = lambda: _cls("RadiusNeighborsClassifier")(
    algorithm="brute", radius=10.0
)
SPECIAL["LocalOutlierFactor"] = lambda: _cls("LocalOutlierFactor")(algorithm="brute", novelty=True)
SPECIAL["Isomap"] = lambda: _cls("Isomap")(neighbors_algorithm="brute", n_neighbors=5)
SPECIAL["LocallyLinearEmbedding"] = lambda: _cls("LocallyLinearEmbedding")(
    neighbors_algorithm="brute", n_neighbors=5
)
SPECIAL["MLPClassifier"] = lambda: _cls("MLPClassifier")(max_iter=20, random_state=0)
SPECIAL["MLPRegressor"] = lambda: _cls("MLPRegressor")(max_iter=20, random_state=0)
SPECIAL["SparseCoder"] = lambda: _cls("SparseCoder")(dictionary=RNG.rand(3, 4))
SPECIAL["Pipeline"] = lambda: Pipeline([("s", StandardScaler()), ("m", _lr())])
SPECIAL["ColumnTransformer"] = lambda: _cls("ColumnTransformer")(
    [("s", StandardScaler(), [0, 1]), ("p", "passthrough", [2, 3])]
)
SPECIAL["FeatureUnion"] = lambda: _cls("FeatureUnion")(
    [("s", StandardScaler()), ("p", _cls("PCA")(n_components=2))]
)
SPECIAL["VotingClassifier"] = lambda: _cls("VotingClassifier")([("lr", _lr()), ("dt", _dt())])
SPECIAL["VotingRegressor"] = lambda: _cls("VotingRegressor")(
    [("lr", LinearRegression()), ("r", Ridge())]
)
SPECIAL["StackingClassifier"] = lambda: _cls("StackingClassifier")(
    [("lr", _lr()), ("dt", _dt())], cv=3
)
SPECIAL["StackingRegressor"] = lambda: _cls("StackingRegressor")(
    [("lr", LinearRegression()), ("r", Ridge())], cv=3
)
for _name in [
    "OneVsRestClassifier",
    "OneVsOneClassifier",
    "OutputCodeClassifier",
    "MultiOutputClassifier",
    "ClassifierChain",
    "RFE",
    "SelectFromModel",
    "SelfTrainingClassifier",
    "FixedThresholdClassifier",
]:
    SPECIAL[_name] = (lambda n: lambda: _cls(n)(_lr()))(_name)
SPECIAL["OutputCodeClassifier"] = lambda: _cls("OutputCodeClassifier")(_lr(), random_state=0)
SPECIAL["RFECV"] = lambda: _cls("RFECV")(_lr(), cv=3)
SPECIAL["SequentialFeatureSelector"] = lambda: _cls("SequentialFeatureSelector")(
    _lr(), n_features_to_select=2, cv=3
)
SPECIAL["MultiOutputRegressor"] = lambda: _cls("MultiOutputRegressor")(Ridge())
SPECIAL["RegressorChain"] = lambda: _cls("RegressorChain")(Ridge())
SPECIAL["FrozenEstimator"] = lambda: _cls("FrozenEstimator")(_lr().fit(X, Y_CLASS))

TWO_OUTPUTS = {
    "MultiOutputClassifier": Y_CLASS2,
    "ClassifierChain": Y_CLASS2,
    "MultiOutputRegressor": Y_REG2,
    "RegressorChain": Y_REG2,
    "MultiTaskElasticNet": Y_REG2,
    "MultiTaskElasticNetCV": Y_REG2,
    "MultiTaskLasso": Y_REG2,
    "MultiTaskLassoCV": Y_REG2,
}
ONE_FEATURE = {"IsotonicRegression"}
X_WITH_GAPS = np.where(RNG.rand(*X.shape) < 0.1, np.nan, X)
WITH_GAPS = {"MissingIndicator"}
CLASS_TARGET = {"Pipeline", "RFE", "RFECV", "FrozenEstimator"}

_BY_NAME: dict[str, type] = {}


def _cls(name: str) -> type:
    if not _BY_NAME:
        from sklearn.utils import all_estimators

        _BY_NAME.update(all_estimators())
    return _BY_NAME[name]


def _import(dotted: str) -> Any:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def build(dotted: str) -> tuple[Any, np.ndarray]:
    """Fit the class at ``dotted`` on the toy table; return a model with ``predict`` and its X.

    A transformer is fitted as the first step of a pipeline ending in a logistic regression,
    so the loaded file proves its ``transform`` works, not only that it loads.
    """
    cls = _import(dotted)
    name = cls.__name__
    est = SPECIAL[name]() if name in SPECIAL else cls()
    x = X[:, :1] if name in ONE_FEATURE else X_WITH_GAPS if name in WITH_GAPS else X
    if issubclass(cls, ClassifierMixin) or name in CLASS_TARGET:
        y: np.ndarray | None = TWO_OUTPUTS.get(name, Y_CLASS)
    elif issubclass(cls, RegressorMixin):
        y = TWO_OUTPUTS.get(name, Y_REG)
    else:
        y = None
    if y is None and not hasattr(est, "predict") and hasattr(est, "transform"):
        est = Pipeline([("t", est), ("m", _lr())])
        y = Y_CLASS
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if y is None:
            est.fit(x)
        else:
            est.fit(x, y)
    return est, x


def _round_trip(model: Any, x: np.ndarray, path: Path) -> Any:
    sio.dump(model, path)
    loaded = load_model(path, trust_model=False).model
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(
            np.asarray(loaded.predict(x), dtype=float), np.asarray(model.predict(x), dtype=float)
        )
    return loaded


# -- every claimed estimator loads without the flag and predicts the same --------------------


@pytest.mark.parametrize("dotted", trust.SKLEARN_ESTIMATORS)
def test_claimed_estimator_loads_untrusted_and_predicts_the_same(tmp_path, dotted):
    model, x = build(dotted)
    _round_trip(model, x, tmp_path / "m.skops")


def test_claimed_estimators_are_all_real_classes():
    """The list holds classes sklearn reports, with no duplicates and no wildcard."""
    from sklearn.utils import all_estimators

    known = {f"{c.__module__}.{c.__name__}" for _, c in all_estimators()}
    assert len(set(trust.SKLEARN_ESTIMATORS)) == len(trust.SKLEARN_ESTIMATORS)
    assert set(trust.SKLEARN_ESTIMATORS) <= known
    assert not [t for t in trust.trusted_types() if "*" in t]


# -- every other entry is really produced by some model, and loads ------------------------


def _sparse_lr(fmt: str) -> Callable[[], Any]:
    def make() -> Any:
        from scipy import sparse

        model = _lr().fit(X, Y_CLASS)
        model.coef_ = getattr(sparse, fmt)(model.coef_)
        return model

    return make


def _named(name: str, **params: Any) -> Callable[[], Any]:
    return lambda: _cls(name)(**params)


def _kernel_gp(*names: str) -> Callable[[], Any]:
    def make() -> Any:
        from sklearn.gaussian_process import kernels

        kernel = kernels.ConstantKernel() * getattr(kernels, names[0])()
        for extra in names[1:]:
            kernel = kernel + getattr(kernels, extra)()
        return _cls("GaussianProcessRegressor")(kernel=kernel)

    return make


def _select(score: str) -> Callable[[], Any]:
    from sklearn.feature_selection import SelectKBest

    return lambda: SelectKBest(_import(score), k=2)


_FS = "sklearn.feature_selection._univariate_selection."
PRODUCERS: dict[str, Callable[[], Any]] = {
    "numpy.dtype": _named("SimpleImputer"),
    "numpy.mean": _named("FeatureAgglomeration", n_clusters=2),
    "sklearn.tree._tree.Tree": _dt,
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor": lambda: SPECIAL[
        "HistGradientBoostingClassifier"
    ](),
    "sklearn.calibration._CalibratedClassifier": _named("CalibratedClassifierCV", cv=3),
    "sklearn.calibration._SigmoidCalibration": _named("CalibratedClassifierCV", cv=3),
    "sklearn.cluster._bisect_k_means._BisectingTree": _named("BisectingKMeans", n_clusters=3),
    "sklearn.cluster._kmeans._kmeans_single_lloyd": _named("BisectingKMeans", n_clusters=3),
    "sklearn.cluster._kmeans._kmeans_single_elkan": _named(
        "BisectingKMeans", n_clusters=3, algorithm="elkan"
    ),
    _FS + "f_classif": _select(_FS + "f_classif"),
    _FS + "f_regression": _select(_FS + "f_regression"),
    _FS + "chi2": _select(_FS + "chi2"),
    "sklearn.gaussian_process._gpc._BinaryGaussianProcessClassifierLaplace": _named(
        "GaussianProcessClassifier"
    ),
    "sklearn.gaussian_process.kernels.ConstantKernel": _kernel_gp("RBF"),
    "sklearn.gaussian_process.kernels.Product": _kernel_gp("RBF"),
    "sklearn.gaussian_process.kernels.RBF": _kernel_gp("RBF"),
    "sklearn.gaussian_process.kernels.Sum": _kernel_gp("RBF", "WhiteKernel"),
    "sklearn.gaussian_process.kernels.WhiteKernel": _kernel_gp("RBF", "WhiteKernel"),
    "sklearn.gaussian_process.kernels.Matern": _kernel_gp("Matern"),
    "sklearn.gaussian_process.kernels.DotProduct": _kernel_gp("DotProduct", "WhiteKernel"),
    "sklearn.gaussian_process.kernels.RationalQuadratic": _kernel_gp("RationalQuadratic"),
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer": SPECIAL["MLPClassifier"],
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer": _named(
        "MLPClassifier", solver="sgd", max_iter=20, random_state=0
    ),
    "sklearn._loss.loss.HalfTweedieLossIdentity": _named("TweedieRegressor"),
    "sklearn.multiclass._ConstantPredictor": SPECIAL["OutputCodeClassifier"],
    "sklearn.utils._bunch.Bunch": SPECIAL["VotingClassifier"],
    "sklearn._loss.loss.HalfTweedieLoss": _named("TweedieRegressor", power=1.5, link="log"),
}
for _fmt in ("csr_matrix", "csc_matrix", "coo_matrix", "csr_array", "csc_array", "coo_array"):
    PRODUCERS[f"scipy.sparse._{_fmt[:3]}.{_fmt}"] = _sparse_lr(_fmt)


def _categorical_hgb() -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=5, categorical_features=[3], random_state=0)


X_CATEGORICAL = np.column_stack([X[:, :3], np.array([0, 1, 2, 3] * 10)])
PRODUCERS["functools.partial"] = _categorical_hgb
PRODUCERS["sklearn.utils.validation.check_array"] = _categorical_hgb


def test_every_non_estimator_entry_has_a_producer():
    listed = set(trust.NUMPY_TYPES) | set(trust.SCIPY_TYPES) | set(trust.SKLEARN_INTERNAL_TYPES)
    assert listed == set(PRODUCERS)


@pytest.mark.parametrize("entry", sorted(PRODUCERS))
def test_entry_is_flagged_by_skops_and_loads_through_the_list(tmp_path, entry):
    """The entry is one skops itself would refuse (so the list is what lets it in)."""
    model = PRODUCERS[entry]()
    is_classifier = isinstance(model, ClassifierMixin) or hasattr(model, "predict_proba")
    y = Y_CLASS if is_classifier else Y_REG
    if not hasattr(model, "predict"):
        model = make_pipeline(model, _lr())
        y = Y_CLASS
    x = X_CATEGORICAL if PRODUCERS[entry] is _categorical_hgb else X
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not entry.startswith("scipy.sparse"):  # the sparse producers return fitted models
            model.fit(x, y)
    path = tmp_path / "m.skops"
    sio.dump(model, path)
    assert entry in sio.get_untrusted_types(file=path)
    _round_trip(model, x, tmp_path / "again.skops")


# -- the cases: real pipelines load without the flag ------------------------------


def _frame() -> Any:
    import pandas as pd

    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    frame["grade"] = np.array(["x", "y", "z", "y"] * 10)
    return frame


def _column_pipeline(final: Any) -> Pipeline:
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder

    columns = ColumnTransformer(
        [
            ("num", StandardScaler(), ["a", "b", "c", "d"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["grade"]),
        ]
    )
    return Pipeline([("prep", columns), ("model", final)])


def _representative() -> dict[str, Callable[[], Any]]:
    from sklearn import ensemble

    return {
        "logreg_column_pipeline": lambda: _column_pipeline(_lr()),
        "hist_gradient_boosting": lambda: _column_pipeline(
            ensemble.HistGradientBoostingClassifier(max_iter=5, random_state=0)
        ),
        "random_forest": lambda: _column_pipeline(
            ensemble.RandomForestClassifier(n_estimators=5, random_state=0)
        ),
        "decision_tree": lambda: _column_pipeline(_dt()),
        "gradient_boosting": lambda: _column_pipeline(
            ensemble.GradientBoostingClassifier(n_estimators=5, random_state=0)
        ),
    }


@pytest.mark.parametrize("case", sorted(_representative()))
def test_representative_pipeline_loads_without_trust(tmp_path, case):
    import polars as pl

    frame = _frame()
    model = _representative()[case]().fit(frame, Y_CLASS)
    path = tmp_path / "m.skops"
    sio.dump(model, path)
    adapter = load_model(path, trust_model=False)
    got = adapter.predict(pl.from_pandas(frame), [0, 1])
    np.testing.assert_allclose(got.proba, model.predict_proba(frame))


def test_hist_gradient_boosting_with_categorical_features_loads(tmp_path):
    model = _categorical_hgb().fit(X_CATEGORICAL, np.array([0, 0, 1, 1] * 10))
    _round_trip(model, X_CATEGORICAL, tmp_path / "m.skops")


# -- still refused ---------------------------------------------------------------------------


class Custom(LogisticRegression):
    """A class from a test module: not on any list."""


def test_function_transformer_with_os_system_refused(tmp_path):
    from sklearn.preprocessing import FunctionTransformer

    model = make_pipeline(FunctionTransformer(func=os.system), _lr())
    model.steps[1][1].fit(X, Y_CLASS)
    path = tmp_path / "m.skops"
    sio.dump(model, path)
    with pytest.raises(UntrustedModelError, match=r"posix\.system|nt\.system") as info:
        load_model(path, trust_model=False)
    assert "--trust-model" in str(info.value)


def test_custom_class_refused_by_name(tmp_path):
    path = tmp_path / "m.skops"
    sio.dump(Custom().fit(X, Y_CLASS), path)
    with pytest.raises(UntrustedModelError, match=f"{__name__}.Custom"):
        load_model(path, trust_model=False)
    assert load_model(path, trust_model=True).model.predict(X).shape == (40,)


def test_unreviewed_neighbours_tree_refused_by_name(tmp_path):
    from sklearn.neighbors import KNeighborsClassifier

    path = tmp_path / "m.skops"
    sio.dump(KNeighborsClassifier(algorithm="kd_tree").fit(X, Y_CLASS), path)
    with pytest.raises(UntrustedModelError, match=r"sklearn\.neighbors\._kd_tree\.KDTree"):
        load_model(path)


def test_sklearn_outside_reviewed_range_trusts_only_numpy_and_scipy(tmp_path, monkeypatch):
    path = tmp_path / "m.skops"
    sio.dump(_dt().fit(X, Y_CLASS), path)
    monkeypatch.setattr(sklearn, "__version__", "1.99.0")
    with pytest.raises(UntrustedModelError, match=r"_tree\.Tree.*reviewed for scikit-learn"):
        load_model(path)
    assert "numpy.dtype" in trust.trusted_types()
    assert "sklearn.tree._tree.Tree" not in trust.trusted_types()


# -- crafted trees and sparse matrices: caught after loading, before predicting --------------


def _crafted(tmp_path: Path, model: Any) -> Path:
    path = tmp_path / "crafted.skops"
    sio.dump(model, path)
    return path


def test_tree_with_out_of_range_child_refused(tmp_path):
    model = _dt().fit(X, Y_CLASS)
    state = model.tree_.__getstate__()
    nodes = state["nodes"].copy()
    nodes["left_child"][0] = 10_000
    state["nodes"] = nodes
    model.tree_.__setstate__(state)
    with pytest.raises(UntrustedModelError, match="left child 10000 outside the tree"):
        load_model(_crafted(tmp_path, model))


def test_tree_with_cycle_refused(tmp_path):
    model = _dt().fit(X, Y_CLASS)
    state = model.tree_.__getstate__()
    nodes = state["nodes"].copy()
    nodes["right_child"][0] = 0
    state["nodes"] = nodes
    model.tree_.__setstate__(state)
    with pytest.raises(UntrustedModelError, match="right child 0"):
        load_model(_crafted(tmp_path, model))


def test_tree_with_out_of_range_feature_refused(tmp_path):
    model = _dt().fit(X, Y_CLASS)
    state = model.tree_.__getstate__()
    nodes = state["nodes"].copy()
    nodes["feature"][0] = 999
    state["nodes"] = nodes
    model.tree_.__setstate__(state)
    with pytest.raises(UntrustedModelError, match="feature 999"):
        load_model(_crafted(tmp_path, model))


def test_hist_predictor_with_out_of_range_child_refused(tmp_path):
    model = SPECIAL["HistGradientBoostingClassifier"]().fit(X, Y_CLASS)
    model._predictors[0][0].nodes["right"][0] = 4_000_000
    with pytest.raises(UntrustedModelError, match="TreePredictor node 0 has right child"):
        load_model(_crafted(tmp_path, model))


def test_hist_predictor_with_bad_feature_refused(tmp_path):
    model = SPECIAL["HistGradientBoostingClassifier"]().fit(X, Y_CLASS)
    model._predictors[0][0].nodes["feature_idx"][0] = 77
    with pytest.raises(UntrustedModelError, match="feature 77"):
        load_model(_crafted(tmp_path, model))


def test_hist_predictor_categorical_split_on_numeric_feature_refused(tmp_path):
    model = SPECIAL["HistGradientBoostingClassifier"]().fit(X, Y_CLASS)
    model._predictors[0][0].nodes["is_categorical"][0] = 1
    with pytest.raises(UntrustedModelError, match="non-categorical feature"):
        load_model(_crafted(tmp_path, model))


def test_sparse_coefficients_with_out_of_range_index_refused(tmp_path):
    model = _sparse_lr("csr_matrix")()
    model.coef_.indices[0] = 50
    with pytest.raises(UntrustedModelError, match="csr_matrix is malformed"):
        load_model(_crafted(tmp_path, model))


def test_crafted_tree_loads_with_trust_model(tmp_path):
    """--trust-model loads everything as before: the checks are for untrusted files only."""
    model = _dt().fit(X, Y_CLASS)
    state = model.tree_.__getstate__()
    nodes = state["nodes"].copy()
    nodes["feature"][0] = 999
    state["nodes"] = nodes
    model.tree_.__setstate__(state)
    assert load_model(_crafted(tmp_path, model), trust_model=True).kind == "skops"


def test_object_cap_is_enforced(monkeypatch):
    monkeypatch.setattr(trust, "MAX_CHECKED_OBJECTS", 5)
    with pytest.raises(trust.MalformedModelError, match="more than 5 objects"):
        trust.check_loaded_structures([[i] for i in range(10)])
