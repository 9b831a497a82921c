"""The types Assay trusts in a ``.skops`` file without ``--trust-model``.

skops refuses every type it does not trust by default and names it; Assay adds
the reviewed entries below on top of skops's own defaults. A type is listed only
when skops's loader rebuilds it from plain arrays, numbers and strings, or
resolves it as a fixed, side-effect-free function that is called only with the
model's data: nothing in the file chooses code to run. Every entry is explicit
(no ``"sklearn.*"``): a type in a trusted module can still hold a callable, and
a callable is its own type in a skops file (a ``builtins.function`` such as
``os.system`` or a lambda is named separately and is not on this list), so a
file passes only when *every* type it names is listed here or trusted by skops.

How the skops loaders (skops 0.16, ``skops/io/_general.py``, ``_numpy.py``,
``_scipy.py``, ``_sklearn.py``) treat the listed kinds:

- estimators and plain helper objects (``ObjectNode``): ``cls.__new__`` and the
  saved attribute dict; no ``__init__``, no ``__reduce__`` callable.
- functions (``FunctionNode``): ``getattr(import_module(module), name)``, never
  called while loading; the model calls it later on its own data.
- ``numpy.dtype`` (``DTypeNode``): the dtype of an empty array read with
  ``numpy.load(allow_pickle=False)``.
- SciPy sparse matrices (``SparseMatrixNode``): ``scipy.sparse.load_npz``
  (``allow_pickle=False``); the class name is not used to build the object.
- ``Tree`` and ``TreePredictor`` (``TreeNode``/``ObjectNode``): arrays of node
  records. scikit-learn walks those records in compiled code without bounds
  checks, so skops does not trust them by default (a crafted file can crash
  the process or read outside the arrays). Assay trusts them only together
  with :func:`check_loaded_structures`, which checks every child, feature and
  bitset index after loading and before the model predicts anything.

Deliberately *not* listed (refused with their name, loadable with
``--trust-model``): ``sklearn.neighbors._kd_tree.KDTree``, ``..._ball_tree.
BallTree`` and ``sklearn.metrics._dist_metrics.*`` (node bounds and sample
indices read unchecked in compiled code: refit a neighbours model with
``algorithm="brute"``); ``scipy.interpolate._bsplines.BSpline`` and the array
API aliases it holds (knots and coefficients evaluated in compiled code,
not reviewed); ``FunctionTransformer`` and ``TransformedTargetRegressor``
(their purpose is an arbitrary callable); search and threshold-tuning
meta-estimators (they hold scorer objects).

Example
-------
>>> "numpy.dtype" in trusted_types()
True
>>> "builtins.exec" in trusted_types()
False
"""

from __future__ import annotations

from typing import Any

import numpy as np

REVIEWED_SKLEARN = ((1, 9), (1, 10))
"""scikit-learn versions the sklearn entries were reviewed for: ``>=1.9, <1.10``.
Outside this range only the NumPy and SciPy entries are trusted."""

MAX_CHECKED_OBJECTS = 1_000_000
"""Most objects :func:`check_loaded_structures` visits in one model (default
1,000,000); a model holding more is refused rather than half-checked."""

NUMPY_TYPES: dict[str, str] = {
    "numpy.dtype": "rebuilt as the dtype of an empty array read with allow_pickle=False",
    "numpy.mean": "pure reduction; FeatureAgglomeration's default pooling_func",
}
"""NumPy entries, each with why it is safe."""

_SPARSE_REASON = (
    "read by scipy.sparse.load_npz (allow_pickle=False); indices bounds-checked after loading"
)
SCIPY_TYPES: dict[str, str] = {
    "scipy.sparse._csr.csr_matrix": _SPARSE_REASON,
    "scipy.sparse._csc.csc_matrix": _SPARSE_REASON,
    "scipy.sparse._coo.coo_matrix": _SPARSE_REASON,
    "scipy.sparse._csr.csr_array": _SPARSE_REASON,
    "scipy.sparse._csc.csc_array": _SPARSE_REASON,
    "scipy.sparse._coo.coo_array": _SPARSE_REASON,
}
"""SciPy entries, each with why it is safe."""

