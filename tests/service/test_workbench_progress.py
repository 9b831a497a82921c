"""The running audit's progress (#18 step 2): the check running and the time left,
by checks done so far, or by the typical duration of earlier audits before the
first check ends; nothing made up when neither is known."""

from __future__ import annotations

import time
from dataclasses import replace

from assay.service._workbench_progress import eta_seconds, progress_view, typical_seconds
from assay.service._workbench_store import AuditJob


def job(**kw) -> AuditJob:
    now = time.time()
    base = AuditJob(
        id="a1",
        owner="o",
        created_at=now - 40,
        updated_at=now,
        state="running",
        current_check="evaluation.performance",
        done=10,
        total=40,
        reason=None,
        spec={},
        files={},
        cancel_requested=False,
        started_at=now - 30,
        finished_at=None,
    )
    return replace(base, **kw)


def test_eta_from_checks_done_then_from_earlier_audits_then_unknown():
    now = time.time()
    j = job(started_at=now - 30)
    assert abs(eta_seconds(j, None, now) - 90) < 1e-6  # 3 s a check, 30 checks left
    early = job(started_at=now - 30, done=0, total=0, current_check="fitting the reference model")
    assert abs(eta_seconds(early, 100.0, now) - 70) < 1e-6
    assert eta_seconds(early, 20.0, now) == 0.0  # longer than usual: never negative
    assert eta_seconds(early, None, now) is None
    view = progress_view(j, None)
    assert view["text"].startswith("Running: evaluation.performance (check 11 of 40). About 9")
    assert view["eta_s"] > 80 and view["done"] == 10 and view["total"] == 40
    assert "Estimating the time left." in progress_view(early, None)["text"]
    assert progress_view(job(state="queued"), None)["text"].startswith("Waiting")


class Store:
    def __init__(self, jobs):
        self.jobs = jobs

    def list_audits(self, owner, limit=50):
        return [j for j in self.jobs if owner is None or j.owner == owner][:limit]


def test_typical_duration_is_the_median_of_the_newest_finished_audits():
    now = time.time()
    done = [
        job(id=f"d{i}", state="done", started_at=now - 100, finished_at=now - 100 + s)
        for i, s in enumerate([10, 20, 30, 400, 50, 1000])
    ]
    other = job(id="x", owner="someone else", state="done", started_at=0.0, finished_at=9e9)
    store = Store([*done, job(id="r", state="running"), other])
    assert typical_seconds(store, "o") == 30  # the newest five: 10, 20, 30, 400, 50
    assert typical_seconds(Store([job()]), "o") is None


def test_the_script_is_served_and_allowed_by_the_pages_policy(client):
    r = client.get("/workbench/static/progress.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert "fetch(url" in r.text and "location.reload" in r.text
    page = client.get("/workbench/login")
    csp = page.headers["content-security-policy"]
    assert (
        "script-src 'self'" in csp
        and "connect-src 'self'" in csp
        and "'unsafe-inline'" in (csp.split("style-src", 1)[1])
    )
    assert "<script" not in page.text
