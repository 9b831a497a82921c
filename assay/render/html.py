"""The HTML report: one self-contained, offline page rebuilt from ``report.json``.

The page reads top-down for someone who does not write code: the verdict in
plain words, the counts by status, what was audited, the checks that need
attention, then every check grouped by area (problems first), and the numbers
needed to reproduce it. Styles are inline (``report.css``), charts are inline
SVG (:mod:`assay.render.charts`), and the only script is one line that opens
collapsed sections before printing. No request leaves the page, and a strict
Content-Security-Policy (:func:`content_security_policy`) makes sure of it.

The renderer reads the report dict only. It computes no metric and treats
every field as optional: a missing key or a null shows as "—", never an error.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import re
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from assay.render._cards import render_card
from assay.render._escape import html_attr, html_text
from assay.render._format import (
    DASH,
    SEVERITY_RANK,
    STATUS_RANK,
    as_mapping,
    as_number,
    as_str_list,
    fmt_number,
    plural,
    short_hash,
)
from assay.render._governance import governance_section, plan_section
from assay.render._report import Report, count_statuses, gate_failed, read_report
from assay.render._unsupervised import unsupervised_section
from assay.render.datasheet import datasheet_section

if TYPE_CHECKING:
    from assay.core.audit_result import AuditResult
    from assay.core.result import CheckResult

__all__ = ["content_security_policy", "render_html"]

AREAS: dict[str, tuple[str, str]] = {
    "data": ("Data quality", "Can the data be trusted: integrity, leakage, overlap, labels."),
    "evaluation": ("Model performance", "How good the model is, and how sure we are of it."),
    "drift": ("Drift and monitoring", "Whether production data has moved away from the test data."),
    "fairness": ("Fairness", "Whether the model treats groups of people alike."),
    "security": ("Security and privacy", "Personal data, attacks and safe loading."),
    "efficiency": ("Efficiency and cost", "Speed, memory and the cost of running the model."),
    "governance": ("Governance", "Documents and standards a reviewer asks for."),
    "clustering": ("Clustering", "Whether the segments are real, stable, explainable and fair."),
    "anomaly": ("Anomaly detection", "How much the detector flags, why, and whether it finds."),
}
_TASKS = {
    "binary": "Binary classification",
    "multiclass": "Multiclass classification",
    "regression": "Regression",
    "clustering": "Clustering (segmentation)",
    "anomaly": "Anomaly detection",
}
_SPLITS = {"train": "Training data", "test": "Test data", "current": "Current (production) data"}
_TILES = (
    ("fail", "Failed"),
    ("error", "Could not run"),
    ("warn", "Warnings"),
    ("pass", "Passed"),
    ("skipped", "Skipped"),
)
PRINT_SCRIPT = (
    'addEventListener("beforeprint",function(){'
    'document.querySelectorAll(".assay-report details").forEach(function(d){d.open=true})})'
)
"""The page's only script: open every collapsed section before printing."""


@lru_cache(maxsize=1)
def stylesheet() -> str:
    """The report's CSS, comments and indentation removed (every rule is scoped)."""
    files = resources.files("assay.render")
    text = "\n".join(
        files.joinpath(name).read_text(encoding="utf-8")
        for name in ("report.css", "governance.css")
    )
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"\s*([{};,>])\s*", r"\1", text).replace(": ", ":").strip()


def _source_hash(source: str) -> str:
    """A CSP source expression allowing exactly this inline script or style."""
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


@lru_cache(maxsize=1)
def content_security_policy() -> str:
    """The report page's Content-Security-Policy, hashes computed from what it inlines.

    Nothing may load from anywhere (``default-src 'none'``): no remote script,
    style, font, frame, form target or connection. The page's one ``<style>``
    and one ``<script>`` are allowed by their SHA-256 hashes, so an injected
    inline script or style would not run even if it got past the escaping;
    images only as ``data:`` URLs (the charts are inline SVG).

    Examples
    --------
    >>> policy = content_security_policy()
    >>> policy.startswith("default-src 'none'") and "script-src 'sha256-" in policy
    True
    """
    return (
        f"default-src 'none'; style-src {_source_hash(stylesheet())}; "
        f"script-src {_source_hash(PRINT_SCRIPT)}; img-src data:; "
        "base-uri 'none'; form-action 'none'; object-src 'none'"
    )


