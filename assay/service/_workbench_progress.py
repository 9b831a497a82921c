"""The running audit's progress (#18 step 2): which check runs, and how long is left.

The estimate of the time left is the time per finished check so far times the
checks still to run; before the first check has finished (reading the data,
fitting the reference model), it is the typical duration of the caller's last
finished audits less the time already spent. Without either, none is given.

The progress page does not reload itself (a timed refresh is an accessibility
failure, WCAG 2.2.1): one small same-origin script (:data:`SCRIPT`, served at
``/workbench/static/progress.js``) polls ``/workbench/audits/{id}/progress`` every
2 seconds and updates the status line and the bar; the page reloads once the audit
has ended. Without scripts the page keeps a link to check again.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

__all__ = ["SCRIPT", "eta_seconds", "progress_view", "typical_seconds"]

RECENT = 5  # finished audits whose durations make the typical one

SCRIPT = """\
(function () {
  "use strict";
  var box = document.getElementById("wb-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-poll");
  var text = document.getElementById("wb-progress-text");
  var bar = document.getElementById("wb-progress-bar");
  function tick() {
    fetch(url, {credentials: "same-origin", cache: "no-store"})
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (p) {
        if (p.state !== "queued" && p.state !== "running") { window.location.reload(); return; }
        if (text.textContent !== p.text) { text.textContent = p.text; }
        if (p.total) { bar.max = p.total; bar.value = p.done; }
        window.setTimeout(tick, 2000);
      })
      .catch(function () { window.setTimeout(tick, 5000); });
  }
  window.setTimeout(tick, 2000);
}());
"""


def typical_seconds(store: Any, owner: str | None) -> float | None:
    """The median duration of the newest finished audits of ``owner`` (``None``: all)."""
    spans = [
        j.finished_at - j.started_at
        for j in store.list_audits(owner, limit=50)
        if j.state == "done" and j.started_at and j.finished_at
    ][:RECENT]
    return statistics.median(spans) if spans else None


def eta_seconds(job: Any, typical: float | None, now: float | None = None) -> float | None:
    """Seconds left for a running ``job`` (see the module docstring); ``None`` if unknown."""
    now = time.time() if now is None else now
    elapsed = now - (job.started_at or now)
    if job.total and job.done:
        return max(elapsed / job.done * (job.total - job.done), 0.0)
    if typical is not None:
        return max(typical - elapsed, 0.0)
    return None


def progress_view(job: Any, typical: float | None) -> dict[str, Any]:
    """What the progress page shows: the state, one sentence, and the bar's numbers."""
    now = time.time()
    if job.state == "queued":
        text = "Waiting for the previous audit to finish."
        return {"state": job.state, "text": text, "done": 0, "total": 0, "eta_s": None}
    elapsed = now - (job.started_at or now)
    eta = eta_seconds(job, typical, now) if job.state == "running" else None
    step = f" (check {job.done + 1:,} of {job.total:,})" if job.total else ""
    if job.total and job.done >= job.total:
        step = f" ({job.total:,} checks done)"
    if eta is None:
        left = "Estimating the time left."
    elif eta < 5:
        left = "Almost done."
    else:
        left = f"About {eta:,.0f} s left."
    text = f"Running: {job.current_check or 'starting'}{step}. {left} {elapsed:,.0f} s so far."
    if job.state != "running":
        text = f"The audit is {job.state}."
    return {
        "state": job.state,
        "text": text,
        "current_check": job.current_check,
        "done": job.done,
        "total": job.total,
        "elapsed_s": round(elapsed, 1),
        "eta_s": None if eta is None else round(eta, 1),
    }
