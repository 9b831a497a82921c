"""The dashboard: server-rendered pages over the same store and window computation
as the API.

- ``/dashboard/login`` — a form taking an API token (``read`` scope or more); a
  login opens a server-side session (:func:`create_session`) whose random id,
  never the token, is kept in an HTTP-only, ``SameSite=Strict`` cookie scoped to
  ``/dashboard`` (``Secure`` over https); ``/dashboard/logout`` deletes the
  session from the store and clears the cookie. Failed logins are throttled per
  client (:mod:`assay.service._throttle`: 429 with ``Retry-After``);
- ``/dashboard`` — the registered models with their counts and alerts;
- ``/dashboard/models/{name}?size=1d`` — the timeline: drift share, estimated
  vs realized accuracy and alerts per window (:func:`compute_windows`, as
  ``GET /api/v1/models/{name}/windows``);
- ``/dashboard/models/{name}/window?size=…&start=…`` — one window's drift
  checks with the per-column distribution charts of the HTML report.

Every page is static HTML: no script, inline styles and SVG only, served with a
Content-Security-Policy that forbids everything else. Every stored or requested
string is escaped. A request without a live session is redirected to the login
form; the session (and the token it came from) is checked against the store on
every request, and grants ``read`` only.
"""

from __future__ import annotations

import datetime as _dt
import math
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from assay.render._format import esc, fmt_number, fmt_percent
from assay.service._auth import SESSION_TTL_S, create_session, end_session, session_scope
from assay.service._store import ModelRecord
from assay.service._throttle import client_key, throttle_for
from assay.service._windows import (
    _current_frame,
    _split,
    compute_windows,
    parse_size,
    reference_frame,
)

__all__ = ["COOKIE", "CSP", "router", "timeline_charts"]

COOKIE = "assay_dashboard"
COOKIE_MAX_AGE = SESSION_TTL_S
PREFIX = "/dashboard"
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # no-referrer would make browsers send Origin: null
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
SIZES = ("1h", "1d", "500rows", "1000rows")
DASH = "—"

_CSS = (
    ".ay-nav{display:flex;align-items:center;gap:18px;margin-bottom:22px}"
    ".ay-nav .ay-brand{font-weight:700;font-size:18px;color:inherit;text-decoration:none}"
    ".ay-nav form{margin-left:auto}"
    ".ay-dash button,.ay-dash input{font:inherit;padding:6px 12px;border-radius:8px;"
    "border:1px solid #d8dee4}"
    ".ay-dash button{background:#2f5bd3;color:#fff;border-color:#2f5bd3;cursor:pointer}"
    ".ay-nav button{background:#fff;color:#1f2328;border-color:#d8dee4}"
    ".ay-dash .ay-panel{background:#fff;border:1px solid #d8dee4;border-radius:12px;"
    "padding:18px 20px;margin:0 0 18px}"
    ".ay-dash .ay-login{max-width:420px;margin:60px auto}"
    ".ay-dash .ay-login input{width:100%;margin:8px 0 14px}"
    ".ay-dash .ay-err{color:#c9252d;font-weight:600}"
    ".ay-dash .ay-sizes a{margin-right:10px}"
    ".ay-dash .ay-alert-row td{background:#ffe9e8}"
    ".ay-dash table{width:100%;border-collapse:collapse;font-size:14px}"
    ".ay-dash h1{margin-bottom:6px}.ay-dash h2{margin:6px 0 12px}"
)

router = APIRouter(include_in_schema=False)


# -- responses -----------------------------------------------------------------


_R = TypeVar("_R", bound=Response)


def _headers(resp: _R, headers: dict[str, str] = SECURITY_HEADERS) -> _R:
    for k, v in headers.items():
        resp.headers[k] = v
    return resp


def _page(title: str, body: str, *, status: int = 200, nav: bool = True) -> HTMLResponse:
    from assay.render.html import stylesheet

    top = (
        f'<nav class="ay-nav"><a class="ay-brand" href="{PREFIX}">Assay monitor</a>'
        f'<a href="{PREFIX}">Models</a>'
        f'<form method="post" action="{PREFIX}/logout"><button type="submit">Log out</button>'
        "</form></nav>"
        if nav
        else ""
    )
    html = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} · Assay monitor</title>"
        f"<style>{stylesheet()}{_CSS}</style></head>"
        f'<body class="ay-body"><div class="assay-report ay-page ay-dash">{top}{body}</div>'
        "</body></html>\n"
    )
    return _headers(HTMLResponse(html, status_code=status))


