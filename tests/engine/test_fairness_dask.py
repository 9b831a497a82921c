"""``fairness.group_metrics`` on the Dask engine, from group counts of every row, against
the local check on the same rows (a real two-worker ``LocalCluster``).

Tolerance: group names, sizes, every point metric and every disparity's value agree
exactly (rel 1e-9: the same counts through the same ``MetricFrame``); statuses, the
statuses of single-attribute gaps and of every failing gap, and which side of 0.05
each p value falls, are identical (an intersectional gap of ~130-row groups on the
warn line may warn on one bootstrap and pass on the other). Interval
bounds agree within 0.3 of the local interval's width: both are percentile bootstraps
of the same distribution (the local one on rows, the Dask one on counts) with other
random numbers, so with 300 resamples and intersectional groups of ~130 rows a bound
moves by Monte Carlo error plus the step of a small group's rate (measured: at most
0.23 of the width over every group, 0.08 on the headline gaps).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

import assay
from assay.engine._groups import (
    GroupCounts,
    group_counts,
    merge_group_counts,
    merge_text_counts,
    text_counts,
)

distributed = pytest.importorskip("distributed")
pytest.importorskip("fairlearn")
skops_io = pytest.importorskip("skops.io")

ROWS = 6000
SENSITIVE = ["sex", "region"]


@pytest.fixture(scope="module")
def client(dask_client):
    return dask_client


def _table(n: int, rng: np.random.Generator, biased: bool) -> pd.DataFrame:
    sex = rng.choice(["f", "m"], n)
    y = rng.integers(0, 2, n)
    miss = rng.random(n) < 0.1  # every group: 10% of positives missed
    if biased:  # planted: women's positives missed 40% of the time
        miss |= (sex == "f") & (rng.random(n) < 0.35)
    pred = np.where((y == 1) & miss, 0, y)
    region = rng.choice([f"r{i:02d}" for i in range(22)], n)  # 20 kept, 2 as (other)
    return pd.DataFrame(
        {
            "x": y + rng.normal(size=n),
            "sex": sex,
            "age": rng.integers(18, 90, n).astype(float),  # > 20 values: quartile bins
            "region": region,
            "y": y,
            "pred": pred,
        }
    )


def _write(df: pd.DataFrame, folder) -> None:
    folder.mkdir()
    for i, chunk in enumerate(np.array_split(np.arange(len(df)), 2)):
        df.iloc[chunk].to_parquet(folder / f"part-{i}.parquet", row_group_size=1000)


def _config(max_rows: int) -> dict:
    return {
        "n_bootstrap": 300,
        "seed": 5,
        "include": ["fairness.group_metrics"],
        "max_rows_model_checks": max_rows,
    }


def _run(data, client, which: str, **kw):
    frame = pl.read_parquet(data / which)
    local = assay.audit(test=frame, config=_config(100_000), **kw)
    # The Dask sample is a third of the table: the counts still read every row.
    dask = assay.audit(
        test=data / which, config=_config(2000), engine="dask", scheduler=client, **kw
    )
    return local.check("fairness.group_metrics"), dask


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from sklearn.linear_model import LogisticRegression

    d = tmp_path_factory.mktemp("fairness-dask")
    rng = np.random.default_rng(11)
    biased, clean = _table(ROWS, rng, True), _table(ROWS, rng, False)
    _write(biased, d / "biased")
    _write(clean, d / "clean")
    skops_io.dump(LogisticRegression().fit(clean[["x"]], clean["y"]), d / "model.skops")
    return d


def _close(a: dict, b: dict, where: str) -> None:
    """Points equal; each ``*_low``/``*_high`` bound within 0.3 of the local width."""
    for k, v in a.items():
        if v is None or isinstance(v, str) or k == "p_value":
            continue
        stem = k.rsplit("_", 1)[0]
        if k.endswith(("_low", "_high")) and f"{stem}_high" in a and f"{stem}_low" in a:
            width = a[f"{stem}_high"] - a[f"{stem}_low"]
            assert b[k] == pytest.approx(v, abs=0.3 * width + 1e-9), (where, k)
        elif isinstance(v, float | int):
            assert b[k] == pytest.approx(v, rel=1e-9, abs=1e-12, nan_ok=True), (where, k)
    if a.get("p_value") is not None:
        assert (a["p_value"] < 0.05) == (b["p_value"] < 0.05), where


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
            if len(sa["attributes"]) == 1 or "fail" in (x["status"], y["status"]):
                assert x["status"] == y["status"], (sa["attributes"], x["metric"])


def test_planted_gap_fails_on_both_engines_alike(data, client):
    local, result = _run(data, client, "biased", target="y", prediction="pred", sensitive=SENSITIVE)
    dask = result.check("fairness.group_metrics")
    assert local.status == "fail"  # equalized odds: TPR of women far below men's
    _same(local, dask)
    assert dask.details["rows_counted"] == ROWS  # every row, not the 2,000-row sample
    assert "Multinomial" in dask.details["metrics_by"]
    assert "engine_sample" not in dask.details
    assert "fairness.group_metrics" in result.extra["engine"]["full_data_checks"]
    groups = {g["group"] for s in dask.details["sets"] for g in s["groups"]}
    assert "region=(other)" in groups


def test_clean_data_passes_on_both_engines_alike(data, client):
    local, result = _run(
        data, client, "clean", target="y", model=data / "model.skops", sensitive=["sex", "age"]
    )
    dask = result.check("fairness.group_metrics")
    assert local.status == "pass"
    _same(local, dask)  # the model file predicted on the workers
    assert dask.details["rows_counted"] == ROWS
    groups = [g["group"] for g in dask.details["sets"][1]["groups"]]
    assert len(groups) == 4 and all(g.startswith("age ") for g in groups)  # quartile bins


def test_in_memory_model_stays_on_the_sample(data, client):
    """An in-memory model cannot run on the workers: fairness reads the stated sample."""
    from sklearn.linear_model import LogisticRegression

    df = pd.read_parquet(data / "clean")
    model = LogisticRegression().fit(df[["x"]], df["y"])
    r = assay.audit(
        test=data / "clean",
        target="y",
        model=model,
        sensitive=["sex"],
        config=_config(2000),
        engine="dask",
        scheduler=client,
    )
    check = r.check("fairness.group_metrics")
    assert check.details["engine_sample"]["rows"]["test"] == 2000
    assert "rows_counted" not in check.details


def test_group_counts_merge_is_exact_and_associative():
    rng = np.random.default_rng(0)
    n = 900
    sex = np.array([f"sex={v}" for v in rng.choice(["f", "m", "(missing)"], n)], dtype=object)
    t, p = rng.integers(0, 2, n), rng.integers(0, 3, n)
    whole = group_counts({"sex": sex}, t, p)
    parts: list[GroupCounts] = [
        group_counts({"sex": sex[i : i + 300]}, t[i : i + 300], p[i : i + 300])
        for i in (0, 300, 600)
    ]
    left = merge_group_counts(merge_group_counts(parts[0], parts[1]), parts[2])
    right = merge_group_counts(parts[0], merge_group_counts(parts[1], parts[2]))
    assert left.table.equals(whole.table) and right.table.equals(whole.table)
    assert whole.n == n
    with pytest.raises(ValueError, match="different sensitive columns"):
        merge_group_counts(whole, group_counts({"age": sex}, t, p))
    s = pl.Series("c", ["a", None, "b", "a"])
    m = merge_text_counts(text_counts(s[:2]), text_counts(s[2:]))
    assert m.top(2) == ("a", "(missing)") and m.n_unique == 3
