"""Dashboard sections for humans and models (#17): human review, the live
challenger, the feedback loop — each says what the number means, why it matters
and what to do, for a reader who is not an engineer.

Static HTML only (no script), every value escaped with :func:`esc`, under the
dashboard's Content-Security-Policy; a section appears only when the model has the
records it reads (reviewer decisions, challenger predictions, decision logs).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from typing import Any

from assay.render._format import esc, fmt_number, fmt_percent

DASH = "—"


def _pct(v: Any) -> str:
    return fmt_percent(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else DASH


def _num(v: Any) -> str:
    return fmt_number(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else DASH


def _when(iso: Any) -> str:
    try:
        return _dt.datetime.fromisoformat(str(iso)).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(iso)


def _explain(what: str, why: str, todo: str) -> str:
    return (
        '<dl class="ay-explain">'
        f"<dt>What this measures</dt><dd>{esc(what)}</dd>"
        f"<dt>Why it matters</dt><dd>{esc(why)}</dd>"
        f"<dt>What to do</dt><dd>{esc(todo)}</dd></dl>"
    )


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """``rows`` hold HTML already escaped."""
    th = "".join(f"<th>{esc(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return (
        f'<div class="ay-table-wrap"><table><thead><tr>{th}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _review_verdict(h: Mapping[str, Any]) -> str:
    if h.get("flagged"):
        return "Rubber-stamping: " + ", ".join(str(r) for r in h["flagged"])
    if h.get("no_information"):
        return "Review adds no information"
    if h.get("gap") is None:
        return "Waiting for outcomes"
    return "Review catches mistakes"


def human_section(windows: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for w in windows:
        h = w.get("human_review")
        if not h:
            continue
        gap = _num(h.get("gap"))
        if h.get("gap_low") is not None:
            gap += f" [{_num(h.get('gap_low'))} to {_num(h.get('gap_high'))}]"
        rows.append(
            [
                esc(_when(w.get("start"))),
                esc(_num(h.get("n_decisions"))),
                esc(_pct(h.get("override_rate"))),
                esc(_pct(h.get("agree_right"))),
                esc(_pct(h.get("agree_wrong"))),
                esc(gap),
                esc(_num(h.get("accept_seconds"))),
                esc(_review_verdict(h)),
            ]
        )
    if not rows:
        return ""
    explain = _explain(
        "How often reviewers agree with the model when it turns out right, and when it turns "
        "out wrong. The difference is the automation-bias gap: a reviewer who really checks "
        "overrides the model far more often when it is wrong (a large gap); one who signs off "
        "on everything agrees just as often either way (a gap near 0), usually in a few seconds.",
        "Human review is only a safeguard if it catches the model's mistakes. A gap near zero "
        "means the people in the loop add nothing: the model's errors go through unchecked, "
        "while the process still looks supervised.",
        "For a flagged reviewer, look at workload, time pressure and how the model's output is "
        "shown to them (showing it after their own judgement helps); audit a sample of their "
        "accepted cases. If review as a whole adds no information, fix the process before "
        "relying on it.",
    )
    table = _table(
        (
            "Window",
            "Decisions",
            "Overridden",
            "Agree when model right",
            "Agree when model wrong",
            "Automation-bias gap",
            "Median seconds to accept",
            "Verdict",
        ),
        rows,
    )
    return f'<div class="ay-panel" id="human-review"><h2>Human review</h2>{explain}{table}</div>'


def _interval_bar(lower: float, upper: float, estimate: float | None) -> str:
    """The running interval as a bar on a scale centred on 0 (inline styles only)."""
    scale = max(0.02, abs(lower), abs(upper)) * 1.1

    def x(v: float) -> float:
        return 100 * (v + scale) / (2 * scale)

    dot = (
        ""
        if estimate is None
        else f'<span style="position:absolute;left:{x(estimate):.1f}%;top:6px;width:8px;'
        'height:8px;margin-left:-4px;border-radius:4px;background:#1f2328"></span>'
    )
    return (
        '<div role="img" aria-label="running interval" style="max-width:420px">'
        '<div style="position:relative;height:20px;background:#f6f8fa;border-radius:4px">'
        f'<span style="position:absolute;left:50%;top:0;bottom:0;border-left:1px solid #8c959f">'
        "</span>"
        f'<span style="position:absolute;left:{x(lower):.1f}%;width:'
        f"{max(0.5, x(upper) - x(lower)):.1f}%;top:4px;height:12px;background:#2f5bd3;"
        'opacity:.35"></span>'
        f"{dot}</div>"
        '<div style="display:flex;justify-content:space-between;font-size:11px">'
        "<span>champion better</span><span>0</span><span>challenger better</span></div></div>"
    )


_DECISION_TEXT = {
    "challenger_better": "The challenger is clearly better",
    "champion_better": "The champion is clearly better",
    "continue": "Not clear yet",
}


def challenger_section(windows: Sequence[Mapping[str, Any]], live: Mapping[str, Any] | None) -> str:
    rows = []
    for w in windows:
        c = w.get("challenger")
        if not c:
            continue
        rows.append(
            [
                esc(_when(w.get("start"))),
                esc(_num(c.get("n"))),
                esc(_num(c.get("champion_loss"))),
                esc(_num(c.get("challenger_loss"))),
                esc(
                    f"{_num(c.get('estimate'))} [{_num(c.get('lower'))} to {_num(c.get('upper'))}]"
                ),
                esc(_DECISION_TEXT.get(str(c.get("decision")), str(c.get("decision")))),
            ]
        )
    if not rows and not live:
        return ""
    now = ""
    if live:
        promo = live.get("promotion") or {}
        mode = (
            "shadow (both models score every case)"
            if live.get("mode") == "shadow"
            else ("A/B (each case served by one model)")
        )
        now = (
            f"<p><strong>Now:</strong> {esc(_DECISION_TEXT.get(str(live.get('decision')), ''))} "
            f"after {esc(_num(live.get('n')))} labelled cases, {esc(mode)}; loss per case "
            f"({esc(live.get('metric'))}): champion {esc(_num(live.get('champion_loss')))}, "
            f"challenger {esc(_num(live.get('challenger_loss')))}.</p>"
            + _interval_bar(
                float(live.get("lower", -1)), float(live.get("upper", 1)), live.get("estimate")
            )
            + f"<p><strong>Promotion gate:</strong> "
            f"{'promote' if promo.get('promote') else 'keep the champion'} — "
            f"{esc('; '.join(promo.get('reasons') or []))}</p>"
        )
    explain = _explain(
        "A candidate model (the challenger) scores live traffic next to the current one (the "
        "champion). As true outcomes arrive, the difference in their error per case is "
        "tracked with an interval that stays valid however often it is looked at, so the "
        "comparison can stop as soon as the answer is clear.",
        "A model that won on a test set can lose on live traffic. Peeking at an ordinary "
        "interval after every batch raises false alarms; this one does not, so a clear "
        "result can be acted on at once and an unclear one is not mistaken for a win.",
        "Promote the challenger when its whole interval lies above zero and its audit passes; "
        "retire it when the interval lies below zero; otherwise keep collecting outcomes.",
    )
    table = _table(
        (
            "Window",
            "Labelled cases used",
            "Champion loss",
            "Challenger loss",
            "Difference [always-valid interval]",
            "Decision",
        ),
        rows,
    )
    return (
        f'<div class="ay-panel" id="challenger"><h2>Champion and challenger</h2>{explain}'
        f"{now}{table if rows else ''}</div>"
    )


def feedback_section(windows: Sequence[Mapping[str, Any]]) -> str:
    rows, finding = [], ""
    for w in windows:
        f = w.get("feedback_loop")
        if not f:
            continue
        if f.get("error"):
            rows.append([esc(_when(w.get("start"))), esc(f["error"]), "", "", "", ""])
            continue
        lvs = f.get("labelled_vs_scored") or {}
        est = f.get("unobserved_accuracy") or {}
        est_text = _num(est.get("estimate"))
        if est.get("low") is not None:
            est_text += f" [{_num(est.get('low'))} to {_num(est.get('high'))}]"
        psi = lvs.get("psi")
        verdict = (
            "Labels come from a selected group"
            if isinstance(psi, (int, float)) and psi > 0.25
            else "Labelled cases look like the traffic"
        )
        rows.append(
            [
                esc(_when(w.get("start"))),
                esc(_pct(f.get("observable_only_by_model"))),
                esc(_pct(f.get("never_observable"))),
                esc(_num(psi)),
                esc(est_text),
                esc(verdict),
            ]
        )
        finding = str(f.get("finding") or "")
    if not rows:
        return ""
    explain = _explain(
        "Whether the model's own decisions decide which outcomes are ever seen: for example, "
        "repayment is only observed for the loans it approves. It shows the share of cases "
        "seen only because the model approved them, the share never seen, how far the "
        "labelled cases have moved away from all scored cases, and (when a random slice is "
        "decided without the model) an estimate of how the model does on the cases it turns "
        "away.",
        "A model retrained on outcomes it chose learns less and less about the cases it "
        "rejects, and its measured accuracy describes the approved cases only. Errors "
        "against the people it declines stay invisible.",
        "Keep a small random exploration slice decided without the model, log the probability "
        "of each decision, and judge the model on the weighted estimate, not on the labels "
        "alone.",
    )
    table = _table(
        (
            "Window",
            "Seen only because the model approved",
            "Never seen",
            "Labelled vs scored shift (PSI)",
            "Accuracy on declined cases [interval]",
            "Verdict",
        ),
        rows,
    )
    last = f"<p><strong>Latest finding:</strong> {esc(finding)}</p>" if finding else ""
    return (
        f'<div class="ay-panel" id="feedback-loop"><h2>Feedback loop</h2>{explain}{table}'
        f"{last}</div>"
    )


def loop_sections(windows: Sequence[Mapping[str, Any]], live: Mapping[str, Any] | None) -> str:
    """The three sections, in order; empty for a model without these records."""
    return human_section(windows) + challenger_section(windows, live) + feedback_section(windows)
