"""PostgreSQL store (psycopg 3): the same schema and migrations as SQLite.

One writer connection behind a lock; one reader connection per thread.

The store survives the database server restarting. Before each write the writer
connection is checked (a ``SELECT 1``); a connection found dead is replaced, with
up to :data:`CONNECT_ATTEMPTS` attempts and exponential backoff from
:data:`BACKOFF_S` (about a second in all). A read that fails on a dead connection
is tried once more on a new one. When the server still cannot be reached, or a
connection dies inside a transaction, :class:`StoreUnavailableError` is raised and
the service answers 503 with ``Retry-After``: nothing that was not committed is
ever acknowledged (a batch resent after a 503 is harmless: records are keyed by id).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from assay.errors import MissingExtraError
from assay.service._store import StoreUnavailableError, UnknownModelError, _SQLStore

CONNECT_ATTEMPTS = 4
"""Attempts to open a connection before a request is answered 503."""
BACKOFF_S = 0.1
"""The first wait between attempts (then doubled: 0.1, 0.2, 0.4 s)."""
CONNECT_TIMEOUT_S = 3

_MIGRATION_LOCK = 0x61737361  # "assa": the advisory lock key that serialises migrations


class PostgresStore(_SQLStore):
    """A store on PostgreSQL at ``url`` (``postgresql://user:pass@host/db``)."""

    dialect = "postgres"

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError as exc:
            raise MissingExtraError("psycopg", "postgres", "a postgresql:// store") from exc
        self._psycopg = psycopg
        self.url = url
        self._lock = threading.Lock()
        self._models = {}
        self._local = threading.local()
        self._readers: list[Any] = []
        self._dead = (psycopg.OperationalError, psycopg.InterfaceError)
        self._conn: Any = self._connect()
        self.migrate()

    def _connect(self) -> Any:
        """A new connection, with bounded retries and backoff; else 503."""
        last: Exception | None = None
        for attempt in range(CONNECT_ATTEMPTS):
            try:
                return self._psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT_S)
            except self._dead as exc:
                last = exc
                if attempt + 1 < CONNECT_ATTEMPTS:
                    time.sleep(BACKOFF_S * 2**attempt)
        raise StoreUnavailableError(
            f"the PostgreSQL store cannot be reached ({type(last).__name__}); try again shortly"
        )

    def _alive(self, conn: Any) -> bool:
        if conn is None or conn.closed or conn.broken:
            return False
        try:
            conn.execute("SELECT 1")
            conn.rollback()
        except self._dead:
            return False
        return True

    @contextlib.contextmanager
    def _write(self) -> Iterator[Any]:
        """The writer path (see the module notes): a live connection, one transaction,
        committed before return; a connection lost on the way is 503, never an ack."""
        with self._lock:
            if not self._alive(self._conn):
                with contextlib.suppress(Exception):
                    self._conn.close()
                self._conn = None
                self._conn = self._connect()
            conn = self._conn
            try:
                cur = conn.cursor()
                yield cur
                conn.commit()
            except self._dead as exc:
                with contextlib.suppress(Exception):
                    conn.close()
                raise StoreUnavailableError(
                    f"the PostgreSQL store went away during a write ({type(exc).__name__}); "
                    "nothing was acknowledged, send it again"
                ) from None
            except BaseException:
                with contextlib.suppress(Exception):
                    conn.rollback()
                raise

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        for attempt in range(2):  # a stale connection (the server restarted): once more
            conn = self._reader()
            try:
                with conn.cursor() as cur:
                    cur.execute(self._sql(sql), tuple(params))
                    rows = cur.fetchall()
                conn.rollback()  # end the read transaction
                return rows
            except self._dead as exc:
                with contextlib.suppress(Exception):
                    conn.close()
                self._local.conn = None
                if attempt == 1:
                    raise StoreUnavailableError(
                        f"the PostgreSQL store cannot be read now ({type(exc).__name__})"
                    ) from None
        raise AssertionError("unreachable")

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def _insert_rows(
        self, cur: Any, model: str, rows: Sequence[tuple[Any, ...]], now: float
    ) -> int:
        # COPY into a per-connection temporary table (emptied at commit), then one
        # INSERT ... SELECT: the server parses and plans one statement per batch
        # instead of one per row. ``ORDER BY n`` keeps the first of two rows with one
        # id, as the row-by-row insert did. The table is created in this transaction
        # when missing (a new connection, or a rolled-back first batch).
        # The model is checked once per batch, as the foreign key dropped by migration 9
        # checked it per row: FOR KEY SHARE is the lock its trigger took on the model's
        # row, held to the commit, so the model cannot go while the batch is stored.
        cur.execute("SELECT 1 FROM models WHERE name = %s FOR KEY SHARE", (model,))
        if cur.fetchone() is None:
            raise UnknownModelError(model)
        cur.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS ingest_rows (n INTEGER, id TEXT, "
            "ts DOUBLE PRECISION, features TEXT, prediction TEXT, score DOUBLE PRECISION)"
            " ON COMMIT DELETE ROWS"
        )
        with cur.copy("COPY ingest_rows FROM STDIN") as copy:
            for n, row in enumerate(rows):
                copy.write_row((n, *row))
        cur.execute(
            "INSERT INTO predictions SELECT %s, id, ts, features, prediction, score, %s "
            "FROM ingest_rows ORDER BY n ON CONFLICT (model, id) DO NOTHING",
            (model, now),
        )
        return max(int(cur.rowcount), 0)

    def _writer(self) -> Any:
        return self._conn

    def _lock_migrations(self, cur: Any) -> None:
        # Two services starting at once would both create the tables; a transaction
        # advisory lock makes the second wait and then find the migrations applied.
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))

    def _reader(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = self._connect()
            self._local.conn = conn
            self._readers = [c for c in self._readers if not c.closed]
            self._readers.append(conn)
        return conn

    def _drop_all(self) -> None:
        """Drop every table (tests only)."""
        self._models.clear()
        with self._write() as cur:
            for table in (
                "human_decisions",
                "challenger_predictions",
                "audit_decisions",
                "audits",
                "leases",
                "changes",
                "window_changes",
                "window_results",
                "schedules",
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
            if conn is None:
                continue
            with contextlib.suppress(Exception):
                conn.close()
