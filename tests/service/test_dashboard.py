"""The dashboard: login, cookie, security headers, escaping, pages; and a real
headless Chromium logging in to a real ``assay serve`` and opening a model."""

from __future__ import annotations

import base64
import contextlib
import html
import json
import os
import re
import select
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest

from tests.service.conftest import ADMIN, judge, prediction_records, reference_frame

HOSTILE = '<script>alert("x")</script>'


def _login(client, token: str = ADMIN, **extra):
    return client.post(
        "/dashboard/login",
        data={"token": token, "next": "/dashboard"},
        follow_redirects=False,
        **extra,
    )


def _security_headers(r) -> None:
    csp = r.headers["content-security-policy"]
    for part in (
        "default-src 'none'",
        "img-src data:",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ):
        assert part in csp, (part, csp)
    assert "script-src" not in csp  # no script may run at all
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"


@pytest.fixture
def drifting(registered, auth):
    """``churn`` with 1,000 predictions like the reference, then 1,000 shifted."""
    c = registered
    for recs in (prediction_records(1000), prediction_records(1000, start=1000, shift=1.5)):
        r = c.post("/api/v1/models/churn/predictions", json={"records": recs}, headers=auth)
        assert r.status_code == 200, r.text
    labels = [{"id": f"r{i}", "label": i % 2} for i in range(400)]
    c.post("/api/v1/models/churn/labels", json={"records": labels}, headers=auth)
    return c