def _redirect(url: str) -> Response:
    return _headers(RedirectResponse(url, status_code=303))


def _not_found(message: str) -> HTMLResponse:
    return _page(
        "Not found",
        f'<div class="ay-panel"><h1>Not found</h1><p>{esc(message)}</p></div>',
        status=404,
    )


def _scope(request: Request) -> str | None:
    """``read`` when the cookie names a live session, else ``None``."""
    session_id = request.cookies.get(COOKIE, "").strip()
    return session_scope(request.app.state.store, session_id) if session_id else None


def _login_url(request: Request) -> str:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"{PREFIX}/login?" + urllib.parse.urlencode({"next": here})


def _same_origin(request: Request) -> bool:
    """A form POST must come from this site (browsers send ``Origin`` on POST)."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return urllib.parse.urlsplit(origin).netloc == host


def _safe_next(value: str | None) -> str:
    """Only a path inside the dashboard: never an open redirect."""
    if value and value.startswith(PREFIX) and "//" not in value and "\\" not in value:
        return value
    return PREFIX


# -- login ---------------------------------------------------------------------


def _login_form(message: str = "", next_url: str = PREFIX, status: int = 200) -> HTMLResponse:
    err = f'<p class="ay-err" role="alert">{esc(message)}</p>' if message else ""
    body = (
        '<div class="ay-panel ay-login"><h1>Assay monitor</h1>'
        "<p>Log in with an API token (<code>assay token create --scope read</code>).</p>"
        f'{err}<form method="post" action="{PREFIX}/login">'
        '<label for="token">Token</label>'
        '<input id="token" name="token" type="password" autocomplete="current-password" required>'
        f'<input type="hidden" name="next" value="{esc(_safe_next(next_url))}">'
        '<button type="submit">Log in</button></form></div>'
    )
    return _page("Log in", body, status=status, nav=False)


@router.get("/")
def root() -> Response:
    return _redirect(PREFIX)


@router.get(PREFIX + "/login")
def login_page(request: Request) -> Response:
    return _login_form(next_url=request.query_params.get("next") or PREFIX)


def _locked_out(wait: float, next_url: str) -> Response:
    """429: the login form saying when to try again, with ``Retry-After``."""
    seconds = max(math.ceil(wait), 1)
    when = f"{math.ceil(seconds / 60)} minute(s)" if seconds >= 60 else f"{seconds} seconds"
    resp = _login_form(
        f"Too many failed logins from this address: try again in {when}.", next_url, status=429
    )
    resp.headers["Retry-After"] = str(seconds)
    return resp


@router.post(PREFIX + "/login")
async def login(request: Request) -> Response:
    if not _same_origin(request):
        return _login_form("This form must be sent from the dashboard itself.", status=403)
    body = await request.body()
    fields = urllib.parse.parse_qs(body.decode("utf-8", "replace"), max_num_fields=8)
    token = (fields.get("token") or [""])[0].strip()
    next_url = _safe_next((fields.get("next") or [PREFIX])[0])
    gate, who = throttle_for(request.app, "login"), client_key(request)
    wait = gate.retry_after(who)
    if wait > 0:  # not even a correct token is checked during a lockout
        return _locked_out(wait, next_url)
    store = request.app.state.store
    session_id = await run_in_threadpool(create_session, store, token) if token else None
    if session_id is None:
        gate.failure(who)
        return _login_form("That token is not valid.", next_url, status=401)
    gate.success(who)
    resp = _redirect(next_url)
    resp.set_cookie(
        COOKIE,
        session_id,
        max_age=COOKIE_MAX_AGE,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return resp


@router.post(PREFIX + "/logout")
def logout(request: Request) -> Response:
    """Delete the session from the store (the old cookie is dead even if kept)."""
    resp = _redirect(f"{PREFIX}/login")
    if _same_origin(request):
        end_session(request.app.state.store, request.cookies.get(COOKIE, "").strip())
        resp.delete_cookie(COOKIE, path=PREFIX, httponly=True, samesite="strict")
    return resp


# -- models --------------------------------------------------------------------


def _when(ts: Any, short: bool = False) -> str:
    if isinstance(ts, (int, float)):
        t = _dt.datetime.fromtimestamp(ts, _dt.UTC)
    elif isinstance(ts, str) and ts:
        try:
            t = _dt.datetime.fromisoformat(ts)
        except ValueError:
            return ts
    else:
        return DASH
    if short:
        return t.strftime("%m-%d %H:%M")
    return t.strftime("%Y-%m-%d %H:%M") + (" UTC" if t.utcoffset() == _dt.timedelta(0) else "")


def _model_url(name: str, size: str | None = None) -> str:
    url = f"{PREFIX}/models/{urllib.parse.quote(name, safe='')}"
    return url + (f"?{urllib.parse.urlencode({'size': size})}" if size else "")


@router.get(PREFIX)
def models_page(request: Request) -> Response:
    if _scope(request) is None:
        return _redirect(_login_url(request))
    store = request.app.state.store
    rows = []
    for m in store.list_models():
        preds, labels = store.counts(m.name)
        n_alerts = len(store.list_alerts(m.name))
        alert_cell = f'<span class="ay-err">{n_alerts:,}</span>' if n_alerts else "0"
        rows.append(
            f'<tr><td><a href="{esc(_model_url(m.name))}">{esc(m.name)}</a></td>'
            f"<td>{esc(m.task or DASH)}</td><td>{preds:,}</td><td>{labels:,}</td>"
            f"<td>{alert_cell}</td><td>{esc(_when(m.created_at))}</td></tr>"
        )
    table = (
        "<table><thead><tr><th>Model</th><th>Task</th><th>Predictions</th><th>Labels</th>"
        "<th>Alerts</th><th>Registered</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
        if rows
        else "<p>No model is registered yet (<code>POST /api/v1/models</code>).</p>"
    )
    return _page("Models", f'<h1>Models</h1><div class="ay-panel">{table}</div>')


# -- timeline ------------------------------------------------------------------


def _window_alerts(alerts: Sequence[Mapping[str, Any]], start: str) -> list[Mapping[str, Any]]:
    return [a for a in alerts if a.get("window_start") == start]


def timeline_charts(
    windows: Sequence[Mapping[str, Any]], alerts: Sequence[Mapping[str, Any]] = ()
) -> list[dict[str, Any]]:
    """Line-chart specs of a model's windows: drift share, and estimated vs
    realized accuracy; windows with an alert are marked."""
    labels = [_when(w.get("start"), short=True) for w in windows]
    marks = [
        i
        for i, w in enumerate(windows)
        if w.get("alerts") or _window_alerts(alerts, str(w.get("start")))
    ]
    charts: list[dict[str, Any]] = [
        {
            "kind": "line",
            "title": "Drift share per window (share of feature columns that drifted)",
            "x_label": "window start",
            "labels": labels,
            "series": {"drift share": [w.get("drift_share") for w in windows]},
            "marks": marks,
        }
    ]
    est = [(w.get("estimated_performance") or {}).get("estimated_accuracy") for w in windows]
    real = [(w.get("realized_performance") or {}).get("accuracy") for w in windows]
    ref = [(w.get("estimated_performance") or {}).get("reference_accuracy") for w in windows]
    if any(v is not None for v in est + real):
        series = {"estimated (scores)": est, "realized (labels)": real}
        if any(v is not None for v in ref):
            series["reference"] = ref
        charts.append(
            {
                "kind": "line",
                "title": "Accuracy per window: estimated from scores vs realized from labels",
                "x_label": "window start",
                "labels": labels,
                "series": series,
                "marks": marks,
                "zero": False,
            }
        )
    return charts


def _num(v: Any, share: bool = False) -> str:
    if v is None or isinstance(v, bool) or not isinstance(v, (int, float)):
        return DASH
    return fmt_percent(v) if share else fmt_number(v)


def _window_row(name: str, size: str, w: Mapping[str, Any], alerts: list[Mapping[str, Any]]) -> str:
    est = w.get("estimated_performance") or {}
    real = w.get("realized_performance") or {}
    pred = w.get("prediction_drift") or {}
    cols = w.get("drifted_columns") or []
    cols_text = ", ".join(str(c) for c in cols[:6]) + (
        f" (+{len(cols) - 6})" if len(cols) > 6 else ""
    )
    kinds = sorted({str(a.get("kind")) for a in alerts} | {str(k) for k in w.get("alerts") or []})
    link = f"{PREFIX}/models/{urllib.parse.quote(name, safe='')}/window?" + urllib.parse.urlencode(
        {"size": size, "start": str(w.get("start"))}
    )
    est_text = _num(est.get("estimated_accuracy"))
    if est.get("estimated_accuracy_low") is not None:
        low, high = est.get("estimated_accuracy_low"), est.get("estimated_accuracy_high")
        est_text += f" [{_num(low)}–{_num(high)}]"
    klass = ' class="ay-alert-row"' if kinds else ""
    return (
        f"<tr{klass}><td>{esc(_when(w.get('start')))}</td><td>{_num(w.get('rows'))}</td>"
        f"<td>{esc(w.get('drift_status') or DASH)}</td><td>{_num(w.get('drift_share'), True)}</td>"
        f"<td>{esc(cols_text or DASH)}</td><td>{esc(pred.get('status') or DASH)}</td>"
        f"<td>{esc(est_text)}</td><td>{_num(real.get('accuracy'))}</td>"
        f"<td>{esc(', '.join(kinds) or DASH)}</td>"
        f'<td><a href="{esc(link)}">drift detail</a></td></tr>'
    )


def _model_or_page(request: Request, name: str) -> ModelRecord | Response:
    if _scope(request) is None:
        return _redirect(_login_url(request))
    model = request.app.state.store.get_model(name)
    if model is None:
        return _not_found(f"No model named {name!r}.")
    return model


@router.get(PREFIX + "/models/{name}")
def model_page(request: Request, name: str, size: str = "1d") -> Response:
    from assay.render.charts import render_chart

    model = _model_or_page(request, name)
    if isinstance(model, Response):
        return model
    store, settings = request.app.state.store, request.app.state.settings
    sizes = "".join(
        f'<a href="{esc(_model_url(name, s))}">{esc(s)}</a>' for s in dict.fromkeys((*SIZES, size))
    )
    size_form = (
        f'<p class="ay-sizes">Window size: {sizes}</p>'
        f'<form method="get" action="{esc(_model_url(name))}"><input name="size" '
        f'value="{esc(size)}" aria-label="window size"> <button type="submit">Show</button></form>'
    )
    try:
        parse_size(size)
    except ValueError as exc:
        return _page(
            name, f"<h1>{esc(name)}</h1>{size_form}<p class='ay-err'>{esc(exc)}</p>", status=422
        )
    windows = compute_windows(store, model, size, limit=settings.max_windows, seed=settings.seed)
    alerts = store.list_alerts(model.name)
    preds, labels = store.counts(model.name)
    charts = "".join(render_chart(c) for c in timeline_charts(windows, alerts))
    rows = "".join(
        _window_row(name, size, w, _window_alerts(alerts, str(w.get("start")))) for w in windows
    )
    table = (
        "<table><thead><tr><th>Window start</th><th>Rows</th><th>Drift</th><th>Drift share</th>"
        "<th>Drifted columns</th><th>Prediction drift</th><th>Estimated accuracy</th>"
        "<th>Realized accuracy</th><th>Alerts</th><th></th></tr></thead><tbody>"
        + rows
        + "</tbody></table>"
        if windows
        else "<p>No prediction is stored yet.</p>"
    )
    alert_items = "".join(
        f"<tr><td>{esc(_when(a.get('created_at')))}</td><td>{esc(a.get('kind'))}</td>"
        f"<td>{esc(_when(a.get('window_start')))}</td><td>{esc(a.get('message'))}</td></tr>"
        for a in reversed(alerts[-50:])
    )
    alert_html = (
        "<table><thead><tr><th>Raised</th><th>Kind</th><th>Window</th><th>Message</th></tr>"
        f"</thead><tbody>{alert_items}</tbody></table>"
        if alerts
        else "<p>No alert has been raised.</p>"
    )
    body = (
        f"<h1>{esc(name)}</h1><p>{esc(model.task or DASH)} · {preds:,} predictions · "
        f"{labels:,} labels · target <code>{esc(model.target or DASH)}</code></p>"
        f'<div class="ay-panel">{size_form}</div>'
        f'<div class="ay-panel"><h2>Timeline</h2><div class="ay-charts">{charts}</div></div>'
        f'<div class="ay-panel"><h2>Windows</h2><div class="ay-table-wrap">{table}</div></div>'
        f"{_loop_sections(store, model, windows)}"
        f'<div class="ay-panel"><h2>Alerts</h2>{alert_html}</div>'
    )
    return _page(name, body)


def _loop_sections(store: Any, model: ModelRecord, windows: list[dict[str, Any]]) -> str:
    """Human review, champion and challenger, feedback loop (#17), where the model has them."""
    from assay.service._dashboard_loop import loop_sections
    from assay.service._decisions import _clean, challenger_sequence

    return loop_sections(windows, _clean(challenger_sequence(store, model)))


# -- one window's drift --------------------------------------------------------


def window_rows(
    store: Any, model: ModelRecord, size: str, start: str
) -> list[tuple[Any, ...]] | None:
    """The stored rows of the window of ``size`` starting at ``start`` (as the
    timeline's ISO string), split as :func:`compute_windows` splits them."""
    kind, n = parse_size(size)
    for w in _split(store.load_predictions(model.name), kind, n):
        ts = (w[0][1] // n) * n if kind == "time" else w[0][1]
        if _dt.datetime.fromtimestamp(ts, _dt.UTC).isoformat() == start:
            return w
    return None


def window_drift(model: ModelRecord, rows: Sequence[tuple[Any, ...]], seed: int) -> Any:
    """The full drift audit of one window: the checks the windows endpoint
    summarises (``drift.features``, and ``drift.prediction`` when the model logs
    a prediction or score), with their details and charts."""
    from assay.drift import drift

    ref = reference_frame(model)
    cur = _current_frame(model, ref, list(rows))
    include = ["drift.features"]
    cols: dict[str, str] = {}
    if model.prediction and model.prediction in cur.columns:
        cols["prediction"] = model.prediction
    if model.score and model.score in cur.columns:
        cols["score"] = model.score
    if cols:
        include.append("drift.prediction")
    ref_side = ref.drop([model.target] if model.target in ref.columns else [])
    return drift(
        ref_side,
        cur,
        prediction=cols.get("prediction"),
        score=cols.get("score"),
        config={"include": include, "seed": seed},
    )


@router.get(PREFIX + "/models/{name}/window")
def window_page(request: Request, name: str, size: str = "1d", start: str = "") -> Response:
    from assay.core.result import CheckResult
    from assay.render._cards import render_card
    from assay.render.charts import render_chart

    model = _model_or_page(request, name)
    if isinstance(model, Response):
        return model
    try:
        parse_size(size)
    except ValueError as exc:
        return _not_found(str(exc))
    rows = window_rows(request.app.state.store, model, size, start)
    if rows is None:
        return _not_found(f"No {size} window of {name!r} starts at {start!r}.")
    result = window_drift(model, rows, request.app.state.settings.seed)
    cards, figures = [], []
    for i, check in enumerate(result.checks):
        d = check.to_dict()
        details = dict(d.get("details") or {})
        figures += [render_chart(c) for c in details.pop("charts", None) or []]
        cards.append(render_card(CheckResult.from_dict({**d, "details": details}), i))
    back = esc(_model_url(name, size))
    body = (
        f'<p><a href="{back}">← {esc(name)} timeline</a></p>'
        f"<h1>Drift in the window from {esc(_when(start))}</h1>"
        f"<p>{len(rows):,} predictions, window size {esc(size)}, compared with the reference "
        "data by the checks of <code>assay drift</code>.</p>"
        f'<div class="ay-panel"><h2>Per-column distributions</h2>'
        f'<div class="ay-charts">{"".join(figures) or "<p>No chart.</p>"}</div></div>'
        + "".join(cards)
    )
    return _page(f"{name} drift", body)
