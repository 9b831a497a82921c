"""Clustering checks on planted structure: real blobs pass, noise is flagged,
a tiny cluster, a one-group cluster and a split cluster are named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import assay

from .helpers import FEATURES, blobs, kmeans, uniform

CONFIG = {"n_bootstrap": 100, "seed": 0}


def audit(test, model, **kw):
    return assay.audit(test=test, model=model, task="clustering", config=CONFIG, **kw)


@pytest.fixture(scope="module")
def blob_result():
    test, current = blobs(900, seed=1), blobs(900, seed=2)
    return audit(test, kmeans(blobs(900, seed=0), 4), current=current, sensitive="region")


def test_well_separated_blobs_pass(blob_result):
    by = {c.id: c for c in blob_result.checks}
    assert set(by) == {
        "clustering.quality",
        "clustering.stability",
        "clustering.sizes",
        "clustering.profiles",
        "clustering.fairness",
        "clustering.drift",
        "drift.features",  # the checks that need no labels run for clustering too
        "drift.multivariate",
        "security.pii",
        "data.representativeness",
        "data.integrity",  # and the data checks
        "data.train_test_overlap",
        "data.provenance",
    }  # supervised checks are left out, not listed as skipped
    for needs_train in ("data.representativeness", "data.train_test_overlap"):
        c = by.pop(needs_train)
        assert c.status == "skipped" and "no training data" in c.summary
    for c in by.values():
        assert c.status == "pass", (c.id, c.summary)
    q = by["clustering.quality"].metrics
    assert q["silhouette"] > 0.5 and q["silhouette_gap"] > 0.1 and q["p_value"] <= 0.05
    assert q["silhouette_low"] <= q["silhouette"] <= q["silhouette_high"]
    s = by["clustering.stability"].metrics
    assert s["ari_mean"] > 0.95 and s["jaccard_min"] > 0.9
    assert by["clustering.sizes"].metrics["n_clusters"] == 4
    assert by["clustering.drift"].metrics["clusters_split"] == 0


def test_profiles_name_the_feature_that_defines_each_cluster(blob_result):
    prof = blob_result.check("clustering.profiles")
    messages = " ".join(f.message for f in prof.findings)
    # blob 1 sits at x0 = 20, blob 2 at x1 = 20, blob 3 at x2 = 20
    for col in ("x0", "x1", "x2"):
        assert f"much higher {col}" in messages
    top = [f.columns[0] for f in prof.findings]
    assert {"x0", "x1", "x2"} <= set(top)


def test_uniform_noise_kmeans_is_flagged():
    U = uniform(800, seed=1)
    r = audit(U, kmeans(U, 5, list(U.columns)))
    quality, stability = r.check("clustering.quality"), r.check("clustering.stability")
    assert quality.status == "fail", quality.summary
    assert "no better than chance" in quality.summary
    assert stability.status != "pass", stability.summary
    assert stability.metrics["ari_mean"] < 0.8
    assert stability.metrics["unstable_clusters"] >= 1


def test_split_cluster_is_named_as_drift():
    model = kmeans(blobs(900, seed=0), 4)
    test, current = blobs(900, seed=1), blobs(900, seed=3, split_first=True)
    r = audit(test, model, current=current)
    drift = r.check("clustering.drift")
    assert drift.status == "fail", drift.summary
    split = [f for f in drift.findings if "has split" in f.message]
    assert len(split) == 1
    # the split cluster is the one around the origin (blob 0), and x3 is named
    zero = str(model.predict(pd.DataFrame([[0.0] * 4], columns=FEATURES))[0])
    assert split[0].group == f"cluster {zero}"
    assert "x3" in split[0].message
    assert f"cluster {zero} split" in drift.summary


def test_tiny_cluster_is_named():
    df = blobs(900, seed=1)
    far = df.iloc[:6].copy()
    far[FEATURES] = far[FEATURES].to_numpy() * 0.1 + np.array([-30.0, -30.0, 0.0, 0.0])
    test = pd.concat([df, far], ignore_index=True)
    r = audit(test, kmeans(test, 5))
    sizes = r.check("clustering.sizes")
    assert sizes.status == "warn" and sizes.metrics["tiny_clusters"] == 1
    tiny = [f for f in sizes.findings if f.status == "warn"]
    assert tiny and tiny[0].metrics["rows"] == 6


def test_cluster_of_one_sensitive_group_is_named():
    test = blobs(900, seed=1)
    model = kmeans(test, 4)
    labels = model.predict(test[FEATURES])
    rng = np.random.default_rng(5)
    # cluster of row 0 is 95% "north"; the others half and half
    target = labels[0]
    test["region"] = np.where(
        labels == target,
        np.where(rng.random(len(test)) < 0.95, "north", "south"),
        rng.choice(["north", "south"], len(test)),
    )
    r = audit(test, model, sensitive="region")
    fair = r.check("clustering.fairness")
    assert fair.status == "warn", fair.summary
    assert [f.group for f in fair.findings] == [f"cluster {target}"]
    assert "region = north" in fair.findings[0].message


def test_cluster_column_without_model():
    test = blobs(600, seed=1)
    test["segment"] = kmeans(test, 4).predict(test[FEATURES])
    current = blobs(600, seed=2)
    current["segment"] = kmeans(test, 4).predict(current[FEATURES])
    r = assay.audit(
        test=test, current=current, prediction="segment", task="clustering", config=CONFIG
    )
    assert r.check("clustering.quality").status == "pass"
    assert r.check("clustering.stability").status == "skipped"  # nothing to refit
    assert "refit" in r.check("clustering.stability").summary
    assert r.check("clustering.drift").status == "pass"


def test_density_model_without_predict_uses_labels():
    from sklearn.cluster import DBSCAN

    test = blobs(500, seed=1)
    model = DBSCAN(eps=1.5, min_samples=5).fit(test[FEATURES])
    r = audit(test, model)
    assert r.check("clustering.quality").status == "pass"
    stab = r.check("clustering.stability")
    assert stab.status == "pass", stab.summary


def test_model_that_cannot_cluster_is_bad_input():
    with pytest.raises(assay.ModelError, match="predict, fit_predict, labels_"):
        audit(blobs(100, seed=1), object())
