"""The workbench API (#18): audit a model from uploaded files, no code.

- ``POST /api/v1/audits`` (``write``) — multipart: ``train`` and ``test`` files, or
  one ``data`` file that Assay splits (stratified, seeded, recorded); an optional
  ``model`` file (``.skops`` with allow-listed types, or ``.onnx``: the CLI's safe
  loaders, never a pickle, whatever the token); a JSON part ``spec`` (``target``,
  ``task``, ``sensitive``, ``ignore``, ``prediction``, ``score``, ``model:
  "reference"``, ``seed``, ``n_bootstrap``, ``test_share``). The request is
  refused from its ``Content-Length`` before the body is read when over the
  upload cap; tables are checked (format, rows, columns, formulas, an empty file,
  one column, a target with one value) and the model loaded before the answer:
  ``202`` with the audit's id, or a 4xx naming the field.
- ``GET /api/v1/audits`` — the caller's audits; ``GET /api/v1/audits/{id}`` — its
  state (``queued``, ``running`` with the current check and an estimate of the time
  left, ``done`` with links, ``failed`` with the reason, ``cancelled``);
  ``POST /api/v1/audits/{id}/cancel``; ``GET /api/v1/audits/{id}/{file}`` — the
  outputs; ``POST /api/v1/audits/{id}/decisions`` — a person's decision on a step.
- ``GET /api/v1/audits?model=NAME`` — the history of one model (``spec.name``, or
  the name Assay gave it: see ``_workbench_history``), newest first;
  ``GET /api/v1/audits/{id}/compare/{other}`` — ``assay diff`` of audit ``other``
  (the earlier) against ``id``, as JSON.

An audit is visible only to the token that created it, and to admin tokens; to
any other token it does not exist (404).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from assay.service._auth import allows, token_key
from assay.service._workbench_io import (
    MODEL_SUFFIXES,
    Caps,
    UploadError,
    check_target,
    read_upload,
    validate_spec,
)
from assay.service._workbench_jobs import (
    OUTPUTS,
    PACK,
    Runner,
    WorkbenchConfig,
    random_name,
    record_decisions,
    workbench_root,
)

__all__ = ["DECISIONS", "Workbench", "install", "router"]

router = APIRouter(tags=["workbench"])
FILES = (*OUTPUTS, PACK)
DECISIONS = {
    "accepted_risk": "accepted risk",
    "will_fix": "will fix",
    "not_applicable": "not applicable",
}
MEDIA = {
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".xml": "application/xml",
    ".zip": "application/zip",
}
ROLES = ("data", "train", "test", "model")
MAX_COMMENT = 2000


@dataclasses.dataclass
class Workbench:
    """The workbench's state in one app: its folder, caps and runner."""

    config: WorkbenchConfig
    caps: Caps
    runner: Runner


