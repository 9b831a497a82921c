"""The HTML report: escaping, offline, size, statuses, structure, robustness."""

from __future__ import annotations

import copy
import json
import re
from html.parser import HTMLParser

import pytest

from assay.core.audit_result import AuditResult, write_outputs
from assay.render._cards import FINDINGS_FIRST, MAX_FINDINGS, anchor_id
from assay.render.html import PRINT_SCRIPT, render_html, stylesheet
from tests.render.report_samples import HOSTILE, IMG, SCRIPT, build_report

VOID = {"meta", "br", "input", "img", "link", "hr", "col", "wbr", "source"}
SVG_LEAVES = {"line", "rect", "circle", "path", "polyline"}


class _Tree(HTMLParser):
    """Collects tags, attributes and script bodies; checks that tags nest properly."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.errors: list[str] = []
        self.scripts: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack[-3:]}")
            return
        self.stack.pop()

    def handle_data(self, data):
        if self.stack and self.stack[-1] == "script":
            self.scripts.append(data)
        self.text.append(data)


def parse(page: str) -> _Tree:
    tree = _Tree()
    tree.feed(page)
    tree.close()
    return tree


def _card(page: str, index: int, check_id: str) -> str:
    return page.split(f'id="{anchor_id(index, check_id)}"', 1)[1].split("</article>", 1)[0]


# -- safety ---------------------------------------------------------------------
@pytest.mark.parametrize("fragment", [False, True])
def test_hostile_strings_are_escaped_everywhere(report, fragment):
    page = render_html(report, fragment=fragment)
    for bad in HOSTILE:
        assert bad not in page
    assert "<img" not in page
    assert "alert(1)</script>" not in page
    tree = parse(page)
    assert not tree.errors, tree.errors[:5]
    assert not tree.stack
    # No element came from the data: no <img>, no event handler, only our own script.
    assert "img" not in {t for t, _ in tree.tags}
    assert not [a for _, attrs in tree.tags for a in attrs if a.startswith("on")]
    expected_scripts = [] if fragment else [PRINT_SCRIPT]
    assert tree.scripts == expected_scripts
    # ... and the hostile text is shown, as text.
    text = "".join(tree.text)
    assert SCRIPT in text and IMG in text


def test_report_makes_no_remote_request(report):
    page = render_html(report)
    assert "http://" not in page and "https://" not in page
    assert "@import" not in page and "url(" not in page
    for tag, attrs in parse(page).tags:
        for name in ("src", "href"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), (tag, name, value)
    assert "<link" not in page


def test_stylesheet_rules_are_scoped():
    css = re.sub(r"@media[^{]*\{", "", stylesheet())
    for selectors in re.findall(r"([^{}]+)\{[^{}]*\}", css):
        for sel in selectors.split(","):
            assert sel.strip().startswith((".assay-report", "body.ay-body")), sel


# -- content --------------------------------------------------------------------
def test_each_status_is_shown_in_words(report):
    page = render_html(report)
    for status, word in (
        ("pass", "Pass"),
        ("warn", "Warning"),
        ("fail", "Fail"),
        ("error", "Error"),
        ("skipped", "Skipped"),
    ):
        assert re.search(
            rf'ay-badge-{status}"><span class="ay-icon" aria-hidden="true">'
            rf"[^<]+</span>{word}</span>",
            page,
        ), status


def test_header_states_the_verdict_and_counts(report):
    page = render_html(report)
    assert "<h1>8 checks need attention</h1>" in page
    assert "3 failed, 1 could not run and 4 warnings." in page
    assert "Quality gate <strong>failed</strong>" in page
    assert '<span class="ay-tile-n">3</span><span class="ay-tile-l">Failed</span>' in page


def test_verdict_wording():
    one = {"checks": [{"id": "a.b", "area": "a", "status": "warn"}]}
    assert "<h1>1 check needs attention</h1>" in render_html(one)
    ok = {
        "checks": [
            {"id": "a.b", "area": "a", "status": "pass"},
            {"id": "a.c", "area": "a", "status": "skipped"},
        ]
    }
    page = render_html(ok)
    assert "<h1>All checks passed</h1>" in page and "1 check was skipped" in page
    assert "Quality gate <strong>passed</strong>" in page
    assert "No checks were run" in render_html({"checks": []})


def test_what_was_audited(report):
    page = render_html(report)
    assert "20,000 rows × 24 columns" in page
    assert "Binary classification" in page
    assert "<code>defaulted</code>" in page
    assert ">HistGradientBoostingClassifier</code>" in page
    full = "sha256:" + "ab" * 32  # fingerprints are shortened, the full one is a tooltip
    assert f'<code title="{full}">sha256:abababababab…</code>' in page
    assert "<small>file sha256</small>" not in page and "file sha256" in page
    assert "3e3e3e3e3e3e…</code>" in page


def test_numbers_are_formatted_for_people(clean_report):
    page = render_html(clean_report)
    assert '>0.912 <span class="ay-ci-text">95% interval 0.897 – 0.926</span>' in page
    assert "<td>1,204</td>" in page  # counts get thousands separators
    assert 'title="brier">Brier</th><td>—</td>' in page  # null shows as a dash
    assert "<td>31.0%</td>" in page  # shares read as percentages
    assert "95%" in page.split("ay-footer", 1)[1]


def test_checks_grouped_by_area_problems_first(clean_report):
    page = render_html(clean_report)
    pos = {
        c["id"]: page.index(f'id="{anchor_id(i, c["id"])}"')
        for i, c in enumerate(clean_report["checks"])
    }
    assert pos["data.target_leakage"] < pos["data.integrity"] < pos["data.duplicates"]
    assert pos["data.label_errors"] < pos["data.representativeness"]
    assert pos["data.provenance"] < pos["evaluation.overfitting"]  # areas in lifecycle order
    assert pos["evaluation.overfitting"] < pos["evaluation.calibration"]  # error first
    assert pos["evaluation.slices"] < pos["evaluation.performance"]
    assert page.index("<h2>Data quality</h2>") < page.index("<h2>Model performance</h2>")
    plan = page.split('<ol class="ay-steps">', 1)[1].split("</ol>", 1)[0]  # "What to do next"
    assert plan.count('<li class="ay-step ') == 7 and "Representativeness" not in plan


def test_card_sections(clean_report):
    page = render_html(clean_report)
    card = _card(page, 0, "data.integrity")
    assert "<h4>What this means</h4>" in card and "<h4>What to do</h4>" in card
    assert '<span class="ay-chip">MEASURE 2.1</span><span class="ay-chip">MAP 2.3</span>' in card
    assert "Missing warn <b>0.050</b>" in card
    assert "<svg" in card and "<h4>Key numbers</h4>" in card


def test_findings_are_capped(clean_report):
    page = render_html(clean_report)
    card = _card(page, 3, "data.label_errors")
    table = card.split('<table class="ay-findings">', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr>") == MAX_FINDINGS + 1  # header + capped rows
    first = table.split('<tbody class="ay-extra">', 1)[0]
    assert first.count("<tr>") == FINDINGS_FIRST + 1
    assert "Show 40 more" in card
    assert "50 of 137 findings are shown" in card
    rows = _card(page, 2, "data.duplicates")
    assert "100, 101, 102, 103, 104, 105, 106, 107, 108, 109 and 27 more" in rows
    assert "110," not in rows


def test_passing_checks_fold_their_details(clean_report):
    page = render_html(clean_report)
    card = _card(page, 6, "evaluation.performance")
    assert '<details class="ay-more-details"><summary>Show details</summary>' in card
    problem = _card(page, 0, "data.integrity")
    assert "ay-more-details" not in problem
    assert '<details class="ay-block ay-findings-block" open>' in problem


def test_technical_details_render_tables_and_skip_deep_data():
    check = {
        "id": "e.x",
        "area": "evaluation",
        "status": "warn",
        "details": {
            "scores": {"model": {"auc": 0.91}, "dummy": {"auc": 0.5}},
            "examples": [{"row": i, "train_row": i + 1} for i in range(30)],
            "note": "plain text",
            "deep": {"a": {"b": [1, {"c": 2}]}, "x": 1},
        },
    }
    card = render_html({"checks": [check]}).split('class="ay-block ay-tech"', 1)[1]
    assert "<th></th><th>AUC</th>" in card and "<td>model</td><td>0.910</td>" in card
    assert card.count("<td>") > 20 and "and 18 more rows in report.json" in card
    assert "<dd>plain text</dd>" in card
    assert "(structured data, see report.json)" in card


def test_footer_has_what_reproduces_the_report(report):
    footer = render_html(report).split('class="ay-footer"', 1)[1]
    for needle in (
        "0.1.0",
        "2 May 2025, 14:03 UTC",
        "Random seed</dt><dd>0",
        "Bootstrap resamples</dt><dd>500",
        "numpy <b>1.26.4</b>",
        "sklearn <b>1.5.1</b>",
    ):
        assert needle in footer


def test_fragment_is_a_div_with_scoped_styles(report):
    frag = render_html(report, fragment=True)
    assert frag.startswith('<div class="assay-report ay-fragment"><style>')
    assert frag.endswith("</div>")
    for tag in ("<html", "<head>", "<body", "<!DOCTYPE", "<script"):
        assert tag not in frag
    assert AuditResult.from_dict(report)._repr_html_() == frag


def test_page_is_a_document():
    page = render_html(build_report(hostile=False))
    assert page.startswith('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">')
    assert '<meta name="viewport"' in page and "@media print" in page
    assert page.endswith("</html>\n")


# -- size and determinism -------------------------------------------------------
def _big_report() -> dict:
    r = build_report(hostile=True)
    base = r["checks"][0]
    checks = []
    for i in range(12):
        c = copy.deepcopy(base)
        c["id"] = f"data.check_{i}"
        c["findings"] = [
            {
                "status": "warn",
                "message": "A long message about what went wrong. " * 8,
                "column": f"column_{j}",
                "columns": [f"c{k}" for k in range(40)],
                "rows": list(range(500)),
                "split": "test",
                "metrics": {f"m{k}": k / 7 for k in range(20)},
            }
            for j in range(300)
        ]
        c["metrics"] = {f"metric_{k}": k * 1.5 for k in range(200)}
        c["details"] = {
            "charts": [
                {
                    "kind": "bars",
                    "title": "t",
                    "x_label": "share",
                    "items": [
                        {"label": f"col {k}", "value": k / 500, "status": "warn"}
                        for k in range(500)
                    ],
                }
            ]
            * 20,
            "table": [{f"k{k}": "x" * 2000 for k in range(30)} for _ in range(100)],
        }
        checks.append(c)
    r["checks"] = checks
    return r


def test_size_stays_under_a_megabyte_even_when_every_cap_is_reached():
    page = render_html(_big_report())
    assert len(page.encode("utf-8")) < 1_000_000


def test_size_of_a_typical_large_report():
    r = build_report(hostile=False)
    base = r["checks"][0]
    r["checks"] = []
    for i in range(12):
        c = copy.deepcopy(base)
        c["id"] = f"data.check_{i}"
        c["findings"] = [
            {
                "status": "warn",
                "message": f"{j / 10:.0%} of values are missing in column_{j}.",
                "column": f"column_{j}",
                "split": "test",
                "metrics": {"missing_share": j / 1000},
            }
            for j in range(400)
        ]
        c["details"]["charts"][0]["items"] *= 40
        r["checks"].append(c)
    assert len(render_html(r).encode("utf-8")) < 400_000
    assert len(render_html(build_report(hostile=False)).encode("utf-8")) < 150_000


def test_rebuild_from_json_is_deterministic(report):
    first = render_html(report)
    again = render_html(json.loads(json.dumps(report)))
    assert first == again
    assert render_html(copy.deepcopy(report)) == first


def test_rebuild_through_audit_result(clean_report):
    rebuilt = AuditResult.from_dict(clean_report).to_dict()
    assert render_html(rebuilt) == render_html(clean_report)


def test_write_outputs_uses_the_renderers(report, tmp_path):
    written = write_outputs(AuditResult.from_dict(report).to_dict(), tmp_path)
    html = written["report.html"].read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and SCRIPT not in html
    assert written["junit.xml"].read_text(encoding="utf-8").startswith("<?xml")


# -- robustness -----------------------------------------------------------------
ODD_REPORTS = [
    {},
    {"checks": None, "inputs": None, "settings": None, "environment": None, "gate": None},
    {"checks": "nope", "inputs": "x", "summary": [], "created_at": 12},
    {"checks": [None, 3, "x", {}], "created_at": "not a date"},
    {
        "checks": [
            {
                "status": "weird",
                "area": None,
                "id": None,
                "metrics": [1, 2],
                "findings": {"a": 1},
                "details": [],
                "standards": "MEASURE 1",
                "thresholds": [],
                "severity": 7,
                "duration_s": "slow",
            }
        ]
    },
    {
        "checks": [
            {
                "id": "x.y",
                "area": "x",
                "status": "fail",
                "metrics": {"a": "text", "b": float("nan"), "c": True, "d": 10**30},
                "findings": [
                    None,
                    {"status": None, "rows": "abc", "columns": 5, "metrics": None},
                    {"rows": [1, None, "z"]},
                ],
                "details": {
                    "charts": [
                        None,
                        {"kind": "pie"},
                        {"kind": "bars", "items": None},
                        {"kind": "intervals", "items": [{"value": "x"}]},
                        {"kind": "reliability", "bins": [{}]},
                        {"kind": "distribution", "labels": "ab", "series": {"a": None}},
                        {"kind": 5},
                    ],
                    "nested": {"a": {"b": [1, {"c": 2}]}},
                    "none": None,
                },
            }
        ],
        "inputs": {
            "train": {"rows": None},
            "test": {},
            "model": "m",
            "schema": {"classes": None},
            "prediction_columns": {"prediction": "p", "score": ["s1", "s2"]},
            "sensitive": None,
        },
        "gate": {"fail_on": "never", "failed": "yes"},
        "environment": {"python": None, "numpy": ["1"], "x": True},
    },
]


@pytest.mark.parametrize("odd", ODD_REPORTS)
@pytest.mark.parametrize("fragment", [False, True])
def test_odd_reports_do_not_crash(odd, fragment):
    page = render_html(odd, fragment=fragment)
    tree = parse(page)
    assert not tree.errors and not tree.stack


def test_odd_report_shows_what_it_can():
    page = render_html(ODD_REPORTS[-1])
    assert "Unknown" in render_html(ODD_REPORTS[4])
    # metrics are numbers: a hand-edited text or true reads as missing, the row kept
    assert '<th scope="row" title="a">A</th><td>—</td>' in page
    assert '<th scope="row" title="c">C</th><td>—</td>' in page
    assert '<th scope="row" title="d">D</th><td>1,000,000,000,000,000' in page
    assert "None given; predictions read from <code>p</code>, <code>s1</code>" in page
    assert "<svg" not in page  # every malformed chart was left out


def test_not_a_mapping():
    assert "No checks were run" in render_html(None)  # type: ignore[arg-type]