def _when(value: Any) -> str:
    """An ISO timestamp as ``2 May 2025, 14:03 UTC``; anything else as given."""
    if not isinstance(value, str) or not value:
        return DASH
    try:
        t = _dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    zone = "UTC" if t.utcoffset() == _dt.timedelta(0) else (t.strftime("%z") or "")
    return f"{t.day} {t.strftime('%b %Y, %H:%M')} {zone}".rstrip()


# -- header ---------------------------------------------------------------------
def _verdict(counts: Mapping[str, int], total: int) -> tuple[str, str, str]:
    """(tone, headline, sentence) for the report's header."""
    bad = counts["fail"] + counts["error"] + counts["unknown"]
    attention = bad + counts["warn"]
    if total == 0:
        return "skipped", "No checks were run", "This report holds no check results."
    if attention == 0:
        if counts["pass"] == 0:
            return (
                "skipped",
                "No check could be evaluated",
                "Every check was skipped; see why below.",
            )
        skipped = counts["skipped"]
        extra = (
            f" {plural(skipped, 'check was', 'checks were')} skipped; see why below."
            if (skipped)
            else ""
        )
        return "pass", "All checks passed", f"{plural(counts['pass'], 'check')} passed.{extra}"
    parts = []
    if counts["fail"]:
        parts.append(f"{counts['fail']:,} failed")
    if counts["error"]:
        parts.append(f"{counts['error']:,} could not run")
    if counts["unknown"]:
        parts.append(f"{counts['unknown']:,} have an unknown status")
    if counts["warn"]:
        parts.append(plural(counts["warn"], "warning"))
    tone = "fail" if bad else "warn"
    head = f"{plural(attention, 'check needs', 'checks need')} attention"
    return tone, head, ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1] + "."


def _gate(audit: Report) -> str:
    rule = "a failed check or a warning" if audit.fail_on == "warn" else "a failed check"
    word = "failed" if gate_failed(audit) else "passed"
    return (
        f'<p class="ay-gate ay-gate-{word}">Quality gate <strong>{word}</strong> '
        f'<span class="ay-muted">(it fails on {rule}, or a check that could not run)</span></p>'
    )


def _header(audit: Report, counts: Mapping[str, int], total: int) -> str:
    tone, head, sentence = _verdict(counts, total)
    tiles = []
    for status, label in _TILES:
        n = counts[status]
        zero = " ay-tile-zero" if n == 0 else ""
        tiles.append(
            f'<li class="ay-tile ay-tile-{status}{zero}"><span class="ay-tile-n">'
            f'{n:,}</span><span class="ay-tile-l">{label}</span></li>'
        )
    if counts["unknown"]:
        tiles.append(
            f'<li class="ay-tile ay-tile-unknown"><span class="ay-tile-n">'
            f'{counts["unknown"]:,}</span><span class="ay-tile-l">Unknown</span></li>'
        )
    return (
        f'<header class="ay-hero ay-hero-{tone}">'
        '<div class="ay-brand"><span class="ay-logo" aria-hidden="true">◆</span> Assay '
        '<span class="ay-muted">· model audit report · '
        f"{html_text(_when(audit.created_at))}"
        "</span></div>"
        f'<h1>{html_text(head)}</h1><p class="ay-lede">{html_text(sentence)}</p>'
        f"{_gate(audit)}"
        f'<ul class="ay-tiles" aria-label="Checks by status">{"".join(tiles)}</ul></header>'
    )


# -- what was audited -----------------------------------------------------------
def _fingerprint(split: Mapping[str, Any]) -> str:
    fp = split.get("fingerprint")
    if isinstance(fp, Mapping):
        fp = next(
            (
                fp[k]
                for k in ("sha256", "content_sha256", "hash", "digest", "fingerprint")
                if isinstance(fp.get(k), str)
            ),
            None,
        )
    if isinstance(fp, str) and fp:
        return f'<code title="{html_attr(fp)}">{html_text(short_hash(fp))}</code>'
    digest = split.get("file_sha256")
    if isinstance(digest, str) and digest:
        return (
            f'<span class="ay-k">file sha256</span> '
            f'<code title="{html_attr(digest)}">{html_text(short_hash(digest))}</code>'
        )
    return DASH


