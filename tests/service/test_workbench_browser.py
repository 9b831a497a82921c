"""The workbench in a real browser (Debian's headless Chromium over the DevTools pipe,
as tests/service/test_dashboard.py drives it; no downloaded browser): log in, upload
the bundled demo CSV as one file, accept the suggested target, choose Assay's
reference model, wait, see the report's headline and the first next step, mark it
accepted risk; then download the signed evidence pack and verify it with
``assay verify``. A second audit of the same model (other rows of the demo file)
opens "compare with previous" (``assay diff`` as a page) and the model's history.
Every page is checked by axe-core (vendored in tests/fixtures/axe-core, injected over
DevTools: never downloaded) for serious and critical violations, and for labels and
keyboard reach by the checks below."""

from __future__ import annotations

import base64
import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.service.conftest import ADMIN, free_port, start_server
from tests.service.test_dashboard import CHROMIUM, DevTools, _eval

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason="needs Debian's headless Chromium at /usr/bin/chromium (apt-get install chromium)",
)
DEMO_ROWS = 4000  # the demo file's first rows: the test stays near 30 s on two cores


def demo_csv(path: Path, rows: int = DEMO_ROWS, skip: int = 0) -> Path:
    """The demo file's header and ``rows`` rows after the first ``skip``."""
    from importlib import resources

    src = resources.files("assay.demo").joinpath("data/adult.csv.gz")
    with resources.as_file(src) as gz, gzip.open(gz, "rt") as fh:
        lines = [next(fh) for _ in range(skip + rows + 1)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines[:1] + lines[1 + skip :]))
    return path


def wait_for(page: DevTools, session: str, expression: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = _eval(page, session, expression)
        except RuntimeError:
            value = None
        if value:
            return value
        time.sleep(0.2)
    body = _eval(page, session, "location.pathname + ': ' + document.body.innerText")
    raise AssertionError(f"timed out waiting for {expression}: {body[:1500]}")


def shot(page: DevTools, session: str, path: Path) -> None:
    data = page.send("Page.captureScreenshot", {"format": "png"}, session)
    path.write_bytes(base64.b64decode(data["data"]))


A11Y = """(() => {
  const bad = [];
  for (const el of document.querySelectorAll('input, select, textarea, button')) {
    if (el.type === 'hidden') continue;
    const named = (el.labels && el.labels.length) || el.getAttribute('aria-label')
      || (el.tagName === 'BUTTON' && el.textContent.trim());
    if (!named) bad.push(el.outerHTML.slice(0, 80));
  }
  if (!document.documentElement.lang) bad.push('no lang');
  if (!document.querySelector('main')) bad.push('no main landmark');
  if (!document.querySelector('h1')) bad.push('no h1');
  for (const f of document.querySelectorAll('iframe')) if (!f.title) bad.push('iframe title');
  return JSON.stringify(bad);
})()"""


AXE = Path(__file__).resolve().parents[1] / "fixtures" / "axe-core" / "axe.min.js"
AXE_RUN = (
    "axe.run(document, {iframes: false, resultTypes: ['violations']}).then(r => "
    "JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, "
    "nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))))"
)


def axe_violations(page: DevTools, session: str) -> list[dict]:
    """axe-core's serious and critical violations on the page now shown (the report in
    its frame is Assay's report.html, checked on its own page)."""
    for _ in range(3):  # the progress page reloads itself: try again on a new load
        try:
            if not _eval(page, session, "typeof axe === 'object'"):
                page.send("Runtime.evaluate", {"expression": AXE.read_text("utf-8")}, session)
            res = page.send(
                "Runtime.evaluate",
                {"expression": AXE_RUN, "awaitPromise": True, "returnByValue": True},
                session,
            )
            if "exceptionDetails" not in res:
                found = json.loads(res["result"]["value"])
                return [v for v in found if v["impact"] in ("serious", "critical")]
        except RuntimeError:
            pass
        time.sleep(0.5)
    raise AssertionError("axe-core did not run on " + _eval(page, session, "location.href"))


def keyboard_reaches_main(page: DevTools, session: str) -> bool:
    """Tab from the top lands on the skip link, and Enter on it moves to the content."""
    _eval(page, session, "document.activeElement && document.activeElement.blur()")
    for kind in ("keyDown", "keyUp"):
        page.send(
            "Input.dispatchKeyEvent",
            {"type": kind, "key": "Tab", "code": "Tab", "windowsVirtualKeyCode": 9},
            session,
        )
    return _eval(page, session, "document.activeElement.getAttribute('href')") == "#main"


def open_page(browser: DevTools) -> str:
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
        "sessionId"
    ]
    for domain in ("Page", "Runtime", "DOM"):
        browser.send(f"{domain}.enable", {}, session)
    return session


