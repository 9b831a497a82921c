from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import polars as pl
import pytest

from assay.errors import ModelError, UntrustedModelError
from assay.io.models import TrustWarning, load_model, wrap_model


@pytest.fixture(scope="module")
def numeric_data():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    y = np.where(X["a"] + X["b"] > 0, "yes", "no")
    return X, y


@pytest.fixture(scope="module")
def logreg(numeric_data):
    from sklearn.linear_model import LogisticRegression

    X, y = numeric_data
    return LogisticRegression().fit(X, y)


def test_wrap_aligns_probabilities_to_requested_order(numeric_data, logreg):
    X, _ = numeric_data
    adapter = wrap_model(logreg)
    p = adapter.predict(pl.from_pandas(X), ["yes", "no"])
    assert p.proba.shape == (300, 2)
    np.testing.assert_allclose(p.proba[:, 0], logreg.predict_proba(X)[:, 1])


def test_wrap_rejects_objects_without_predict():
    with pytest.raises(ModelError, match="no predict method"):
        wrap_model(object())


def test_skops_round_trip(tmp_path, numeric_data, logreg):
    import skops.io as sio

    X, _ = numeric_data
    path = tmp_path / "m.skops"
    sio.dump(logreg, path)
    adapter = load_model(path)
    assert adapter.kind == "skops"
    got = adapter.predict(pl.from_pandas(X), ["no", "yes"])
    np.testing.assert_allclose(got.proba, logreg.predict_proba(X))


def test_onnx_model(tmp_path, numeric_data, logreg):
    from skl2onnx import to_onnx

    X, _ = numeric_data
    onx = to_onnx(logreg, X.to_numpy().astype(np.float32)[:1])
    path = tmp_path / "m.onnx"
    path.write_bytes(onx.SerializeToString())
    adapter = load_model(path)
    got = adapter.predict(pl.from_pandas(X), ["no", "yes"])
    np.testing.assert_allclose(got.proba, logreg.predict_proba(X), atol=1e-5)
    assert list(got.labels[:20]) == list(logreg.predict(X)[:20])


class _Boom:
    def __reduce__(self):  # would run code if ever unpickled
        import os

        return (os.system, ("echo unpickled > /dev/null",))


def test_pickle_refused_before_unpickling(tmp_path, monkeypatch):
    path = tmp_path / "m.pkl"
    path.write_bytes(pickle.dumps(_Boom()))

    def forbidden(*a, **k):  # pragma: no cover - must not be called
        raise AssertionError("unpickled without trust")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    with pytest.raises(UntrustedModelError, match="--trust-model"):
        load_model(path)


def test_joblib_with_trust_warns(tmp_path, logreg):
    import joblib

    path = tmp_path / "m.joblib"
    joblib.dump(logreg, path)
    with pytest.warns(TrustWarning):
        adapter = load_model(path, trust_model=True)
    assert adapter.kind == "joblib"


def test_unknown_format_and_missing(tmp_path):
    p = tmp_path / "m.bin"
    p.write_bytes(b"x")
    with pytest.raises(ModelError, match="unknown format"):
        load_model(p)
    with pytest.raises(ModelError, match="does not exist"):
        load_model(tmp_path / "none.skops")


def test_failing_model_is_a_model_error(numeric_data):
    class Broken:
        classes_ = np.array(["no", "yes"])

        def predict(self, X):
            raise RuntimeError("matrix not aligned")

    X, _ = numeric_data
    with pytest.raises(ModelError, match=r"failed to predict.*matrix not aligned"):
        wrap_model(Broken()).predict(pl.from_pandas(X), ["no", "yes"])
