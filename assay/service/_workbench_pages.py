"""The workbench pages (#18): upload, pick, run, read and decide, in a browser.

- ``/workbench/login`` — a form taking a ``write`` token; the session is the
  dashboard's kind (a random id in an HTTP-only, ``SameSite=Strict`` cookie,
  only its digest stored, 8 hours, ended by logout or by revoking the token),
  its cookie scoped to ``/workbench``. Every form is POSTed same-origin only
  (the ``Origin`` check of the dashboard) under that strict cookie.
- ``/workbench`` — upload one file (Assay splits it) or train and test files;
  the caller's audits.
- ``/workbench/drafts/{id}`` — the inferred schema (type, distinct values,
  missing share, examples) and the choices: target and task (suggested),
  sensitive columns and columns to ignore (suggestions shown, never ticked for
  the person), and the model: Assay's reference model, a ``.skops`` / ``.onnx``
  file, prediction columns, or none.
- ``/workbench/audits/{id}`` — progress (the check running and the time left,
  followed by one small same-origin script polling ``.../progress``: see
  ``_workbench_progress``), then the report (the same ``report.html``, in a frame) and the "what
  to do next" steps, each with a form to mark it *accepted risk*, *will fix* or
  *not applicable* with a comment and a name (recorded with the time).
- ``/workbench/history?model=NAME`` — a model's audits, newest first;
  ``/workbench/audits/{id}/compare/{other}`` — ``assay diff`` of the earlier audit
  against this one, as a page (see ``_workbench_history``).

No page loads anything from elsewhere or runs an inline script (the only script
is the progress page's, served from the workbench itself); every value from the
data is escaped.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import time
import urllib.parse
from pathlib import Path
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from assay.render._format import esc
from assay.service._auth import allows, create_session, digest, end_session, token_scope
from assay.service._dashboard import SECURITY_HEADERS
from assay.service._dashboard import _headers as dashboard_headers
from assay.service._throttle import client_key, throttle_for
from assay.service._workbench import (
    DECISIONS,
    FILES,
    MEDIA,
    UploadError,
    decide,
    discard,
    output_path,
    queue_audit,
    read_tables,
    save_upload,
    workbench,
)
from assay.service._workbench_history import (
    audits_of_model,
    compare,
    compare_body,
    history_body,
    model_of,
    previous_audit,
    scroll_region,
)
from assay.service._workbench_io import infer_schema, suggest
from assay.service._workbench_progress import SCRIPT, progress_view, typical_seconds

__all__ = ["COOKIE", "router"]

PREFIX = "/workbench"
COOKIE = "assay_workbench"
CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; "
    "img-src data:; form-action 'self'; frame-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
# The dashboard's headers, with a CSP that also lets the page frame its own report.
HEADERS = {**SECURITY_HEADERS, "Content-Security-Policy": CSP}
DRAFT_TTL_S = 24 * 3600
ACCEPT = ".csv,.tsv,.gz,.parquet,.xlsx"
_CSS = (
    ".wb-skip{position:absolute;left:-999px}.wb-skip:focus{left:8px;top:8px;background:#fff;"
    "padding:6px;z-index:9}"
    ".ay-dash a:focus-visible,.ay-dash button:focus-visible,.ay-dash input:focus-visible,"
    ".ay-dash select:focus-visible,.ay-dash textarea:focus-visible{outline:3px solid #1a4fd0;"
    "outline-offset:2px}"
    ".ay-dash fieldset{border:1px solid #d8dee4;border-radius:8px;margin:0 0 14px;"
    "padding:10px 14px}.ay-dash legend{font-weight:600}"
    ".ay-dash label{display:inline-block;margin:4px 12px 4px 0}"
    ".ay-dash select,.ay-dash textarea{font:inherit;padding:5px;border-radius:8px;"
    "border:1px solid #8c959f}.ay-dash textarea{width:100%;min-height:3em}"
    ".wb-sug{color:#0b6b2f;font-weight:600}.wb-frame{width:100%;height:900px;"
    "border:1px solid #d8dee4;border-radius:12px}"
    ".wb-step{border-top:1px solid #d8dee4;padding:10px 0}.wb-done{color:#0b6b2f}"
    ".ay-dash progress{width:100%;height:18px}"
    ".ay-dash main a{text-decoration:underline}"  # links told apart without colour
)

router = APIRouter(include_in_schema=False)


# -- responses -------------------------------------------------------------------


_R = TypeVar("_R", bound=Response)


def _headers(resp: _R) -> _R:
    return dashboard_headers(resp, HEADERS)


def _page(
    title: str, body: str, *, status: int = 200, nav: bool = True, script: bool = False
) -> HTMLResponse:
    from assay.render.html import stylesheet
    from assay.service._dashboard import _CSS as DASH_CSS

    top = (
        f'<nav class="ay-nav" aria-label="Workbench"><a class="ay-brand" href="{PREFIX}">'
        f'Assay workbench</a><a href="{PREFIX}">New audit</a>'
        f'<form method="post" action="{PREFIX}/logout"><button type="submit">Log out</button>'
        "</form></nav>"
        if nav
        else ""
    )
    js = f'<script src="{PREFIX}/static/progress.js" defer></script>' if script else ""
    html = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">{js}'
        f"<title>{esc(title)} · Assay workbench</title>"
        f"<style>{stylesheet()}{DASH_CSS}{_CSS}</style></head>"
        '<body class="ay-body"><a class="wb-skip" href="#main">Skip to the content</a>'
        f'<div class="assay-report ay-page ay-dash">{top}<main id="main">{body}</main></div>'
        "</body></html>\n"
    )
    return _headers(HTMLResponse(html, status_code=status))


def _redirect(url: str) -> Response:
    return _headers(RedirectResponse(url, status_code=303))


def _message(title: str, text: str, status: int) -> HTMLResponse:
    body = f'<div class="ay-panel"><h1>{esc(title)}</h1><p role="alert">{esc(text)}</p></div>'
    return _page(title, body, status=status)


def _same_origin(request: Request) -> bool:
    from assay.service._dashboard import _same_origin as same

    return same(request)


def _caller(request: Request) -> tuple[str, str] | None:
    """``(token scope, owner key)`` of a live workbench session whose token may still
    write; ``None`` otherwise."""
    session_id = request.cookies.get(COOKIE, "").strip()
    if not session_id:
        return None
    found = request.app.state.store.get_session(digest(session_id))
    if found is None or found.revoked or found.expires_at <= time.time():
        return None
    if found.token_scope is None or not allows(found.token_scope, "write"):
        return None
    return found.token_scope, found.token_id


def _login_url(request: Request) -> str:
    return f"{PREFIX}/login?" + urllib.parse.urlencode({"next": request.url.path})


def _safe_next(value: str | None) -> str:
    if value and value.startswith(PREFIX) and "//" not in value and "\\" not in value:
        return value
    return PREFIX


def _when(ts: float | None) -> str:
    if ts is None:
        return "—"
    return _dt.datetime.fromtimestamp(ts, _dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


# -- login -------------------------------------------------------------------------


def _login_form(message: str = "", next_url: str = PREFIX, status: int = 200) -> HTMLResponse:
    err = f'<p class="ay-err" role="alert">{esc(message)}</p>' if message else ""
    body = (
        '<div class="ay-panel ay-login"><h1>Assay workbench</h1>'
        "<p>Log in with a token that may write (<code>assay token create --scope write</code>)."
        f'</p>{err}<form method="post" action="{PREFIX}/login">'
        '<label for="token">Token</label>'
        '<input id="token" name="token" type="password" autocomplete="current-password" required>'
        f'<input type="hidden" name="next" value="{esc(_safe_next(next_url))}">'
        '<button type="submit">Log in</button></form></div>'
    )
    return _page("Log in", body, status=status, nav=False)


@router.get(PREFIX + "/login")
def login_page(request: Request) -> Response:
    return _login_form(next_url=request.query_params.get("next") or PREFIX)


@router.post(PREFIX + "/login")
async def login(request: Request) -> Response:
    if not _same_origin(request):
        return _login_form("This form must be sent from the workbench itself.", status=403)
    body = await request.body()
    fields = urllib.parse.parse_qs(body.decode("utf-8", "replace"), max_num_fields=8)
    token = (fields.get("token") or [""])[0].strip()
    next_url = _safe_next((fields.get("next") or [PREFIX])[0])
    gate, who = throttle_for(request.app, "login"), client_key(request)
    wait = gate.retry_after(who)
    if wait > 0:
        seconds = max(math.ceil(wait), 1)
        resp = _login_form(f"Too many failed logins: try again in {seconds} s.", status=429)
        resp.headers["Retry-After"] = str(seconds)
        return resp
    store = request.app.state.store
    scope = await run_in_threadpool(token_scope, store, token) if token else None
    if scope is None:
        gate.failure(who)
        return _login_form("That token is not valid.", next_url, status=401)
    gate.success(who)
    if not allows(scope, "write"):
        return _login_form(
            "This token may only read; running an audit needs a write token.", next_url, 403
        )
    session_id = await run_in_threadpool(create_session, store, token)
    redirect = _redirect(next_url)
    redirect.set_cookie(
        COOKIE,
        session_id or "",
        max_age=8 * 3600,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return redirect


@router.post(PREFIX + "/logout")
def logout(request: Request) -> Response:
    resp = _redirect(f"{PREFIX}/login")
    if _same_origin(request):
        end_session(request.app.state.store, request.cookies.get(COOKIE, "").strip())
        resp.delete_cookie(COOKIE, path=PREFIX, httponly=True, samesite="strict")
    return resp


# -- step 1: upload ----------------------------------------------------------------


def _file_input(name: str, label: str) -> str:
    return (
        f'<p><label for="{name}">{label}</label>'
        f'<input id="{name}" name="{name}" type="file" accept="{ACCEPT}"></p>'
    )


def _upload_form(request: Request, message: str = "") -> str:
    caps = workbench(request).caps
    err = f'<p class="ay-err" role="alert">{esc(message)}</p>' if message else ""
    return (
        '<div class="ay-panel"><h1>New audit</h1>'
        "<p>Step 1 of 3: your data, as CSV, Parquet or an Excel sheet (.xlsx, values only: "
        f"formulas are refused). At most {caps.max_upload_bytes / 2**20:,.0f} MiB, "
        f"{caps.max_rows:,} rows and {caps.max_columns:,} columns.</p>{err}"
        f'<form method="post" action="{PREFIX}/upload" enctype="multipart/form-data">'
        "<fieldset><legend>One file: Assay splits it into train (70%) and test (30%)</legend>"
        + _file_input("data", "Data file")
        + "</fieldset><fieldset><legend>Or: a train file and a test file</legend>"
        + _file_input("train", "Train file")
        + _file_input("test", "Test file")
        + '</fieldset><button type="submit">Upload and show the columns</button></form></div>'
    )


def _audit_list(request: Request, owner: str, scope: str) -> str:
    store = request.app.state.store
    jobs = store.list_audits(None if allows(scope, "admin") else owner, limit=20)
    if not jobs:
        return '<div class="ay-panel"><h2>Your audits</h2><p>None yet.</p></div>'
    rows = "".join(
        f'<tr><td><a href="{PREFIX}/audits/{esc(j.id)}">{esc(_when(j.created_at))}</a></td>'
        f'<td><a href="{esc(_history_url(model_of(j)))}">{esc(model_of(j))}</a></td>'
        f"<td>{esc(j.state)}</td><td><code>{esc(j.spec.get('target'))}</code></td>"
        f"<td>{esc(', '.join(f['name'] for f in j.files.values()))}</td></tr>"
        for j in jobs
    )
    return (
        '<div class="ay-panel"><h2>Your audits</h2>'
        + scroll_region("Your audits")
        + "<table><thead>"
        '<tr><th scope="col">Started</th><th scope="col">Model (its history)</th>'
        '<th scope="col">State</th><th scope="col">Target</th><th scope="col">Files</th>'
        f"</tr></thead><tbody>{rows}</tbody></table></div></div>"
    )


def _history_url(name: str) -> str:
    return f"{PREFIX}/history?" + urllib.parse.urlencode({"model": name})


@router.get(PREFIX)
def home(request: Request) -> Response:
    caller = _caller(request)
    if caller is None:
        return _redirect(_login_url(request))
    scope, owner = caller
    return _page("New audit", _upload_form(request) + _audit_list(request, owner, scope))


def _draft_path(request: Request, draft_id: str) -> Path | None:
    if not draft_id.isalnum() or len(draft_id) != 32:
        return None
    return workbench(request).config.root / "drafts" / f"{draft_id}.json"


def _expire_drafts(request: Request) -> None:
    wb = workbench(request)
    now = time.time()
    for p in (wb.config.root / "drafts").glob("*.json"):
        try:
            if now - p.stat().st_mtime > DRAFT_TTL_S:
                discard(wb, json.loads(p.read_text())["files"])
                p.unlink()
        except (OSError, ValueError, KeyError):
            continue


def make_draft(request: Request, owner: str, files: dict[str, dict[str, Any]]) -> str:
    """Read the uploaded tables (caps first) and keep them as a draft with their
    inferred schema and suggestions."""
    from assay.service._workbench_jobs import random_name

    wb = workbench(request)
    try:
        tables = read_tables(wb, files)
    except BaseException:
        discard(wb, files)
        raise
    main = tables["data"] if "data" in tables else tables["test"]  # read_tables has one
    draft_id = random_name()
    draft = {
        "owner": owner,
        "created_at": time.time(),
        "files": files,
        "rows": {role: df.height for role, df in tables.items()},
        "schema": infer_schema(main),
        "suggest": suggest(main),
    }
    (wb.config.root / "drafts" / f"{draft_id}.json").write_text(json.dumps(draft))
    return draft_id


@router.post(PREFIX + "/upload")
async def upload(request: Request) -> Response:
    from assay.service._app import ApiError
    from assay.service._workbench import refuse_large

    caller = _caller(request)
    if caller is None:
        return _redirect(_login_url(request))
    if not _same_origin(request):
        return _message("Refused", "This form must be sent from the workbench itself.", 403)
    wb = workbench(request)
    try:
        refuse_large(request, wb.caps)
    except ApiError as exc:
        return _page("New audit", _upload_form(request, str(exc.detail)), status=exc.status_code)
    form = await request.form(max_files=3, max_fields=2, max_part_size=4096)
    files: dict[str, dict[str, Any]] = {}
    try:
        for key, value in form.multi_items():
            wanted = key in ("data", "train", "test") and key not in files
            if wanted and isinstance(value, UploadFile) and value.filename:
                files[key] = await run_in_threadpool(save_upload, wb, value, key)
    finally:
        await form.close()
    await run_in_threadpool(_expire_drafts, request)
    try:
        draft_id = await run_in_threadpool(make_draft, request, caller[1], files)
    except UploadError as exc:
        return _page("New audit", _upload_form(request, str(exc)), status=exc.status)
    return _redirect(f"{PREFIX}/drafts/{draft_id}")


# -- step 2: choices -----------------------------------------------------------------


def _load_draft(request: Request, draft_id: str) -> tuple[dict[str, Any], str, str] | Response:
    caller = _caller(request)
    if caller is None:
        return _redirect(_login_url(request))
    path = _draft_path(request, draft_id)
    try:
        draft = json.loads(path.read_text()) if path is not None else None
    except (OSError, ValueError):
        draft = None
    if draft is None or draft.get("owner") != caller[1]:
        return _message("Not found", "This upload does not exist or has expired.", 404)
    return draft, caller[0], caller[1]


def _options(names: list[str], selected: str | None, suggested: str | None) -> str:
    out = []
    for n in names:
        mark = " (suggested)" if n == suggested else ""
        sel = " selected" if n == selected else ""
        out.append(f'<option value="{esc(n)}"{sel}>{esc(n)}{mark}</option>')
    return "".join(out)


def _checks(name: str, columns: list[str], suggested: list[str], legend: str) -> str:
    boxes = "".join(
        f'<label><input type="checkbox" name="{name}" value="{esc(c)}"> {esc(c)}'
        + (' <span class="wb-sug">(suggested)</span>' if c in suggested else "")
        + "</label>"
        for c in columns
    )
    return f"<fieldset><legend>{legend}</legend>{boxes}</fieldset>"


def _draft_page(draft_id: str, draft: dict[str, Any], message: str = "", status: int = 200):
    schema, sug = draft["schema"], draft["suggest"]
    cols = [c["name"] for c in schema]
    rows = "".join(
        f'<tr><th scope="row">{esc(c["name"])}</th><td>{esc(c["kind"])}</td>'
        f"<td>{c['distinct']:,}</td><td>{c['missing_share']:.1%}</td>"
        f"<td>{esc(', '.join(c['examples']))}</td></tr>"
        for c in schema
    )
    sizes = ", ".join(f"{role}: {n:,} rows" for role, n in draft["rows"].items())
    err = f'<p class="ay-err" role="alert">{esc(message)}</p>' if message else ""
    task_opts = "".join(
        f'<option value="{t}">{t}{" (suggested)" if t == sug["task"] else ""}</option>'
        for t in ("binary", "multiclass", "regression")
    )
    none_opt = '<option value="">(none)</option>'
    model = (
        "<fieldset><legend>The model</legend>"
        '<p><label><input type="radio" name="model_choice" value="reference" required> '
        "I have no model: fit Assay's reference model for me (gradient boosting with a "
        "fixed recipe, clearly labelled as Assay's in the report)</label></p>"
        '<p><label><input type="radio" name="model_choice" value="file"> Upload my model'
        '</label> <label for="model">Model file (.skops or .onnx)</label>'
        '<input id="model" name="model" type="file" accept=".skops,.onnx"></p>'
        '<p><label><input type="radio" name="model_choice" value="columns"> My predictions '
        'are columns in the data</label> <label for="prediction">Prediction column</label>'
        f'<select id="prediction" name="prediction">{none_opt}{_options(cols, None, None)}'
        '</select> <label for="score">Score column (probability)</label>'
        f'<select id="score" name="score">{none_opt}{_options(cols, None, None)}</select></p>'
        '<p><label><input type="radio" name="model_choice" value="none"> No model: check the '
        "data only</label></p></fieldset>"
    )
    body = (
        f'<div class="ay-panel"><h1>Choose what to audit</h1><p>Step 2 of 3. {esc(sizes)}. '
        "Suggestions are marked; nothing is used until you choose it.</p>"
        f"{err}"
        f'<form method="post" action="{PREFIX}/drafts/{draft_id}/run" '
        'enctype="multipart/form-data">'
        '<p><label for="target">Target (what the model predicts)</label>'
        f'<select id="target" name="target">{_options(cols, sug["target"], sug["target"])}'
        '</select> <label for="task">Task</label><select id="task" name="task">'
        f'<option value="">work it out from the target</option>{task_opts}</select></p>'
        + _checks(
            "sensitive",
            cols,
            sug["sensitive"],
            "Sensitive attributes (for the fairness checks; never assumed)",
        )
        + _checks("ignore", cols, sug["ignore"], "Columns to leave out (ids, row numbers)")
        + model
        + '<p><label for="name">Name of the model, to find its audits later (optional)</label>'
        '<input id="name" name="name" maxlength="200" autocomplete="off"></p>'
        '<button type="submit">Run the audit</button></form></div>'
        '<div class="ay-panel"><h2>The columns Assay found</h2>'
        + scroll_region("The columns Assay found")
        + '<table><thead><tr><th scope="col">Column</th><th scope="col">Type</th>'
        '<th scope="col">Distinct</th><th scope="col">Missing</th><th scope="col">Examples'
        f"</th></tr></thead><tbody>{rows}</tbody></table></div></div>"
    )
    return _page("Choose what to audit", body, status=status)


@router.get(PREFIX + "/drafts/{draft_id}")
def draft_page(request: Request, draft_id: str) -> Response:
    found = _load_draft(request, draft_id)
    if isinstance(found, Response):
        return found
    return _draft_page(draft_id, found[0])


@router.post(PREFIX + "/drafts/{draft_id}/run")
async def run_draft(request: Request, draft_id: str) -> Response:
    from assay.service._app import ApiError
    from assay.service._workbench import refuse_large

    found = _load_draft(request, draft_id)
    if isinstance(found, Response):
        return found
    draft, _, owner = found
    if not _same_origin(request):
        return _message("Refused", "This form must be sent from the workbench itself.", 403)
    wb = workbench(request)
    try:
        refuse_large(request, wb.caps)
    except ApiError as exc:
        return _draft_page(draft_id, draft, str(exc.detail), exc.status_code)
    form = await request.form(max_files=1, max_fields=2 * len(draft["schema"]) + 10)
    fields: dict[str, list[str]] = {}
    files = dict(draft["files"])
    try:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                if key == "model" and value.filename and form.get("model_choice") == "file":
                    files["model"] = await run_in_threadpool(save_upload, wb, value, "model")
            else:
                fields.setdefault(key, []).append(value)
    finally:
        await form.close()
    one = {k: v[0] for k, v in fields.items() if v and v[0]}
    choice = one.get("model_choice")
    spec: dict[str, Any] = {
        "target": one.get("target"),
        "task": one.get("task") or None,
        "sensitive": fields.get("sensitive", []),
        "ignore": fields.get("ignore", []),
    }
    if one.get("name", "").strip():
        spec["name"] = one["name"].strip()
    message = ""
    if choice == "reference":
        spec["model"] = "reference"
    elif choice == "columns":
        spec["prediction"] = one.get("prediction")
        spec["score"] = [one["score"]] if one.get("score") else None
        if not spec["prediction"] and not spec["score"]:
            message = "Choose the prediction column or the score column."
    elif choice == "file" and "model" not in files:
        message = "Choose the model file to upload."
    elif choice not in ("file", "none"):
        message = "Choose what to do about the model."
    if message:
        discard(wb, {"model": files["model"]} if "model" in files else {})
        return _draft_page(draft_id, draft, message, 422)
    keep = tuple(r for r in files if r != "model")
    try:
        audit_id = await run_in_threadpool(queue_audit, request, owner, files, spec, keep)
    except UploadError as exc:
        return _draft_page(draft_id, draft, str(exc), exc.status)
    path = _draft_path(request, draft_id)
    if path is not None:
        path.unlink(missing_ok=True)
    return _redirect(f"{PREFIX}/audits/{audit_id}")


# -- step 3: progress, report and decisions ---------------------------------------------


def _visible_owner(request: Request) -> str | None:
    """Whose audits this session sees: its token's (``None``: every one, for admin)."""
    scope, owner = _caller(request) or ("read", "")
    return None if allows(scope, "admin") else owner


