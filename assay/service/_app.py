"""The FastAPI app factory: settings and a store in, an app out.

Every error, from a bad token to a 404, a 405 or a validation failure, is one JSON
envelope ``{"error": {"code", "message", "details"}}``. Bodies over
``Settings.max_body_bytes`` are refused with 413 before they are buffered.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from assay._version import __version__
from assay.errors import AssayError, ConfigError
from assay.monitoring.policy import CommandAction
from assay.service._auth import allows, create_token, token_scope
from assay.service._store import Store, StoreUnavailableError, open_store
from assay.service._throttle import client_key, throttle_for

DEFAULT_MAX_BODY = 64 * 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """Service settings. ``admin_token`` (default: ``$ASSAY_TOKEN``) is stored as an
    admin token at start-up."""

    store_url: str = "sqlite:///assay.db"
    max_body_bytes: int = DEFAULT_MAX_BODY
    admin_token: str | None = None
    max_windows: int = 24
    max_rows_per_request: int = 100_000
    """Records (table rows) one ingest or registration request may carry; more is
    refused with 413 ``too_many_rows`` before the rows are built (default 100,000)."""
    seed: int = 0
    # operator-only powers (the server's configuration file, never the API):
    commands: Mapping[str, tuple[CommandAction, ...]] = field(default_factory=dict)
    """Commands run when an alert of a model fires, by model name (``"*"``: every model)."""
    webhook_allow_networks: tuple[Any, ...] = ()
    """Private networks webhooks may reach (everything else must be public)."""
    metrics_allow_networks: tuple[Any, ...] = ()
    """Addresses that may read ``GET /metrics`` without a token (a scrape address)."""
    default_window: str = "1d"
    """The window a model is judged on when its policy names none."""
    evaluate_every_s: int = 5
    """How often the scheduler looks for closed windows (0: never; tests tick by hand)."""
    recompute_every_s: int = 60
    """The least time between two computations of one closed window changed by late data."""
    retention: str | None = None
    """Keep raw prediction rows this long (``90d``); a policy's ``retention`` overrides it.
    ``None``: keep them all."""
    retention_s: float | None = field(default=None, init=False, repr=False)
    """``retention`` in seconds (derived)."""
    workbench: Mapping[str, Any] = field(default_factory=dict)
    """The workbench's folder, caps and signing key (:func:`assay.service._workbench.install`)."""

    def __post_init__(self) -> None:
        from assay.monitoring.policy import PolicyError, parse_duration, parse_window
        from assay.monitoring.webhook import parse_networks

        nets = parse_networks(list(self.webhook_allow_networks), "webhook_allow_networks")
        object.__setattr__(self, "webhook_allow_networks", nets)
        nets = parse_networks(list(self.metrics_allow_networks), "metrics_allow_networks")
        object.__setattr__(self, "metrics_allow_networks", nets)
        try:
            parse_window(self.default_window)
        except ValueError as exc:
            raise ConfigError(f"default_window: {exc}") from None
        retention_s = None
        if self.retention is not None:
            try:
                retention_s = parse_duration(str(self.retention), "retention")
            except PolicyError as exc:
                raise ConfigError(str(exc)) from None
            if retention_s < 3600:
                raise ConfigError(f"retention: at least 1h, got {self.retention!r}")
        object.__setattr__(self, "retention_s", retention_s)

    @classmethod
    def from_env(cls, **kw: Any) -> Settings:
        return cls(admin_token=os.environ.get("ASSAY_TOKEN") or None, **kw)


class ApiError(StarletteHTTPException):
    """An HTTP error with a stable ``code`` and structured ``details``."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(status_code=status, detail=message)
        self.code = code
        self.details = details


_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
}


def envelope(status: int, code: str, message: str, details: Any = None, headers=None):
    return JSONResponse(
        {"error": {"code": code, "message": message, "details": details}},
        status_code=status,
        headers=headers,
    )


class BodyLimit:
    """ASGI middleware: 413 when Content-Length, or the bytes received so far, pass
    ``limit`` — the body is never buffered past it."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for key, value in scope.get("headers", []):
            if key == b"content-length":
                try:
                    too_big = int(value) > self.limit
                except ValueError:
                    too_big = False
                if too_big:
                    await self._refuse(scope, receive, send)
                    return
        seen = 0
        limit = self.limit

        async def limited() -> dict:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise ApiError(413, "payload_too_large", self._message())
            return msg

        await self.app(scope, limited, send)

    def _message(self) -> str:
        return f"the request body is larger than the limit of {self.limit} bytes"

    async def _refuse(self, scope: dict, receive: Any, send: Any) -> None:
        resp = envelope(413, "payload_too_large", self._message(), headers={"Connection": "close"})
        await resp(scope, receive, send)


def get_store(request: Request) -> Store:
    return request.app.state.store


def require(scope: str):
    """A dependency: the request's bearer token must allow ``scope``."""

    def check(request: Request) -> str:
        return check_token(request, scope)

    return Depends(check)