def _source(split: Mapping[str, Any]) -> str:
    path, kind = split.get("path"), split.get("kind")
    if isinstance(path, str) and path:
        name = re.split(r"[\\/]", path)[-1] or path
        return f'<code title="{html_attr(path)}">{html_text(name)}</code>'
    kinds = {"pandas": "pandas DataFrame", "polars": "Polars DataFrame"}
    return html_text(kinds.get(kind, kind)) if kind else DASH


def _data_table(inputs: Mapping[str, Any]) -> str:
    rows = []
    for key, split in inputs.items():
        split = as_mapping(split)
        if key not in _SPLITS and "rows" not in split and "columns" not in split:
            continue
        shape = f"{fmt_number(split.get('rows'))} rows × {fmt_number(split.get('columns'))} columns"
        rows.append(
            f'<tr><th scope="row">{html_text(_SPLITS.get(key, key))}</th>'
            f"<td>{_source(split)}</td><td>{html_text(shape)}</td>"
            f"<td>{_fingerprint(split)}</td></tr>"
        )
    if not rows:
        return ""
    return (
        '<div class="ay-table-wrap"><table class="ay-data"><thead><tr><th>Data</th>'
        "<th>Source</th><th>Size</th><th>Fingerprint</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )


def _codes(values: list[str], limit: int = 12) -> str:
    if not values:
        return DASH
    shown = ", ".join(f"<code>{html_text(v)}</code>" for v in values[:limit])
    extra = len(values) - limit
    return shown + (f" and {extra:,} more" if extra > 0 else "")


def _audited(inputs: Mapping[str, Any]) -> str:
    schema = as_mapping(inputs.get("schema"))
    facts: list[tuple[str, str]] = []
    task = schema.get("task")
    facts.append(("Task", html_text(_TASKS.get(task, task)) if task else DASH))
    target = schema.get("target")
    facts.append(("Target", f"<code>{html_text(target)}</code>" if target is not None else DASH))
    classes = as_str_list(schema.get("classes"))
    if classes:
        facts.append(("Classes", _codes(classes, 10)))
    features = as_str_list(schema.get("features"))
    if features:
        facts.append(("Features", f"{len(features):,} columns: {_codes(features, 8)}"))
    model = inputs.get("model")
    if isinstance(model, Mapping):
        cls = str(model.get("class") or "")
        short = cls.rsplit(".", 1)[-1]
        shown = f'<code title="{html_attr(cls)}">{html_text(short)}</code>' if cls else ""
        extra = [str(x) for x in (model.get("kind"), model.get("path")) if x]
        tail = f' <span class="ay-muted">({html_text(", ".join(extra))})</span>' if extra else ""
        facts.append(("Model", (shown or DASH) + tail))
    else:
        pred = as_mapping(inputs.get("prediction_columns"))
        cols = as_str_list(pred.get("prediction")) + as_str_list(pred.get("score"))
        facts.append(
            ("Model", "None given; predictions read from " + _codes(cols) if cols else "None given")
        )
    sensitive = as_str_list(inputs.get("sensitive"))
    facts.append(("Sensitive attributes", _codes(sensitive) if sensitive else "None given"))
    dl = "".join(f"<dt>{html_text(k)}</dt><dd>{v}</dd>" for k, v in facts)
    return (
        '<section class="ay-section ay-audited"><h2>What was audited</h2>'
        f'{_data_table(inputs)}<dl class="ay-facts">{dl}</dl></section>'
    )


# -- checks ---------------------------------------------------------------------
def _sort_key(item: tuple[int, CheckResult]) -> tuple[int, int, int]:
    i, c = item
    rank = STATUS_RANK.get(c.status, 0)  # unknown statuses go first, with errors
    return rank, SEVERITY_RANK.get(c.severity, 5), i


def _areas(checks: tuple[CheckResult, ...], confidence: float | None) -> str:
    groups: dict[str, list[tuple[int, CheckResult]]] = {}
    for i, c in enumerate(checks):
        groups.setdefault(c.area or "other", []).append((i, c))
    order = [a for a in AREAS if a in groups] + [a for a in groups if a not in AREAS]
    out = []
    for area in order:
        members = sorted(groups[area], key=_sort_key)
        title, blurb = AREAS.get(area, (area.replace("_", " ").capitalize(), ""))
        counts = count_statuses(c for _, c in members)
        tally = " · ".join(
            f'<span class="ay-tally-{s}">{n:,} {label.lower()}</span>'
            for s, label in (
                ("fail", "failed"),
                ("error", "error"),
                ("warn", "warning"),
                ("pass", "passed"),
                ("skipped", "skipped"),
            )
            if (n := counts[s])
        )
        cards = "".join(render_card(c, i, confidence) for i, c in members)
        out.append(
            '<section class="ay-section ay-area"><div class="ay-area-head">'
            f"<h2>{html_text(title)}</h2>"
            f'<span class="ay-tally">{tally}</span></div>'
            + (f'<p class="ay-blurb">{html_text(blurb)}</p>' if blurb else "")
            + cards
            + "</section>"
        )
    return "".join(out)


# -- footer ---------------------------------------------------------------------
def _level(value: Any) -> Any:
    """0.95 → ``95%``; anything else unchanged."""
    v = as_number(value)
    return f"{v * 100:g}%" if v is not None and 0 < v < 1 else value


def _footer(audit: Report) -> str:
    settings, env = audit.settings, audit.environment
    facts = [
        ("Assay", audit.assay_version or None),
        ("Report schema", audit.schema_version or None),
        ("Created", _when(audit.created_at)),
        ("Random seed", settings.get("seed")),
        ("Bootstrap resamples", settings.get("n_bootstrap")),
        ("Confidence level", _level(settings.get("confidence"))),
    ]
    if settings.get("max_rows_model_checks") is not None:
        facts.append(("Row cap for model checks", settings.get("max_rows_model_checks")))
    if settings.get("positive_label") is not None:
        facts.append(("Positive label", settings.get("positive_label")))
    repro = "".join(
        f"<dt>{html_text(k)}</dt><dd>{html_text(v if isinstance(v, str) else fmt_number(v))}</dd>"
        for k, v in facts
    )
    libs = " · ".join(
        f"{html_text(k)} <b>{html_text(v)}</b>"
        for k, v in list(env.items())[:30]
        if isinstance(v, (str, int, float)) and not isinstance(v, bool)
    )
    return (
        '<footer class="ay-footer"><h2>Reproducing this report</h2>'
        f'<dl class="ay-facts ay-facts-small">{repro}</dl>'
        + (f'<p class="ay-libs">{libs}</p>' if libs else "")
        + '<p class="ay-muted">Every number above comes from <code>report.json</code>; '
        "rebuild this page with <code>assay report report.json</code>.</p></footer>"
    )


# -- the page -------------------------------------------------------------------
def render_html(report: AuditResult | Mapping[str, Any], *, fragment: bool = False) -> str:
    """Render an audit (or the content of ``report.json``) as HTML.

    Parameters
    ----------
    report
        An :class:`~assay.AuditResult`, its ``to_dict()``, or ``report.json``
        loaded. Missing or odd fields are shown as "—" or left out; they never
        raise.
    fragment
        Return a ``<div>`` with scoped styles (for Jupyter's ``_repr_html_``)
        instead of a whole document.

    Returns
    -------
    str
        The page (or fragment). The same report always gives the same bytes.

    Examples
    --------
    >>> page = render_html({"checks": [], "created_at": "2025-01-01T00:00:00+00:00"})
    >>> page.startswith("<!DOCTYPE html>") and "No checks were run" in page
    True
    >>> render_html({"checks": []}, fragment=True).startswith("<div")
    True
    """
    audit = read_report(report)
    counts = count_statuses(audit.checks)
    confidence = as_number(audit.settings.get("confidence"))
    body = (
        _header(audit, counts, len(audit.checks))
        + unsupervised_section(audit)  # clustering / anomaly tasks only
        + plan_section(audit)  # "What to do next" replaces "Needs attention"
        + _audited(audit.inputs)
        + _areas(audit.checks, confidence)
        + governance_section(audit)
        + datasheet_section(audit)
        + _footer(audit)
    )
    style = f"<style>{stylesheet()}</style>"
    if fragment:
        return f'<div class="assay-report ay-fragment">{style}{body}</div>'
    _, head, _ = _verdict(counts, len(audit.checks))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" '
        f'content="{html_attr(content_security_policy())}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light">'
        f"<title>Assay report: {html_text(head)}</title>{style}</head>"
        f'<body class="ay-body"><div class="assay-report ay-page">{body}</div>'
        f"<script>{PRINT_SCRIPT}</script></body></html>\n"
    )