def _job_or_page(request: Request, audit_id: str) -> tuple[Any, str, str] | Response:
    caller = _caller(request)
    if caller is None:
        return _redirect(_login_url(request))
    scope, owner = caller
    job = request.app.state.store.get_audit(audit_id) if len(audit_id) <= 64 else None
    if job is None or (job.owner != owner and not allows(scope, "admin")):
        return _message("Not found", f"No audit {audit_id!r}.", 404)
    return job, scope, owner


def _progress(request: Request, job: Any) -> str:
    view = progress_view(job, typical_seconds(request.app.state.store, _visible_owner(request)))
    if job.state == "queued":
        bar = '<progress id="wb-progress-bar" aria-label="audit progress"></progress>'
    else:
        bar = (
            f'<progress id="wb-progress-bar" max="{max(job.total, 1)}" value="{job.done}" '
            'aria-label="audit progress"></progress>'
        )
    here = f"{PREFIX}/audits/{esc(job.id)}"
    cancel = (
        f'<form method="post" action="{here}/cancel">'
        '<button type="submit">Cancel the audit</button></form>'
    )
    return (
        f'<div class="ay-panel" id="wb-progress" data-poll="{here}/progress">'
        f"<h1>Audit {esc(job.state)}</h1>"
        f'<p id="wb-progress-text" role="status" aria-live="polite">{esc(view["text"])}</p>'
        f"{bar}<p>This page follows the audit as it runs; you can leave and come back "
        f'(<a href="{here}">check again</a>).</p>{cancel}</div>'
    )