def test_unauthenticated_pages_redirect_to_login(registered):
    for path in ("/dashboard", "/dashboard/models/churn", "/dashboard/models/churn/window"):
        r = registered.get(path, follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/dashboard/login?next=")
        _security_headers(r)
    registered.cookies.set("assay_dashboard", "not-a-token")
    r = registered.get("/dashboard")
    assert r.url.path == "/dashboard/login"
    registered.cookies.clear()


def test_login_form_and_cookie(registered):
    page = registered.get("/dashboard/login")
    assert page.status_code == 200 and 'type="password"' in page.text
    _security_headers(page)
    assert "<script" not in page.text
    bad = _login(registered, "wrong")
    assert bad.status_code == 401 and "not valid" in bad.text
    assert "set-cookie" not in bad.headers
    ok = _login(registered)
    assert ok.status_code == 303 and ok.headers["location"] == "/dashboard"
    cookie = ok.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/dashboard" in cookie
    home = registered.get("/dashboard")
    assert home.status_code == 200 and ">churn</a>" in home.text
    _security_headers(home)
    out = registered.post("/dashboard/logout", follow_redirects=False)
    assert out.status_code == 303 and 'assay_dashboard=""' in out.headers["set-cookie"]
    registered.cookies.clear()
    assert registered.get("/dashboard", follow_redirects=False).status_code == 303


def test_read_token_logs_in_and_cross_site_post_is_refused(registered, auth):
    token = registered.post("/api/v1/tokens", json={"scope": "read"}, headers=auth).json()
    assert _login(registered, token["token"]).status_code == 303
    registered.cookies.clear()
    evil = _login(registered, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403 and "set-cookie" not in evil.headers


def test_next_is_never_an_open_redirect(registered):
    for target in ("https://evil.example/", "//evil.example", "/dashboard//evil.example"):
        r = registered.post(
            "/dashboard/login", data={"token": ADMIN, "next": target}, follow_redirects=False
        )
        assert r.headers["location"] == "/dashboard", target


@pytest.mark.parametrize("settings_extra", [{"default_window": "500rows"}], indirect=True)
def test_timeline_shows_drift_performance_and_alerts(drifting, auth):
    assert judge(drifting) >= 1  # the scheduler stores the alerts
    api = drifting.get("/api/v1/models/churn/windows?size=500rows", headers=auth).json()
    assert [w["drift_status"] for w in api["windows"]][-1] == "fail"
    _login(drifting)
    r = drifting.get("/dashboard/models/churn?size=500rows")
    assert r.status_code == 200
    _security_headers(r)
    page = r.text
    assert page.count('class="ay-chart"') == 2  # drift share; estimated vs realized
    assert "Drift share per window" in page and "realized (labels)" in page
    assert page.count('class="ay-alert-row"') >= 2  # the shifted windows
    stored = drifting.get("/api/v1/models/churn/alerts", headers=auth).json()["alerts"]
    assert stored and all(html.escape(a["message"]) in page for a in stored)
    # the table says what the API says
    for w in api["windows"]:
        assert f"{w['drift_share'] * 100:.1f}%" in page
    assert "<script" not in page


def test_window_detail_has_the_report_charts(drifting, auth):
    _login(drifting)
    page = drifting.get("/dashboard/models/churn?size=500rows").text
    links = re.findall(r'href="(/dashboard/models/churn/window\?[^"]+)"', page)
    assert len(links) == 4
    r = drifting.get(links[-1].replace("&amp;", "&"))
    assert r.status_code == 200
    _security_headers(r)
    assert "x: share of rows by bins, reference vs current" in r.text
    assert r.text.count('<figure class="ay-chart">') >= 3
    assert "drift.features" in r.text and "Fail" in r.text
    missing = drifting.get("/dashboard/models/churn/window?size=500rows&start=nope")
    assert missing.status_code == 404
    _security_headers(missing)
    assert drifting.get("/dashboard/models/nope").status_code == 404


@pytest.mark.parametrize("settings_extra", [{"default_window": "300rows"}], indirect=True)
def test_every_user_string_is_escaped(client, auth):
    ref = reference_frame(300)
    ref[HOSTILE] = ["<img src=x onerror=alert(1)>"] * 150 + ["b"] * 150
    r = client.post(
        "/api/v1/models",
        json={
            "name": "evil",
            "target": "y",
            "prediction": "pred",
            "score": "score",
            "reference": ref.to_dict("records"),
        },
        headers=auth,
    )
    assert r.status_code == 201, r.text
    recs = prediction_records(300)
    for rec in recs:
        rec["features"][HOSTILE] = '"><svg onload=alert(2)>'
    r = client.post("/api/v1/models/evil/predictions", json={"records": recs}, headers=auth)
    assert r.status_code == 200, r.text
    judge(client)  # stores an alert
    _login(client)
    pages = [client.get('/dashboard/models/evil?size=300rows&x="><b>')]
    link = re.findall(r'href="(/dashboard/models/evil/window\?[^"]+)"', pages[0].text)[0]
    pages.append(client.get(link.replace("&amp;", "&")))
    pages.append(client.get('/dashboard/models/evil?size="><script>'))  # a bad size, echoed
    pages.append(client.get("/dashboard/login?next=%22%3E%3Cscript%3E"))
    assert [p.status_code for p in pages] == [200, 200, 422, 200]
    for p in pages:
        _security_headers(p)
        assert "<script" not in p.text.lower()
        assert "<img src=x" not in p.text and "<svg onload" not in p.text
    assert "&lt;script&gt;" in pages[1].text  # the column name, shown escaped


# -- a real browser ------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


class DevTools:
    """The Chrome DevTools protocol over ``--remote-debugging-pipe`` (fd 3 in,
    fd 4 out, NUL-separated JSON): no websocket library needed."""

    def __init__(self, profile: Path, width: int = 1280, height: int = 1400) -> None:
        to_chrome_r, self._w = os.pipe()
        self._r, from_chrome_w = os.pipe()

        def fds() -> None:  # in the child: its fd 3 reads our commands, fd 4 answers
            a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--remote-debugging-pipe",
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            preexec_fn=fds,  # the child's fds 3 and 4 must be the pipes
            close_fds=False,  # our other fds are close-on-exec; 3 and 4 must survive exec
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise TimeoutError("no answer from Chromium")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buf += chunk
        msg, _, self._buf = self._buf.partition(b"\0")
        return json.loads(msg)

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + 30
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e.get("method") == method:
                    return self.events.pop(i)
            self.events.append(self._read(deadline))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.send("Browser.close")
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        os.close(self._w)
        os.close(self._r)


def _browse(page: DevTools, session: str, path: str, url: str | None = None, script: str = ""):
    """Navigate to ``url`` or run ``script``, then wait until the page at ``path``
    has loaded (polling: robust to redirects and to events of earlier loads)."""
    if url is not None:
        page.send("Page.navigate", {"url": url}, session)
    else:
        page.send("Runtime.evaluate", {"expression": script}, session)
    deadline = time.monotonic() + 30
    probe = "location.pathname + ' ' + document.readyState"
    while time.monotonic() < deadline:
        if _eval(page, session, probe) == f"{path} complete":
            return
        time.sleep(0.1)
    text = _eval(page, session, "location.pathname + ': ' + document.body.innerText")
    raise AssertionError(f"the browser did not reach {path}: {text}")


def _eval(page: DevTools, session: str, expression: str):
    res = page.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)
    return res["result"].get("value")


@pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason="needs Debian's headless Chromium at /usr/bin/chromium (apt-get install chromium)",
)
@pytest.mark.parametrize(
    "server", [{"default_window": "500rows", "evaluate_every_s": 1}], indirect=True
)
def test_real_browser_logs_in_and_opens_a_model(server, tmp_path):
    url, _, _ = server
    headers = {"Authorization": f"Bearer {ADMIN}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        ref = reference_frame()
        r = http.post(
            "/api/v1/models",
            json={
                "name": "churn",
                "target": "y",
                "prediction": "pred",
                "score": "score",
                "reference": ref.to_dict("records"),
            },
        )
        assert r.status_code == 201, r.text
        for recs in (prediction_records(1000), prediction_records(1000, start=1000, shift=1.5)):
            assert http.post("/api/v1/models/churn/predictions", json={"records": recs}).is_success
        deadline = time.monotonic() + 60  # the server's scheduler raises the alerts
        while not http.get("/api/v1/models/churn/alerts").json()["alerts"]:
            assert time.monotonic() < deadline, "no alert within 60 s"
            time.sleep(0.2)
    browser = DevTools(tmp_path / "profile")
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        browser.send("Page.enable", {}, session)
        browser.send("Runtime.enable", {}, session)
        # not logged in: the model page sends the browser to the login form
        _browse(browser, session, "/dashboard/login", f"{url}/dashboard/models/churn?size=500rows")
        token = json.dumps(ADMIN)
        _browse(
            browser,
            session,
            "/dashboard/models/churn",  # logged in, back on the page asked for
            script=f"document.getElementById('token').value = {token}; "
            "document.querySelector('form').submit()",
        )
        assert _eval(browser, session, "document.cookie") == ""
        assert _eval(browser, session, "document.querySelector('h1').textContent") == "churn"
        n_charts = _eval(browser, session, "document.querySelectorAll('figure svg').length")
        assert n_charts == 2  # drift share; accuracy estimated from scores (no labels yet)
        alert_rows = _eval(browser, session, "document.querySelectorAll('.ay-alert-row').length")
        assert alert_rows >= 2
        shot = browser.send(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session
        )
        png = tmp_path / "dashboard-model.png"
        png.write_bytes(base64.b64decode(shot["data"]))
        assert png.stat().st_size > 10_000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        # open the drift detail of the last window from the page's own link
        _browse(
            browser,
            session,
            "/dashboard/models/churn/window",
            script="document.querySelectorAll('a[href*=\"/window?\"]')[3].click()",
        )
        assert _eval(browser, session, "document.querySelectorAll('figure svg').length") >= 3
        shot = browser.send("Page.captureScreenshot", {"format": "png"}, session)
        (tmp_path / "dashboard-window.png").write_bytes(base64.b64decode(shot["data"]))
        # logging out ends the session
        _browse(
            browser,
            session,
            "/dashboard/login",
            script="document.querySelector('nav form').submit()",
        )
        _browse(browser, session, "/dashboard/login", f"{url}/dashboard")
    finally:
        browser.close()
    artifacts = os.environ.get("ASSAY_TEST_ARTIFACTS")
    if artifacts:  # keep the screenshots where CI collects them
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        for name in ("dashboard-model.png", "dashboard-window.png"):
            shutil.copy(tmp_path / name, Path(artifacts) / name)


def test_timeline_charts_spec():
    from assay.service._dashboard import timeline_charts

    windows = [
        {"start": "2024-01-01T00:00:00+00:00", "drift_share": 0.0, "alerts": []},
        {
            "start": "2024-01-02T00:00:00+00:00",
            "drift_share": 0.5,
            "alerts": ["drift"],
            "estimated_performance": {"estimated_accuracy": 0.8, "reference_accuracy": 0.85},
            "realized_performance": {"accuracy": 0.78},
        },
    ]
    drift, perf = timeline_charts(windows)
    assert drift["kind"] == "line" and drift["marks"] == [1]
    assert drift["series"]["drift share"] == [0.0, 0.5]
    assert perf["series"]["realized (labels)"] == [None, 0.78]
    assert pd.isna(perf["series"]["estimated (scores)"][0])
