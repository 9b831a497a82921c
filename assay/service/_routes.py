"""The service's routers, one per resource: health, models, predictions and labels,
windows and alerts, tokens."""

from __future__ import annotations

import io
import json
import re
import time
from typing import Any

import polars as pl
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from assay.service._app import ApiError, require
from assay.service._auth import SCOPES, create_token
from assay.service._records import (
    MAX_FEATURES,
    BodyError,
    RecordsError,
    TooManyRows,
    body_records,
    frame_from_body,
    records_from_body,
    validate_labels,
    validate_predictions,
)
from assay.service._store import ModelRecord
from assay.service._windows import compute_windows, parse_size, reference_frame

health = APIRouter(tags=["health"])
models = APIRouter(tags=["models"])
records = APIRouter(tags=["records"])
windows = APIRouter(tags=["windows"])
tokens = APIRouter(tags=["tokens"])

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
"""A model name, matched whole (``fullmatch``: no trailing newline slips through)."""
_TABLE_BODY = {
    "text/csv": {"schema": {"type": "string"}},
    "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}},
    "application/vnd.apache.arrow.stream": {"schema": {"type": "string", "format": "binary"}},
}
_RECORD = {
    "type": "object",
    "required": ["id", "timestamp", "features"],
    "properties": {
        "id": {"type": ["string", "integer"]},
        "timestamp": {"type": ["string", "number"], "description": "ISO-8601 or epoch seconds"},
        "features": {"type": "object"},
        "prediction": {"type": ["string", "number", "boolean", "null"]},
        "score": {"type": ["number", "null"]},
    },
}
_LABEL = {
    "type": "object",
    "required": ["id", "label"],
    "properties": {"id": {"type": ["string", "integer"]}, "label": {}},
}


def _body_doc(item: dict[str, Any]) -> dict[str, Any]:
    records_schema = {
        "type": "object",
        "required": ["records"],
        "properties": {"records": {"type": "array", "items": item}},
    }
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": records_schema}, **_TABLE_BODY},
        }
    }


def _model_or_404(request: Request, name: str) -> ModelRecord:
    model = request.app.state.store.get_model(name)
    if model is None:
        raise ApiError(404, "not_found", f"no model named {name!r}; register it first")
    return model


def _model_json(store: Any, model: ModelRecord) -> dict[str, Any]:
    preds, labels = store.counts(model.name)
    return {**model.to_dict(), "predictions": preds, "labels": labels}


# -- health -------------------------------------------------------------------


@health.get("/healthz")
def healthz(request: Request) -> dict[str, Any]:
    """Liveness and the store's schema version (no token needed)."""
    store = request.app.state.store
    return {"status": "ok", "store": store.dialect, "schema_version": store.schema_version()}


@health.get("/readyz")
def readyz(request: Request) -> Any:
    """Ready when the store answers a query (503 otherwise; no token needed)."""
    from fastapi.responses import JSONResponse

    try:
        ok = bool(request.app.state.store.ping())
    except Exception as exc:  # the store is down: not ready, say why in one word
        return JSONResponse(
            {"status": "unavailable", "store": type(exc).__name__},
            status_code=503,
            headers={"Retry-After": "5"},
        )
    return {"status": "ready" if ok else "unavailable", "store": request.app.state.store.dialect}


@health.get("/metrics")
def metrics(request: Request) -> Any:
    """The service's metrics in the Prometheus text format: with a ``read`` token, or
    from an address in the operator's ``metrics_allow_networks``."""
    import ipaddress

    from fastapi.responses import Response

    from assay.service._app import check_token
    from assay.service._metrics import CONTENT_TYPE

    nets = request.app.state.settings.metrics_allow_networks
    host = request.client.host if request.client else ""
    try:
        ip = ipaddress.ip_address(host)
        open_to = any(ip.version == n.version and ip in n for n in nets)
    except ValueError:
        open_to = False
    if not open_to:
        check_token(request, "read")
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE)


