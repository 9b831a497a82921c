"""The monitoring service: a store of prediction logs, an HTTP API over it, a client.

- :func:`open_store` — SQLite (default) or PostgreSQL, the same versioned schema;
- :func:`create_app` — the FastAPI app (``assay serve`` runs it with uvicorn);
- :class:`Client` — log predictions and labels, read windows, from Python.

The checks it runs per window are those of :mod:`assay.drift` and
:mod:`assay.monitoring`. FastAPI and httpx are the ``service`` extra; they are
imported only when :func:`create_app` or :class:`Client` is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assay.service._store import ModelRecord, Store, open_store

if TYPE_CHECKING:
    from assay.service._app import Settings, create_app
    from assay.service._client import Client

__all__ = ["Client", "ModelRecord", "Settings", "Store", "create_app", "open_store"]

_LAZY = {
    "Client": "assay.service._client",
    "Settings": "assay.service._app",
    "create_app": "assay.service._app",
}


def __getattr__(name: str) -> Any:
    """Import the web stack only when it is asked for."""
    if name in _LAZY:
        import importlib

        from assay.errors import MissingExtraError

        try:
            return getattr(importlib.import_module(_LAZY[name]), name)
        except ImportError as exc:
            service = {"fastapi", "httpx", "uvicorn", "starlette", "multipart", "prometheus_client"}
            if exc.name in service:
                raise MissingExtraError(exc.name, "service", f"assay.service.{name}") from exc
            raise
    raise AttributeError(f"module 'assay.service' has no attribute {name!r}")
