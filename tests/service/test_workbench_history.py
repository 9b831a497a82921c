"""History and comparison (#18 step 4): the audits of one model, and "compare with
previous" as ``assay diff`` (the same diff_reports), by the API and as a page.

Planted: the second audit of the model "loans" has 45% of its labels flipped, so its
performance must fall beyond the intervals and checks must change status; the third
is the first one's data again, so against the first nothing may differ (quiet on
clean data). Another token sees neither the history nor the comparison."""

from __future__ import annotations

import json
import re
import urllib.parse

import numpy as np
import pytest

from tests.service.conftest import ADMIN
from tests.service.test_workbench_api import FAST, csv_bytes, frame, post, wait_done

pytest.importorskip("openpyxl", reason="needs the workbench extra: pip install 'assay[workbench]'")


def noisy(n: int = 400, share: float = 0.45):
    df = frame(n)
    rng = np.random.default_rng(7)
    flip = rng.random(n) < share
    df.loc[flip, "y"] = np.where(df.loc[flip, "y"] == "yes", "no", "yes")
    return df


def run(client, auth, df, name: str | None = "loans") -> str:
    spec = {"target": "y", "model": "reference", "ignore": ["row_id"], **FAST}
    if name:
        spec["name"] = name
    r = post(client, auth, {"data": ("loans.csv", csv_bytes(df))}, spec)
    assert r.status_code == 202, r.text
    view = wait_done(client, auth, r.json()["id"])
    assert view["state"] == "done", view
    return view["id"]


def test_history_compare_api_and_pages(client, auth):
    from assay.governance import diff_reports
    from assay.service._auth import create_token

    first = run(client, auth, frame())
    second = run(client, auth, noisy())
    third = run(client, auth, frame())
    # the history of "loans": its three audits, newest first
    r = client.get("/api/v1/audits", params={"model": "loans"}, headers=auth)
    assert [a["id"] for a in r.json()["audits"]] == [third, second, first]
    view = client.get(f"/api/v1/audits/{second}", headers=auth).json()
    assert view["previous"] == first
    assert view["links"]["compare_previous"] == f"/api/v1/audits/{second}/compare/{first}"
    assert "previous" not in client.get(f"/api/v1/audits/{first}", headers=auth).json()
    # planted: label noise moves the metrics beyond their intervals and changes statuses
    cmp = client.get(view["links"]["compare_previous"], headers=auth)
    assert cmp.status_code == 200, cmp.text
    d = cmp.json()
    assert d["audit"] == second and d["previous"] == first and d["same_model"] is True
    moved = {(m["check_id"], m["metric"]) for m in d["metric_changes"]}
    assert ("evaluation.performance", "accuracy") in moved, moved
    acc = next(m for m in d["metric_changes"] if m["metric"] == "accuracy")
    assert acc["change"] < 0 and acc["new_high"] < acc["old_low"]
    assert d["status_changes"] and not d["no_difference"]
    assert any(c["field"] == "fingerprint" for c in d["input_changes"])
    # it is assay diff's result, not a second implementation
    reports = [
        client.get(f"/api/v1/audits/{i}/report.json", headers=auth).json() for i in (first, second)
    ]
    expected = diff_reports(*reports)
    assert {k: d[k] for k in expected} == json.loads(json.dumps(expected))
    # clean: the same data and seed again gives no difference at all
    same = client.get(f"/api/v1/audits/{third}/compare/{first}", headers=auth).json()
    assert same["no_difference"] is True and same["regressions"] == []
    assert same["metric_changes"] == [] and same["status_changes"] == []
    # access: another token sees no history and no comparison; unknown and unfinished ids
    other = {"Authorization": f"Bearer {create_token(client.store, 'write')}"}
    r = client.get("/api/v1/audits", params={"model": "loans"}, headers=other)
    assert r.status_code == 200 and r.json()["audits"] == []
    assert client.get(f"/api/v1/audits/{second}/compare/{first}", headers=other).status_code == 404
    assert client.get(f"/api/v1/audits/{second}/compare/nope", headers=auth).status_code == 404
    assert client.get(f"/api/v1/audits/{second}/compare/{first}").status_code == 401
    client.app.state.workbench.runner.stop()
    queued = post(client, auth, {"data": ("d.csv", csv_bytes(frame(200)))}, {"target": "y"})
    spec = {"target": "y", "model": "reference"}  # not named: named after what it audits
    unnamed = post(client, auth, {"data": ("d.csv", csv_bytes(frame(200)))}, spec).json()["id"]
    listed = client.get("/api/v1/audits", headers=auth).json()["audits"]
    assert {a["id"]: a["model"] for a in listed}[unnamed] == (
        "Assay reference model for 'y' on d.csv"
    )
    r = client.get(f"/api/v1/audits/{queued.json()['id']}/compare/{first}", headers=auth)
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"

    # the same as pages, behind the workbench session
    r = client.get(f"/workbench/audits/{second}/compare/{first}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/workbench/login")
    r = client.post(
        "/workbench/login", data={"token": ADMIN, "next": "/workbench"}, follow_redirects=False
    )
    assert r.status_code == 303
    page = client.get(f"/workbench/audits/{second}").text
    link = f"/workbench/audits/{second}/compare/{first}"
    assert f'href="{link}"' in page and "Compare with the previous audit" in page
    assert "/workbench/history?model=loans" in page
    html = client.get(link).text
    assert "<h1>Compare with the previous audit</h1>" in html
    assert re.search(r"role=\"status\"><b>\d+ check\(s\) got worse", html)
    metrics = html.split('id="cmp-metrics"', 1)[1].split("</section>", 1)[0]
    assert "evaluation.performance</code> accuracy" in metrics
    assert "<script" not in html.lower()
    same_page = client.get(f"/workbench/audits/{third}/compare/{first}").text
    assert "No differences: every check has the same status" in same_page
    hist = client.get("/workbench/history?" + urllib.parse.urlencode({"model": "loans"})).text
    rows = hist.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert rows.count("<tr>") == 3
    assert f"/workbench/audits/{second}/compare/{first}" in rows
    assert f"/workbench/audits/{third}/compare/{second}" in rows
    home = client.get("/workbench").text
    assert "/workbench/history?model=loans" in home
    assert client.get("/workbench/history?model=nobody").status_code == 404