_SCORE = "pure statistic of (X, y); a univariate selector calls it only in fit"
_KERNEL = "Gaussian-process kernel: floats, bounds and sub-kernels, evaluated with NumPy"
SKLEARN_INTERNAL_TYPES: dict[str, str] = {
    "sklearn.tree._tree.Tree": "node records; every index checked by check_loaded_structures",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor": (
        "node records and category bitsets; every index checked by check_loaded_structures"
    ),
    "sklearn.calibration._CalibratedClassifier": "plain object: a fitted estimator and calibrators",
    "sklearn.calibration._SigmoidCalibration": "plain object: two floats (a, b)",
    "sklearn.cluster._bisect_k_means._BisectingTree": "plain Python tree of centers and labels",
    "sklearn.cluster._kmeans._kmeans_single_lloyd": "k-means step on the data, called in fit",
    "sklearn.cluster._kmeans._kmeans_single_elkan": "k-means step on the data, called in fit",
    "sklearn.feature_selection._univariate_selection.f_classif": _SCORE,
    "sklearn.feature_selection._univariate_selection.f_regression": _SCORE,
    "sklearn.feature_selection._univariate_selection.chi2": _SCORE,
    "sklearn.gaussian_process._gpc._BinaryGaussianProcessClassifierLaplace": (
        "plain object: arrays and a kernel"
    ),
    "sklearn.gaussian_process.kernels.ConstantKernel": _KERNEL,
    "sklearn.gaussian_process.kernels.DotProduct": _KERNEL,
    "sklearn.gaussian_process.kernels.Matern": _KERNEL,
    "sklearn.gaussian_process.kernels.Product": _KERNEL,
    "sklearn.gaussian_process.kernels.RBF": _KERNEL,
    "sklearn.gaussian_process.kernels.RationalQuadratic": _KERNEL,
    "sklearn.gaussian_process.kernels.Sum": _KERNEL,
    "sklearn.gaussian_process.kernels.WhiteKernel": _KERNEL,
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer": "floats and moment arrays",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer": "floats and velocity arrays",
    "functools.partial": (
        "skops builds functools.partial itself (never a subclass) without calling the "
        "function, which is named separately and must be listed too"
    ),
    "sklearn.utils.validation.check_array": (
        "input validation; HistGradientBoosting's categorical preprocessor wraps it in a partial"
    ),
    "sklearn.multiclass._ConstantPredictor": "plain object: the one class a column predicts",
    "sklearn.utils._bunch.Bunch": "dict subclass: built empty, then filled key by key",
    "sklearn._loss.loss.HalfTweedieLoss": "loss wrapper; its compiled loss is trusted by skops",
    "sklearn._loss.loss.HalfTweedieLossIdentity": (
        "loss wrapper; its compiled loss is trusted by skops"
    ),
}
"""scikit-learn types that are not estimators, each with why it is safe."""