def checked(browser: DevTools, session: str, shots: Path | None, name: str | None) -> None:
    """The page passes the label checks and axe-core; its screenshot when asked."""
    assert json.loads(_eval(browser, session, A11Y)) == []
    assert axe_violations(browser, session) == []
    if shots is not None and name:
        shot(browser, session, shots / name)


def audit_in_browser(
    browser: DevTools, session: str, url: str, csv: Path, shots: Path | None
) -> float:
    """Upload ``csv`` as one file, accept the suggested target, choose the reference
    model, run; returns the seconds from upload to the finished report page."""
    browser.send("Page.navigate", {"url": f"{url}/workbench"}, session)
    wait_for(
        browser, session, "location.pathname === '/workbench' && !!document.getElementById('data')"
    )
    checked(browser, session, shots, "workbench-1-upload.png")
    t0 = time.monotonic()
    root = browser.send("DOM.getDocument", {}, session)["root"]["nodeId"]
    node = browser.send("DOM.querySelector", {"nodeId": root, "selector": "#data"}, session)
    browser.send("DOM.setFileInputFiles", {"files": [str(csv)], "nodeId": node["nodeId"]}, session)
    _eval(browser, session, "document.querySelector('form[action=\"/workbench/upload\"]').submit()")
    wait_for(
        browser,
        session,
        "location.pathname.startsWith('/workbench/drafts/') && !!document.getElementById('target')",
    )
    # step 2: the suggested target is already chosen; accept it, pick the reference model
    assert _eval(browser, session, "document.getElementById('target').value") == "income"
    assert _eval(browser, session, "document.querySelectorAll('input:checked').length") == 0
    checked(browser, session, shots, "workbench-2-columns.png")
    _eval(
        browser,
        session,
        "document.querySelector('input[name=model_choice][value=reference]').click();"
        "document.querySelector('form[action$=\"/run\"]').submit()",
    )
    wait_for(browser, session, "location.pathname.startsWith('/workbench/audits/')")
    if shots is not None:  # the running page: the current check and the time left
        progress = wait_for(
            browser,
            session,
            "(() => { const p = document.querySelector('[role=status]');"
            " return p && / s left/.test(p.textContent) && p.textContent; })()",
            timeout=120,
        )
        assert progress.startswith("Running: ") and " s left" in progress, progress
        checked(browser, session, shots, "workbench-3-progress.png")
    # step 3: the page refreshes itself until the report is there
    wait_for(
        browser,
        session,
        "document.querySelector('h1') && document.querySelector('h1').textContent === 'Audit done'",
        timeout=180,
    )
    return time.monotonic() - t0