# -- models -------------------------------------------------------------------


async def _json_body(request: Request) -> Any:
    """The request's JSON body, or 400 naming what is wrong with it."""
    try:
        return json.loads(await request.body())
    except ValueError as exc:
        raise ApiError(400, "bad_request", f"the body is not valid JSON: {exc}") from exc


def _too_many_rows(exc: TooManyRows, field: str = "records") -> ApiError:
    return ApiError(
        413,
        "too_many_rows",
        str(exc),
        [{"field": field, "message": f"at most {exc.limit} rows per request", "limit": exc.limit}],
    )


def _non_finite(ref: pl.DataFrame) -> None:
    """422 naming the first reference column that holds NaN or an infinite number."""
    for name, dtype in ref.schema.items():
        if not dtype.is_float():
            continue
        col = ref.get_column(name)
        if not col.drop_nulls().is_finite().all():
            message = (
                f"reference column {name!r} holds NaN or an infinite number; send null "
                "(or leave the cell empty) for a missing value"
            )
            raise ApiError(
                422, "invalid", message, [{"field": f"reference.{name}", "message": message}]
            )


def _register(store: Any, fields: dict[str, Any], ref: pl.DataFrame) -> dict[str, Any]:
    from assay.io.schema import infer_schema

    name = fields.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ApiError(
            422,
            "invalid",
            "name must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit",
            [{"field": "name", "message": "invalid model name"}],
        )
    if ref.height == 0:
        raise ApiError(422, "invalid", "the reference data has no rows", [{"field": "reference"}])
    if ref.width > MAX_FEATURES + 3:
        raise ApiError(
            422,
            "invalid",
            f"the reference data has {ref.width} columns; at most {MAX_FEATURES} features",
            [{"field": "reference", "message": "too many columns"}],
        )
    _non_finite(ref)
    cols = {k: fields.get(k) or None for k in ("target", "prediction", "score", "task")}
    for key in ("target", "prediction", "score"):
        if cols[key] is not None and cols[key] not in ref.columns:
            raise ApiError(
                422,
                "invalid",
                f"{key} column {cols[key]!r} is not in the reference data",
                [{"field": key, "message": "not a reference column"}],
            )
    schema = infer_schema(
        ref,
        target=cols["target"],
        task=cols["task"],
        prediction_columns=[c for c in (cols["prediction"], cols["score"]) if c],
        name="reference",
    )
    buf = io.BytesIO()
    ref.write_parquet(buf)
    model = ModelRecord(
        name=name,
        created_at=time.time(),
        task=schema.task,
        target=cols["target"],
        prediction=cols["prediction"],
        score=cols["score"],
        schema=schema.to_dict(),
        reference=buf.getvalue(),
    )
    if not store.create_model(model):
        raise ApiError(409, "conflict", f"a model named {name!r} already exists")
    return _model_json(store, model)


