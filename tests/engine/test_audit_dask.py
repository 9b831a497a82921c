"""``assay audit --engine dask`` on a real two-worker ``LocalCluster`` against the local engine.

Same data (partitioned Parquet: train 3 files x 2 row groups, test and current
2 files x 2), same model file (.skops, predicted on the workers), same config.
Tolerance: the data checks, provenance and (with tables smaller than the
sample size, so the sample is the whole table in its order) the model checks
agree exactly (metrics to 1e-9); drift statistics within the documented
tolerance of :mod:`assay.engine._dask`; every status identical.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import polars as pl
import pytest

import assay
from assay.core import runner
from assay.core.audit import build_context
from assay.core.config import AuditConfig
from assay.core.registry import get_check
from assay.engine._audit_dask import DaskAuditEngine
from assay.engine._parquet import parquet_parts

from ..cli.helpers import run_cli, run_cli_subprocess

distributed = pytest.importorskip("distributed")
skops_io = pytest.importorskip("skops.io")

CHECKS = [
    "data.integrity",
    "data.train_test_overlap",
    "data.provenance",
    "evaluation.performance",
    "drift.features",
]
CONFIG = {"n_bootstrap": 20, "seed": 3, "include": CHECKS}


@pytest.fixture(scope="module")
def client(dask_client):
    return dask_client


def _table(n: int, rng: np.random.Generator, shift: float = 0.0) -> pd.DataFrame:
    x1 = rng.normal(size=n) + shift
    x2 = rng.normal(size=n)
    age = rng.integers(18, 80, n).astype(float)
    logit = 1.2 * x1 - 0.8 * x2
    return pd.DataFrame(
        {
            "x1": x1,
            "x2": x2,
            "age": age,
            "city": rng.choice(["north", "south", "east", "west"], n),
            "code": [str(i % 97) if i % 40 else "n/a" for i in range(n)],
            "ratio": rng.random(n),
            "y": (logit + rng.logistic(size=n) > 0).astype(int),
        }
    )


def _write(df: pd.DataFrame, folder, files: int, row_group: int) -> None:
    folder.mkdir()
    for i, chunk in enumerate(np.array_split(np.arange(len(df)), files)):
        df.iloc[chunk].to_parquet(folder / f"part-{i}.parquet", row_group_size=row_group)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from sklearn.linear_model import LogisticRegression

    d = tmp_path_factory.mktemp("audit-dask")
    rng = np.random.default_rng(7)
    train = _table(9000, rng)
    train.loc[[11, 3000, 8000], "age"] = 999.0  # planted sentinel
    train.loc[[40, 41], "ratio"] = np.inf  # planted infinities (not a model feature)
    train = pd.concat([train, train.iloc[500:560]], ignore_index=True)  # 60 duplicate rows
    test = _table(5000, rng)
    test.iloc[100:250] = train.iloc[1000:1150].to_numpy()  # 150 rows copied from train
    current = _table(4000, rng, shift=0.8).drop(columns="y")  # drift planted in x1
    _write(train, d / "train", 3, 1600)
    _write(test, d / "test", 2, 1300)
    _write(current, d / "current", 2, 1000)
    model = LogisticRegression().fit(train[["x1", "x2", "age"]], train["y"])
    skops_io.dump(model, d / "model.skops")
    return d


@pytest.fixture(scope="module")
def both(data, client):
    local = assay.audit(
        train=pl.read_parquet(data / "train"),
        test=pl.read_parquet(str(data / "test" / "*.parquet")),
        current=pl.read_parquet(data / "current"),
        target="y",
        model=data / "model.skops",
        config=CONFIG,
    )
    dask = assay.audit(
        train=data / "train",
        test=str(data / "test" / "*.parquet"),
        current=data / "current",
        target="y",
        model=data / "model.skops",
        config=CONFIG,
        engine="dask",
        scheduler=client,
    )
    return local, dask


def test_same_statuses_and_planted_problems(both):
    local, dask = both
    assert [(c.id, c.status) for c in local.checks] == [(c.id, c.status) for c in dask.checks]
    statuses = {c.id: c.status for c in dask.checks}
    assert statuses["data.integrity"] == "fail"  # infinities
    assert statuses["data.train_test_overlap"] in ("warn", "fail")
    assert statuses["drift.features"] in ("warn", "fail")
    integ = dask.check("data.integrity")
    sentinel = [f for f in integ.findings if f.metrics.get("sentinel_value") == 999.0]
    assert sentinel and sentinel[0].rows == (11, 3000, 8000)
    assert integ.metrics["duplicate_rows_train"] == 60
    assert dask.check("data.train_test_overlap").metrics["overlap_rows_test"] >= 150


def test_data_checks_agree_exactly(both):
    local, dask = both
    for cid in ("data.integrity", "data.train_test_overlap", "data.provenance"):
        a, b = local.check(cid), dask.check(cid)
        assert a.summary == b.summary, cid
        assert a.metrics == pytest.approx(b.metrics, rel=1e-9), cid
        assert [(f.message, f.rows) for f in a.findings] == [
            (f.message, f.rows) for f in b.findings
        ], cid
    fl = local.check("data.provenance").details["fingerprints"]
    fd = dask.check("data.provenance").details["fingerprints"]
    assert fl == fd  # the same rows give the same fingerprint however partitioned
    assert (
        local.check("data.train_test_overlap").details["examples"]
        == (dask.check("data.train_test_overlap").details["examples"])
    )


def test_model_checks_and_drift_within_tolerance(both):
    local, dask = both
    a, b = local.check("evaluation.performance"), dask.check("evaluation.performance")
    assert a.metrics == pytest.approx(b.metrics, rel=1e-9, abs=1e-12)
    rows_l = {r["column"]: r for r in local.check("drift.features").details["columns"]}
    rows_d = {r["column"]: r for r in dask.check("drift.features").details["columns"]}
    for col, r in rows_l.items():
        assert r["drifted"] == rows_d[col]["drifted"], col
        assert rows_d[col]["psi"] == pytest.approx(r["psi"], abs=0.005), col


def test_rows_predictions_and_sample_are_reported(both, data):
    import skops.io

    _, dask = both
    eng = dask.extra["engine"]
    assert eng["partitions"] == {"train": 6, "test": 4, "current": 4}
    assert eng["rows"] == {"train": 9060, "test": 5000, "current": 4000}
    assert dask.inputs["train"]["rows"] == 9060 and dask.settings["engine"] == "dask"
    perf = dask.check("evaluation.performance").details["engine_sample"]
    assert perf["rows"]["test"] == perf["of_rows"]["test"] == 5000  # it fits: the whole table
    assert "engine_sample" not in dask.check("data.integrity").details
    assert "data.integrity" in eng["full_data_checks"]
    test = pd.read_parquet(data / "test")
    model = skops.io.load(
        data / "model.skops", trusted=skops.io.get_untrusted_types(file=data / "model.skops")
    )
    pred = model.predict(test[["x1", "x2", "age"]])
    full = eng["predictions"]["test"]
    assert full["accuracy"] == pytest.approx(float((pred == test["y"]).mean()), abs=1e-12)
    assert full["label_counts"] == {"0": int((test["y"] == 0).sum()), "1": int(test["y"].sum())}
    from sklearn.metrics import roc_auc_score

    auc = roc_auc_score(test["y"], model.predict_proba(test[["x1", "x2", "age"]])[:, 1])
    assert full["auc_binned"] == pytest.approx(auc, abs=2e-3)


def test_capped_profiles_keep_the_integrity_verdict(data, client):
    """Beyond the cap the profile is a sketch: the verdict and the planted findings stay."""
    frames = {
        "train": pl.read_parquet(data / "train"),
        "test": pl.read_parquet(str(data / "test" / "*.parquet")),
    }
    parts = {
        "train": parquet_parts(data / "train", name="train"),
        "test": parquet_parts(str(data / "test" / "*.parquet"), name="test"),
    }
    cfg = {"include": ["data.integrity"]}
    local = assay.audit(train=frames["train"], test=frames["test"], target="y", config=cfg)
    ctx = build_context(
        train=frames["train"],
        test=frames["test"],
        current=None,
        model=None,
        config=AuditConfig(target="y", **cfg),
        trust_model=False,
    )
    ctx.data_engine = DaskAuditEngine(parts, client, cap=300)  # the data checks read it
    (b,) = runner.run([get_check("data.integrity")], ctx)
    a = local.check("data.integrity")
    assert a.status == b.status == "fail"
    kinds = {(f.column, f.split, f.status) for f in a.findings if f.status != "pass"}
    assert kinds == {(f.column, f.split, f.status) for f in b.findings if f.status != "pass"}


def test_cli_engine_dask_with_a_scheduler(data, client, tmp_path):
    out = tmp_path / "report"
    r = run_cli_subprocess(  # its own Dask client, in its own process
        "audit",
        "--train", data / "train",
        "--test", data / "test",
        "--target", "y",
        "--check", "data.integrity",
        "--check", "data.provenance",
        "--engine", "dask",
        "--scheduler", client.scheduler.address,
        "--out", out,
    )  # fmt: skip
    assert r.returncode == 1, r.stderr  # the planted infinities fail the gate
    report = json.loads((out / "report.json").read_text())
    assert report["extra"]["engine"]["name"] == "dask"
    assert report["inputs"]["train"]["rows"] == 9060


def test_cli_bad_engine_input_is_one_line(data, tmp_path):
    csv = tmp_path / "t.csv"
    pd.read_parquet(data / "test").to_csv(csv, index=False)
    r = run_cli("audit", "--test", csv, "--target", "y", "--scheduler", "tcp://x:1")
    assert r.returncode == 2 and "--scheduler needs --engine dask" in r.stderr
    assert "Traceback" not in r.stderr
    r = run_cli("audit", "--test", csv, "--target", "y", "--engine", "dask")
    assert r.returncode == 2 and "is not Parquet" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_hash_shuffle_buckets_give_the_same_counts(data, client, monkeypatch):
    """Many buckets (forced: one per 1,000 rows) or one: the same exact counts and rows."""
    from assay.engine import _audit_dask
    from assay.engine._audit import LocalAuditEngine

    parts = {
        "train": parquet_parts(data / "train", name="train"),
        "test": parquet_parts(data / "test", name="test"),
    }
    frames = {"train": pl.read_parquet(data / "train"), "test": pl.read_parquet(data / "test")}
    cols = ["x1", "x2", "age", "city", "code", "ratio"]
    local = LocalAuditEngine(frames)
    monkeypatch.setattr(_audit_dask, "BUCKET_ROWS", 1000)
    assert _audit_dask.buckets_for(9060) == 16
    engine = DaskAuditEngine(parts, client)
    assert engine.duplicates("train", cols) == local.duplicates("train", cols)
    a, b = engine.overlap("test", cols), local.overlap("test", cols)
    assert (a.rows, a.train_rows, a.train_chance_rows) == (
        b.rows,
        b.train_rows,
        b.train_chance_rows,
    )
    assert a.stats.overlap_rows == b.stats.overlap_rows >= 150
    assert a.stats.group_sizes.sort("size").equals(b.stats.group_sizes.sort("size"))


def test_workers_load_the_model_file_with_the_audit_task(tmp_path):
    """The workers load a model file as the local path does, with the task: a clusterer
    without predict loads for task 'clustering' and is refused without a task."""
    from types import SimpleNamespace

    from sklearn.cluster import DBSCAN

    from assay.engine._audit_dask import DaskAudit, _worker_model
    from assay.errors import ModelError

    path = tmp_path / "dbscan.skops"
    skops_io.dump(DBSCAN(eps=0.5).fit(np.random.default_rng(0).normal(size=(50, 2))), path)
    assert hasattr(_worker_model(str(path), False, "clustering"), "describe")
    with pytest.raises(ModelError, match="no predict method"):
        _worker_model(str(path), False, None)
    ctx = SimpleNamespace(
        task="multiclass",
        target="y",
        classes=("a", "b", "c"),
        positive_class=None,
        model=None,
        schema=SimpleNamespace(features=("x",)),
        prediction_column=None,
        score_columns=(),
    )
    spec = DaskAudit._spec(None, ctx, path, False)  # type: ignore[arg-type]
    assert spec is not None and spec["task"] == "multiclass" and spec["model"] == str(path)
