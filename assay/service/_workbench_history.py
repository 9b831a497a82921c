"""History and comparison of workbench audits (#18 step 4).

Every audit belongs to a model, named by the person (``spec.name``) or, when not
named, after what was audited: the uploaded model file's name, or Assay's reference
model, prediction columns or the data alone, with the target and the data file
(``"Assay reference model for 'income' on adult.csv"``). The name is fixed when the
audit is queued, so the history of a model is the audits with that name, newest
first, among those the caller may see.

"Compare with previous" is ``assay diff`` of the two ``report.json`` files: the same
:func:`assay.governance.diff_reports` (which checks changed status, which metrics
moved beyond their confidence intervals, which inputs differ), shown as a page and
given as JSON by the API. This module computes and renders; the routes live in
``_workbench`` (API) and ``_workbench_pages`` (pages).
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

from assay.render._format import esc

__all__ = [
    "MAX_NAME",
    "audits_of_model",
    "compare",
    "compare_body",
    "history_body",
    "model_name",
    "model_of",
    "previous_audit",
]

MAX_NAME = 200
SCAN = 1000  # the newest audits looked through for one model's history
_DIRECTION = {
    "worse": "worse",
    "better": "better",
    "changed": "changed",
    "added": "new check",
    "removed": "no longer run",
    "not run": "not run this time",
}


def model_name(spec: dict[str, Any], files: dict[str, Any]) -> str:
    """The model an audit belongs to: ``spec['name']`` when the person gave one;
    else named after the uploaded model file, or after what stands in for a model
    with the target and the data file."""
    given = str(spec.get("name") or "").strip()
    if given:
        return given[:MAX_NAME]
    if "model" in files:
        return str(files["model"]["name"])[:MAX_NAME]
    data = files.get("data") or files.get("test") or {}
    where = f"{spec.get('target')!r} on {data.get('name', 'the data')}"
    if spec.get("model") == "reference":
        return f"Assay reference model for {where}"[:MAX_NAME]
    if spec.get("prediction") or spec.get("score"):
        return f"Prediction columns for {where}"[:MAX_NAME]
    return f"No model (data checks) for {where}"[:MAX_NAME]


def model_of(job: Any) -> str:
    """The model name of a stored audit (older audits without one get it derived)."""
    return model_name(job.spec, job.files)


def audits_of_model(store: Any, owner: str | None, name: str, limit: int = 50) -> list[Any]:
    """The audits of model ``name``, newest first (``owner`` ``None``: every owner's)."""
    jobs = store.list_audits(owner, limit=SCAN)
    return [j for j in jobs if model_of(j) == name][:limit]


def previous_audit(store: Any, job: Any, owner: str | None) -> Any | None:
    """The newest finished audit of the same model started before ``job``."""
    for other in audits_of_model(store, owner, model_of(job), limit=SCAN):
        if other.state == "done" and (other.created_at, other.id) < (job.created_at, job.id):
            return other
    return None


def _report(root: Path, job: Any) -> dict[str, Any]:
    return json.loads((root / "audits" / job.id / "report.json").read_text(encoding="utf-8"))


def summary_of(root: Path, job: Any) -> dict[str, int]:
    """The report's counts by status; empty when the audit has no report."""
    if job.state != "done":
        return {}
    try:
        summary = _report(root, job).get("summary") or {}
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in summary.items() if isinstance(v, int) and not isinstance(v, bool)}


def compare(root: Path, job: Any, previous: Any) -> dict[str, Any]:
    """``assay diff`` of ``previous`` (the earlier) against ``job`` (the later)."""
    from assay.governance import diff_reports, is_empty, regressions

    old, new = _report(root, previous), _report(root, job)
    d = diff_reports(old, new)
    conf = (new.get("settings") or {}).get("confidence")
    return {
        "audit": job.id,
        "previous": previous.id,
        "model": model_of(job),
        "same_model": model_of(job) == model_of(previous),
        "created_at": {"audit": new.get("created_at"), "previous": old.get("created_at")},
        "confidence": conf if isinstance(conf, float) else None,
        "no_difference": is_empty(d),
        "regressions": [s["check_id"] for s in regressions(d)],
        **d,
    }


# -- pages ---------------------------------------------------------------------------


def when(ts: float | None) -> str:
    if ts is None:
        return "—"
    return _dt.datetime.fromtimestamp(ts, _dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def scroll_region(label: str) -> str:
    """The opening of a table's scrolling wrapper, reachable by keyboard and named."""
    return f'<div class="ay-table-wrap" tabindex="0" role="region" aria-label="{esc(label)}">'


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4f}"
    if isinstance(v, str) and len(v) == 64 and all(c in "0123456789abcdef" for c in v):
        return v[:12] + "…"  # a fingerprint
    return "—" if v is None else str(v)


def _counts(summary: dict[str, int]) -> str:
    shown = ("fail", "error", "warn", "pass")
    return ", ".join(f"{summary[k]:,} {k}" for k in shown if k in summary)