@models.post(
    "/models",
    status_code=201,
    dependencies=[require("write")],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["name", "reference"],
                        "properties": {
                            "name": {"type": "string"},
                            "target": {"type": "string"},
                            "prediction": {"type": "string"},
                            "score": {"type": "string"},
                            "task": {"enum": ["binary", "multiclass", "regression"]},
                            "reference": {"type": "array", "items": {"type": "object"}},
                        },
                    }
                },
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["name", "reference"],
                        "properties": {
                            "name": {"type": "string"},
                            "target": {"type": "string"},
                            "prediction": {"type": "string"},
                            "score": {"type": "string"},
                            "task": {"type": "string"},
                            "reference": {"type": "string", "format": "binary"},
                        },
                    }
                },
            },
        }
    },
)
async def register_model(request: Request) -> dict[str, Any]:
    """Register a model with its reference data: JSON rows, or a CSV/Parquet upload
    (multipart field ``reference``), plus ``target``, ``prediction``, ``score``, ``task``."""
    ct = request.headers.get("content-type", "").split(";")[0].strip().lower()
    max_rows = request.app.state.settings.max_rows_per_request
    if ct == "multipart/form-data":
        form = await request.form()
        upload = form.get("reference")
        if upload is None or isinstance(upload, str):
            raise ApiError(422, "invalid", "upload the reference data as the file 'reference'")
        body = await upload.read()
        kind = "text/csv" if (upload.filename or "").endswith(".csv") else "parquet"
        try:
            ref = frame_from_body(body, kind, max_rows=max_rows, max_columns=MAX_FEATURES + 3)
        except TooManyRows as exc:
            raise _too_many_rows(exc, "reference") from exc
        except BodyError as exc:
            raise ApiError(422, "invalid", str(exc), [{"field": "reference"}]) from exc
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
    elif ct == "application/json":
        fields = await _json_body(request)
        rows = fields.get("reference") if isinstance(fields, dict) else None
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ApiError(
                422, "invalid", "reference must be a list of row objects", [{"field": "reference"}]
            )
        if len(rows) > max_rows:
            raise _too_many_rows(TooManyRows(max_rows, len(rows)), "reference")
        try:
            ref = pl.DataFrame(rows, infer_schema_length=None)
        except Exception as exc:
            raise ApiError(422, "invalid", f"reference rows are not a table: {exc}") from exc
    else:
        raise ApiError(
            415, "unsupported_media_type", "send application/json or multipart/form-data"
        )
    return await run_in_threadpool(_register, request.app.state.store, fields, ref)


@models.get("/models", dependencies=[require("read")])
def list_models(request: Request) -> dict[str, Any]:
    """Every registered model with its stored counts."""
    store = request.app.state.store
    return {"models": [_model_json(store, m) for m in store.list_models()]}


@models.get("/models/{name}", dependencies=[require("read")])
def get_model(request: Request, name: str) -> dict[str, Any]:
    """One model: columns, task, and the numbers of ``predictions`` and ``labels`` stored."""
    return _model_json(request.app.state.store, _model_or_404(request, name))


# -- predictions and labels ---------------------------------------------------


def _ingest_predictions(
    store: Any, model: ModelRecord, body: bytes, ct: str, max_rows: int
) -> dict[str, Any]:
    ref = reference_frame(model)
    features = list(model.schema.get("features", []))
    types = model.schema.get("types", {})
    columns = set(ref.columns) - {model.target, model.prediction, model.score}
    try:
        recs = body_records(
            body,
            ct,
            fields=("id", "timestamp", "features", "prediction", "score"),
            max_rows=max_rows,
        )
        rows = validate_predictions(
            recs,
            columns=columns,
            features=features,
            numeric={c for c in features if types.get(c) == "numeric"},
        )
    except RecordsError as exc:
        raise ApiError(422, "invalid_records", str(exc), exc.errors) from exc
    except TooManyRows as exc:
        raise _too_many_rows(exc) from exc
    except BodyError as exc:
        code = 415 if "content type" in str(exc) else 400
        raise ApiError(code, _codes(code), str(exc)) from exc
    stored = store.insert_predictions(model.name, rows)
    return {"accepted": len(rows), "stored": stored, "duplicates": len(rows) - stored}


def _codes(status: int) -> str:
    return "unsupported_media_type" if status == 415 else "bad_request"


def _ingest_labels(
    store: Any, model: ModelRecord, body: bytes, ct: str, max_rows: int
) -> dict[str, Any]:
    try:
        recs = records_from_body(body, ct, fields=("id", "label"), max_rows=max_rows)
        rows = validate_labels(recs)
    except RecordsError as exc:
        raise ApiError(422, "invalid_records", str(exc), exc.errors) from exc
    except TooManyRows as exc:
        raise _too_many_rows(exc) from exc
    except BodyError as exc:
        code = 415 if "content type" in str(exc) else 400
        raise ApiError(code, _codes(code), str(exc)) from exc
    store.insert_labels(model.name, rows)
    return {"accepted": len(rows)}


