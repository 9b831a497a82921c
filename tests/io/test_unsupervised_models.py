"""``load_model(task=...)``: a ``.skops`` clusterer without ``predict`` (DBSCAN,
AgglomerativeClustering: ``fit_predict`` / ``labels_``) loads for a clustering
audit without ``--trust-model``, and is still refused where predict is needed;
the skops trust rules are unchanged (a callable inside is refused whatever the
task). Real skops files, real scikit-learn models, the real ``assay`` command."""

from __future__ import annotations

import json
import os

import pytest

import assay
from assay.errors import ModelError, UntrustedModelError
from assay.io.models import load_model

from ..cli.helpers import run_cli
from ..unsupervised.helpers import FEATURES, blobs, transactions

sio = pytest.importorskip("skops.io")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    from sklearn.cluster import DBSCAN, AgglomerativeClustering
    from sklearn.neighbors import LocalOutlierFactor

    d = tmp_path_factory.mktemp("unsup_models")
    fit = blobs(400, seed=0)[FEATURES]
    sio.dump(DBSCAN(eps=2.0, min_samples=5).fit(fit), d / "dbscan.skops")
    sio.dump(AgglomerativeClustering(n_clusters=4).fit(fit), d / "agglo.skops")
    # a DBSCAN whose distance is os.system: the file names the callable as a type
    sio.dump(DBSCAN(eps=2.0, metric=os.system), d / "crafted.skops")
    lof = LocalOutlierFactor(algorithm="brute").fit(transactions(300, 1).drop(columns="label"))
    sio.dump(lof, d / "lof.skops")  # novelty=False: fit_predict only, no scores for new rows
    blobs(400, seed=1).to_csv(d / "test.csv", index=False)
    return d


@pytest.mark.parametrize("name", ["dbscan", "agglo"])
def test_clusterer_without_predict_loads_for_clustering_only(files, name):
    adapter = load_model(files / f"{name}.skops", task="clustering")
    assert not hasattr(adapter.model, "predict") and hasattr(adapter.model, "fit_predict")
    with pytest.raises(ModelError, match="with no predict method"):
        load_model(files / f"{name}.skops")
    with pytest.raises(ModelError, match="none of decision_function, score_samples, predict"):
        load_model(files / f"{name}.skops", task="anomaly")


def test_callable_inside_a_clusterer_is_refused_whatever_the_task(files):
    for task in (None, "clustering"):
        with pytest.raises(UntrustedModelError, match=r"(posix|os|nt)\.system"):
            load_model(files / "crafted.skops", task=task)


def test_detector_without_scores_is_refused_for_anomaly(files):
    with pytest.raises(ModelError) as info:
        load_model(files / "lof.skops", task="anomaly")
    assert "LocalOutlierFactor" in str(info.value) and "lof.skops" in str(info.value)


def test_dbscan_file_audits_as_clustering(files):
    result = assay.audit(
        test=files / "test.csv",
        model=files / "dbscan.skops",
        task="clustering",
        config={"n_bootstrap": 30, "include": ["clustering.quality", "clustering.sizes"]},
    )
    by = {c.id: c for c in result.checks}
    # DBSCAN is refitted on the test rows (its labels_ belong to the 400 rows it was fitted
    # on, a different sample of the same size): four tight blobs, silhouette well above 0.5
    # (with the fit rows' labels_ it was -0.03)
    assert by["clustering.quality"].metrics["silhouette"] > 0.5, by["clustering.quality"].summary
    assert by["clustering.sizes"].metrics["n_clusters"] == 4
    assert result.to_dict()["inputs"]["model"]["class"].endswith("DBSCAN")


def test_cli_clustering_audit_of_a_dbscan_file_and_refusal_for_binary(files, tmp_path):
    out = tmp_path / "out"
    res = run_cli(
        "audit",
        "--task",
        "clustering",
        "--test",
        files / "test.csv",
        "--model",
        files / "dbscan.skops",
        "--n-bootstrap",
        "30",
        "--out",
        out,
    )
    assert res.returncode in (0, 1), res.stderr
    rep = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert rep["inputs"]["schema"]["task"] == "clustering"
    assert {c["id"] for c in rep["checks"]} >= {"clustering.quality", "clustering.stability"}
    bad = run_cli(
        "audit",
        "--test",
        files / "test.csv",
        "--target",
        "region",
        "--model",
        files / "dbscan.skops",
        "--out",
        tmp_path / "o2",
    )
    assert bad.returncode == 2 and "with no predict method" in bad.stderr
    assert "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