# fmt: off
# SKLEARN_ESTIMATORS was generated once, on scikit-learn 1.9.1 and skops 0.16.0,
# from ``sklearn.utils.all_estimators()``: each class was built (defaults, or the
# small parameters in tests/io/test_skops_allowlist.py), fitted on a 40 x 4
# numeric table, dumped with skops and loaded back through Assay, and kept when
# it predicted (or, inside a pipeline, transformed) the same as before. Left out:
# what cannot be fitted on a numeric table (text and dict vectorizers, label
# encoders, KernelCenterer, Birch which skops cannot save), estimators with
# neither predict nor transform (TSNE, DBSCAN, ...: nothing Assay can audit),
# neighbours models whose only algorithm is a KD/ball tree (KernelDensity), and
# the callable-holding ones named in the module docstring. Reviewed by reading
# each class's fitted attributes: arrays, numbers, strings and listed types.
SKLEARN_ESTIMATORS: tuple[str, ...] = (
    # calibration: a fitted estimator and the listed calibrator objects
    "sklearn.calibration.CalibratedClassifierCV",
    # cluster: cluster centres, labels and trees of centres: arrays
    "sklearn.cluster._affinity_propagation.AffinityPropagation",
    "sklearn.cluster._agglomerative.FeatureAgglomeration",
    "sklearn.cluster._bisect_k_means.BisectingKMeans",
    "sklearn.cluster._kmeans.KMeans",
    "sklearn.cluster._kmeans.MiniBatchKMeans",
    "sklearn.cluster._mean_shift.MeanShift",
    # compose: fitted transformers and column indices
    "sklearn.compose._column_transformer.ColumnTransformer",
    # covariance: covariance and precision matrices: arrays
    "sklearn.covariance._elliptic_envelope.EllipticEnvelope",
    # cross_decomposition: PLS/CCA weights and loadings: arrays
    "sklearn.cross_decomposition._pls.CCA",
    "sklearn.cross_decomposition._pls.PLSCanonical",
    "sklearn.cross_decomposition._pls.PLSRegression",
    # decomposition: components, means and variances: arrays
    "sklearn.decomposition._dict_learning.DictionaryLearning",
    "sklearn.decomposition._dict_learning.MiniBatchDictionaryLearning",
    "sklearn.decomposition._dict_learning.SparseCoder",
    "sklearn.decomposition._factor_analysis.FactorAnalysis",
    "sklearn.decomposition._fastica.FastICA",
    "sklearn.decomposition._incremental_pca.IncrementalPCA",
    "sklearn.decomposition._kernel_pca.KernelPCA",
    "sklearn.decomposition._lda.LatentDirichletAllocation",
    "sklearn.decomposition._nmf.MiniBatchNMF",
    "sklearn.decomposition._nmf.NMF",
    "sklearn.decomposition._pca.PCA",
    "sklearn.decomposition._sparse_pca.MiniBatchSparsePCA",
    "sklearn.decomposition._sparse_pca.SparsePCA",
    "sklearn.decomposition._truncated_svd.TruncatedSVD",
    # discriminant_analysis: class means, priors and scalings: arrays
    "sklearn.discriminant_analysis.LinearDiscriminantAnalysis",
    "sklearn.discriminant_analysis.QuadraticDiscriminantAnalysis",
    # dummy: constants and class priors
    "sklearn.dummy.DummyClassifier",
    "sklearn.dummy.DummyRegressor",
    # ensemble: fitted sub-estimators (trees bounds-checked after loading)
    "sklearn.ensemble._bagging.BaggingClassifier",
    "sklearn.ensemble._bagging.BaggingRegressor",
    "sklearn.ensemble._forest.ExtraTreesClassifier",
    "sklearn.ensemble._forest.ExtraTreesRegressor",
    "sklearn.ensemble._forest.RandomForestClassifier",
    "sklearn.ensemble._forest.RandomForestRegressor",
    "sklearn.ensemble._forest.RandomTreesEmbedding",
    "sklearn.ensemble._gb.GradientBoostingClassifier",
    "sklearn.ensemble._gb.GradientBoostingRegressor",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor",
    "sklearn.ensemble._iforest.IsolationForest",
    "sklearn.ensemble._stacking.StackingClassifier",
    "sklearn.ensemble._stacking.StackingRegressor",
    "sklearn.ensemble._voting.VotingClassifier",
    "sklearn.ensemble._voting.VotingRegressor",
    "sklearn.ensemble._weight_boosting.AdaBoostClassifier",
    "sklearn.ensemble._weight_boosting.AdaBoostRegressor",
    # feature_extraction: idf weights: arrays
    "sklearn.feature_extraction.text.TfidfTransformer",
    # feature_selection: support masks, scores, listed score functions, fitted sub-estimators
    "sklearn.feature_selection._from_model.SelectFromModel",
    "sklearn.feature_selection._rfe.RFE",
    "sklearn.feature_selection._rfe.RFECV",
    "sklearn.feature_selection._sequential.SequentialFeatureSelector",
    "sklearn.feature_selection._univariate_selection.GenericUnivariateSelect",
    "sklearn.feature_selection._univariate_selection.SelectFdr",
    "sklearn.feature_selection._univariate_selection.SelectFpr",
    "sklearn.feature_selection._univariate_selection.SelectFwe",
    "sklearn.feature_selection._univariate_selection.SelectKBest",
    "sklearn.feature_selection._univariate_selection.SelectPercentile",
    "sklearn.feature_selection._variance_threshold.VarianceThreshold",
    # frozen: a fitted estimator, held as is
    "sklearn.frozen._frozen.FrozenEstimator",
    # gaussian_process: training data, factorisations and the listed kernels
    "sklearn.gaussian_process._gpc.GaussianProcessClassifier",
    "sklearn.gaussian_process._gpr.GaussianProcessRegressor",
    # impute: fill values and fitted sub-estimators
    "sklearn.impute._base.MissingIndicator",
    "sklearn.impute._base.SimpleImputer",
    "sklearn.impute._knn.KNNImputer",
    # isotonic: breakpoints: arrays
    "sklearn.isotonic.IsotonicRegression",
    # kernel_approximation: random features and components: arrays
    "sklearn.kernel_approximation.AdditiveChi2Sampler",
    "sklearn.kernel_approximation.Nystroem",
    "sklearn.kernel_approximation.PolynomialCountSketch",
    "sklearn.kernel_approximation.RBFSampler",
    "sklearn.kernel_approximation.SkewedChi2Sampler",
    # kernel_ridge: dual coefficients: arrays
    "sklearn.kernel_ridge.KernelRidge",
    # linear_model: coefficients and intercepts: arrays and numbers
    "sklearn.linear_model._base.LinearRegression",
    "sklearn.linear_model._bayes.ARDRegression",
    "sklearn.linear_model._bayes.BayesianRidge",
    "sklearn.linear_model._coordinate_descent.ElasticNet",
    "sklearn.linear_model._coordinate_descent.ElasticNetCV",
    "sklearn.linear_model._coordinate_descent.Lasso",
    "sklearn.linear_model._coordinate_descent.LassoCV",
    "sklearn.linear_model._coordinate_descent.MultiTaskElasticNet",
    "sklearn.linear_model._coordinate_descent.MultiTaskElasticNetCV",
    "sklearn.linear_model._coordinate_descent.MultiTaskLasso",
    "sklearn.linear_model._coordinate_descent.MultiTaskLassoCV",
    "sklearn.linear_model._glm.glm.GammaRegressor",
    "sklearn.linear_model._glm.glm.PoissonRegressor",
    "sklearn.linear_model._glm.glm.TweedieRegressor",
    "sklearn.linear_model._huber.HuberRegressor",
    "sklearn.linear_model._least_angle.Lars",
    "sklearn.linear_model._least_angle.LarsCV",
    "sklearn.linear_model._least_angle.LassoLars",
    "sklearn.linear_model._least_angle.LassoLarsCV",
    "sklearn.linear_model._least_angle.LassoLarsIC",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.linear_model._logistic.LogisticRegressionCV",
    "sklearn.linear_model._omp.OrthogonalMatchingPursuit",
    "sklearn.linear_model._omp.OrthogonalMatchingPursuitCV",
    "sklearn.linear_model._passive_aggressive.PassiveAggressiveClassifier",
    "sklearn.linear_model._passive_aggressive.PassiveAggressiveRegressor",
    "sklearn.linear_model._perceptron.Perceptron",
    "sklearn.linear_model._quantile.QuantileRegressor",
    "sklearn.linear_model._ransac.RANSACRegressor",
    "sklearn.linear_model._ridge.Ridge",
    "sklearn.linear_model._ridge.RidgeCV",
    "sklearn.linear_model._ridge.RidgeClassifier",
    "sklearn.linear_model._ridge.RidgeClassifierCV",
    "sklearn.linear_model._stochastic_gradient.SGDClassifier",
    "sklearn.linear_model._stochastic_gradient.SGDOneClassSVM",
    "sklearn.linear_model._stochastic_gradient.SGDRegressor",
    "sklearn.linear_model._theil_sen.TheilSenRegressor",
    # manifold: embeddings and fitted neighbours (brute force): arrays
    "sklearn.manifold._isomap.Isomap",
    "sklearn.manifold._locally_linear.LocallyLinearEmbedding",
    # mixture: weights, means and covariances: arrays
    "sklearn.mixture._bayesian_mixture.BayesianGaussianMixture",
    "sklearn.mixture._gaussian_mixture.GaussianMixture",
    # model_selection: a fitted estimator and a threshold
    "sklearn.model_selection._classification_threshold.FixedThresholdClassifier",
    # multiclass: fitted binary estimators and code books
    "sklearn.multiclass.OneVsOneClassifier",
    "sklearn.multiclass.OneVsRestClassifier",
    "sklearn.multiclass.OutputCodeClassifier",
    # multioutput: fitted per-output estimators
    "sklearn.multioutput.ClassifierChain",
    "sklearn.multioutput.MultiOutputClassifier",
    "sklearn.multioutput.MultiOutputRegressor",
    "sklearn.multioutput.RegressorChain",
    # naive_bayes: class counts and per-feature statistics: arrays
    "sklearn.naive_bayes.BernoulliNB",
    "sklearn.naive_bayes.CategoricalNB",
    "sklearn.naive_bayes.ComplementNB",
    "sklearn.naive_bayes.GaussianNB",
    "sklearn.naive_bayes.MultinomialNB",
    # neighbors: stored samples (brute force only: KD/ball trees are not listed)
    "sklearn.neighbors._classification.KNeighborsClassifier",
    "sklearn.neighbors._classification.RadiusNeighborsClassifier",
    "sklearn.neighbors._graph.KNeighborsTransformer",
    "sklearn.neighbors._graph.RadiusNeighborsTransformer",
    "sklearn.neighbors._lof.LocalOutlierFactor",
    "sklearn.neighbors._nca.NeighborhoodComponentsAnalysis",
    "sklearn.neighbors._nearest_centroid.NearestCentroid",
    "sklearn.neighbors._regression.KNeighborsRegressor",
    "sklearn.neighbors._regression.RadiusNeighborsRegressor",
    # neural_network: layer weights and the listed optimizer objects
    "sklearn.neural_network._multilayer_perceptron.MLPClassifier",
    "sklearn.neural_network._multilayer_perceptron.MLPRegressor",
    "sklearn.neural_network._rbm.BernoulliRBM",
    # pipeline: fitted steps
    "sklearn.pipeline.FeatureUnion",
    "sklearn.pipeline.Pipeline",
    # preprocessing: scales, categories, bin edges: arrays
    "sklearn.preprocessing._data.Binarizer",
    "sklearn.preprocessing._data.MaxAbsScaler",
    "sklearn.preprocessing._data.MinMaxScaler",
    "sklearn.preprocessing._data.Normalizer",
    "sklearn.preprocessing._data.PowerTransformer",
    "sklearn.preprocessing._data.QuantileTransformer",
    "sklearn.preprocessing._data.RobustScaler",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.preprocessing._discretization.KBinsDiscretizer",
    "sklearn.preprocessing._encoders.OneHotEncoder",
    "sklearn.preprocessing._encoders.OrdinalEncoder",
    "sklearn.preprocessing._polynomial.PolynomialFeatures",
    "sklearn.preprocessing._target_encoder.TargetEncoder",
    # random_projection: projection matrices: arrays
    "sklearn.random_projection.GaussianRandomProjection",
    "sklearn.random_projection.SparseRandomProjection",
    # semi_supervised: label distributions and a fitted estimator
    "sklearn.semi_supervised._label_propagation.LabelPropagation",
    "sklearn.semi_supervised._label_propagation.LabelSpreading",
    "sklearn.semi_supervised._self_training.SelfTrainingClassifier",
    # svm: support vectors and dual coefficients: arrays
    "sklearn.svm._classes.LinearSVC",
    "sklearn.svm._classes.LinearSVR",
    "sklearn.svm._classes.NuSVC",
    "sklearn.svm._classes.NuSVR",
    "sklearn.svm._classes.OneClassSVM",
    "sklearn.svm._classes.SVC",
    "sklearn.svm._classes.SVR",
    # tree: the fitted Tree (bounds-checked after loading)
    "sklearn.tree._classes.DecisionTreeClassifier",
    "sklearn.tree._classes.DecisionTreeRegressor",
    "sklearn.tree._classes.ExtraTreeClassifier",
    "sklearn.tree._classes.ExtraTreeRegressor",
)
# fmt: on
"""scikit-learn estimators and transformers (generated, reviewed; see the comment)."""


