"""Without the ``dask`` extra, asking for the Dask engine gives the install hint (issue #15)."""

from __future__ import annotations

import sys

import pandas as pd
import pytest

from assay.drift import drift
from assay.engine._dask import _need_dask, start_client
from assay.errors import MissingExtraError


@pytest.fixture
def no_dask(monkeypatch):
    # A module set to None in sys.modules makes `import` raise ImportError, as when
    # the package is not installed.
    monkeypatch.setitem(sys.modules, "distributed", None)


def test_missing_dask_names_the_extra(no_dask):
    with pytest.raises(MissingExtraError) as info:
        _need_dask()
    msg = str(info.value)
    assert "pip install 'assay[dask]'" in msg and "dask[distributed]" in msg
    assert info.value.extra == "dask"
    with pytest.raises(MissingExtraError):
        start_client(None)


def test_drift_with_the_dask_engine_reports_the_extra(no_dask, tmp_path):
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    df.to_parquet(tmp_path / "a.parquet")
    with pytest.raises(MissingExtraError, match=r"assay\[dask\]"):
        drift(tmp_path / "a.parquet", tmp_path / "a.parquet", engine="dask")