@records.post(
    "/models/{name}/predictions",
    dependencies=[require("write")],
    openapi_extra=_body_doc(_RECORD),
)
async def log_predictions(request: Request, name: str) -> dict[str, Any]:
    """Store a batch of predictions (JSON records, CSV or Parquet). The batch is
    validated whole and committed before the reply; a known ``id`` is not stored twice."""
    model = await run_in_threadpool(_model_or_404, request, name)
    body = await request.body()
    ct = request.headers.get("content-type", "application/json")
    cap = request.app.state.settings.max_rows_per_request
    out = await run_in_threadpool(
        _ingest_predictions, request.app.state.store, model, body, ct, cap
    )
    request.app.state.metrics.ingest_rows.labels(model=model.name, kind="predictions").inc(
        out["stored"]
    )
    return out


@records.post(
    "/models/{name}/labels",
    dependencies=[require("write")],
    openapi_extra=_body_doc(_LABEL),
)
async def log_labels(request: Request, name: str) -> dict[str, Any]:
    """Store labels joined to predictions by ``id`` (they may arrive before or after
    them); a resent id replaces its label."""
    model = await run_in_threadpool(_model_or_404, request, name)
    body = await request.body()
    ct = request.headers.get("content-type", "application/json")
    cap = request.app.state.settings.max_rows_per_request
    out = await run_in_threadpool(_ingest_labels, request.app.state.store, model, body, ct, cap)
    request.app.state.metrics.ingest_rows.labels(model=model.name, kind="labels").inc(
        out["accepted"]
    )
    return out


# -- windows and alerts -------------------------------------------------------


def _scheduled_windows(
    store: Any, model: ModelRecord, size: str, limit: int, seed: int, grace: float
) -> tuple[list[dict[str, Any]], int]:
    """Stored results of the closed windows, then the windows after them computed now
    (``closed`` says which have closed; ``stored`` which results are stored).
    Returns the windows and how many closed ones wait for the scheduler."""
    from assay.monitoring.policy import _time
    from assay.service._windows import cut_row_windows, span, split_rows, window_item

    kind, n = parse_size(size)
    items = store.window_results(model.name, size, limit)
    for w in items:
        w.update(closed=True, stored=True)
    now = time.time()
    if kind == "time":
        since = _time(items[-1]["end"]) if items else None
        live = split_rows(store.load_predictions(model.name, since), kind, n)
        pending = sum(span(kind, n, w)[1] + grace <= now for w in live)
        for w in live[-limit:]:
            start, end = span(kind, n, w)
            item = window_item(model, w, start, end, seed, store)
            items.append({**item, "closed": end + grace <= now})
    else:
        # after the last stored row window: the filled ones not stored yet, then the
        # one still filling (late rows join stored windows: cut_row_windows)
        spans = store.row_window_spans(model.name, size)[-1:]
        since = spans[0][0] if spans else None
        _, full, filling = cut_row_windows(store.load_predictions(model.name, since), n, spans)
        pending = len(full)
        if filling:
            item = window_item(model, filling, *span(kind, n, filling), seed, store)
            items.append({**item, "closed": False})
    for w in items:
        w.setdefault("stored", False)
    return items[-limit:], pending


def _windows(store: Any, model: ModelRecord, size: str | None, limit: int, settings: Any) -> dict:
    from assay.service._scheduler import Scheduler

    sched = Scheduler(store, settings)
    policy, _ = sched.policy_of(model.name)
    scheduled = sched.window_of(policy)
    size = size or scheduled
    try:
        parse_size(size)
    except ValueError as exc:
        raise ApiError(422, "invalid", str(exc), [{"field": "size", "message": str(exc)}]) from exc
    if size == scheduled:
        grace = policy.grace_s
        items, pending = _scheduled_windows(store, model, size, limit, settings.seed, grace)
    else:
        items = compute_windows(store, model, size, limit=limit, seed=settings.seed)
        pending = 0
    by_start: dict[str, list[str]] = {}
    for a in store.list_alerts(model.name):
        by_start.setdefault(a["window_start"], []).append(a["kind"])
    for w in items:
        w["alerts"] = by_start.get(w["start"], [])
    return {
        "model": model.name,
        "size": size,
        "scheduled": size == scheduled,
        "scheduled_size": scheduled,
        "pending": pending,
        "windows": items,
    }