def sklearn_reviewed(version: str | None = None) -> bool:
    """Whether ``version`` (default: the installed scikit-learn) is in the reviewed range.

    >>> sklearn_reviewed("1.9.1"), sklearn_reviewed("1.10.0"), sklearn_reviewed("1.8.2")
    (True, False, False)
    """
    if version is None:
        try:
            import sklearn
        except ImportError:
            return False
        version = sklearn.__version__
    parts = version.split(".")
    try:
        key = (int(parts[0]), int("".join(ch for ch in parts[1] if ch.isdigit()) or -1))
    except (IndexError, ValueError):
        return False
    low, high = REVIEWED_SKLEARN
    return low <= key < high


def trusted_types(*, sklearn_version: str | None = None) -> frozenset[str]:
    """Every type Assay trusts in a skops file; the sklearn entries only in the reviewed range.

    >>> "sklearn.tree._tree.Tree" in trusted_types(sklearn_version="1.9.0")
    True
    >>> "sklearn.tree._tree.Tree" in trusted_types(sklearn_version="2.0.0")
    False
    """
    names = set(NUMPY_TYPES) | set(SCIPY_TYPES)
    if sklearn_reviewed(sklearn_version):
        names |= set(SKLEARN_INTERNAL_TYPES) | set(SKLEARN_ESTIMATORS)
    return frozenset(names)


