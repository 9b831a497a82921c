"""The datasheet (datasheet.md and the HTML section): composition from the report,
personal data masked, the owner's checklist; robust to odd reports."""

from __future__ import annotations

import json

import pytest

import assay
from assay.render.datasheet import datasheet_data, datasheet_section, render_datasheet
from assay.render.html import render_html

from .privacy_helpers import people

IDS = [
    "data.integrity",
    "data.provenance",
    "data.representativeness",
    "security.pii",
]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    df = people(240, seed=3)
    df.loc[:20, "x"] = None
    result = assay.audit(
        train=df.iloc[:160],
        test=df.iloc[160:],
        target="y",
        sensitive="gender",
        config={"include": IDS},
    )
    out = tmp_path_factory.mktemp("sheet")
    result.save(out)
    return result.to_dict(), out, df


def test_datasheet_md_is_written_with_the_composition(report):
    rep, out, _df = report
    text = (out / "datasheet.md").read_text(encoding="utf-8")
    assert text == render_datasheet(rep)
    assert text.startswith("# Datasheet for the dataset")
    assert "| Training data | pandas | 160 | 13 |" in text
    assert "| x | numeric | feature |" in text  # type and role
    assert "| 13.1% |" in text  # 21 of 160 train rows of x are missing
    assert "| gender | f | train |" in text  # sensitive group sizes
    assert "Declared: gender." in text
    assert "### Class balance" in text


def test_personal_data_is_listed_masked(report):
    _rep, out, df = report
    text = (out / "datasheet.md").read_text(encoding="utf-8")
    assert "| email | e-mail address |" in text and "dob (a date of birth)" in text
    for value in df["email"].head(20):
        assert value not in text
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="datasheet"' in html and "For the owner to answer" in html
    for value in df["phone"].head(20):
        assert value not in html


def test_known_issues_and_the_owner_checklist(report):
    rep, _out, _ = report
    text = render_datasheet(rep)
    assert "**Personal data (PII)** (fail)" in text
    assert "## For the owner to answer" in text and text.count("- [ ] ") >= 12
    assert "consent" in text.lower() and "intended to be used for" in text


def test_renderers_compute_nothing_and_survive_odd_reports(report):
    rep, _, _ = report
    assert datasheet_data(json.loads(json.dumps(rep))) == datasheet_data(rep)
    for odd in ({}, {"checks": None}, {"inputs": "x", "checks": [1, None]}):
        assert render_datasheet(odd).startswith("# Datasheet")
        assert datasheet_section(odd).startswith("<section")
    text = render_datasheet({"checks": [], "inputs": {"schema": {"types": {"a|b": "numeric"}}}})
    assert "a\\|b" in text  # a pipe in a column name does not break the table
    page = render_html({"checks": [], "inputs": {"schema": {"types": {"<script>": "numeric"}}}})
    assert "<script>" not in page.split("<body", 1)[1].replace("<script>addEventListener", "")
