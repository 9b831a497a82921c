"""Parquet tables read a column or a row group at a time give the in-memory answers."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from assay.engine import ColumnSpec, LocalEngine
from assay.engine._columns import hash_sample
from assay.engine._parquet import ParquetTable, is_parquet_path, parquet_parts
from assay.errors import InputError


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    d = tmp_path_factory.mktemp("pq")
    rng = np.random.default_rng(0)
    frames = []
    for name, shift in (("ref", 0.0), ("cur", 0.3)):
        df = pl.DataFrame(
            {
                "x": rng.normal(shift, 1, 20_000),
                "k": rng.integers(0, 7, 20_000),
                "c": rng.choice(["a", "b", "c"], 20_000),
            }
        )
        (d / name).mkdir()
        for i in range(2):
            df.slice(i * 10_000, 10_000).write_parquet(
                d / name / f"{i}.parquet", row_group_size=2500
            )
        frames.append(df)
    return d, frames


def test_row_groups_and_paths(tables):
    d, _ = tables
    assert len(parquet_parts(d / "ref", name="reference")) == 8
    assert is_parquet_path(d / "ref") and is_parquet_path(str(d / "ref" / "*.parquet"))
    assert not is_parquet_path(d / "nothing.csv")
    with pytest.raises(InputError, match="matches no Parquet file"):
        ParquetTable(str(d / "ref" / "*.csv"), name="reference")


def test_same_summaries_and_sample_as_in_memory(tables):
    d, (ref, cur) = tables
    on_disk = LocalEngine(
        ParquetTable(d / "ref", name="reference"), ParquetTable(d / "cur", name="current")
    )
    in_memory = LocalEngine(ref, cur)
    specs = [
        ColumnSpec("x", "x", "numeric"),
        ColumnSpec("k", "k", "numeric"),
        ColumnSpec("c", "c", "categorical"),
    ]
    a, b = on_disk.summarize(specs), in_memory.summarize(specs)
    for name in ("x", "k"):
        for sa, sb in zip(a[name], b[name], strict=True):
            np.testing.assert_array_equal(sa.edges, sb.edges)
            np.testing.assert_array_equal(sa.le, sb.le)
            assert sa.mean == pytest.approx(sb.mean, abs=1e-12)
    assert dict(a["c"][0].counts) == dict(b["c"][0].counts)
    sa, _, rows = on_disk.sample(["x", "c"], 500, seed=4)
    assert rows == (20_000, 20_000)
    assert sa.equals(hash_sample(ref.select(["x", "c"]), 500, seed=4))