def reviewed_range() -> str:
    """The reviewed scikit-learn range in words, e.g. ``'>=1.9, <1.10'``."""
    (a, b), (c, d) = REVIEWED_SKLEARN
    return f">={a}.{b}, <{c}.{d}"


# -- checks on the loaded objects ---------------------------------------------------


class MalformedModelError(ValueError):
    """A loaded tree or sparse matrix holds an index outside its arrays."""


def check_loaded_structures(model: Any) -> int:
    """Check every tree and sparse matrix reachable from ``model``; return how many.

    scikit-learn's compiled prediction code follows the child, feature and
    bitset indices of a ``Tree`` or ``TreePredictor``, and SciPy's the indices
    of a sparse matrix, without bounds checks. This walks the loaded object
    graph (attributes, lists, tuples, dicts, object arrays) and raises before
    any of them is used.

    Raises
    ------
    MalformedModelError
        Naming the type and the first bad index.
    """
    from scipy import sparse
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
    from sklearn.tree._tree import Tree

    seen: set[int] = set()
    stack: list[Any] = [model]
    checked = 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or obj is None or isinstance(obj, (str, bytes, int, float, bool)):
            continue
        seen.add(id(obj))
        if len(seen) > MAX_CHECKED_OBJECTS:
            raise MalformedModelError(
                f"the model holds more than {MAX_CHECKED_OBJECTS} objects to check"
            )
        if isinstance(obj, Tree):
            _check_tree(obj)
            checked += 1
        elif isinstance(obj, TreePredictor):
            _check_predictor(obj, None)
            checked += 1
        elif sparse.issparse(obj):
            _check_sparse(obj)
            checked += 1
            continue
        elif isinstance(obj, np.ndarray):
            if obj.dtype == object:
                stack.extend(obj.ravel().tolist())
            continue
        if hasattr(obj, "_predictors") and hasattr(obj, "_bin_mapper"):
            for row in obj._predictors or []:
                for predictor in row:
                    _check_predictor(predictor, obj._bin_mapper)
                    seen.add(id(predictor))
                    checked += 1
        _check_tree_owner(obj)
        stack.extend(_children(obj))
    return checked


