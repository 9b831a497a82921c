"""Routes for trigger policies and champion / challenger promotion."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from assay.service._app import ApiError, require
from assay.service._auth import allows
from assay.service._routes import _model_or_404
from assay.service._store import ModelRecord

policies = APIRouter(tags=["policies"])
promotion = APIRouter(tags=["promotion"])

MODEL_SUFFIXES = (".skops", ".onnx")
DEFAULT_PROMOTE_WINDOW = "1d"


def _policy_error(exc: Exception) -> ApiError:
    msg = str(exc)
    field = msg.split(":", 1)[0] if ":" in msg else "policy"
    return ApiError(422, "invalid", msg, [{"field": field, "message": msg}])


def _put_policy(
    store: Any, model: ModelRecord, body: bytes, ct: str, scope: str, settings: Any
) -> dict[str, Any]:
    import yaml

    from assay.monitoring.policy import PolicyError
    from assay.service._policies import (
        POLICY_MAX_BYTES,
        destinations,
        load_stored,
        parse_body,
        redact,
        validate,
    )

    if len(body) > POLICY_MAX_BYTES:
        raise ApiError(413, "payload_too_large", f"a policy is at most {POLICY_MAX_BYTES} bytes")
    try:
        data = parse_body(body, ct)
        validate(data, settings.webhook_allow_networks)
    except PolicyError as exc:
        raise _policy_error(exc) from exc
    old, _, stored = load_stored(store, model.name)
    added = destinations(data) - (destinations(old) if stored else set())
    if added and not allows(scope, "admin"):
        raise ApiError(
            403,
            "forbidden",
            "adding or changing a webhook destination needs an admin token; a write token "
            "may change triggers and keep the destinations the policy already has",
            [{"field": "actions.webhook", "message": ", ".join(sorted(added))[:500]}],
        )
    store.put_policy(model.name, yaml.safe_dump(data, sort_keys=False))
    return {"model": model.name, "policy": redact(data), "state": {}}


_POLICY_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/yaml": {"schema": {"type": "string"}},
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["triggers"],
                    "properties": {
                        "name": {"type": "string"},
                        "triggers": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["metric", "value"],
                                "properties": {
                                    "metric": {"type": "string"},
                                    "op": {"enum": [">", ">=", "<", "<="]},
                                    "value": {"type": "number"},
                                    "consecutive": {"type": "integer", "minimum": 1},
                                    "name": {"type": "string"},
                                },
                            },
                        },
                        "cooldown": {"type": ["integer", "string"]},
                        "actions": {"type": "object"},
                    },
                }
            },
        },
    }
}


@policies.put("/models/{name}/policy", openapi_extra=_POLICY_BODY)
async def put_policy(request: Request, name: str, scope: str = require("write")) -> dict[str, Any]:
    """Set the model's trigger policy (YAML or JSON; see ``assay.monitoring.policy``).
    Metrics it may name: ``drift_share``, ``drifted_columns``, ``drift_failed``,
    ``prediction_drift_psi``, ``estimated_<m>``, ``estimated_<m>_drop``,
    ``realized_<m>``, ``realized_accuracy_drop``, ``rows``. Replacing a policy
    restarts its state. Actions may be webhooks only (commands are set in the
    server's configuration file); a webhook destination the stored policy does not
    already name needs an ``admin`` token, and must be a public address."""
    model = await run_in_threadpool(_model_or_404, request, name)
    body = await request.body()
    ct = request.headers.get("content-type", "application/yaml")
    return await run_in_threadpool(
        _put_policy,
        request.app.state.store,
        model,
        body,
        ct,
        scope,
        request.app.state.settings,
    )


@policies.get("/models/{name}/policy", dependencies=[require("read")])
def get_policy(request: Request, name: str) -> dict[str, Any]:
    """The model's policy (secrets shown as ``***``), the window size it is judged on
    with the scheduler's evaluation state there (``state``), and the state of each
    queued action."""
    from assay.service._policies import load_stored, redact
    from assay.service._scheduler import Scheduler

    model = _model_or_404(request, name)
    store = request.app.state.store
    data, _, stored = load_stored(store, model.name)
    sched = Scheduler(store, request.app.state.settings)
    size = sched.window_of(sched.policy_of(model.name)[0])
    return {
        "model": model.name,
        "policy": redact(data),
        "default": not stored,
        "window": size,
        "state": {size: store.schedule_state(model.name, size) or {}},
        "actions": store.list_actions(model.name),
    }


# -- champion / challenger ------------------------------------------------------


def labeled_window(store: Any, model: ModelRecord, size: str) -> tuple[Any, dict[str, Any]]:
    """The most recent window of ``size`` with labels: its labeled rows as a frame of
    features plus the target, and ``{start, end, rows}``."""
    import polars as pl

    from assay.service._windows import _current_frame, _iso, _split, parse_size, reference_frame

    kind, n = parse_size(size)
    windows = _split(store.load_predictions(model.name), kind, n)
    for w in reversed(windows):
        rows = [r for r in w if r[5] is not None]
        if rows:
            break
    else:
        raise ApiError(
            409, "conflict", f"model {model.name!r} has no labeled window of size {size} yet"
        )
    ref = reference_frame(model)
    cur = _current_frame(model, ref, rows)
    cur = cur.drop([c for c in (model.prediction, model.score) if c and c in cur.columns])
    assert model.target is not None  # callers refuse a model registered without one
    target = pl.Series(model.target, [json.loads(r[5]) for r in rows], strict=False)
    cur = cur.with_columns(target.cast(ref.schema[model.target], strict=False))
    info = {"start": _iso(rows[0][1]), "end": _iso(rows[-1][1]), "rows": len(rows)}
    return cur, info


def _promote(
    store: Any,
    model: ModelRecord,
    filename: str,
    blob: bytes,
    size: str,
    metric: str | None,
    config: dict[str, Any] | None = None,
) -> dict[str, Any]:
    import warnings

    import assay
    from assay.errors import AssayError
    from assay.io.models import load_model
    from assay.monitoring.promote import Decision, decide_promotion

    if not model.target:
        raise ApiError(422, "invalid", "the model was registered without a target column")
    try:
        window, info = labeled_window(store, model, size)
    except ValueError as exc:
        raise ApiError(422, "invalid", str(exc), [{"field": "size"}]) from exc
    suffix = Path(filename).suffix.lower()
    with tempfile.TemporaryDirectory(prefix="assay-promote-") as tmp:
        cand_path = Path(tmp) / f"candidate{suffix}"
        cand_path.write_bytes(blob)
        champ = store.champion(model.name)
        try:
            candidate = load_model(cand_path, trust_model=False)
            champion = None
            if champ is not None:
                champ_path = Path(tmp) / f"champion{Path(champ[0]).suffix.lower()}"
                champ_path.write_bytes(champ[1])
                champion = load_model(champ_path, trust_model=False)
        except AssayError as exc:
            raise ApiError(422, "invalid", str(exc), [{"field": "candidate"}]) from exc
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                results = [
                    assay.audit(
                        test=window, target=model.target, model=m, config=config, trust_model=False
                    )
                    for m in ([champion] if champion is not None else []) + [candidate]
                ]
        except AssayError as exc:
            raise ApiError(422, "invalid", f"the audit failed: {exc}") from exc
    if champion is not None:
        decision = decide_promotion(results[0], results[1], metric=metric)
    else:
        failed = tuple(c.id for c in results[0].checks if c.status in ("fail", "error"))
        reasons = (
            (f"the candidate fails the gate in: {', '.join(failed)}",)
            if failed
            else ("no champion yet: the candidate passes every gate and becomes the champion",)
        )
        decision = Decision(not failed, reasons, metric, {}, {}, failed)
    doc = decision.to_dict()
    role = "champion" if decision.promote else "rejected"
    version = store.add_model_version(model.name, Path(filename).name, blob, role, json.dumps(doc))
    return {"model": model.name, "version": version, "window": info, **doc}


@promotion.post(
    "/models/{name}/promote",
    dependencies=[require("write")],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["candidate"],
                        "properties": {
                            "candidate": {"type": "string", "format": "binary"},
                            "size": {"type": "string"},
                            "metric": {"type": "string"},
                            "config": {
                                "type": "string",
                                "description": "audit config as JSON (the same for both)",
                            },
                        },
                    }
                }
            },
        }
    },
)
async def promote_candidate(request: Request, name: str) -> dict[str, Any]:
    """Audit an uploaded candidate (``.skops`` or ``.onnx``; pickles are never loaded)
    and the current champion on the most recent labeled window (``size``, default
    1d) with the same gates (``config``: an audit config as JSON, the same for
    both); the candidate becomes the champion only if it passes and
    is not worse beyond the interval. Every upload is kept in the model history."""
    model = await run_in_threadpool(_model_or_404, request, name)
    ct = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ct != "multipart/form-data":
        raise ApiError(415, "unsupported_media_type", "upload the candidate as multipart/form-data")
    form = await request.form()
    upload = form.get("candidate")
    if upload is None or isinstance(upload, str):
        raise ApiError(
            422, "invalid", "upload the model file as 'candidate'", [{"field": "candidate"}]
        )
    filename = upload.filename or ""
    if not filename.lower().endswith(MODEL_SUFFIXES):
        raise ApiError(
            415,
            "unsupported_media_type",
            "the candidate must be a .skops or .onnx file; the service never loads pickles",
            [{"field": "candidate"}],
        )
    blob = await upload.read()
    size_field, metric_field = form.get("size"), form.get("metric")
    config_field = form.get("config")
    size = size_field if isinstance(size_field, str) else DEFAULT_PROMOTE_WINDOW
    metric = metric_field if isinstance(metric_field, str) else None
    config = None
    if isinstance(config_field, str) and config_field:
        try:
            config = json.loads(config_field)
        except ValueError as exc:
            msg = f"config: not JSON ({exc})"
            raise ApiError(422, "invalid", msg, [{"field": "config"}]) from exc
        if not isinstance(config, dict):
            raise ApiError(422, "invalid", "config: must be a JSON object", [{"field": "config"}])
    store = request.app.state.store
    return await run_in_threadpool(
        _promote, store, model, filename, blob, size, metric or None, config
    )


@promotion.get("/models/{name}/history", dependencies=[require("read")])
def model_history(request: Request, name: str) -> dict[str, Any]:
    """Every candidate uploaded for the model, oldest first, with its role
    (``champion`` or ``rejected``) and the promotion decision."""
    model = _model_or_404(request, name)
    return {"model": model.name, "history": request.app.state.store.model_history(model.name)}
