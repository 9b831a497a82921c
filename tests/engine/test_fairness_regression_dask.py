"""A regression's ``fairness.group_metrics`` on the Dask engine, from per-group sums of
every row (:class:`assay.engine._groups.GroupSums`), against the local check on the same
rows (a real two-worker ``LocalCluster``).

Tolerance: group names, sizes, every point metric (MAE, mean residual, mean prediction,
relative MAE) and every disparity's value agree within rel 1e-9 (ratios of the same sums,
summed in another order); the check's status and the status of every single-attribute
gap are identical unless the gap is on the line (local adjusted p value between 0.02
and 0.2, where 300 resamples' Monte Carlo error can move it across 0.05). Interval
bounds agree within 0.35 of the local interval's width: the local check bootstraps
rows, the Dask one draws each group's sums from the Poisson bootstrap's normal
approximation (:mod:`assay.fairness._counts`), with other random numbers, 300
resamples, intersectional groups of ~130 rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

import assay
from assay.engine._groups import group_sums, merge_group_sums

distributed = pytest.importorskip("distributed")
pytest.importorskip("fairlearn")
skops_io = pytest.importorskip("skops.io")

ROWS = 6000


@pytest.fixture(scope="module")
def client(dask_client):
    return dask_client


def _table(n: int, rng: np.random.Generator, biased: bool) -> pd.DataFrame:
    sex = rng.choice(["f", "m"], n)
    x = rng.normal(size=n)
    y = 10 + 3 * x + rng.normal(size=n)
    noise = np.where((sex == "f") & biased, 3.0, 1.0)  # planted: women's errors 3x larger
    return pd.DataFrame(
        {
            "x": x,
            "sex": sex,
            "region": rng.choice([f"r{i:02d}" for i in range(22)], n),  # 20 kept, 2 (other)
            "age": rng.integers(18, 90, n).astype(float),  # > 20 values: quartile bins
            "y": y,
            "pred": 10 + 3 * x + noise * rng.normal(size=n),
        }
    )


def _write(df: pd.DataFrame, folder) -> None:
    folder.mkdir()
    for i, chunk in enumerate(np.array_split(np.arange(len(df)), 2)):
        df.iloc[chunk].to_parquet(folder / f"part-{i}.parquet", row_group_size=1000)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from sklearn.linear_model import LinearRegression

    d = tmp_path_factory.mktemp("fairness-regression-dask")
    rng = np.random.default_rng(3)
    biased, clean = _table(ROWS, rng, True), _table(ROWS, rng, False)
    _write(biased, d / "biased")
    _write(clean.drop(columns="pred"), d / "clean")
    skops_io.dump(LinearRegression().fit(clean[["x"]], clean["y"]), d / "model.skops")
    return d


def _config(max_rows: int) -> dict:
    return {
        "n_bootstrap": 300,
        "seed": 5,
        "include": ["fairness.group_metrics"],
        "max_rows_model_checks": max_rows,
    }


def _run(data, client, which: str, **kw):
    local = assay.audit(test=pl.read_parquet(data / which), config=_config(100_000), **kw)
    # The Dask sample is a third of the table: the sums still read every row.
    dask = assay.audit(
        test=data / which, config=_config(2000), engine="dask", scheduler=client, **kw
    )
    return local.check("fairness.group_metrics"), dask


def _close(a: dict, b: dict, where: str) -> None:
    for k, v in a.items():
        if v is None or isinstance(v, str) or k == "p_value":
            continue
        stem = k.rsplit("_", 1)[0]
        if k.endswith(("_low", "_high")) and f"{stem}_high" in a and f"{stem}_low" in a:
            width = a[f"{stem}_high"] - a[f"{stem}_low"]
            assert b[k] == pytest.approx(v, abs=0.35 * width + 1e-9), (where, k)
        elif isinstance(v, float | int):
            assert b[k] == pytest.approx(v, rel=1e-9, abs=1e-12, nan_ok=True), (where, k)


def _same(a, b) -> None:
    assert a.status == b.status
    _close(dict(a.metrics), dict(b.metrics), "metrics")
    for sa, sb in zip(a.details["sets"], b.details["sets"], strict=True):
        assert sa["attributes"] == sb["attributes"]
        assert [g["group"] for g in sa["groups"]] == [g["group"] for g in sb["groups"]]
        for ga, gb in zip(sa["groups"], sb["groups"], strict=True):
            _close(ga, gb, ga["group"])
        da = [(d["metric"], d["worst_group"]) for d in sa["disparities"]]
        assert da == [(d["metric"], d["worst_group"]) for d in sb["disparities"]]
        for x, y in zip(sa["disparities"], sb["disparities"], strict=True):
            assert y["value"] == pytest.approx(x["value"], rel=1e-9)
            # A gap on the line (local adjusted p in 0.02-0.2) may warn on one bootstrap
            # and pass on the other: 300 resamples put a few percent of noise on its se.
            if len(sa["attributes"]) == 1 and not 0.02 < x["p_value"] < 0.2:
                assert x["status"] == y["status"], (sa["attributes"], x["metric"])


def test_planted_error_gap_fails_on_both_engines_alike(data, client):
    local, result = _run(
        data, client, "biased", target="y", prediction="pred", sensitive=["sex", "region"]
    )
    dask = result.check("fairness.group_metrics")
    assert local.status == "fail"  # women's MAE about 3x men's, relative to the same spread
    _same(local, dask)
    assert dask.details["rows_counted"] == ROWS  # every row, not the 2,000-row sample
    assert "Gaussian Poisson bootstrap" in dask.details["metrics_by"]
    assert "engine_sample" not in dask.details
    assert "fairness.group_metrics" in result.extra["engine"]["full_data_checks"]
    groups = {g["group"] for s in dask.details["sets"] for g in s["groups"]}
    assert "region=(other)" in groups and "sex=f & region=r00" in groups


def test_clean_regression_passes_on_both_engines_alike(data, client):
    local, result = _run(
        data, client, "clean", target="y", model=data / "model.skops", sensitive=["sex", "age"]
    )
    dask = result.check("fairness.group_metrics")
    assert local.status == "pass"
    _same(local, dask)  # the model file predicted on the workers
    assert dask.details["rows_counted"] == ROWS
    groups = [g["group"] for g in dask.details["sets"][1]["groups"]]
    assert len(groups) == 4 and all(g.startswith("age ") for g in groups)  # quartile bins


def test_group_sums_merge_is_associative_and_matches_the_rows():
    rng = np.random.default_rng(0)
    n = 900
    sex = np.array([f"sex={v}" for v in rng.choice(["f", "m", "(missing)"], n)], dtype=object)
    y = rng.normal(5, 2, n)
    pred = y + rng.normal(0, 1, n)
    whole = group_sums({"sex": sex}, y, pred)
    parts = [
        group_sums({"sex": sex[i : i + 300]}, y[i : i + 300], pred[i : i + 300])
        for i in (0, 300, 600)
    ]
    left = merge_group_sums(merge_group_sums(parts[0], parts[1]), parts[2])
    right = merge_group_sums(parts[0], merge_group_sums(parts[1], parts[2]))
    for merged in (left, right):
        assert merged.table.get_column("sex").to_list() == whole.table.get_column("sex").to_list()
        assert merged.table.get_column("n").to_list() == whole.table.get_column("n").to_list()
        for c in whole.table.columns[2:]:
            got = merged.table.get_column(c).to_numpy()
            assert got == pytest.approx(whole.table.get_column(c).to_numpy(), rel=1e-12), c
    assert whole.n == n
    keys, S, M = whole.by(["sex"])
    f = sex == "sex=f"
    err = pred[f] - y[f]
    g = keys.index("sex=f")
    assert S[g, 0] == f.sum() and S[g, 1] == pytest.approx(np.abs(err).sum())
    assert S[g, 2] == pytest.approx(err.sum()) and S[g, 4] == pytest.approx(y[f].sum())
    assert M[g, 1, 1] == pytest.approx((err**2).sum())  # the sum of squared errors
    assert M[g, 4, 5] == pytest.approx((y[f] ** 3).sum())
    with pytest.raises(ValueError, match="different sensitive columns"):
        merge_group_sums(whole, group_sums({"age": sex}, y, pred))