def history_body(root: Path, name: str, jobs: list[Any], prefix: str) -> str:
    """The history page: the model's audits, newest first, each with "compare with
    previous" where an earlier finished audit exists."""
    done = [j for j in jobs if j.state == "done"]
    rows = []
    for j in jobs:
        earlier = next((o for o in done if (o.created_at, o.id) < (j.created_at, j.id)), None)
        link = (
            f'<a href="{prefix}/audits/{esc(j.id)}/compare/{esc(earlier.id)}">'
            f"Compare with the audit of {esc(when(earlier.created_at))}</a>"
            if earlier is not None and j.state == "done"
            else "—"
        )
        rows.append(
            f'<tr><td><a href="{prefix}/audits/{esc(j.id)}">{esc(when(j.created_at))}</a></td>'
            f"<td>{esc(j.state)}</td><td>{esc(_counts(summary_of(root, j))) or '—'}</td>"
            f"<td>{link}</td></tr>"
        )
    table = (
        scroll_region("Audits of this model") + "<table><caption>Audits of this model, newest first"
        '</caption><thead><tr><th scope="col">Started</th><th scope="col">State</th>'
        '<th scope="col">Checks</th><th scope="col">Comparison</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
        if rows
        else "<p>No audit of this model is visible to you.</p>"
    )
    return (
        f'<div class="ay-panel"><h1>History of a model</h1><p>Model: <b>{esc(name)}</b>. '
        f"{len(jobs):,} audit(s).</p>{table}</div>"
    )


def _status_table(changes: list[dict[str, Any]]) -> str:
    if not changes:
        return "<p>No check changed status.</p>"
    rows = "".join(
        f'<tr><th scope="row">{esc(s["title"])} <code>{esc(s["check_id"])}</code></th>'
        f"<td>{esc(_fmt(s['old']))}</td><td>{esc(_fmt(s['new']))}</td>"
        f'<td class="wb-dir-{esc(s["direction"].replace(" ", "-"))}">'
        f"{esc(_DIRECTION.get(s['direction'], s['direction']))}</td></tr>"
        for s in changes
    )
    return (
        scroll_region("Checks that changed status")
        + "<table><caption>Checks that changed status</caption>"
        '<thead><tr><th scope="col">Check</th><th scope="col">Before</th>'
        '<th scope="col">Now</th><th scope="col">Change</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
    )


def _metric_table(changes: list[dict[str, Any]], level: str) -> str:
    if not changes:
        return f"<p>No metric moved beyond its {esc(level)}interval.</p>"
    rows = "".join(
        f'<tr><th scope="row"><code>{esc(m["check_id"])}</code> {esc(m["metric"])}</th>'
        f"<td>{_fmt(m['old'])} [{_fmt(m['old_low'])}, {_fmt(m['old_high'])}]</td>"
        f"<td>{_fmt(m['new'])} [{_fmt(m['new_low'])}, {_fmt(m['new_high'])}]</td>"
        f"<td>{m['change']:+.4f}</td></tr>"
        for m in changes
    )
    return (
        scroll_region("Metrics that moved") + "<table><caption>Metrics that moved beyond their "
        f"{esc(level)}intervals (each value outside the other audit's interval)</caption>"
        '<thead><tr><th scope="col">Metric</th><th scope="col">Before [interval]</th>'
        '<th scope="col">Now [interval]</th><th scope="col">Change</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
    )


def _input_table(changes: list[dict[str, Any]]) -> str:
    if not changes:
        return "<p>The inputs are the same (fingerprints, sizes and model).</p>"
    rows = "".join(
        f'<tr><th scope="row">{esc(c["input"])}</th><td>{esc(c["field"])}</td>'
        f"<td>{esc(_fmt(c['old']))}</td><td>{esc(_fmt(c['new']))}</td></tr>"
        for c in changes
    )
    return (
        scroll_region("Inputs that differ")
        + "<table><caption>Inputs that differ</caption><thead><tr>"
        '<th scope="col">Input</th><th scope="col">Field</th><th scope="col">Before</th>'
        f'<th scope="col">Now</th></tr></thead><tbody>{rows}</tbody></table></div>'
    )


def compare_body(result: dict[str, Any], job: Any, previous: Any, prefix: str, history: str) -> str:
    """The comparison page: ``assay diff`` of the previous audit against this one."""
    level = f"{result['confidence'] * 100:g}% " if result["confidence"] else ""
    worse = result["regressions"]
    if result["no_difference"]:
        verdict = (
            "No differences: every check has the same status and no metric moved beyond "
            "its interval."
        )
    else:
        better = sum(1 for s in result["status_changes"] if s["direction"] == "better")
        verdict = (
            f"{len(worse):,} check(s) got worse, {better:,} got better; "
            f"{len(result['metric_changes']):,} metric(s) moved beyond their intervals."
        )
    other = "" if result["same_model"] else " (an audit of another model)"
    return (
        '<div class="ay-panel"><h1>Compare with the previous audit</h1>'
        f"<p>Model: <b>{esc(result['model'])}</b>. "
        f'This audit (<a href="{prefix}/audits/{esc(job.id)}">{esc(when(job.created_at))}</a>) '
        f'against the audit of <a href="{prefix}/audits/{esc(previous.id)}">'
        f"{esc(when(previous.created_at))}</a>{esc(other)}. The same comparison as "
        "<code>assay diff previous/report.json report.json</code>.</p>"
        f'<p role="status"><b>{esc(verdict)}</b></p>'
        f'<p><a href="{esc(history)}">All audits of this model</a></p></div>'
        '<section class="ay-panel" aria-labelledby="cmp-status"><h2 id="cmp-status">'
        f"Status changes</h2>{_status_table(result['status_changes'])}</section>"
        '<section class="ay-panel" aria-labelledby="cmp-metrics"><h2 id="cmp-metrics">'
        f"Metrics</h2>{_metric_table(result['metric_changes'], level)}</section>"
        '<section class="ay-panel" aria-labelledby="cmp-inputs"><h2 id="cmp-inputs">'
        f"Inputs</h2>{_input_table(result['input_changes'])}</section>"
    )
