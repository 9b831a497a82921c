"""The workbench pages in process: login with a write token, upload, the inferred
schema with suggestions (never ticked), run, progress, report, decisions; forms
refused cross-site; nothing loaded from elsewhere; every field labelled."""

from __future__ import annotations

import re
import time

import pytest

from tests.service.conftest import ADMIN
from tests.service.test_workbench_api import csv_bytes, frame

pytest.importorskip("openpyxl", reason="needs the workbench extra: pip install 'assay[workbench]'")


def login(client, token: str = ADMIN):
    return client.post(
        "/workbench/login", data={"token": token, "next": "/workbench"}, follow_redirects=False
    )


def assert_accessible(html: str) -> None:
    """No external asset, no inline script (only the workbench's own progress script);
    every form control has a label or an aria-label."""
    scripts = re.findall(r"<script\b[^>]*>", html.lower())
    assert scripts in ([], ['<script src="/workbench/static/progress.js" defer>']), scripts
    assert not re.search(r'(src|href)="(https?:)?//', html)
    labels = set(re.findall(r'<label for="([^"]+)"', html))
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
        if 'type="hidden"' in tag:
            continue
        m = re.search(r'id="([^"]+)"', tag)
        wrapped = m is None  # radios and checkboxes sit inside their <label>
        assert wrapped or m.group(1) in labels or "aria-label" in tag, tag


def test_pages_upload_choose_run_read_and_decide(client):
    assert client.get("/workbench", follow_redirects=False).status_code == 303
    r = login(client)
    assert r.status_code == 303 and r.headers["location"] == "/workbench"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/workbench" in cookie
    home = client.get("/workbench")
    assert home.status_code == 200 and "New audit" in home.text
    assert "frame-ancestors 'none'" in home.headers["content-security-policy"]
    assert_accessible(home.text)
    df = frame(400)
    r = client.post(
        "/workbench/upload",
        files={"data": ("loans.csv", csv_bytes(df), "text/csv")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    draft_url = r.headers["location"]
    page = client.get(draft_url).text
    assert_accessible(page)
    assert '<option value="y" selected>y (suggested)</option>' in page
    assert "sex" in page and "(suggested)</span>" in page  # suggested, and not ticked:
    assert not re.search(r"<input[^>]* checked", page)
    assert "row_id" in page
    run_url = draft_url + "/run"
    # nothing chosen for the model: refused with the reason, the draft kept
    r = client.post(run_url, data={"target": "y"}, files={"x": ("", b"")})
    assert r.status_code == 422 and "Choose what to do about the model" in r.text
    r = client.post(
        run_url,
        data={"target": "y", "model_choice": "reference", "sensitive": "sex", "ignore": "row_id"},
        files={"model": ("", b"", "application/octet-stream")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    audit_url = r.headers["location"]
    deadline = time.monotonic() + 120
    while True:
        page = client.get(audit_url)
        if "Audit done" in page.text:
            break
        assert "<h1>Audit failed</h1>" not in page.text, page.text[-1500:]
        assert "http-equiv" not in page.text  # no timed refresh (WCAG 2.2.1)
        assert 'role="status"' in page.text and 'data-poll="' in page.text
        assert_accessible(page.text)
        poll = client.get(audit_url + "/progress")
        assert poll.status_code == 200 and poll.headers["cache-control"] == "no-store"
        view = poll.json()
        if view["state"] == "running":
            assert view["text"].startswith("Running: ") and view["elapsed_s"] >= 0
        assert time.monotonic() < deadline
        time.sleep(0.2)
    html = page.text
    assert_accessible(html)
    assert "frame-src 'self'" in page.headers["content-security-policy"]
    assert 'title="The audit report"' in html and "What to do next" in html
    assert "stratified by target" in html and "Assay reference model" in html
    first = re.search(r'name="check_id" value="([^"]+)"', html).group(1)
    report = client.get(audit_url + "/files/report.html")
    assert "frame-ancestors 'self'" in report.headers["content-security-policy"]
    assert report.headers["x-frame-options"] == "SAMEORIGIN"
    # a cross-site form post is refused, and records nothing
    r = client.post(
        audit_url + "/decisions",
        data={"check_id": first, "decision": "accepted_risk", "who": "Eve"},
        headers={"Origin": "http://evil.example"},
    )
    assert r.status_code == 403
    r = client.post(
        audit_url + "/decisions",
        data={
            "check_id": first,
            "step": "1",
            "decision": "accepted_risk",
            "comment": "we know",
            "who": "Ana",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].endswith("#step-1")
    html = client.get(audit_url).text
    assert "Marked <strong>accepted risk</strong> by Ana" in html and "we know" in html
    assert client.store.list_decisions(audit_url.rsplit("/", 1)[1])[0]["who"] == "Ana"
    # the card and the pack carry it
    pack = client.get(audit_url + "/files/evidence.zip")
    assert pack.status_code == 200 and pack.content[:2] == b"PK"


def test_read_token_wrong_token_other_owner_and_bad_upload(client):
    from assay.service._auth import create_token

    reader = create_token(client.store, "read")
    r = login(client, reader)
    assert r.status_code == 403 and "needs a write token" in r.text
    assert login(client, "wrong").status_code == 401
    r = client.post(
        "/workbench/login",
        data={"token": ADMIN},
        headers={"Origin": "http://evil.example"},
    )
    assert r.status_code == 403
    assert login(client).status_code == 303
    r = client.post("/workbench/upload", files={"data": ("e.csv", b"", "text/csv")})
    assert r.status_code == 422 and "is empty" in r.text and 'role="alert"' in r.text
    r = client.post("/workbench/upload", files={"data": ("one.csv", b"y\n1\n2\n", "text/csv")})
    assert r.status_code == 422 and "one column" in r.text
    # an audit of another token is not found from this session
    other = create_token(client.store, "write")
    from tests.service.test_workbench_api import post

    client.app.state.workbench.runner.stop()
    r = post(
        client,
        {"Authorization": f"Bearer {other}"},
        {"data": ("d.csv", csv_bytes(frame(200)))},
        {"target": "y"},
    )
    audit_id = r.json()["id"]
    client.cookies.clear()
    writer = create_token(client.store, "write")
    assert login(client, writer).status_code == 303
    assert client.get(f"/workbench/audits/{audit_id}").status_code == 404
    assert client.get(f"/workbench/audits/{audit_id}/files/report.json").status_code == 404


def test_serve_prints_the_address_a_person_opens(tmp_path):
    """A non-engineer starts it with ``assay serve`` and opens the printed address."""
    import os
    import select
    import subprocess
    import sys

    from tests.service.conftest import free_port

    port = free_port()
    code = "import sys; from assay.cli.main import main; sys.argv[0] = 'assay'; main()"
    store = f"sqlite:///{tmp_path / 's.db'}"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--store", store, "--port", str(port)],
        env={**os.environ, "ASSAY_TOKEN": ADMIN},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:  # printed before the server starts listening; never wait forever for it
        ready = select.select([proc.stdout], [], [], 90)[0]
        line = proc.stdout.readline() if ready else ""
    finally:
        proc.terminate()
        proc.wait(20)
    assert f"Open http://127.0.0.1:{port}/workbench in your browser" in line, line
