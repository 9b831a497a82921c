"""``--engine dask`` on fsspec URLs: real ``file://`` and ``memory://`` filesystems (no
network), against the local engine on the same rows; unusable URLs are one-line errors."""

from __future__ import annotations

import re
import uuid

import numpy as np
import pandas as pd
import polars as pl
import pytest

import assay
from assay.engine._parquet import parquet_parts
from assay.errors import InputError

from ..cli.helpers import run_cli

distributed = pytest.importorskip("distributed")
fsspec = pytest.importorskip("fsspec")

CONFIG = {"include": ["data.integrity", "data.train_test_overlap", "data.provenance"]}


def _tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(3)
    n = 3000
    train = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "k": rng.choice(["a", "b", "c"], n),
            "y": rng.integers(0, 2, n),
        }
    )
    train.loc[[7, 900], "x"] = np.inf  # planted infinities
    test = train.sample(1500, random_state=1).reset_index(drop=True)  # planted overlap
    return train, test


def _write(fs, root: str, df: pd.DataFrame) -> None:
    for i, chunk in enumerate(np.array_split(np.arange(len(df)), 2)):
        with fs.open(f"{root}/part-{i}.parquet", "wb") as fh:
            df.iloc[chunk].to_parquet(fh, row_group_size=500)


def _same(local, dask) -> None:
    assert [(c.id, c.status) for c in local.checks] == [(c.id, c.status) for c in dask.checks]
    for c in local.checks:
        assert c.metrics == pytest.approx(dask.check(c.id).metrics, rel=1e-9), c.id
    assert local.check("data.integrity").status == "fail"  # the planted infinities
    fl = local.check("data.provenance").details["fingerprints"]
    assert fl == dask.check("data.provenance").details["fingerprints"]


@pytest.fixture(scope="module")
def local():
    train, test = _tables()
    return assay.audit(
        train=pl.from_pandas(train), test=pl.from_pandas(test), target="y", config=CONFIG
    )


def test_file_url_on_process_workers(local, dask_client, tmp_path):
    train, test = _tables()
    fs = fsspec.filesystem("file")
    for name, df in (("train", train), ("test", test)):
        fs.makedirs(str(tmp_path / name), exist_ok=True)
        _write(fs, str(tmp_path / name), df)
    url = f"file://{tmp_path}"
    assert len(parquet_parts(f"{url}/train", name="train")) == 6
    dask = assay.audit(
        train=f"{url}/train",
        test=f"{url}/test/*.parquet",
        target="y",
        config=CONFIG,
        engine="dask",
        scheduler=dask_client,
    )
    _same(local, dask)
    assert dask.inputs["train"]["path"] == f"{url}/train"
    assert dask.extra["engine"]["partitions"] == {"train": 6, "test": 4}


def test_memory_url_on_a_threads_cluster(local):
    """memory:// lives in one process: a cluster of threads in this process reads it."""
    train, test = _tables()
    fs = fsspec.filesystem("memory")
    root = f"/assay-{uuid.uuid4().hex}"
    _write(fs, f"{root}/train", train)
    _write(fs, f"{root}/test", test)
    cluster = distributed.LocalCluster(
        n_workers=2, processes=False, threads_per_worker=1, dashboard_address=None
    )
    try:
        with distributed.Client(cluster) as client:
            dask = assay.audit(
                train=f"memory://{root}/train",
                test=f"memory://{root}/test",
                target="y",
                config=CONFIG,
                engine="dask",
                scheduler=client,
            )
    finally:
        cluster.close()
        fs.rm(root, recursive=True)
    _same(local, dask)


def test_memory_url_unreachable_from_process_workers_is_one_line(dask_client):
    train, _ = _tables()
    fs = fsspec.filesystem("memory")
    root = f"/assay-{uuid.uuid4().hex}"
    _write(fs, root, train)
    try:
        with pytest.raises(InputError, match="could not be found on a Dask worker") as err:
            assay.audit(
                test=f"memory://{root}",
                target="y",
                config=CONFIG,
                engine="dask",
                scheduler=dask_client,
            )
    finally:
        fs.rm(root, recursive=True)
    assert re.search(rf"Parquet file memory://{root}/part-[01]\.parquet ", str(err.value))
    assert "\n" not in str(err.value)


def test_unusable_urls_are_one_line_errors(tmp_path):
    """Unknown protocol, missing package (through the CLI: exit 2), missing file."""
    import importlib.util

    def error(url: str) -> str:
        with pytest.raises(InputError) as err:
            assay.audit(test=url, target="y", engine="dask")
        assert "\n" not in str(err.value) and url in str(err.value)
        return str(err.value)

    assert "not one fsspec knows" in error("nosuch://bucket/t")
    assert "does not exist" in error(f"file://{tmp_path}/none")
    missing = [
        (proto, pkg)
        for proto, pkg in (("s3", "s3fs"), ("gs", "gcsfs"), ("abfs", "adlfs"))
        if importlib.util.find_spec(pkg) is None
    ]
    url, want = "nosuch://bucket/t", "not one fsspec knows"
    if missing:
        url, want = f"{missing[0][0]}://bucket/data/", f"pip install {missing[0][1]}"
    r = run_cli("audit", "--test", url, "--target", "y", "--engine", "dask")
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert url in r.stderr and want in r.stderr