@windows.get("/models/{name}/windows", dependencies=[require("read")])
def get_windows(
    request: Request,
    name: str,
    size: str | None = Query(
        None,
        description="1h, 1d, 30m, ... or Nrows (e.g. 500rows); default: the size the "
        "model's policy is judged on (1d unless it names a window)",
    ),
    limit: int = Query(12, ge=1, le=200, description="the most recent windows to return"),
) -> dict[str, Any]:
    """Per window: rows, drift share and drifted columns (``drift.features``),
    prediction drift (``drift.prediction``), realized performance when labels are
    stored, estimated performance (CBPE) and the alerts raised. For the window size
    the model's policy names (``scheduled_size``), closed windows are the results the
    scheduler stored when they closed (``stored``), followed by the windows still
    open (``closed``: false); ``pending`` counts closed windows it has not stored
    yet. Any other size is computed on request. Reading evaluates no policy."""
    model = _model_or_404(request, name)
    settings = request.app.state.settings
    limit = min(limit, settings.max_windows)
    return _windows(request.app.state.store, model, size, limit, settings)


@windows.get("/models/{name}/alerts", dependencies=[require("read")])
def get_alerts(request: Request, name: str) -> dict[str, Any]:
    """The alerts stored for a model, oldest first, each with the delivery state of
    its actions (``deliveries``: action, status, attempts, error, delivered_at)."""
    model = _model_or_404(request, name)
    store = request.app.state.store
    alerts = store.list_alerts(model.name)
    by_alert: dict[str, list[dict[str, Any]]] = {}
    for d in store.list_actions(model.name):
        by_alert.setdefault(d.pop("alert_id"), []).append(d)
    for a in alerts:
        alert_id = (a.get("details") or {}).get("id")
        a["deliveries"] = by_alert.get(alert_id, []) if isinstance(alert_id, str) else []
    return {"model": model.name, "alerts": alerts}


# -- tokens -------------------------------------------------------------------


@tokens.post(
    "/tokens",
    status_code=201,
    dependencies=[require("admin")],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["scope"],
                        "properties": {
                            "scope": {"enum": list(SCOPES)},
                            "name": {"type": "string"},
                        },
                    }
                }
            },
        }
    },
)
async def new_token(request: Request) -> dict[str, Any]:
    """Create a token (admin only); the token is shown once, only its digest is kept."""
    doc = await _json_body(request)
    scope = doc.get("scope") if isinstance(doc, dict) else None
    if scope not in SCOPES:
        raise ApiError(422, "invalid", f"scope must be one of {', '.join(SCOPES)}")
    token = await run_in_threadpool(create_token, request.app.state.store, scope, doc.get("name"))
    return {"token": token, "scope": scope}


@tokens.post(
    "/tokens/revoke",
    dependencies=[require("admin")],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["token"],
                        "properties": {"token": {"type": "string", "maxLength": 512}},
                    }
                }
            },
        }
    },
)
async def revoke(request: Request) -> dict[str, Any]:
    """Revoke a token (admin only): it stops working at once, and so does every
    dashboard session made from it. 404 when it is not a stored token."""
    from assay.service._auth import revoke_token

    doc = await _json_body(request)
    token = doc.get("token") if isinstance(doc, dict) else None
    if not isinstance(token, str) or not token.strip() or len(token) > 512:
        raise ApiError(422, "invalid", "send the token to revoke as 'token'", [{"field": "token"}])
    if not await run_in_threadpool(revoke_token, request.app.state.store, token.strip()):
        raise ApiError(404, "not_found", "that is not a stored token")
    return {"revoked": True}
