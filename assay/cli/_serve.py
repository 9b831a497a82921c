"""``assay serve``, ``assay token create`` and ``assay ingest``: the monitoring service."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from assay.cli._options import fail as _fail
from assay.errors import AssayError


def serve(
    store: Annotated[str, typer.Option(help="sqlite:///FILE (default) or postgresql://...")] = (
        "sqlite:///assay.db"
    ),
    host: Annotated[str, typer.Option(help="address to bind (loopback by default)")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="port to listen on")] = 8080,
    max_body_mb: Annotated[int, typer.Option(help="largest request body, in MiB")] = 64,
    config: Annotated[
        Path | None,
        typer.Option(
            help="the operator's YAML file: commands run on alerts, private networks "
            "webhooks may reach, limits (see docs/security.md)"
        ),
    ] = None,
    retention: Annotated[
        str | None,
        typer.Option(
            help="keep raw prediction rows this long (e.g. 90d; a policy's retention "
            "overrides it per model); window results and alerts are kept. Default: keep all"
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            help="worker processes (needs a postgresql:// store; SQLite is written by one "
            "process). Ingest spreads over them; each model is evaluated by one at a time"
        ),
    ] = 1,
) -> None:
    """Run the monitoring service (FastAPI on uvicorn). $ASSAY_TOKEN, when set, is
    stored as an admin token."""
    try:
        import uvicorn

        app = _app(store, max_body_mb, config, retention, workers)
    except (AssayError, ImportError) as exc:
        _fail(str(exc))
        return
    shown = f"[{host}]" if ":" in host else host
    print(  # where a person points the browser (the workbench, #18)
        f"Assay is running. Open http://{shown}:{port}/workbench in your browser "
        f"(the dashboard: http://{shown}:{port}/dashboard). Stop it with Ctrl+C.",
        flush=True,
    )
    if app is None:
        uvicorn.run(
            "assay.service._app:app_from_env",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level="warning",
        )
        return
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _app(
    store: str, max_body_mb: int, config: Path | None, retention: str | None, workers: int
) -> Any:
    """The service's app for one worker; for several, ``None``: the store migrated once
    and the options left in the environment for each worker to build its own."""
    from assay.service import Settings, create_app, open_store
    from assay.service._config import load_config

    options = {"store_url": store, "max_body_bytes": max_body_mb * 1024 * 1024}
    if config is not None:
        options.update(load_config(config))
    if retention is not None:
        options["retention"] = retention
    settings = Settings.from_env(**options)
    if workers < 1:
        _fail(f"--workers must be at least 1, not {workers}")
    if workers > 1 and not store.startswith(("postgresql://", "postgres://")):
        _fail(
            f"--workers {workers} needs a postgresql:// store: a SQLite store is "
            "written by one process (run one worker, or move the store to PostgreSQL)"
        )
    if workers == 1:
        return create_app(settings, open_store(settings.store_url))
    import json
    import os

    from assay.service._app import SERVE_OPTIONS_ENV

    os.environ[SERVE_OPTIONS_ENV] = json.dumps(
        {
            "store": store,
            "max_body_bytes": options["max_body_bytes"],
            "config": str(config) if config is not None else None,
            "retention": retention,
        }
    )
    open_store(settings.store_url).close()  # migrate once, before the workers
    return None


token_app = typer.Typer(help="Manage the service's API tokens.", no_args_is_help=True)


@token_app.command("create")
def token_create(
    store: Annotated[str, typer.Option(help="the service's store URL")],
    scope: Annotated[str, typer.Option(help="read, write or admin")] = "read",
    name: Annotated[str | None, typer.Option(help="a note to recognise the token")] = None,
) -> None:
    """Create a token and print it once (only its SHA-256 digest is stored)."""
    from assay.service import open_store
    from assay.service._auth import SCOPES, create_token

    if scope not in SCOPES:
        _fail(f"--scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    try:
        s = open_store(store)
    except AssayError as exc:
        _fail(str(exc))
        return
    try:
        print(create_token(s, scope, name=name))
    finally:
        s.close()


@token_app.command("revoke")
def token_revoke(
    store: Annotated[str, typer.Option(help="the service's store URL")],
    token_file: Annotated[Path, typer.Option(help="file holding the token to revoke")],
) -> None:
    """Revoke a token: it stops working at once, with every dashboard session made
    from it."""
    from assay.service import open_store
    from assay.service._auth import revoke_token

    try:
        token = token_file.read_text(encoding="utf-8").strip()
        s = open_store(store)
    except OSError as exc:
        _fail(f"cannot read {exc.filename}: {exc.strerror}")
        return
    except AssayError as exc:
        _fail(str(exc))
        return
    try:
        if not revoke_token(s, token):
            _fail(f"{token_file}: not a token of this store; nothing revoked")
    finally:
        s.close()
    print("revoked", file=sys.stderr)


def ingest(
    path: Annotated[Path, typer.Argument(help="CSV or Parquet file of predictions")],
    url: Annotated[str, typer.Option(help="the service, e.g. http://127.0.0.1:8080")],
    token_file: Annotated[Path, typer.Option(help="file holding a write token")],
    model: Annotated[str, typer.Option(help="registered model name")],
    labels: Annotated[bool, typer.Option(help="the file holds labels (id, label)")] = False,
) -> None:
    """Send a file of predictions (or labels) to the service in 1,000-row batches."""
    try:
        from assay.service import Client

        token = token_file.read_text(encoding="utf-8").strip()
        with Client(url, token) as client:
            send = client.log_labels if labels else client.log_predictions
            n = send(model, str(path))
    except OSError as exc:
        _fail(f"cannot read {exc.filename}: {exc.strerror}")
        return
    except AssayError as exc:
        _fail(str(exc))
        return
    except Exception as exc:  # httpx transport errors after retries
        _fail(f"cannot reach {url}: {exc}")
        return
    print(f"{n} rows acknowledged", file=sys.stderr)


monitor_app = typer.Typer(help="Look at a running service's models.", no_args_is_help=True)


@monitor_app.command("status")
def monitor_status(
    name: Annotated[str, typer.Argument(help="registered model name")],
    url: Annotated[str, typer.Option(help="the service, e.g. http://127.0.0.1:8080")],
    token_file: Annotated[Path, typer.Option(help="file holding a read token")],
    size: Annotated[
        str | None, typer.Option(help="window size (default: the one its policy is judged on)")
    ] = None,
    limit: Annotated[int, typer.Option(help="the most recent windows to show")] = 8,
) -> None:
    """Print a model's latest windows and its alerts with their delivery state."""
    try:
        from assay.service import Client

        token = token_file.read_text(encoding="utf-8").strip()
        with Client(url, token, retries=1) as client:
            windows = client.windows(name, size, limit=limit, full=True)
            alerts = client.alerts(name)
    except OSError as exc:
        _fail(f"cannot read {exc.filename}: {exc.strerror}")
        return
    except AssayError as exc:
        _fail(str(exc))
        return
    except Exception as exc:  # httpx transport errors after retries
        _fail(f"cannot reach {url}: {exc}")
        return
    print(format_status(name, windows, alerts))