def _children(obj: Any) -> list[Any]:
    if isinstance(obj, dict):
        return list(obj.keys()) + list(obj.values())
    if isinstance(obj, (list, tuple, set, frozenset)):
        return list(obj)
    state = getattr(obj, "__dict__", None)
    return list(state.values()) if isinstance(state, dict) else []


def _check_children(kind: str, left: np.ndarray, right: np.ndarray, leaf: np.ndarray) -> None:
    """Internal nodes point strictly forward inside the tree (so no cycles); leaves nowhere."""
    n = left.shape[0]
    idx = np.arange(n)
    inner = ~leaf
    for name, child in (("left", left), ("right", right)):
        bad = inner & ((child <= idx) | (child >= n))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise MalformedModelError(
                f"{kind} node {i} has {name} child {int(child[i])} outside the tree ({n} nodes)"
            )


def _check_tree(tree: Any) -> None:
    kind = "sklearn.tree._tree.Tree"
    if not 0 < tree.node_count <= tree.capacity:
        raise MalformedModelError(
            f"{kind} claims {tree.node_count} nodes with room for {tree.capacity}"
        )
    left = np.asarray(tree.children_left)
    right = np.asarray(tree.children_right)
    leaf = (left == -1) & (right == -1)
    _check_children(kind, left, right, leaf)
    feature = np.asarray(tree.feature)
    bad = ~leaf & ((feature < 0) | (feature >= tree.n_features))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise MalformedModelError(
            f"{kind} node {i} splits on feature {int(feature[i])} of {tree.n_features}"
        )


