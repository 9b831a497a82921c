"""Report sections for governance: "What to do next" and the standards crosswalk.

Both read the typed report (:func:`assay.render._report.read_report`). The
crosswalk comes from the report's ``governance`` block (written by the audit into
``report.json`` under ``extra``); for an older report without it, the same block is
rebuilt from the crosswalk shipped with Assay (static reference data, not a
computation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from assay.render._cards import anchor_id, badge
from assay.render._escape import html_text
from assay.render._format import (
    STATUS_RANK,
    as_mapping,
    as_str_list,
    plural,
    shorten,
)
from assay.render._report import Report, plan_input

if TYPE_CHECKING:
    from assay.core.result import CheckResult

__all__ = ["DECISION_WORDS", "decisions_of", "governance_section", "plan_section"]

EFFORT_WORDS = {
    "low": ("Quick fix", "hours"),
    "medium": ("Some work", "days"),
    "high": ("Larger effort", "weeks"),
}
SEVERITY_WORDS = {
    "critical": "Critical",
    "high": "High importance",
    "medium": "Medium importance",
    "low": "Low importance",
    "info": "For information",
}
_FUNCTION_WORDS = {
    "GOVERN": "Policies, roles and culture",
    "MAP": "Context, intended use and risks",
    "MEASURE": "Testing and measuring",
    "MANAGE": "Acting on the risks",
}
_MAX_TEXT = 800
DECISION_WORDS = {
    "accepted_risk": "accepted risk",
    "will_fix": "will fix",
    "not_applicable": "not applicable",
}


# -- people's decisions -----------------------------------------------------------
def decisions_of(report: Report | Mapping[str, Any]) -> list[dict[str, Any]]:
    """The decisions people recorded on the next steps (the workbench writes them to
    ``extra.workbench.decisions``), oldest first; entries of the wrong shape are left
    out. Each: ``check_id``, ``decision``, ``comment``, ``who``, ``at`` (epoch seconds).

    Examples
    --------
    >>> r = {"extra": {"workbench": {"decisions": [
    ...     {"check_id": "a.b", "decision": "will_fix", "who": "Ana", "at": 0.0}]}}}
    >>> decisions_of(r)[0]["who"], decisions_of({})
    ('Ana', [])
    """
    extra = report.get("extra") if isinstance(report, Mapping) else report.extra
    raw = as_mapping(as_mapping(extra).get("workbench")).get("decisions")
    out = []
    for d in raw if isinstance(raw, list) else []:
        if not isinstance(d, Mapping) or not isinstance(d.get("check_id"), str):
            continue
        at = d.get("at")
        at = float(at) if isinstance(at, (int, float)) and not isinstance(at, bool) else None
        out.append(
            {
                "check_id": d["check_id"],
                "decision": str(d.get("decision") or ""),
                "comment": str(d.get("comment") or ""),
                "who": str(d.get("who") or ""),
                "at": at,
            }
        )
    return out


def decision_when(at: float | None) -> str:
    """A decision's time as the report and the card print it (UTC, to the minute)."""
    import datetime as _dt

    if at is None:
        return "—"
    try:
        return _dt.datetime.fromtimestamp(at, _dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    except (OverflowError, OSError, ValueError):
        return "—"


def latest_decisions(report: Report | Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The newest decision per step (``check_id``)."""
    return {d["check_id"]: d for d in decisions_of(report)}


def _decision_line(d: Mapping[str, Any]) -> str:
    said = DECISION_WORDS.get(d["decision"], d["decision"])
    comment = f": “{html_text(shorten(d['comment'], _MAX_TEXT))}”" if d["comment"] else ""
    return (
        f'<p class="ay-decided">Marked <strong>{html_text(said)}</strong> by '
        f"{html_text(d['who'])} on {html_text(decision_when(d['at']))}{comment}</p>"
    )


def _decision_rows(decisions: Sequence[Mapping[str, Any]], titles: Mapping[str, str]) -> str:
    return "".join(
        f'<tr><th scope="row">{html_text(titles.get(d["check_id"], d["check_id"]))} '
        f"<code>{html_text(d['check_id'])}</code></th>"
        f"<td>{html_text(DECISION_WORDS.get(d['decision'], d['decision']))}</td>"
        f"<td>{html_text(d['who'])}</td><td>{html_text(decision_when(d['at']))}</td>"
        f"<td>{html_text(shorten(d['comment'], _MAX_TEXT)) or '—'}</td></tr>"
        for d in decisions
    )


def _decisions_block(audit: Report) -> str:
    """People's decisions on the next steps: the latest per step, then earlier ones."""
    every = decisions_of(audit)
    if not every:
        return ""
    titles = {c.id: c.title or c.id for c in audit.checks}
    latest = list({d["check_id"]: d for d in every}.values())
    earlier = [d for d in every if not any(d is x for x in latest)]
    head = (
        '<div class="ay-table-wrap"><table class="ay-gov-table ay-decisions"><thead><tr>'
        '<th scope="col">Next step</th><th scope="col">Decision</th><th scope="col">Who</th>'
        '<th scope="col">When</th><th scope="col">Comment</th></tr></thead><tbody>'
    )
    out = (
        '<h3 id="ay-decisions">Decisions on the next steps</h3>'
        '<p class="ay-muted">What the people responsible decided about each next step, '
        "with who decided and when (the latest decision per step). They are recorded in "
        "<code>report.json</code> and carried into the model card and the evidence pack.</p>"
        f"{head}{_decision_rows(latest, titles)}</tbody></table></div>"
    )
    if earlier:
        out += (
            f"<details><summary>Earlier decisions, since replaced ({len(earlier):,})</summary>"
            f"{head}{_decision_rows(earlier, titles)}</tbody></table></div></details>"
        )
    return out


def _record(audit: Report) -> Mapping[str, Any]:
    from assay.governance._crosswalk import governance_record
    from assay.governance._plan import governance_of

    block = governance_of({"extra": audit.extra})
    if as_mapping(block.get("nist_ai_rmf")):
        return block
    return governance_record([c.id for c in audit.checks if c.id])


# -- what to do next ------------------------------------------------------------
def _strength_pill(evidence: Any) -> str:
    if not isinstance(evidence, Mapping) or evidence.get("strength") not in _STRENGTHS:
        return ""
    strength = evidence["strength"]
    return (
        f'<span class="ay-pill ay-strength ay-strength-{strength}" title="how sure: '
        f'{html_text(evidence.get("basis") or "")}">{strength} evidence</span>'
    )


_STRENGTHS = ("strong", "moderate", "weak")


def _step(n: int, s: Mapping[str, Any], decided: Mapping[str, Any] | None = None) -> str:
    effort, when = EFFORT_WORDS.get(s["effort"], ("Some work", "days"))
    sev = SEVERITY_WORDS.get(s["severity"], "")
    said = s["summary"].strip()
    shown = [
        f["message"]
        for f in s["findings"]
        if f["message"] and not said.startswith(f["message"].strip().rstrip("."))
    ]  # a finding the summary already states is not repeated
    findings = "".join(f"<li>{html_text(shorten(m, 200))}</li>" for m in shown)
    more = s["n_findings"] - len(shown)
    if findings and more > 0:
        findings += (
            f'<li class="ay-muted">and {plural(more, "more finding")} in the check below</li>'
        )
    anchor = anchor_id(s["index"], s["check_id"])
    todo = html_text(shorten(s["recommendation"], _MAX_TEXT))
    return (
        f'<li class="ay-step ay-step-{html_text(s["status"])}">'
        f'<span class="ay-step-n" aria-hidden="true">{n}</span><div class="ay-step-body">'
        f'<div class="ay-step-head">{badge(s["status"], small=True)}'
        f'<a href="#{anchor}"><strong>{html_text(s["title"])}</strong></a>'
        f'<span class="ay-pill">{html_text(sev)}</span>'
        + _strength_pill(s.get("evidence"))
        + f'<span class="ay-pill ay-pill-effort" title="typical effort: {when}">'
        f"{html_text(effort)} ({when})</span></div>"
        f'<p class="ay-step-why">{html_text(shorten(s["summary"], _MAX_TEXT))}</p>'
        + (f'<p class="ay-step-do"><b>What to do:</b> {todo}</p>' if todo else "")
        + (f'<ul class="ay-step-findings">{findings}</ul>' if findings else "")
        + (_decision_line(decided) if decided else "")
        + f'<p class="ay-step-rerun">When it is done, run the check again: '
        f"<code>{html_text(s['rerun'])}</code></p></div></li>"
    )


def plan_section(audit: Report) -> str:
    """ "What to do next": problems as numbered steps, most important first."""
    from assay.governance._plan import remediation_plan

    if not audit.checks:
        return ""
    plan = remediation_plan(plan_input(audit))
    if not plan:
        return (
            '<section class="ay-section ay-plan ay-plan-empty"><h2>What to do next</h2>'
            "<p>Nothing to fix: every check passed or did not apply. The governance section "
            "at the end lists what people still need to confirm.</p></section>"
        )
    fails = sum(1 for s in plan if s["status"] in ("fail", "error"))
    lead = (
        f"{plural(len(plan), 'thing')} to look at, most important first: "
        "failures before warnings, then the strongest evidence, then by importance, "
        "quick fixes first."
    )
    if fails == len(plan):
        lead += " All of them must be fixed before the quality gate passes."
    elif fails:
        first = "The first one" if fails == 1 else f"The first {fails:,}"
        lead += f" {first} must be fixed before the quality gate passes."
    lead += " Each step says what to do and which check to run again afterwards."
    decided = latest_decisions(audit)
    steps = "".join(_step(n, s, decided.get(s["check_id"])) for n, s in enumerate(plan, 1))
    return (
        '<section class="ay-section ay-plan"><h2>What to do next</h2>'
        f'<p class="ay-blurb">{html_text(lead)}</p><ol class="ay-steps">{steps}</ol></section>'
    )


# -- governance -----------------------------------------------------------------
def _worst(statuses: list[str]) -> str:
    ran = [s for s in statuses if s != "skipped"]
    if not ran:
        return "skipped"
    return min(ran, key=lambda s: STATUS_RANK.get(s, 0))


def _evidence(ids: list[str], where: _Where) -> str:
    items = []
    for cid in ids:
        i, c = where[cid]
        items.append(
            f'<li>{badge(c.status, small=True)}<a href="#{anchor_id(i, cid)}">'
            f"{html_text(c.title or cid)}</a></li>"
        )
    return f'<ul class="ay-evidence">{"".join(items)}</ul>'


def _owner_box(owner: Mapping[str, Any]) -> str:
    def val(key: str) -> str:
        v = owner.get(key)
        if isinstance(v, list):
            v = "; ".join(str(x) for x in v)
        if isinstance(v, str) and v.strip():
            return html_text(shorten(v, _MAX_TEXT))
        return '<span class="ay-ask">Not stated yet</span>'

    rows = (
        ("What it is for", "intended_use"),
        ("Must not be used for", "out_of_scope_uses"),
        ("Owners", "owners"),
        ("Licence", "licence"),
    )
    dl = "".join(f"<dt>{label}</dt><dd>{val(key)}</dd>" for label, key in rows)
    missing = any(not owner.get(k) for _, k in rows)
    note = (
        '<p class="ay-muted">Only the model\'s owner can answer these: add them under '
        "<code>model_card:</code> in <code>assay.yaml</code>, then run "
        "<code>assay card report.json</code> to write <code>model_card.md</code>.</p>"
        if missing
        else '<p class="ay-muted">The full model card is in <code>model_card.md</code>.</p>'
    )
    return f'<div class="ay-gov-card"><h3>Model card</h3><dl class="ay-facts">{dl}</dl>{note}</div>'


_Where = Mapping[str, tuple[int, "CheckResult"]]
_Sub = tuple[str, Mapping[str, Any], list[str]]


def _classify(
    nist: Mapping[str, Mapping[str, Any]], where: _Where
) -> tuple[list[tuple[str, Mapping[str, Any], list[str], str]], list[_Sub], list[_Sub]]:
    """NIST subcategories with evidence from this audit (and its worst status), the ones
    checks could cover but did not, and the ones for people."""
    rows, uncovered, people = [], [], []
    for sid, item in nist.items():
        ids = [c for c in as_str_list(item.get("checks")) if c in where]
        statuses: list[str] = [where[c][1].status for c in ids]
        evidence = bool(ids) and _worst(statuses) != "skipped"
        if evidence:
            rows.append((sid, item, ids, _worst(statuses)))
        if item.get("for_people", not item.get("coverable")):
            people.append((sid, item, ids if evidence else []))
        elif item.get("coverable") and not evidence:
            uncovered.append((sid, item, ids))
    return rows, uncovered, people


def _intro(rec: Mapping[str, Any], n_rows: int, n_uncovered: int, n_people: int) -> str:
    frameworks = as_mapping(rec.get("frameworks"))
    nist_doc = as_mapping(frameworks.get("nist_ai_rmf")).get("document") or "NIST AI 100-1"
    iso_doc = as_mapping(frameworks.get("iso_42001")).get("document") or "ISO/IEC 42001:2023"
    nist_name = as_mapping(frameworks.get("nist_ai_rmf")).get("name") or "NIST AI RMF"
    return (
        '<section class="ay-section ay-governance"><div class="ay-area-head">'
        "<h2>Governance: standards and what people must do</h2></div>"
        f'<p class="ay-blurb">How this audit\'s checks map to the {html_text(nist_name)} '
        f"({html_text(nist_doc)}) and to the controls of {html_text(iso_doc)}. A check gives "
        "evidence for a subcategory; it does not make the system compliant by itself, and many "
        "subcategories are about how people and the organization work.</p>"
        '<ul class="ay-gov-tiles">'
        f'<li><span class="ay-tile-n">{n_rows}</span>NIST subcategories with evidence '
        "from this audit</li>"
        f'<li><span class="ay-tile-n">{n_uncovered}</span>could have evidence from checks '
        "that did not run</li>"
        f'<li><span class="ay-tile-n">{n_people}</span>are for people to answer '
        "(checklist below)</li></ul>"
    )


def _evidence_table(
    rows: list[tuple[str, Mapping[str, Any], list[str], str]], where: _Where
) -> str:
    body = "".join(
        f'<tr><td>{badge(worst, small=True)}</td><th scope="row"><span class="ay-sub-id">'
        f'{html_text(sid)}</span><span class="ay-sub-topic">'
        f"{html_text(item.get('topic'))}</span></th>"
        f'<td class="ay-sub-q">{html_text(item.get("question"))}</td>'
        f"<td>{_evidence(ids, where)}</td></tr>"
        for sid, item, ids, worst in rows
    )
    return (
        "<h3>Evidence by NIST AI RMF subcategory</h3>"
        '<p class="ay-muted">The status is the worst of the checks that give the evidence.</p>'
        '<div class="ay-table-wrap"><table class="ay-gov-table"><thead><tr><th>Status</th>'
        "<th>Subcategory</th><th>What it asks</th><th>Evidence from this audit</th>"
        f"</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _uncovered_list(uncovered: list[_Sub]) -> str:
    items = "".join(
        f'<li><span class="ay-sub-id">{html_text(sid)}</span> {html_text(item.get("topic"))}: '
        f"would be covered by "
        + ", ".join(
            f"<code>{html_text(c)}</code>"
            for c in [*ids, *as_str_list(item.get("other_checks"))][:6]
        )
        + "</li>"
        for sid, item, ids in uncovered
    )
    return (
        "<h3>Not covered by this audit</h3>"
        '<p class="ay-muted">Checks exist for these, but they did not run or were skipped '
        "(for example no production data or no sensitive column was given).</p>"
        f'<ul class="ay-uncovered">{items}</ul>'
    )


def _people_item(sid: str, item: Mapping[str, Any], ids: list[str], where: _Where) -> str:
    return (
        f'<li><span class="ay-box" aria-hidden="true"></span><div>'
        f'<span class="ay-sub-id">{html_text(sid)}</span> '
        f"<b>{html_text(item.get('topic'))}</b>"
        f'<span class="ay-sub-q">{html_text(item.get("question"))}</span>'
        + (
            f'<span class="ay-helped">Assay helps: {html_text(item["helped_by"])}</span>'
            if item.get("helped_by")
            else ""
        )
        + (
            '<span class="ay-helped">Some evidence from this audit: '
            + ", ".join(html_text(where[c][1].title or c) for c in ids)
            + "</span>"
            if ids
            else ""
        )
        + "</div></li>"
    )


def _people_checklist(people: list[_Sub], where: _Where) -> str:
    groups: dict[str, list[_Sub]] = {}
    for sid, item, ids in people:
        groups.setdefault(str(item.get("function") or sid.split(" ")[0]), []).append(
            (sid, item, ids)
        )
    blocks = []
    for fn, members in groups.items():
        lis = "".join(_people_item(sid, item, ids, where) for sid, item, ids in members)
        blocks.append(
            f'<details class="ay-checklist-group" open><summary><b>{html_text(fn)}</b> '
            f'<span class="ay-muted">{html_text(_FUNCTION_WORDS.get(fn, ""))} '
            f"({len(members)})</span></summary>"
            f'<ul class="ay-checklist">{lis}</ul></details>'
        )
    return (
        "<h3>For people: what no check can cover</h3>"
        '<p class="ay-muted">Questions for the model\'s owner and organization. Tick each '
        "one when the answer is written down, and keep that record with this report.</p>"
        + "".join(blocks)
    )


def _iso_block(rec: Mapping[str, Any], where: _Where) -> str:
    iso = {k: as_mapping(v) for k, v in as_mapping(rec.get("iso_42001")).items()}
    iso_rows = []
    for cid, item in iso.items():
        ids = [c for c in as_str_list(item.get("checks")) if c in where]
        ran = [c for c in ids if where[c][1].status != "skipped"]
        if ran:
            iso_rows.append(
                f'<tr><th scope="row"><span class="ay-sub-id">{html_text(cid)}</span></th>'
                f"<td>{html_text(item.get('topic'))}</td><td>{_evidence(ran, where)}</td></tr>"
            )
    if not iso_rows:
        return ""
    others = len(iso) - len(iso_rows)
    return (
        '<details class="ay-iso"><summary><h3>ISO/IEC 42001 Annex A controls supported '
        f'<span class="ay-count">{len(iso_rows)}</span></h3></summary>'
        '<div class="ay-table-wrap"><table class="ay-gov-table"><thead><tr><th>Control</th>'
        "<th>Topic</th><th>Evidence from this audit</th></tr></thead><tbody>"
        + "".join(iso_rows)
        + "</tbody></table></div>"
        + (
            f'<p class="ay-muted">The other {others} Annex A controls are about the '
            "organization's AI management system and need people's records.</p>"
            if others > 0
            else ""
        )
        + "</details>"
    )


def governance_section(audit: Report) -> str:
    """Evidence per NIST AI RMF subcategory, the checklist for people, ISO/IEC 42001."""
    if not audit.checks:
        return ""
    rec = _record(audit)
    nist = {k: as_mapping(v) for k, v in as_mapping(rec.get("nist_ai_rmf")).items()}
    where = {c.id: (i, c) for i, c in enumerate(audit.checks) if c.id}
    rows, uncovered, people = _classify(nist, where)
    parts = [
        _intro(rec, len(rows), len(uncovered), len(people)),
        _owner_box(as_mapping(rec.get("owner"))),
        _decisions_block(audit),
        _evidence_table(rows, where) if rows else "",
        _uncovered_list(uncovered) if uncovered else "",
        _people_checklist(people, where) if people else "",
        _iso_block(rec, where),
    ]
    unmapped = as_str_list(rec.get("unmapped_checks"))
    if unmapped:
        parts.append(
            '<p class="ay-muted">Not in the crosswalk: '
            + ", ".join(f"<code>{html_text(c)}</code>" for c in unmapped[:20])
            + ".</p>"
        )
    parts.append("</section>")
    return "".join(parts)