def check_token(request: Request, scope: str) -> str:
    """The scope of the request's bearer token; 401/403/429 unless it allows ``scope``."""
    header = request.headers.get("authorization", "")
    kind, _, token = header.partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        raise ApiError(
            401, "unauthorized", "send Authorization: Bearer <token> (assay token create)"
        )
    gate, who = throttle_for(request.app, "api"), client_key(request)
    wait = math.ceil(gate.retry_after(who))
    if wait > 0:  # during a lockout not even a correct token is checked
        err = ApiError(
            429,
            "too_many_requests",
            f"too many wrong tokens from this client; try again in {wait} s",
            {"retry_after_s": wait},
        )
        err.headers = {"Retry-After": str(wait)}
        raise err
    have = token_scope(request.app.state.store, token.strip())
    if have is None:
        gate.failure(who)
        raise ApiError(401, "unauthorized", "the token is not valid")
    gate.success(who)
    if not allows(have, scope):
        raise ApiError(403, "forbidden", f"this token has scope {have!r}; this needs {scope!r}")
    return have


def _error_envelopes(app: FastAPI) -> None:
    """Every error as the one JSON envelope (see the module notes)."""

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        code = getattr(exc, "code", None) or _CODES.get(exc.status_code, "error")
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else exc.headers
        return envelope(
            exc.status_code, code, str(exc.detail), getattr(exc, "details", None), headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        details = [
            {"field": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg")}
            for e in exc.errors()
        ]
        return envelope(422, "invalid", "the request is not valid", details)

    @app.exception_handler(AssayError)
    async def _assay(request: Request, exc: AssayError):
        return envelope(400, "bad_request", str(exc))

    @app.exception_handler(StoreUnavailableError)
    async def _unavailable(request: Request, exc: StoreUnavailableError):
        wait = str(exc.retry_after_s)
        details = {"retry_after_s": exc.retry_after_s}
        return envelope(503, "unavailable", str(exc), details, {"Retry-After": wait})

    @app.exception_handler(RecursionError)
    async def _deep(request: Request, exc: RecursionError):
        return envelope(422, "too_deep", "the body is nested too deeply")

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception):
        return envelope(500, "internal", f"internal error: {type(exc).__name__}")


def _include_routers(app: FastAPI) -> dict[int, str]:
    """Mount every router; returns each route's path template with its router's
    prefix, by route (the request metrics' label)."""
    from assay.service import (
        _decision_routes,
        _routes,
        _trigger_routes,
        _workbench,
        _workbench_pages,
    )
    from assay.service._dashboard import router as dashboard

    routers = (
        (_routes.health, ""),
        (_routes.models, "/api/v1"),
        (_routes.records, "/api/v1"),
        (_routes.windows, "/api/v1"),
        (_routes.tokens, "/api/v1"),
        (_trigger_routes.policies, "/api/v1"),
        (_trigger_routes.promotion, "/api/v1"),
        (_decision_routes.router, "/api/v1"),
        (dashboard, ""),
        (_workbench.router, "/api/v1"),
        (_workbench_pages.router, ""),
    )
    templates: dict[int, str] = {}  # route -> its path template with the prefix (metrics)
    for router, prefix in routers:
        app.include_router(router, prefix=prefix)
        templates.update({id(r): prefix + getattr(r, "path", "") for r in router.routes})
    return templates


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    """Build the monitoring app on ``store`` (opened from ``settings.store_url`` when
    not given).

    Examples
    --------
    >>> from assay.service import Settings, create_app, open_store
    >>> app = create_app(Settings(), open_store("sqlite:///:memory:"))
    >>> app.title
    'Assay monitor'
    """
    from assay.service._metrics import Metrics, RequestMetrics
    from assay.service._policies import Dispatcher
    from assay.service._scheduler import Scheduler

    settings = settings or Settings.from_env()
    store = store if store is not None else open_store(settings.store_url)
    if settings.admin_token:
        create_token(store, "admin", name="ASSAY_TOKEN", token=settings.admin_token)
    from assay.service._scheduler import holder_id

    holder = holder_id()
    dispatcher = Dispatcher(
        store,
        commands=settings.commands,
        allow_networks=settings.webhook_allow_networks,
        holder=holder,
    )

    metrics = Metrics(store, settings)
    dispatcher.metrics = metrics
    scheduler = Scheduler(store, settings, dispatcher, metrics=metrics, holder=holder)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        dispatcher.start()  # delivers alert actions outside the request path
        scheduler.start()  # judges windows as they close, with no request
        _app.state.workbench.runner.start()  # runs queued workbench audits
        try:
            yield
        finally:
            _app.state.workbench.runner.stop()
            scheduler.stop()
            dispatcher.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="Assay monitor",
        version=__version__,
        description="Prediction logs, windowed drift and performance for registered models.",
    )
    app.state.store = store
    app.state.settings = settings
    app.state.dispatcher = dispatcher
    app.state.scheduler = scheduler
    app.state.metrics = metrics
    from assay.service import _workbench

    _workbench.install(app, settings, store)

    _error_envelopes(app)
    templates = _include_routers(app)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(RequestMetrics, metrics=metrics, templates=templates)
    return app


SERVE_OPTIONS_ENV = "ASSAY_SERVE_OPTIONS"


def app_from_env() -> FastAPI:
    """The app of one worker of ``assay serve --workers N`` (uvicorn calls this factory
    in each worker process): the options ``assay serve`` put in
    ``$ASSAY_SERVE_OPTIONS`` (store, body limit, configuration file, retention)."""
    import json

    from assay.service._config import load_config

    raw = json.loads(os.environ[SERVE_OPTIONS_ENV])
    options: dict[str, Any] = {"store_url": raw["store"], "max_body_bytes": raw["max_body_bytes"]}
    if raw.get("config"):
        options.update(load_config(raw["config"]))
    if raw.get("retention"):
        options["retention"] = raw["retention"]
    settings = Settings.from_env(**options)
    return create_app(settings, open_store(settings.store_url))