def install(app: Any, settings: Any, store: Any) -> Workbench:
    """Create the workbench of ``app`` (its folder, caps and runner) from the
    operator's ``workbench:`` settings: ``dir``, ``keep_uploads``, ``signing_key``
    (a private key file for the evidence packs), ``max_upload_mb``, ``max_rows``,
    ``max_columns``."""
    from assay.errors import ConfigError

    raw = getattr(settings, "workbench", None) or {}
    if not isinstance(raw, Mapping):
        raise ConfigError("workbench: must be a mapping of settings (dir, signing_key, ...)")
    options = dict(raw)
    known = {"dir", "keep_uploads", "signing_key", "max_upload_mb", "max_rows", "max_columns"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ConfigError(f"workbench: unknown setting(s) {', '.join(unknown)}")
    upload = int(options.get("max_upload_mb", 64) * 1024 * 1024)
    caps = Caps(
        max_upload_bytes=min(upload, int(settings.max_body_bytes)),
        max_rows=int(options.get("max_rows", Caps.max_rows)),
        max_columns=int(options.get("max_columns", Caps.max_columns)),
    )
    config = WorkbenchConfig(
        root=workbench_root(settings, store),
        keep_uploads=bool(options.get("keep_uploads", False)),
        signing_key=options.get("signing_key"),
    )
    wb = Workbench(config, caps, Runner(store, config))
    app.state.workbench = wb
    return wb


def workbench(request: Request) -> Workbench:
    return request.app.state.workbench


# -- callers ---------------------------------------------------------------------


def api_caller(request: Request, scope: str) -> tuple[str, str]:
    """``(scope, owner key)`` of the bearer token; 401/403/429 as every API route."""
    from assay.service._app import check_token

    have = check_token(request, scope)
    token = request.headers.get("authorization", "").partition(" ")[2].strip()
    return have, token_key(token)


def visible_job(request: Request, audit_id: str, scope: str, owner: str) -> Any:
    """The audit if this caller may see it; 404 otherwise (never 403: an audit of
    another token does not exist for this one)."""
    from assay.service._app import ApiError

    job = request.app.state.store.get_audit(audit_id) if len(audit_id) <= 64 else None
    if job is None or (job.owner != owner and not allows(scope, "admin")):
        raise ApiError(404, "not_found", f"no audit {audit_id!r}")
    return job


# -- submitting --------------------------------------------------------------------


def refuse_large(request: Request, caps: Caps) -> None:
    """413 from ``Content-Length`` before a byte of the body is read; 411 without it."""
    from assay.service._app import ApiError

    length = request.headers.get("content-length")
    if length is None or not length.isdigit():
        raise ApiError(411, "length_required", "send the upload with a Content-Length header")
    if int(length) > caps.max_upload_bytes:
        raise ApiError(
            413,
            "payload_too_large",
            f"the upload is {int(length):,} bytes; the limit is {caps.max_upload_bytes:,} "
            "(the operator's workbench max_upload_mb)",
        )


def save_upload(wb: Workbench, part: UploadFile, role: str) -> dict[str, Any]:
    """Copy an uploaded part into the workbench folder under a random name."""
    name = Path(part.filename or role).name[:200] or role
    stored = random_name()
    h, size = hashlib.sha256(), 0
    with open(wb.config.root / "uploads" / stored, "xb") as fh:
        part.file.seek(0)
        while chunk := part.file.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
            fh.write(chunk)
    return {
        "stored": stored,
        "name": name,
        "sha256": h.hexdigest(),
        "bytes": size,
        "caps": dataclasses.asdict(wb.caps),
    }


def discard(wb: Workbench, files: dict[str, dict[str, Any]]) -> None:
    for f in files.values():
        with contextlib.suppress(OSError):
            (wb.config.root / "uploads" / f["stored"]).unlink()


def read_tables(wb: Workbench, files: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The tables of the uploaded files (each under the caps); 422 for a missing or
    extra file."""
    if "data" in files and ("train" in files or "test" in files):
        raise UploadError("data", "send one data file, or train and test files, not both")
    if "data" not in files and "test" not in files:
        raise UploadError("data", "send a data file (Assay splits it) or a test file")
    return {
        role: read_upload(wb.config.root / "uploads" / f["stored"], f["name"], role, wb.caps)
        for role, f in files.items()
        if role != "model"
    }


def check_inputs(wb: Workbench, files: dict[str, dict[str, Any]], raw_spec: Any) -> dict[str, Any]:
    """Validate everything an audit needs before it is queued; returns the spec."""
    tables = read_tables(wb, files)
    main = tables["data"] if "data" in tables else tables["test"]  # read_tables has one
    spec = validate_spec(raw_spec, list(main.columns), have_model_file="model" in files)
    for role, df in tables.items():
        if spec["target"] not in df.columns:
            raise UploadError(role, f"has no column {spec['target']!r} (the target)")
        check_target(df, spec, role)
    if spec.get("model") == "reference" and "data" not in tables and "train" not in tables:
        raise UploadError("train", "the reference model is fitted on training data: send it")
    if "model" in files:
        f = files["model"]
        suffix = Path(f["name"]).suffix.lower()
        if suffix not in MODEL_SUFFIXES:
            raise UploadError(
                "model",
                f"{f['name']!r}: the workbench loads .skops or .onnx models only (never a "
                "pickle); save your model with skops or convert it to ONNX",
            )
        from assay.errors import AssayError
        from assay.io.models import load_model

        path = wb.config.root / "uploads" / f["stored"]
        named = path.with_name(path.name + suffix)  # the loaders choose by the ending
        path.rename(named)
        f["stored"] = named.name
        try:
            load_model(named, trust_model=False)
        except AssayError as exc:
            raise UploadError("model", str(exc).replace(str(named), repr(f["name"]))) from None
    return spec


def queue_audit(
    request: Request,
    owner: str,
    files: dict[str, dict[str, Any]],
    raw_spec: Any,
    keep_on_error: tuple[str, ...] = (),
) -> str:
    """Check the inputs and queue the audit (the caller runs this in a thread). On a
    bad input the uploaded files are deleted, except the roles in ``keep_on_error``."""
    wb = workbench(request)
    try:
        spec = check_inputs(wb, files, raw_spec)
    except BaseException:
        discard(wb, {r: f for r, f in files.items() if r not in keep_on_error})
        raise
    from assay.service._workbench_history import model_name

    spec["name"] = model_name(spec, files)
    audit_id = secrets.token_urlsafe(16)
    request.app.state.store.add_audit(audit_id, owner, spec, files)
    wb.runner.wake()
    return audit_id


def _api_error(exc: UploadError) -> Any:
    from assay.service._app import envelope

    code = "payload_too_large" if exc.status == 413 else "invalid"
    return envelope(exc.status, code, str(exc), {"field": exc.field})


@router.post("/audits", status_code=202)
async def create_audit(request: Request) -> Any:
    """Start an audit from uploaded files (see the module docstring)."""
    from assay.service._app import ApiError

    _, owner = api_caller(request, "write")
    wb = workbench(request)
    refuse_large(request, wb.caps)
    form = await request.form(max_files=4, max_fields=2, max_part_size=64 * 1024)
    files: dict[str, dict[str, Any]] = {}
    raw_spec: Any = None
    try:
        for key, value in form.multi_items():
            if key == "spec" and isinstance(value, str):
                try:
                    raw_spec = json.loads(value)
                except ValueError:
                    raise ApiError(
                        422, "invalid", "spec: not valid JSON", {"field": "spec"}
                    ) from None
            elif key in ROLES and isinstance(value, UploadFile) and key not in files:
                files[key] = await run_in_threadpool(save_upload, wb, value, key)
            else:
                raise ApiError(
                    422,
                    "invalid",
                    f"unexpected form part {key!r}; send data (or train and test), model and spec",
                    {"field": key},
                )
        if raw_spec is None:
            raise ApiError(422, "invalid", "spec: the JSON part 'spec' is missing")
    except BaseException:
        discard(wb, files)
        raise
    finally:
        await form.close()
    try:
        audit_id = await run_in_threadpool(queue_audit, request, owner, files, raw_spec)
    except UploadError as exc:
        return _api_error(exc)
    location = f"/api/v1/audits/{audit_id}"
    body = {"id": audit_id, "state": "queued", "links": {"self": location}}
    return JSONResponse(body, status_code=202, headers={"Location": location})


def job_view(job: Any, base: str, typical: float | None = None) -> dict[str, Any]:
    """The JSON a caller sees of an audit (``typical``: the seconds an audit usually
    takes, for the time left before the first check ends)."""
    from assay.service._workbench_history import model_of
    from assay.service._workbench_progress import eta_seconds

    now = time.time()
    view: dict[str, Any] = {
        "id": job.id,
        "model": model_of(job),
        "state": job.state,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "spec": job.spec,
        "files": {r: {"name": f["name"], "sha256": f["sha256"]} for r, f in job.files.items()},
    }
    if job.state == "running":
        elapsed = now - (job.started_at or now)
        eta = eta_seconds(job, typical, now)
        eta = None if eta is None else round(eta, 1)
        view["progress"] = {
            "current_check": job.current_check,
            "done": job.done,
            "total": job.total,
            "elapsed_s": round(elapsed, 1),
            "eta_s": eta,
        }
        view["cancel_requested"] = job.cancel_requested
    if job.state in ("failed", "cancelled"):
        view["reason"] = job.reason
    if job.state == "done":
        view["links"] = {name: f"{base}/{job.id}/{name}" for name in FILES}
    return view


@router.get("/audits")
def list_audits(request: Request, model: str | None = None) -> Any:
    """The caller's audits, newest first; with ``model``, that model's history."""
    from assay.service._workbench_history import audits_of_model

    scope, owner = api_caller(request, "read")
    store = request.app.state.store
    who = None if allows(scope, "admin") else owner
    jobs = store.list_audits(who) if model is None else audits_of_model(store, who, model)
    return {"audits": [job_view(j, "/api/v1/audits") for j in jobs]}


@router.get("/audits/{audit_id}")
def get_audit(request: Request, audit_id: str) -> Any:
    from assay.service._workbench_history import previous_audit
    from assay.service._workbench_progress import typical_seconds

    scope, owner = api_caller(request, "read")
    job = visible_job(request, audit_id, scope, owner)
    who = None if allows(scope, "admin") else owner
    typical = typical_seconds(request.app.state.store, who) if job.state == "running" else None
    view = job_view(job, "/api/v1/audits", typical)
    view["decisions"] = request.app.state.store.list_decisions(job.id)
    if job.state == "done":
        store = request.app.state.store
        before = previous_audit(store, job, who)
        if before is not None:
            view["previous"] = before.id
            view["links"]["compare_previous"] = f"/api/v1/audits/{job.id}/compare/{before.id}"
    return view


@router.get("/audits/{audit_id}/compare/{other_id}")
def compare_audits(request: Request, audit_id: str, other_id: str) -> Any:
    """``assay diff`` of audit ``other_id`` (the earlier) against ``audit_id``: status
    changes, metrics beyond their intervals, inputs that differ. Both must be visible
    to the caller (404 otherwise) and finished (409 otherwise)."""
    from assay.service._app import ApiError
    from assay.service._workbench_history import compare

    scope, owner = api_caller(request, "read")
    job = visible_job(request, audit_id, scope, owner)
    other = visible_job(request, other_id, scope, owner)
    for j in (job, other):
        if j.state != "done":
            raise ApiError(409, "conflict", f"audit {j.id!r} is {j.state}: compare finished audits")
    return compare(workbench(request).config.root, job, other)


@router.post("/audits/{audit_id}/cancel", status_code=202)
def cancel_audit(request: Request, audit_id: str) -> Any:
    scope, owner = api_caller(request, "write")
    job = visible_job(request, audit_id, scope, owner)
    state = request.app.state.store.cancel_audit(job.id)
    return {"id": job.id, "state": state}


def output_path(wb: Workbench, job: Any, name: str) -> Path | None:
    if name not in FILES or job.state != "done":
        return None
    path = wb.config.root / "audits" / job.id / name
    return path if path.is_file() else None


@router.get("/audits/{audit_id}/{name}")
def get_output(request: Request, audit_id: str, name: str) -> Any:
    from assay.service._app import ApiError

    scope, owner = api_caller(request, "read")
    job = visible_job(request, audit_id, scope, owner)
    path = output_path(workbench(request), job, name)
    if path is None:
        raise ApiError(404, "not_found", f"audit {audit_id!r} has no {name!r} (yet)")
    return FileResponse(path, media_type=MEDIA[path.suffix], filename=name)


def decide(
    request: Request, job: Any, token_id: str, check_id: Any, decision: Any, comment: Any, who: Any
) -> dict[str, Any]:
    """Record a decision on one next step; :class:`UploadError` for a bad field."""
    import json as _json

    from assay.governance._plan import remediation_plan

    if decision not in DECISIONS:
        raise UploadError("decision", f"must be one of {', '.join(DECISIONS)}")
    if not isinstance(who, str) or not who.strip() or len(who) > 200:
        raise UploadError("who", "give the name of the person deciding (at most 200 characters)")
    comment = comment if isinstance(comment, str) else ""
    if len(comment) > MAX_COMMENT:
        raise UploadError("comment", f"at most {MAX_COMMENT:,} characters")
    wb = workbench(request)
    out = wb.config.root / "audits" / job.id
    if job.state != "done":
        raise UploadError("audit", "decisions are recorded on a finished audit")
    report = _json.loads((out / "report.json").read_text(encoding="utf-8"))
    steps = {s["check_id"] for s in remediation_plan(report)}
    if check_id not in steps:
        raise UploadError("check_id", f"{check_id!r} is not one of this audit's next steps")
    store = request.app.state.store
    at = store.add_decision(job.id, check_id, decision, comment.strip(), who.strip(), token_id)
    record_decisions(out, store.list_decisions(job.id), wb.config.signing_key)
    return {"check_id": check_id, "decision": decision, "who": who.strip(), "at": at}


@router.post("/audits/{audit_id}/decisions", status_code=201)
async def add_decision(request: Request, audit_id: str) -> Any:
    from assay.service._app import ApiError

    scope, owner = api_caller(request, "write")
    job = visible_job(request, audit_id, scope, owner)
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(422, "invalid", "send a JSON object") from None
    if not isinstance(body, dict):
        raise ApiError(422, "invalid", "send a JSON object")
    try:
        return await run_in_threadpool(
            decide,
            request,
            job,
            owner,
            body.get("check_id"),
            body.get("decision"),
            body.get("comment"),
            body.get("who"),
        )
    except UploadError as exc:
        return _api_error(exc)