def _check_tree_owner(obj: Any) -> None:
    """A decision tree's ``tree_`` must index no more features than the estimator accepts."""
    from sklearn.tree._tree import Tree

    tree = getattr(obj, "tree_", None)
    n_in = getattr(obj, "n_features_in_", None)
    if isinstance(tree, Tree) and n_in is not None and tree.n_features != n_in:
        raise MalformedModelError(
            f"{type(obj).__name__} takes {n_in} features but its tree indexes {tree.n_features}"
        )


def _check_predictor(pred: Any, bin_mapper: Any) -> None:
    from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE

    kind = "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"
    nodes = getattr(pred, "nodes", None)
    if not isinstance(nodes, np.ndarray) or nodes.dtype != PREDICTOR_RECORD_DTYPE:
        raise MalformedModelError(f"{kind} nodes are not an array of predictor records")
    if nodes.ndim != 1 or nodes.shape[0] == 0:
        raise MalformedModelError(f"{kind} nodes have shape {nodes.shape}")
    leaf = nodes["is_leaf"] != 0
    _check_children(kind, nodes["left"].astype(np.int64), nodes["right"].astype(np.int64), leaf)
    n_features = None
    categorical = None
    if bin_mapper is not None:
        categorical = np.asarray(getattr(bin_mapper, "is_categorical_", np.zeros(0, bool)))
        n_features = categorical.shape[0]
        _check_known_categories(bin_mapper, categorical)
    feature = nodes["feature_idx"]
    limit = n_features if n_features is not None else np.iinfo(np.intp).max
    bad = ~leaf & ((feature < 0) | (feature >= limit))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise MalformedModelError(f"{kind} node {first} splits on feature {int(feature[first])}")
    cat = ~leaf & (nodes["is_categorical"] != 0)
    if not cat.any():
        return
    bitsets = [getattr(pred, a, None) for a in ("binned_left_cat_bitsets", "raw_left_cat_bitsets")]
    rows = min(
        b.shape[0] if isinstance(b, np.ndarray) and b.ndim == 2 and b.shape[1] == 8 else -1
        for b in bitsets
    )
    for i in np.flatnonzero(cat):
        f = int(feature[i])
        if categorical is None or not categorical[f]:
            raise MalformedModelError(f"{kind} node {i} splits on non-categorical feature {f}")
        if not 0 <= int(nodes["bitset_idx"][i]) < rows:
            raise MalformedModelError(f"{kind} node {i} has bitset {int(nodes['bitset_idx'][i])}")


def _check_known_categories(bin_mapper: Any, categorical: np.ndarray) -> None:
    """Known categories become bit positions in a 256-bit set: each must lie in [0, 255]."""
    thresholds = getattr(bin_mapper, "bin_thresholds_", None) or []
    for f in np.flatnonzero(categorical):
        values = np.asarray(thresholds[f]) if f < len(thresholds) else np.zeros(0)
        if values.size and (values.min() < 0 or values.max() > 255):
            raise MalformedModelError(f"categorical feature {f} has a category outside 0-255")


def _check_sparse(matrix: Any) -> None:
    name = f"{type(matrix).__module__}.{type(matrix).__name__}"
    try:
        if matrix.format in ("csr", "csc", "bsr"):
            matrix.check_format(full_check=True)
        elif matrix.format == "coo":
            for axis, coords in enumerate(matrix.coords):
                if coords.size and (coords.min() < 0 or coords.max() >= matrix.shape[axis]):
                    raise ValueError("coordinate outside the matrix")
        else:
            raise ValueError(f"format {matrix.format!r} is not on the allow-list")
    except (ValueError, TypeError, AttributeError) as exc:
        raise MalformedModelError(f"{name} is malformed: {exc}") from None
