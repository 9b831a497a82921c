"""The model card and datasheet of clustering and anomaly audits speak of these
tasks in their own words: the report's headline sentence (the same one the HTML
report leads with), the task's own numbers with intervals, no accuracy, no
"target" for a clustering, known anomaly labels named as such."""

from __future__ import annotations

import html
import re

import pytest

import assay
from assay.render.datasheet import render_datasheet
from assay.render.html import render_html
from assay.render.model_card import render_model_card

from .helpers import blobs, isolation_forest, kmeans, transactions, uniform

CONFIG = {"n_bootstrap": 40, "seed": 0}


def _section(card: str, title: str) -> str:
    start = card.index(f"## {title}")
    end = card.find("\n## ", start + 3)
    return card[start : end if end > 0 else None]


def _lede(result) -> str:
    """The headline sentence of the HTML report (rendered from the same report dict)."""
    page = render_html(result.to_dict())
    m = re.search(r'ay-unsupervised".*?<p class="ay-lede">(.*?)</p>', page, re.DOTALL)
    assert m, "the HTML report has no headline sentence"
    return html.unescape(m.group(1))


@pytest.fixture(scope="module")
def blobs_report():
    r = assay.audit(
        test=blobs(600, seed=1),
        current=blobs(600, seed=2),
        model=kmeans(blobs(600, seed=0), 4),
        task="clustering",
        sensitive="region",
        config=CONFIG,
    )
    return r, r.to_dict()


def test_clustering_card_leads_with_the_reports_headline_not_accuracy(blobs_report):
    result, report = blobs_report
    card = render_model_card(report)
    assert "- **Task:** clustering: the model puts each row in a group" in card
    assert "of the target" not in card
    metrics = _section(card, "Metrics")
    assert "The headline metric" not in metrics and "No performance metrics" not in metrics
    assert "no accuracy" in metrics and "`accuracy`" not in card
    sentence = _lede(result)
    assert f"**In one sentence:** {sentence}" in metrics
    assert "clearly better than chance" in sentence and "every cluster comes back" in sentence
    sil = result.check("clustering.quality").metrics
    row = next(line for line in metrics.splitlines() if "`clustering.quality.silhouette`" in line)
    assert f"{sil['silhouette']:.4f}" in row and f"{sil['silhouette_low']:.4f}" in row
    assert "| Clusters | `clustering.sizes.n_clusters` | 4 |" in metrics
    # the segmentation fairness check is the card's disaggregated result
    assert "**Segments that are one sensitive group** (`clustering.fairness`)" in card
    assert "no fairness or segment check ran" not in card


def test_clustering_card_of_noise_says_so():
    U = uniform(600, seed=1)
    r = assay.audit(test=U, model=kmeans(U, 5, list(U.columns)), task="clustering", config=CONFIG)
    metrics = _section(render_model_card(r.to_dict()), "Metrics")
    assert "no better than chance" in metrics or "only slightly better than chance" in metrics
    assert "clearly better than chance" not in metrics


def test_clustering_datasheet_has_no_target(blobs_report):
    sheet = render_datasheet(blobs_report[1])
    assert "- Task: clustering" in sheet
    assert "- Target: none (a clustering model predicts none)" in sheet
    assert "| target |" not in sheet


@pytest.mark.parametrize("labelled", [True, False])
def test_anomaly_card_and_datasheet(labelled):
    train = transactions(800, seed=1)
    test = transactions(600, seed=2)
    if not labelled:
        test = test.drop(columns="label")
    r = assay.audit(
        test=test,
        current=transactions(600, seed=4, shift=2.0).drop(columns="label"),
        model=isolation_forest(train),
        target="label" if labelled else None,
        task="anomaly",
        config=CONFIG,
    )
    report = r.to_dict()
    card = render_model_card(report)
    metrics = _section(card, "Metrics")
    assert f"**In one sentence:** {_lede(r)}" in metrics
    assert "times the reference" in metrics  # the planted shift raised the flagged rate
    assert "| Share of rows flagged | `anomaly.rate.rate` |" in metrics
    sheet = render_datasheet(report)
    assert "- Task: anomaly detection" in sheet
    if labelled:
        assert "known anomaly labels in `label`" in card
        assert "`anomaly.detection.pr_auc`" in metrics and "`anomaly.detection.recall`" in metrics
        assert "- Known anomaly labels: `label`" in sheet
        assert "| known anomaly label |" in sheet
    else:
        assert "no known anomaly labels were given" in card
        assert "No known anomaly labels were given" in metrics
        assert "anomaly.detection" not in metrics
        assert "- Known anomaly labels: none were given" in sheet