def _latest(decisions: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for d in decisions:
        out[d["check_id"]] = d
    return out


def _step_html(job_id: str, n: int, step: dict[str, Any], decided: dict[str, Any] | None) -> str:
    sid = f"step-{n}"
    done = ""
    if decided:
        comment = f": “{esc(decided['comment'])}”" if decided["comment"] else ""
        done = (
            f'<p class="wb-done" role="status">Marked <strong>'
            f"{esc(DECISIONS.get(decided['decision'], decided['decision']))}</strong> by "
            f"{esc(decided['who'])} on {esc(_when(decided['at']))}{comment}</p>"
        )
    radios = "".join(
        f'<label><input type="radio" name="decision" value="{k}" required'
        f"{' checked' if decided and decided['decision'] == k else ''}> {v}</label>"
        for k, v in DECISIONS.items()
    )
    todo = esc(step["recommendation"])
    return (
        f'<li class="wb-step" id="{sid}"><h3>{esc(step["title"])} '
        f'<span class="ay-pill">{esc(step["status"])}</span></h3>'
        f"<p>{esc(step['summary'])}</p>"
        + (f"<p><b>What to do:</b> {todo}</p>" if todo else "")
        + done
        + f'<form method="post" action="{PREFIX}/audits/{esc(job_id)}/decisions">'
        f'<input type="hidden" name="check_id" value="{esc(step["check_id"])}">'
        f'<input type="hidden" name="step" value="{n}">'
        f"<fieldset><legend>Your decision on “{esc(step['title'])}”</legend>{radios}</fieldset>"
        f'<p><label for="{sid}-comment">Comment</label>'
        f'<textarea id="{sid}-comment" name="comment" maxlength="2000"></textarea></p>'
        f'<p><label for="{sid}-who">Your name</label>'
        f'<input id="{sid}-who" name="who" required maxlength="200" autocomplete="name"> '
        '<button type="submit">Record the decision</button></p></form></li>'
    )


def _report_page(request: Request, job: Any, message: str = "", status: int = 200) -> Response:
    from assay.governance._plan import remediation_plan

    out = workbench(request).config.root / "audits" / job.id
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    plan = remediation_plan(report)
    latest = _latest(request.app.state.store.list_decisions(job.id))
    summary = report.get("summary") or {}
    counts = ", ".join(f"{summary[k]:,} {k}" for k in ("fail", "warn", "pass") if k in summary)
    wb = (report.get("extra") or {}).get("workbench") or {}
    base = f"{PREFIX}/audits/{esc(job.id)}/files"
    downloads = "".join(f'<li><a href="{base}/{n}">{esc(n)}</a></li>' for n in FILES)
    split = wb.get("split")
    split_text = (
        f" One file was split {esc(split['method'])} (seed {split['seed']}, "
        f"{split['train_rows']:,} train rows, {split['test_rows']:,} test rows)."
        if split
        else ""
    )
    err = f'<p class="ay-err" role="alert">{esc(message)}</p>' if message else ""
    before = previous_audit(request.app.state.store, job, _visible_owner(request))
    history = (
        f'<h2>History</h2><ul class="wb-history"><li>Model: <a href="'
        f'{esc(_history_url(model_of(job)))}">{esc(model_of(job))}</a> (all its audits)</li>'
        + (
            f'<li><a href="{PREFIX}/audits/{esc(job.id)}/compare/{esc(before.id)}">'
            f"Compare with the previous audit ({esc(_when(before.created_at))})</a></li>"
            if before is not None
            else "<li>No earlier finished audit of this model to compare with.</li>"
        )
        + "</ul>"
    )
    steps = "".join(
        _step_html(job.id, n, s, latest.get(s["check_id"])) for n, s in enumerate(plan, 1)
    )
    body = (
        f'<div class="ay-panel"><h1>Audit done</h1><p>{esc(counts)}. '
        f"Model: {esc(str(wb.get('model_source', '—')).rstrip('.'))}.{split_text} "
        f"It took {wb.get('seconds', 0):,.0f} s.</p>"
        f'<h2>Downloads</h2><ul class="wb-downloads">{downloads}</ul>{history}</div>'
        f'<section class="ay-panel" aria-labelledby="next-h"><h2 id="next-h">What to do next'
        f"</h2>{err}"
        + (f'<ol class="wb-steps">{steps}</ol>' if plan else "<p>Nothing to fix.</p>")
        + '</section><section class="ay-panel" aria-labelledby="report-h">'
        '<h2 id="report-h">The report</h2>'
        f'<iframe class="wb-frame" src="{base}/report.html" title="The audit report"></iframe>'
        "</section>"
    )
    return _page("Audit report", body, status=status)


@router.get(PREFIX + "/audits/{audit_id}")
def audit_page(request: Request, audit_id: str) -> Response:
    found = _job_or_page(request, audit_id)
    if isinstance(found, Response):
        return found
    job = found[0]
    if job.state in ("queued", "running"):
        return _page(f"Audit {job.state}", _progress(request, job), script=True)
    if job.state in ("failed", "cancelled"):
        body = (
            f'<div class="ay-panel"><h1>Audit {esc(job.state)}</h1>'
            f'<p class="ay-err" role="alert">{esc(job.reason or "")}</p>'
            f'<p><a href="{PREFIX}">Start a new audit</a></p></div>'
        )
        return _page(f"Audit {job.state}", body)
    return _report_page(request, job)


@router.get(PREFIX + "/audits/{audit_id}/progress")
def audit_progress(request: Request, audit_id: str) -> Response:
    """The progress page's poll: state, sentence, bar (JSON)."""
    from fastapi.responses import JSONResponse

    found = _job_or_page(request, audit_id)
    if isinstance(found, Response):
        return found
    store = request.app.state.store
    view = progress_view(found[0], typical_seconds(store, _visible_owner(request)))
    return _headers(JSONResponse(view, headers={"Cache-Control": "no-store"}))


@router.get(PREFIX + "/static/progress.js")
def progress_script() -> Response:
    resp = Response(SCRIPT, media_type="text/javascript; charset=utf-8")
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


@router.post(PREFIX + "/audits/{audit_id}/cancel")
def cancel(request: Request, audit_id: str) -> Response:
    found = _job_or_page(request, audit_id)
    if isinstance(found, Response):
        return found
    if not _same_origin(request):
        return _message("Refused", "This form must be sent from the workbench itself.", 403)
    request.app.state.store.cancel_audit(found[0].id)
    return _redirect(f"{PREFIX}/audits/{found[0].id}")


@router.post(PREFIX + "/audits/{audit_id}/decisions")
async def decision(request: Request, audit_id: str) -> Response:
    found = _job_or_page(request, audit_id)
    if isinstance(found, Response):
        return found
    job, _, owner = found
    if not _same_origin(request):
        return _message("Refused", "This form must be sent from the workbench itself.", 403)
    body = await request.body()
    if len(body) > 16 * 1024:
        return _message("Too large", "A decision is at most 16 KiB.", 413)
    fields = urllib.parse.parse_qs(body.decode("utf-8", "replace"), max_num_fields=10)
    one = {k: v[0] for k, v in fields.items()}
    try:
        await run_in_threadpool(
            decide,
            request,
            job,
            owner,
            one.get("check_id"),
            one.get("decision"),
            one.get("comment", ""),
            one.get("who"),
        )
    except UploadError as exc:
        return _report_page(request, job, str(exc), exc.status)
    step = one.get("step", "")
    anchor = f"#step-{step}" if step.isdigit() else ""
    return _redirect(f"{PREFIX}/audits/{job.id}{anchor}")


@router.get(PREFIX + "/audits/{audit_id}/files/{name}")
def audit_file(request: Request, audit_id: str, name: str) -> Response:
    found = _job_or_page(request, audit_id)
    if isinstance(found, Response):
        return found
    path = output_path(workbench(request), found[0], name)
    if path is None:
        return _message("Not found", f"This audit has no {name!r} (yet).", 404)
    if name == "report.html":  # shown in the workbench's frame: the report's own policy
        from assay.render.html import content_security_policy

        resp = FileResponse(path, media_type=MEDIA[".html"])
        resp.headers["Content-Security-Policy"] = (
            content_security_policy() + "; frame-ancestors 'self'"
        )
        resp.headers["X-Frame-Options"] = "SAMEORIGIN"
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Cache-Control"] = "no-store"
        return resp
    resp = FileResponse(path, media_type=MEDIA[path.suffix], filename=name)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "no-store"
    return resp


# -- history and comparison ------------------------------------------------------------


@router.get(PREFIX + "/history")
def history(request: Request) -> Response:
    caller = _caller(request)
    if caller is None:
        return _redirect(_login_url(request))
    name = (request.query_params.get("model") or "").strip()
    if not name or len(name) > 200:
        return _message("Not found", "Name the model: open its history from an audit.", 404)
    jobs = audits_of_model(request.app.state.store, _visible_owner(request), name)
    body = history_body(workbench(request).config.root, name, jobs, PREFIX)
    return _page("History of a model", body, status=200 if jobs else 404)


@router.get(PREFIX + "/audits/{audit_id}/compare/{other_id}")
def compare_page(request: Request, audit_id: str, other_id: str) -> Response:
    found = _job_or_page(request, audit_id)
    if isinstance(found, Response):
        return found
    other = _job_or_page(request, other_id)
    if isinstance(other, Response):
        return other
    job, previous = found[0], other[0]
    for j in (job, previous):
        if j.state != "done":
            text = f"The audit of {_when(j.created_at)} is {j.state}: compare finished audits."
            return _message("Not finished", text, 409)
    result = compare(workbench(request).config.root, job, previous)
    body = compare_body(result, job, previous, PREFIX, _history_url(model_of(job)))
    return _page("Compare with the previous audit", body)
