"""The local engine reads the Parquet inputs the Dask engine reads: a ``file://`` URL, a
glob over a partitioned folder, a folder (``assay.io.parquet_data``), with the same
results as the same rows in memory; unusable ones are one-line errors (exit 2)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import polars as pl
import pytest

import assay
from assay.errors import InputError
from assay.io.parquet_data import is_parquet_dataset
from assay.io.readers import read_table

from ..cli.helpers import run_cli

fsspec = pytest.importorskip("fsspec")

CONFIG = {"include": ["data.integrity", "data.train_test_overlap", "data.provenance"]}


def _tables(planted: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(3)
    n = 2000
    train = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "k": rng.choice(["a", "b", "c"], n),
            "y": rng.integers(0, 2, n),
        }
    )
    test = pd.DataFrame(
        {
            "x": rng.normal(size=800),
            "k": rng.choice(["a", "b", "c"], 800),
            "y": rng.integers(0, 2, 800),
        }
    )
    if planted:
        train.loc[[7, 900], "x"] = np.inf  # planted infinities
        test = pd.concat([test, train.iloc[:300]], ignore_index=True)  # planted overlap
    return train, test


def _partitioned(root, df: pd.DataFrame) -> None:
    """A hive-style partitioned folder: ``part=<k>/chunk-<i>.parquet``, rows in order."""
    for i, chunk in enumerate(np.array_split(np.arange(len(df)), 4)):
        folder = root / f"part={i // 2}"
        folder.mkdir(parents=True, exist_ok=True)
        df.iloc[chunk].to_parquet(folder / f"chunk-{i}.parquet", row_group_size=300)


@pytest.fixture(scope="module", params=[True, False], ids=["planted", "clean"])
def case(request, tmp_path_factory):
    planted = request.param
    d = tmp_path_factory.mktemp("local-datasets")
    train, test = _tables(planted)
    _partitioned(d / "train", train)
    _partitioned(d / "test", test)
    memory = assay.audit(
        train=pl.from_pandas(train), test=pl.from_pandas(test), target="y", config=CONFIG
    )
    return planted, d, memory


def _same(memory, other) -> None:
    assert [(c.id, c.status) for c in memory.checks] == [(c.id, c.status) for c in other.checks]
    for c in memory.checks:
        assert c.metrics == pytest.approx(other.check(c.id).metrics, rel=1e-12), c.id
    fp = memory.check("data.provenance").details["fingerprints"]
    assert fp == other.check("data.provenance").details["fingerprints"]


def test_file_url_and_glob_read_like_memory(case):
    planted, d, memory = case
    result = assay.audit(
        train=f"file://{d / 'train'}",  # a folder, by URL
        test=str(d / "test" / "**" / "*.parquet"),  # a glob over the partition folders
        target="y",
        config=CONFIG,
    )
    _same(memory, result)
    statuses = {c.id: c.status for c in result.checks}
    if planted:
        assert statuses["data.integrity"] == "fail"  # the infinities
        assert statuses["data.train_test_overlap"] in ("warn", "fail")
        assert result.check("data.train_test_overlap").metrics["overlap_rows_test"] == 300
    else:
        assert statuses["data.train_test_overlap"] == "pass"
        assert result.check("data.train_test_overlap").metrics["overlap_rows_test"] == 0
    assert result.inputs["train"]["rows"] == 2000
    assert result.inputs["train"]["path"] == f"file://{d / 'train'}"


def test_folder_on_the_command_line(case, tmp_path):
    planted, d, _ = case
    out = tmp_path / "out"
    r = run_cli(
        "audit",
        *("--train", d / "train", "--test", f"file://{d / 'test'}/*/*.parquet"),
        *("--target", "y", "--check", "data.integrity", "--out", out),
    )
    assert r.returncode == (1 if planted else 0), r.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["inputs"]["test"]["rows"] == (1100 if planted else 800)
    assert [c["status"] for c in report["checks"]] == ["fail" if planted else "pass"]


def test_unusable_datasets_are_one_line_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="matches no Parquet file"):
        read_table(str(tmp_path / "empty"), name="test")
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    pd.DataFrame({"a": [1.0]}).to_parquet(mixed / "a.parquet")
    pd.DataFrame({"b": ["x"]}).to_parquet(mixed / "b.parquet")
    with pytest.raises(InputError, match="do not have the same columns"):
        read_table(str(mixed), name="test")
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(InputError, match="could not be read as Parquet"):
        read_table(f"file://{tmp_path}/*.parquet", name="test")
    weird = tmp_path / "data[1].csv"  # an existing file with glob characters is that file
    weird.write_text("a,b\n1,2\n")
    assert not is_parquet_dataset(str(weird)) and is_parquet_dataset(str(tmp_path / "*.csv"))
    r = run_cli("audit", "--test", tmp_path / "empty", "--target", "y")
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "empty" in r.stderr


def test_parquet_table_reads_a_file_url(case):
    """The local drift engine's column-at-a-time table, on a ``file://`` URL (its first
    file's schema used to be opened as a local path)."""
    from assay.engine._parquet import ParquetTable

    _, d, _ = case
    by_url = ParquetTable(f"file://{d / 'train'}", name="reference")
    by_path = ParquetTable(d / "train", name="reference")
    assert by_url.columns == by_path.columns == ["x", "k", "y"]
    assert by_url.column("x").equals(by_path.column("x"))
    assert by_url.head(5).equals(by_path.head(5))