def _pct(v: object) -> str:
    return f"{v * 100:.1f}%" if isinstance(v, (int, float)) else "-"


def format_status(name: str, doc: dict, alerts: list[dict]) -> str:
    """The text ``assay monitor status`` prints."""
    lines = [
        f"{name}: windows of {doc['size']}"
        + (" (judged by the scheduler)" if doc.get("scheduled") else " (computed now)")
        + (f", {doc['pending']} closed window(s) waiting" if doc.get("pending") else "")
    ]
    head = f"{'window start':<26} {'rows':>7} {'state':<8} {'drift':>7}  {'est.acc':>7}  alerts"
    lines.append(head)
    for w in doc["windows"]:
        state = "stored" if w.get("stored") else ("closed" if w.get("closed") else "open")
        est = (w.get("estimated_performance") or {}).get("estimated_accuracy")
        lines.append(
            f"{str(w['start'])[:25]:<26} {w['rows']:>7} {state:<8} {_pct(w.get('drift_share')):>7}"
            f"  {_pct(est):>7}  {', '.join(w.get('alerts') or []) or '-'}"
        )
    if not doc["windows"]:
        lines.append("(no prediction stored yet)")
    lines.append(f"alerts: {len(alerts)}")
    for a in alerts[-10:]:
        states = ", ".join(f"{d['action']} {d['status']}" for d in a.get("deliveries") or [])
        lines.append(
            f"  {a['window_start']}  {a['kind']}: {a['message']}"
            + (f" [{states}]" if states else "")
        )
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("ingest")(ingest)
    app.add_typer(token_app, name="token")
    app.add_typer(monitor_app, name="monitor")
