"""Routes for reviewer decisions and a live challenger (#17).

See :mod:`assay.service._decisions`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from assay.service._app import ApiError, require
from assay.service._decisions import (
    ASSIGNMENTS,
    CHALLENGER_FIELDS,
    DECISION_FIELDS,
    OUTCOMES,
    _clean,
    challenger_sequence,
    counts,
    insert_challenger,
    insert_decisions,
    validate_challenger,
    validate_decisions,
)
from assay.service._records import BodyError, RecordsError, TooManyRows, records_from_body
from assay.service._routes import _body_doc, _model_or_404, _too_many_rows
from assay.service._store import ModelRecord

# -- routes ---------------------------------------------------------------------------

router = APIRouter(tags=["human loop"])
_DECISION = {
    "type": "object",
    "required": ["id"],
    "properties": {
        "id": {"type": ["string", "integer"]},
        "outcome": {"type": ["string", "null"], "enum": [*OUTCOMES, None]},
        "value": {"type": ["string", "number", "boolean", "null"]},
        "reviewer": {"type": ["string", "integer", "null"]},
        "seconds": {"type": ["number", "null"], "minimum": 0},
        "approved": {"type": ["boolean", "null"]},
        "model_approved": {"type": ["boolean", "null"]},
        "explore": {"type": ["boolean", "null"]},
        "propensity": {"type": ["number", "null"], "exclusiveMinimum": 0, "maximum": 1},
    },
}
_CHALLENGER = {
    "type": "object",
    "required": ["id", "timestamp"],
    "properties": {
        "id": {"type": ["string", "integer"]},
        "timestamp": {"type": ["string", "number"]},
        "prediction": {"type": ["string", "number", "boolean", "null"]},
        "score": {"type": ["number", "null"]},
        "assignment": {"type": "string", "enum": list(ASSIGNMENTS)},
    },
}


def _ingest(store: Any, model: ModelRecord, body: bytes, ct: str, cap: int, kind: str) -> dict:
    fields = DECISION_FIELDS if kind == "decisions" else CHALLENGER_FIELDS
    try:
        recs = records_from_body(body, ct, fields=fields, max_rows=cap)
        if kind == "decisions":
            n = insert_decisions(store, model.name, validate_decisions(recs))
            return {"accepted": n}
        rows = validate_challenger(recs)
        stored = insert_challenger(store, model.name, rows)
        return {"accepted": len(rows), "stored": stored, "duplicates": len(rows) - stored}
    except RecordsError as exc:
        raise ApiError(422, "invalid_records", str(exc), exc.errors) from exc
    except TooManyRows as exc:
        raise _too_many_rows(exc) from exc
    except BodyError as exc:
        code = 415 if "content type" in str(exc) else 400
        kind_ = "unsupported_media_type" if code == 415 else "bad_request"
        raise ApiError(code, kind_, str(exc)) from exc


async def _post(request: Request, name: str, kind: str) -> dict[str, Any]:
    model = await run_in_threadpool(_model_or_404, request, name)
    body = await request.body()
    ct = request.headers.get("content-type", "application/json")
    cap = request.app.state.settings.max_rows_per_request
    store = request.app.state.store
    return await run_in_threadpool(_ingest, store, model, body, ct, cap, kind)


@router.post(
    "/models/{name}/decisions", dependencies=[require("write")], openapi_extra=_body_doc(_DECISION)
)
async def log_decisions(request: Request, name: str) -> dict[str, Any]:
    """Store reviewer decisions (and feedback-loop decisions) joined to predictions by
    ``id``; committed before the reply; a resent id replaces its decision."""
    return await _post(request, name, "decisions")


@router.post(
    "/models/{name}/challenger/predictions",
    dependencies=[require("write")],
    openapi_extra=_body_doc(_CHALLENGER),
)
async def log_challenger(request: Request, name: str) -> dict[str, Any]:
    """Store a challenger's predictions (shadow: the champion's ids; A/B:
    ``assignment: challenger`` for the ids the split sent to it)."""
    return await _post(request, name, "challenger")


@router.get("/models/{name}/challenger", dependencies=[require("read")])
def get_challenger(request: Request, name: str) -> dict[str, Any]:
    """The running always-valid interval of ``loss(champion) - loss(challenger)``
    over every labelled pair so far (positive: the challenger is better), its
    decision and the promotion gate's answer."""
    model = _model_or_404(request, name)
    store = request.app.state.store
    seq = challenger_sequence(store, model)
    return {"model": model.name, **counts(store, model.name), "challenger": _clean(seq)}
