"""The Dask engine on a real ``LocalCluster`` (two worker processes) against the local one.

Tolerances are those documented in :mod:`assay.engine._dask`: categorical
statistics and numeric columns with few distinct values agree exactly; other
numeric statistics within a bin's share (KS 0.002; Wasserstein 2% + 0.002
reference stds; PSI 0.005); verdicts are identical.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from assay.drift import drift
from assay.engine import ColumnSpec, LocalEngine
from assay.engine._dask import DaskEngine
from assay.engine._parquet import parquet_parts

from ..cli.helpers import run_cli_subprocess
from .helpers import PLANTED, drifted_columns, planted_tables

distributed = pytest.importorskip("distributed")

CONFIG = {"n_bootstrap": 100, "seed": 1, "thresholds": {"drift.multivariate": {"max_rows": 4000}}}


@pytest.fixture(scope="module")
def client(dask_client):
    return dask_client


@pytest.fixture(scope="module")
def parquet(tmp_path_factory):
    """Planted tables as partitioned Parquet: 4 files x 2 row groups, 3 files x 2."""
    d = tmp_path_factory.mktemp("dask")
    ref, cur = planted_tables(40_000, 24_000, seed=3)
    (d / "ref").mkdir()
    (d / "cur").mkdir()
    for i in range(4):
        ref.iloc[i * 10_000 : (i + 1) * 10_000].to_parquet(
            d / "ref" / f"part-{i}.parquet", row_group_size=5_000
        )
    for i in range(3):
        cur.iloc[i * 8_000 : (i + 1) * 8_000].to_parquet(
            d / "cur" / f"part-{i}.parquet", row_group_size=4_000
        )
    return d


@pytest.fixture(scope="module")
def both(parquet, client):
    local = drift(parquet / "ref", str(parquet / "cur" / "*.parquet"), config=CONFIG)
    dask = drift(
        parquet / "ref",
        str(parquet / "cur" / "*.parquet"),
        engine="dask",
        scheduler=client,
        config=CONFIG,
    )
    return local, dask


def test_partitions_are_row_groups(parquet):
    assert len(parquet_parts(parquet / "ref", name="reference")) == 8
    assert len(parquet_parts(str(parquet / "cur" / "*.parquet"), name="current")) == 6


def test_same_verdicts_as_local(both):
    local, dask = both
    assert drifted_columns(local) == drifted_columns(dask) == set(PLANTED)
    for a, b in zip(local.checks, dask.checks, strict=True):
        assert (a.id, a.status) == (b.id, b.status)
    assert dask.settings["engine"] == "dask" and dask.inputs["current"]["partitions"] == 6
    assert dask.check("drift.features").details["engine"] == "dask"


def test_statistics_within_tolerance(both):
    local, dask = both
    rows_l = {r["column"]: r for r in local.check("drift.features").details["columns"]}
    rows_d = {r["column"]: r for r in dask.check("drift.features").details["columns"]}
    assert rows_l.keys() == rows_d.keys()
    for col, a in rows_l.items():
        b = rows_d[col]
        assert a["method"] == b["method"] and a["drifted"] == b["drifted"], col
        if a["method"] == "wasserstein":
            assert b["statistic"] == pytest.approx(a["statistic"], rel=0.02, abs=0.002), col
            assert b["ks_statistic"] == pytest.approx(a["ks_statistic"], abs=0.002), col
        else:
            assert b["statistic"] == pytest.approx(a["statistic"], rel=1e-12), col
        assert b["psi"] == pytest.approx(a["psi"], abs=0.005), col
    # The domain classifier sees the same rows (smallest content hashes) either way.
    mv_l, mv_d = local.check("drift.multivariate"), dask.check("drift.multivariate")
    assert mv_d.metrics["auc"] == pytest.approx(mv_l.metrics["auc"], abs=1e-9)


def test_discrete_summaries_are_identical(parquet, client):
    import polars as pl

    ref = pl.read_parquet(parquet / "ref")
    cur = pl.read_parquet(str(parquet / "cur" / "*.parquet"))
    specs = [ColumnSpec("count", "count", "numeric"), ColumnSpec("city", "city", "categorical")]
    engine = DaskEngine(
        parquet_parts(parquet / "ref", name="reference"),
        parquet_parts(str(parquet / "cur" / "*.parquet"), name="current"),
        client,
    )
    on_dask = engine.summarize(specs)
    local = LocalEngine(ref, cur).summarize(specs)
    for name in ("count", "city"):
        for a, b in zip(local[name], on_dask[name], strict=True):
            if name == "city":
                assert dict(a.counts) == dict(b.counts)
            else:
                np.testing.assert_array_equal(a.edges, b.edges)
                np.testing.assert_array_equal(a.le, b.le)
                assert (a.n, a.min, a.max) == (b.n, b.min, b.max)


def test_bad_scheduler_address_is_an_input_error(parquet, tmp_path):
    from assay.errors import InputError

    planted_tables(50, 50)[0].to_csv(tmp_path / "ref.csv", index=False)
    with pytest.raises(InputError, match="the dask engine reads Parquet"):
        drift(tmp_path / "ref.csv", parquet / "cur", engine="dask")
    with pytest.raises(InputError, match="could not connect to the Dask scheduler at foo://"):
        drift(parquet / "ref", parquet / "cur", engine="dask", scheduler="foo://host:1")


def test_in_memory_frames_are_scattered(client):
    ref, cur = planted_tables(6_000, 3_000, seed=5)
    r = drift(
        ref, cur, engine="dask", scheduler=client, config={**CONFIG, "include": ["drift.features"]}
    )
    assert drifted_columns(r) == set(PLANTED)


def test_cli_on_a_scheduler_address(parquet, client, tmp_path):
    out = tmp_path / "out"
    config = tmp_path / "assay.yaml"
    config.write_text("checks:\n  include: [drift.features]\n", encoding="utf-8")
    proc = run_cli_subprocess(  # its own Dask client, in its own process
        "drift",
        "--reference",
        parquet / "ref",
        "--current",
        str(parquet / "cur" / "*.parquet"),
        "--engine",
        "dask",
        "--scheduler",
        client.scheduler.address,
        "--config",
        config,
        "--fail-on",
        "warn",
        "--out",
        out,
    )
    assert proc.returncode == 1, proc.stderr  # 4 of 9 columns drift: warn, and --fail-on warn
    report = json.loads((out / "report.json").read_text())
    [features] = report["checks"]
    assert features["status"] == "warn"
    assert {f["column"] for f in features["findings"]} == set(PLANTED)
    assert report["settings"]["engine"] == "dask"