def test_browser_upload_reference_model_report_and_decision(tmp_path):
    pytest.importorskip("cryptography")
    from assay.governance import generate_keypair

    key, pub = generate_keypair(tmp_path / "keys", "operator")
    config = tmp_path / "serve.yaml"
    config.write_text(json.dumps({"workbench": {"signing_key": str(key)}}))
    port = free_port()
    proc = start_server(tmp_path / "s.db", port, config)
    url = f"http://127.0.0.1:{port}"
    csv = demo_csv(tmp_path / "january" / "adult.csv")
    later = demo_csv(tmp_path / "february" / "adult.csv", rows=1500, skip=DEMO_ROWS)
    browser = DevTools(tmp_path / "profile")
    shots = tmp_path / "shots"
    shots.mkdir()
    try:
        session = open_page(browser)
        # axe-core runs, and catches a planted unlabelled field and a page without lang
        browser.send("Page.navigate", {"url": "data:text/html,<title>x</title><input>"}, session)
        wait_for(browser, session, "!!document.querySelector('input')")
        assert {v["id"] for v in axe_violations(browser, session)} >= {"label", "html-has-lang"}
        # log in (the workbench sends a visitor without a session to its login form)
        browser.send("Page.navigate", {"url": f"{url}/workbench"}, session)
        wait_for(browser, session, "location.pathname === '/workbench/login' && !!document.body")
        checked(browser, session, None, None)
        _eval(
            browser,
            session,
            f"document.getElementById('token').value = {json.dumps(ADMIN)}; "
            "document.querySelector('form').submit()",
        )
        wait_for(browser, session, "location.pathname === '/workbench' && !!document.body")
        assert keyboard_reaches_main(browser, session)
        seconds = audit_in_browser(browser, session, url, csv, shots)
        headline = wait_for(
            browser,
            session,
            "(() => { const d = document.querySelector('iframe').contentDocument;"
            " const h = d && d.querySelector('.ay-hero h1'); return h && h.textContent; })()",
        )
        assert headline.strip()
        first = _eval(browser, session, "document.querySelector('.wb-step h3').textContent")
        report_first = _eval(
            browser,
            session,
            "document.querySelector('iframe').contentDocument"
            ".querySelector('.ay-steps .ay-step strong').textContent",
        )
        assert report_first in first  # the same first step in the page and in the report
        checked(browser, session, shots, "workbench-4-report.png")
        _eval(
            browser,
            session,
            "const f = document.querySelector('.wb-step form');"
            "f.querySelector('input[value=accepted_risk]').click();"
            "f.querySelector('textarea').value = 'Known from the census; we only test here.';"
            "f.querySelector('input[name=who]').value = 'Ana Reviewer';"
            "f.submit()",
        )
        marked = wait_for(
            browser,
            session,
            "(() => { const p = document.querySelector('.wb-step .wb-done');"
            " return p && p.textContent; })()",
        )
        assert marked.startswith("Marked accepted risk by Ana Reviewer")
        # the decision is in the report's governance section, in the frame
        decided = wait_for(
            browser,
            session,
            "(() => { const d = document.querySelector('iframe').contentDocument;"
            " const t = d && d.querySelector('.ay-decisions'); return t && t.textContent; })()",
        )
        assert "Ana Reviewer" in decided and "accepted risk" in decided
        checked(browser, session, shots, "workbench-5-decided.png")
        audit_id = _eval(browser, session, "location.pathname.split('/')[3]")
        # the report itself (Assay's report.html, as the frame shows it)
        browser.send(
            "Page.navigate",
            {"url": f"{url}/workbench/audits/{audit_id}/files/report.html"},
            session,
        )
        wait_for(browser, session, "!!document.querySelector('.ay-hero h1')")
        report_violations = axe_violations(browser, session)
        # a second audit of the same model, on the next rows: compare with the previous
        audit_in_browser(browser, session, url, later, None)
        assert _eval(browser, session, "location.pathname.split('/')[3]") != audit_id
        _eval(browser, session, "document.querySelector('a[href*=\"/compare/\"]').click()")
        verdict = wait_for(
            browser,
            session,
            "(() => { const h = document.querySelector('h1'); const p ="
            " document.querySelector('[role=status]'); return h && p && h.textContent ==="
            " 'Compare with the previous audit' && p.textContent; })()",
        )
        assert "got worse" in verdict or "No differences" in verdict, verdict
        assert _eval(browser, session, "location.pathname").endswith(f"/compare/{audit_id}")
        checked(browser, session, shots, "workbench-6-compare.png")
        _eval(browser, session, "document.querySelector('a[href^=\"/workbench/history\"]').click()")
        wait_for(
            browser,
            session,
            "location.pathname === '/workbench/history' && !!document.querySelector('tbody')",
        )
        assert _eval(browser, session, "document.querySelectorAll('tbody tr').length") == 2
        checked(browser, session, shots, "workbench-7-history.png")
    finally:
        browser.close()
    try:
        headers = {"Authorization": f"Bearer {ADMIN}"}
        pack = httpx.get(f"{url}/api/v1/audits/{audit_id}/evidence.zip", headers=headers)
        assert pack.status_code == 200
        (tmp_path / "evidence.zip").write_bytes(pack.content)
        code = "import sys; from assay.cli.main import main; sys.argv[0] = 'assay'; main()"
        verify = subprocess.run(
            [
                sys.executable,
                "-c",
                code,
                "verify",
                str(tmp_path / "evidence.zip"),
                "--key",
                str(pub),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert verify.returncode == 0, verify.stdout + verify.stderr
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"upload to report: {seconds:.1f} s for {DEMO_ROWS:,} demo rows")
    print(f"axe-core on report.html (Assay's report, not the workbench): {report_violations}")
    artifacts = os.environ.get("ASSAY_TEST_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        for png in shots.iterdir():
            shutil.copy(png, Path(artifacts) / png.name)
