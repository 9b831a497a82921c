"""PostgreSQL store (psycopg 3): the same schema and migrations as SQLite.

One writer connection behind a lock; one reader connection per thread.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from assay.errors import MissingExtraError
from assay.monitor._store import _SQLStore

_MIGRATION_LOCK = 0x61737361  # "assa": the advisory lock key that serialises migrations


class PostgresStore(_SQLStore):
    """A store on PostgreSQL at ``url`` (``postgresql://user:pass@host/db``)."""

    dialect = "postgres"

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError as exc:
            raise MissingExtraError(
                "a postgresql:// store needs the optional package psycopg: "
                "pip install 'assay[postgres]'"
            ) from exc
        self._psycopg = psycopg
        self.url = url
        self._lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[Any] = []
        self._conn = psycopg.connect(url)
        self.migrate()

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def _writer(self) -> Any:
        return self._conn

    def _lock_migrations(self, cur: Any) -> None:
        # Two services starting at once would both create the tables; a transaction
        # advisory lock makes the second wait and then find the migrations applied.
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))

    def _reader(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._psycopg.connect(self.url)
            self._local.conn = conn
            self._readers.append(conn)
        return conn

    def _drop_all(self) -> None:
        """Drop every table (tests only)."""
        with self._write() as cur:
            for table in (
                "sessions",
                "model_versions",
                "outbox",
                "policies",
                "alerts",
                "tokens",
                "labels",
                "predictions",
                "models",
                "schema_migrations",
            ):
                cur.execute(f"DROP TABLE IF EXISTS {table} CASCADE")

    def close(self) -> None:
        for conn in [*self._readers, self._conn]:
            with contextlib.suppress(Exception):
                conn.close()
