"""The monitor's store: one schema, versioned migrations, SQLite or PostgreSQL.

Every write goes through one writer path (a lock around one connection); reads
use their own connections and run concurrently (SQLite in WAL mode). A write is
committed (``synchronous=FULL`` on SQLite) before the call returns, so whatever
the service acknowledges survives a crash. Records are keyed by
``(model, id)``: a resent record is not stored twice.

>>> store = open_store("sqlite:///:memory:")
>>> store.schema_version() == len(MIGRATIONS)
True
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any, Protocol

from assay.errors import ConfigError
from assay.service._decisions import MIGRATION as _DECISIONS_MIGRATION
from assay.service._store_windows import CLAIM_MIGRATION as _CLAIM_MIGRATION
from assay.service._store_windows import LEASE_MIGRATION as _LEASE_MIGRATION
from assay.service._store_windows import MIGRATION as _WINDOWS_MIGRATION
from assay.service._store_windows import WindowResultsSQL
from assay.service._workbench_store import MIGRATION as _WORKBENCH_MIGRATION
from assay.service._workbench_store import WorkbenchSQL

__all__ = [
    "MIGRATIONS",
    "ModelRecord",
    "SessionRecord",
    "Store",
    "StoreUnavailableError",
    "UnknownModelError",
    "open_store",
]


class StoreUnavailableError(Exception):
    """The store cannot be reached now (the database server restarts, the network is
    down). The service answers 503 with ``Retry-After``; nothing was acknowledged."""

    def __init__(self, message: str, retry_after_s: int = 2) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class UnknownModelError(ValueError):
    """Rows sent for a model that is not registered (the batch is not stored)."""

    def __init__(self, model: str) -> None:
        super().__init__(f"no model named {model!r}; register it first")


# Each migration: (version, description, statements). ``{blob}``, ``{serial}``,
# ``{real}`` are filled per dialect; everything else is the same SQL on both.
MIGRATIONS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (
        1,
        "models, predictions, labels, tokens, alerts",
        (
            """CREATE TABLE models (
                name TEXT PRIMARY KEY,
                created_at {real} NOT NULL,
                task TEXT,
                target TEXT,
                prediction TEXT,
                score TEXT,
                schema_json TEXT NOT NULL,
                reference {blob} NOT NULL
            )""",
            """CREATE TABLE predictions (
                model TEXT NOT NULL REFERENCES models(name),
                id TEXT NOT NULL,
                ts {real} NOT NULL,
                features TEXT NOT NULL,
                prediction TEXT,
                score {real},
                received_at {real} NOT NULL,
                PRIMARY KEY (model, id)
            )""",
            "CREATE INDEX predictions_ts ON predictions (model, ts)",
            """CREATE TABLE labels (
                model TEXT NOT NULL REFERENCES models(name),
                id TEXT NOT NULL,
                label TEXT NOT NULL,
                received_at {real} NOT NULL,
                PRIMARY KEY (model, id)
            )""",
            """CREATE TABLE tokens (
                token_id TEXT PRIMARY KEY,
                hash TEXT NOT NULL,
                scope TEXT NOT NULL,
                name TEXT,
                created_at {real} NOT NULL
            )""",
            """CREATE TABLE alerts (
                id {serial} PRIMARY KEY,
                model TEXT NOT NULL,
                created_at {real} NOT NULL,
                kind TEXT NOT NULL,
                window_start TEXT,
                message TEXT NOT NULL,
                details TEXT NOT NULL
            )""",
        ),
    ),
    (
        2,
        "trigger policies, idempotent alert ids, action outbox, model history",
        (
            """CREATE TABLE policies (
                model TEXT PRIMARY KEY REFERENCES models(name),
                policy_yaml TEXT NOT NULL,
                state_json TEXT NOT NULL,
                updated_at {real} NOT NULL
            )""",
            "ALTER TABLE alerts ADD COLUMN alert_id TEXT",
            "CREATE UNIQUE INDEX alerts_alert_id ON alerts (model, alert_id)",
            """CREATE TABLE outbox (
                id {serial} PRIMARY KEY,
                model TEXT NOT NULL,
                alert_id TEXT NOT NULL,
                action TEXT NOT NULL,
                payload TEXT NOT NULL,
                status TEXT NOT NULL,
                attempts INTEGER NOT NULL,
                last_error TEXT,
                created_at {real} NOT NULL,
                updated_at {real} NOT NULL,
                UNIQUE (model, alert_id, action)
            )""",
            """CREATE TABLE model_versions (
                id {serial} PRIMARY KEY,
                model TEXT NOT NULL REFERENCES models(name),
                created_at {real} NOT NULL,
                filename TEXT NOT NULL,
                artifact {blob} NOT NULL,
                role TEXT NOT NULL,
                decision TEXT NOT NULL
            )""",
        ),
    ),
    (
        3,
        "dashboard sessions",
        (
            """CREATE TABLE sessions (
                session_hash TEXT PRIMARY KEY,
                token_id TEXT NOT NULL,
                scope TEXT NOT NULL,
                created_at {real} NOT NULL,
                expires_at {real} NOT NULL,
                revoked INTEGER NOT NULL DEFAULT 0
            )""",
            "CREATE INDEX sessions_token ON sessions (token_id)",
        ),
    ),
    _WINDOWS_MIGRATION,
    _LEASE_MIGRATION,
    _WORKBENCH_MIGRATION,
    _DECISIONS_MIGRATION,
    _CLAIM_MIGRATION,
    (
        9,
        "PostgreSQL: a prediction batch's model is checked once per batch, not per row",
        ("{drop_predictions_fk}",),
    ),
)

DIALECTS = {
    # counter: an id never given twice, even after the rows holding the highest are deleted
    "sqlite": {
        "blob": "BLOB",
        "serial": "INTEGER",
        "real": "REAL",
        "counter": "INTEGER PRIMARY KEY AUTOINCREMENT",
        "drop_predictions_fk": "SELECT 1",  # SQLite keeps it: a B-tree lookup, no trigger
    },
    "postgres": {
        "blob": "BYTEA",
        "serial": "BIGSERIAL",
        "real": "DOUBLE PRECISION",
        "counter": "BIGSERIAL PRIMARY KEY",
        # the per-row trigger of this foreign key took 30-50% of a 1,000-row batch's
        # INSERT; PostgresStore._insert_rows locks the model row once per batch instead
        "drop_predictions_fk": "ALTER TABLE predictions DROP CONSTRAINT IF EXISTS "
        "predictions_model_fkey",
    },
}


@dataclass(frozen=True)
class SessionRecord:
    """A dashboard session: the token it was made from (``token_scope`` is that
    token's scope now, ``None`` once the token is deleted), its times and whether
    it was revoked. Only the SHA-256 digest of the session id is stored."""

    token_id: str
    scope: str
    created_at: float
    expires_at: float
    revoked: bool
    token_scope: str | None


@dataclass(frozen=True)
class ModelRecord:
    """A registered model: its columns, schema (as ``Schema.to_dict``) and reference
    data (Parquet bytes)."""

    name: str
    created_at: float
    task: str | None
    target: str | None
    prediction: str | None
    score: str | None
    schema: dict[str, Any]
    reference: bytes

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "created_at": self.created_at,
            "task": self.task,
            "target": self.target,
            "prediction": self.prediction,
            "score": self.score,
            "features": list(self.schema.get("features", [])),
            "types": dict(self.schema.get("types", {})),
            "classes": list(self.schema.get("classes", [])),
        }


class Store(Protocol):
    """What the service needs from a store (SQLite and PostgreSQL implement it)."""

    dialect: str

    def schema_version(self) -> int: ...
    def create_model(self, model: ModelRecord) -> bool: ...
    def get_model(self, name: str) -> ModelRecord | None: ...
    def list_models(self) -> list[ModelRecord]: ...
    def counts(self, name: str) -> tuple[int, int]: ...
    def insert_predictions(self, model: str, rows: Sequence[tuple[Any, ...]]) -> int: ...
    def insert_labels(self, model: str, rows: Sequence[tuple[str, str]]) -> int: ...
    def load_predictions(self, model: str, since: float | None = None) -> list[tuple[Any, ...]]: ...
    def add_token(self, token_id: str, digest: str, scope: str, name: str | None) -> None: ...
    def get_token(self, token_id: str) -> tuple[str, str] | None: ...
    def delete_token(self, token_id: str) -> bool: ...
    def add_session(
        self, session_hash: str, token_id: str, scope: str, created_at: float, expires_at: float
    ) -> None: ...
    def get_session(self, session_hash: str) -> SessionRecord | None: ...
    def delete_session(self, session_hash: str) -> None: ...
    def add_alert(
        self, model: str, kind: str, window_start: str | None, message: str, details: str
    ) -> None: ...
    def has_alert(self, model: str, kind: str, window_start: str | None) -> bool: ...
    def list_alerts(self, model: str) -> list[dict[str, Any]]: ...
    def get_policy(self, model: str) -> tuple[str, str] | None: ...
    def put_policy(self, model: str, policy_yaml: str) -> None: ...
    def record_policy_run(
        self,
        model: str,
        state_json: str,
        alerts: Sequence[tuple[str, str, str | None, str, str]],
        actions: Sequence[tuple[str, str, str]],
    ) -> int: ...
    def pending_actions(self, limit: int = 20) -> list[tuple[Any, ...]]: ...
    def finish_action(self, row_id: int, status: str, error: str | None) -> None: ...
    def add_model_version(
        self, model: str, filename: str, artifact: bytes, role: str, decision: str
    ) -> int: ...
    def champion(self, model: str) -> tuple[str, bytes] | None: ...
    def model_history(self, model: str) -> list[dict[str, Any]]: ...
    def close(self) -> None: ...


class _SQLStore(WindowResultsSQL, WorkbenchSQL):
    """The queries, written once with ``?`` placeholders; subclasses give connections."""

    dialect = "sqlite"
    _lock: threading.Lock
    _models: dict[str, ModelRecord]

    # -- connections (subclasses) --------------------------------------------
    def _writer(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _reader(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _sql(self, sql: str) -> str:
        return sql

    def _lock_migrations(self, cur: Any) -> None:
        """Hold off other processes migrating the same database until this
        transaction ends (subclasses)."""

    @contextlib.contextmanager
    def _write(self) -> Iterator[Any]:
        """The one writer path: a lock, one transaction, committed before return."""
        with self._lock:
            conn = self._writer()
            try:
                cur = conn.cursor()
                yield cur
                conn.commit()
            except BaseException:
                conn.rollback()
                raise

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        conn = self._reader()
        cur = conn.cursor()
        try:
            cur.execute(self._sql(sql), tuple(params))
            rows = cur.fetchall()
        finally:
            cur.close()
            if self.dialect == "postgres":
                conn.rollback()  # end the read transaction
        return rows

    # -- migrations ----------------------------------------------------------
    def migrate(self) -> int:
        """Apply the migrations not yet applied, in one transaction that other
        processes opening the same database wait for; returns the schema version."""
        fill = DIALECTS[self.dialect]
        with self._write() as cur:
            self._lock_migrations(cur)
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                f"(version INTEGER PRIMARY KEY, description TEXT, applied_at {fill['real']})"
            )
            cur.execute("SELECT version FROM schema_migrations")
            done = {r[0] for r in cur.fetchall()}
            for version, description, statements in MIGRATIONS:
                if version in done:
                    continue
                for stmt in statements:
                    cur.execute(stmt.format(**fill))
                cur.execute(
                    self._sql("INSERT INTO schema_migrations VALUES (?, ?, ?)"),
                    (version, description, time.time()),
                )
        return self.schema_version()

    def schema_version(self) -> int:
        rows = self._read("SELECT MAX(version) FROM schema_migrations")
        return int(rows[0][0] or 0)

    # -- models --------------------------------------------------------------
    def create_model(self, model: ModelRecord) -> bool:
        """Store ``model``; ``False`` when the name is taken."""
        import json

        with self._write() as cur:
            cur.execute(
                self._sql(
                    "INSERT INTO models VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (name) DO NOTHING"
                ),
                (
                    model.name,
                    model.created_at,
                    model.task,
                    model.target,
                    model.prediction,
                    model.score,
                    json.dumps(model.schema),
                    model.reference,
                ),
            )
            return cur.rowcount == 1

    @staticmethod
    def _model(row: tuple[Any, ...]) -> ModelRecord:
        import json

        return ModelRecord(
            name=row[0],
            created_at=row[1],
            task=row[2],
            target=row[3],
            prediction=row[4],
            score=row[5],
            schema=json.loads(row[6]),
            reference=bytes(row[7]),
        )

    def get_model(self, name: str) -> ModelRecord | None:
        # A registered model is never changed or removed, so a found one is kept: each
        # ingest request then reads neither the row nor its reference data (megabytes
        # for a large reference). A miss always asks the store (another process may
        # have registered it since).
        cached = self._models.get(name)
        if cached is not None:
            return cached
        rows = self._read("SELECT * FROM models WHERE name = ?", (name,))
        if not rows:
            return None
        model = self._models[name] = self._model(rows[0])
        return model

    def list_models(self) -> list[ModelRecord]:
        return [self._model(r) for r in self._read("SELECT * FROM models ORDER BY name")]

    def counts(self, name: str) -> tuple[int, int]:
        p = self._read("SELECT COUNT(*) FROM predictions WHERE model = ?", (name,))
        lab = self._read("SELECT COUNT(*) FROM labels WHERE model = ?", (name,))
        return int(p[0][0]), int(lab[0][0])

    # -- records -------------------------------------------------------------
    def insert_predictions(self, model: str, rows: Sequence[tuple[Any, ...]]) -> int:
        """Store ``(id, ts, features_json, prediction_json, score)`` rows in one
        transaction; returns how many were new (a known id is left as it is)."""
        now = time.time()
        with self._write() as cur:
            stored = self._insert_rows(cur, model, rows, now)
            if rows:  # the change log: the scheduler looks at these windows next
                stamps = [r[1] for r in rows]
                cur.execute(
                    self._sql("INSERT INTO changes (model, lo, hi) VALUES (?, ?, ?)"),
                    (model, min(stamps), max(stamps)),
                )
            return stored

    def _insert_rows(
        self, cur: Any, model: str, rows: Sequence[tuple[Any, ...]], now: float
    ) -> int:
        """Insert prediction rows inside the open transaction; how many were new (the
        first of two rows with one id wins, as a known id does)."""
        sql = self._sql(
            "INSERT INTO predictions VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (model, id) DO NOTHING"
        )
        cur.executemany(sql, [(model, *r, now) for r in rows])
        return max(int(cur.rowcount), 0)

    def insert_labels(self, model: str, rows: Sequence[tuple[str, str]]) -> int:
        """Store ``(id, label_json)`` rows; a resent id overwrites its label."""
        now = time.time()
        sql = self._sql(
            "INSERT INTO labels VALUES (?, ?, ?, ?) ON CONFLICT (model, id) "
            "DO UPDATE SET label = excluded.label, received_at = excluded.received_at"
        )
        with self._write() as cur:
            cur.executemany(sql, [(model, i, lab, now) for i, lab in rows])
            if rows:  # labels may change any window: the scheduler looks at them all
                insert = "INSERT INTO changes (model, lo, hi) VALUES (?, NULL, NULL)"
                cur.execute(self._sql(insert), (model,))
        return len(rows)

    def load_predictions(self, model: str, since: float | None = None) -> list[tuple[Any, ...]]:
        """``(id, ts, features_json, prediction_json, score, label_json)`` in time order."""
        sql = (
            "SELECT p.id, p.ts, p.features, p.prediction, p.score, l.label FROM predictions p "
            "LEFT JOIN labels l ON l.model = p.model AND l.id = p.id WHERE p.model = ?"
        )
        params: list[Any] = [model]
        if since is not None:
            sql += " AND p.ts >= ?"
            params.append(since)
        return self._read(sql + " ORDER BY p.ts, p.id", params)

    # -- tokens and alerts ---------------------------------------------------
    def add_token(self, token_id: str, digest: str, scope: str, name: str | None) -> None:
        with self._write() as cur:
            cur.execute(
                self._sql(
                    "INSERT INTO tokens VALUES (?, ?, ?, ?, ?) ON CONFLICT (token_id) "
                    "DO UPDATE SET hash = excluded.hash, scope = excluded.scope"
                ),
                (token_id, digest, scope, name, time.time()),
            )

    def get_token(self, token_id: str) -> tuple[str, str] | None:
        rows = self._read("SELECT hash, scope FROM tokens WHERE token_id = ?", (token_id,))
        return (rows[0][0], rows[0][1]) if rows else None

    def delete_token(self, token_id: str) -> bool:
        """Delete a token and revoke every dashboard session made from it, in one
        transaction; ``False`` when there was no such token."""
        with self._write() as cur:
            cur.execute(self._sql("DELETE FROM tokens WHERE token_id = ?"), (token_id,))
            found = cur.rowcount == 1
            revoke = "UPDATE sessions SET revoked = 1 WHERE token_id = ?"
            cur.execute(self._sql(revoke), (token_id,))
        return found

    # -- dashboard sessions ----------------------------------------------------
    def add_session(
        self, session_hash: str, token_id: str, scope: str, created_at: float, expires_at: float
    ) -> None:
        """Store a session (by the digest of its id); sessions that have expired
        or were revoked are deleted in the same transaction, so the table holds
        live sessions only."""
        with self._write() as cur:
            cur.execute(
                self._sql("DELETE FROM sessions WHERE expires_at <= ? OR revoked <> 0"),
                (created_at,),
            )
            cur.execute(
                self._sql("INSERT INTO sessions VALUES (?, ?, ?, ?, ?, 0)"),
                (session_hash, token_id, scope, created_at, expires_at),
            )

    def get_session(self, session_hash: str) -> SessionRecord | None:
        rows = self._read(
            "SELECT s.token_id, s.scope, s.created_at, s.expires_at, s.revoked, t.scope "
            "FROM sessions s LEFT JOIN tokens t ON t.token_id = s.token_id "
            "WHERE s.session_hash = ?",
            (session_hash,),
        )
        if not rows:
            return None
        r = rows[0]
        return SessionRecord(r[0], r[1], float(r[2]), float(r[3]), bool(r[4]), r[5])

    def delete_session(self, session_hash: str) -> None:
        with self._write() as cur:
            cur.execute(self._sql("DELETE FROM sessions WHERE session_hash = ?"), (session_hash,))

    def add_alert(
        self, model: str, kind: str, window_start: str | None, message: str, details: str
    ) -> None:
        with self._write() as cur:
            cur.execute(
                self._sql(
                    "INSERT INTO alerts (model, created_at, kind, window_start, message, details) "
                    "VALUES (?, ?, ?, ?, ?, ?)"
                ),
                (model, time.time(), kind, window_start, message, details),
            )

    def has_alert(self, model: str, kind: str, window_start: str | None) -> bool:
        rows = self._read(
            "SELECT 1 FROM alerts WHERE model = ? AND kind = ? AND window_start = ?",
            (model, kind, window_start),
        )
        return bool(rows)

    def list_alerts(self, model: str) -> list[dict[str, Any]]:
        import json

        rows = self._read(
            "SELECT id, created_at, kind, window_start, message, details FROM alerts "
            "WHERE model = ? ORDER BY id",
            (model,),
        )
        keys = ("id", "created_at", "kind", "window_start", "message")
        return [{**dict(zip(keys, r[:5], strict=True)), "details": json.loads(r[5])} for r in rows]

    # -- trigger policies and their actions ------------------------------------
    def get_policy(self, model: str) -> tuple[str, str] | None:
        """``(policy_yaml, state_json)`` of ``model``'s trigger policy, if it has one."""
        rows = self._read("SELECT policy_yaml, state_json FROM policies WHERE model = ?", (model,))
        return (rows[0][0], rows[0][1]) if rows else None

    def put_policy(self, model: str, policy_yaml: str) -> None:
        """Store (or replace) ``model``'s policy; its evaluation state starts afresh."""
        with self._write() as cur:
            cur.execute(
                self._sql(
                    "INSERT INTO policies VALUES (?, ?, ?, ?) ON CONFLICT (model) DO UPDATE "
                    "SET policy_yaml = excluded.policy_yaml, state_json = excluded.state_json, "
                    "updated_at = excluded.updated_at"
                ),
                (model, policy_yaml, "{}", time.time()),
            )
            cur.execute(self._sql("DELETE FROM schedules WHERE model = ?"), (model,))

    def record_policy_run(
        self,
        model: str,
        state_json: str,
        alerts: Sequence[tuple[str, str, str | None, str, str]],
        actions: Sequence[tuple[str, str, str]],
    ) -> int:
        """In one transaction: store ``(alert_id, kind, window_start, message,
        details_json)`` alerts (a known alert id is left as it is), queue
        ``(alert_id, action, payload_json)`` actions once each, and save the
        policy state. Returns how many alerts were new."""
        now = time.time()
        new = 0
        with self._write() as cur:
            for alert_id, kind, start, message, details in alerts:
                cur.execute(
                    self._sql(
                        "INSERT INTO alerts (model, created_at, kind, window_start, message, "
                        "details, alert_id) VALUES (?, ?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT (model, alert_id) DO NOTHING"
                    ),
                    (model, now, kind, start, message, details, alert_id),
                )
                new += max(int(cur.rowcount), 0)
            for alert_id, action, payload in actions:
                cur.execute(
                    self._sql(
                        "INSERT INTO outbox (model, alert_id, action, payload, status, attempts, "
                        "last_error, created_at, updated_at) VALUES (?, ?, ?, ?, 'pending', 0, "
                        "NULL, ?, ?) ON CONFLICT (model, alert_id, action) DO NOTHING"
                    ),
                    (model, alert_id, action, payload, now, now),
                )
            cur.execute(
                self._sql("UPDATE policies SET state_json = ?, updated_at = ? WHERE model = ?"),
                (state_json, now, model),
            )
        return new

    def pending_actions(self, limit: int = 20) -> list[tuple[Any, ...]]:
        """``(row_id, model, alert_id, action, payload_json, attempts)``, oldest first."""
        return self._read(
            "SELECT id, model, alert_id, action, payload, attempts FROM outbox "
            "WHERE status = 'pending' ORDER BY id LIMIT ?",
            (limit,),
        )

    def finish_action(self, row_id: int, status: str, error: str | None) -> None:
        """Mark an outbox row ``done``, ``failed`` or still ``pending`` (one more attempt)."""
        now = time.time()
        with self._write() as cur:
            cur.execute(
                self._sql(
                    "UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ?, "
                    "updated_at = ?, delivered_at = ? WHERE id = ?"
                ),
                (status, error, now, now if status == "done" else None, row_id),
            )

    def list_actions(self, model: str) -> list[dict[str, Any]]:
        rows = self._read(
            "SELECT alert_id, action, status, attempts, last_error, delivered_at FROM outbox "
            "WHERE model = ? ORDER BY id",
            (model,),
        )
        keys = ("alert_id", "action", "status", "attempts", "error", "delivered_at")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    # -- model history (champion / challenger) ---------------------------------
    def add_model_version(
        self, model: str, filename: str, artifact: bytes, role: str, decision: str
    ) -> int:
        """Store an uploaded model file with its ``role`` (``champion`` when promoted,
        ``rejected`` otherwise) and the decision JSON; returns its version id."""
        with self._write() as cur:
            cur.execute(
                self._sql(
                    "INSERT INTO model_versions (model, created_at, filename, artifact, role, "
                    "decision) VALUES (?, ?, ?, ?, ?, ?)"
                ),
                (model, time.time(), filename, artifact, role, decision),
            )
            cur.execute(self._sql("SELECT MAX(id) FROM model_versions WHERE model = ?"), (model,))
            return int(cur.fetchone()[0])

    def champion(self, model: str) -> tuple[str, bytes] | None:
        """``(filename, artifact)`` of the latest promoted version, if any."""
        rows = self._read(
            "SELECT filename, artifact FROM model_versions WHERE model = ? AND role = 'champion' "
            "ORDER BY id DESC LIMIT 1",
            (model,),
        )
        return (rows[0][0], bytes(rows[0][1])) if rows else None

    def model_history(self, model: str) -> list[dict[str, Any]]:
        import json

        rows = self._read(
            "SELECT id, created_at, filename, role, decision FROM model_versions "
            "WHERE model = ? ORDER BY id",
            (model,),
        )
        keys = ("version", "created_at", "filename", "role")
        return [{**dict(zip(keys, r[:4], strict=True)), "decision": json.loads(r[4])} for r in rows]


class SQLiteStore(_SQLStore):
    """SQLite in WAL mode with ``synchronous=FULL``: one writer, concurrent readers."""

    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path
        self._memory = path == ":memory:"
        self._lock = threading.Lock()
        self._models = {}
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._conn = self._connect()
        self.migrate()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            check_same_thread=False,
            timeout=30,
            isolation_level="DEFERRED",
        )
        if not self._memory:
            # Switching a new file to WAL needs an exclusive lock, and SQLite answers
            # "locked" at once (no busy handler) when another process is opening the
            # same file: retry until the timeout.
            deadline = time.monotonic() + 30
            while True:
                try:
                    conn.execute("PRAGMA journal_mode=WAL")
                    break
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.02)
        conn.execute("PRAGMA synchronous=FULL")
        # Checkpoint the WAL every ~40 MB rather than 4 MB: batch ingest spends far less
        # time copying pages back; every commit is still fsynced to the WAL first.
        conn.execute("PRAGMA wal_autocheckpoint=10000")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def _writer(self) -> sqlite3.Connection:
        return self._conn

    def _lock_migrations(self, cur: Any) -> None:
        # The sqlite3 module runs DDL outside a transaction unless one is open: take
        # the write lock now, so the migration is atomic and a second process waits.
        if not cur.connection.in_transaction:
            cur.execute("BEGIN IMMEDIATE")

    def _reader(self) -> sqlite3.Connection:
        if self._memory:  # one in-memory database: read through the writer's connection
            return self._conn
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            conn.isolation_level = None  # autocommit: each read sees the latest commit
            self._local.conn = conn
            self._readers.append(conn)
        return conn

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self._memory:
            with self._lock:
                return self._conn.execute(sql, tuple(params)).fetchall()
        return super()._read(sql, params)

    def _insert_rows(
        self, cur: Any, model: str, rows: Sequence[tuple[Any, ...]], now: float
    ) -> int:
        # Multi-row INSERTs of INSERT_CHUNK rows: SQLite then binds and steps one
        # statement per chunk instead of one per row (1.2-2x less CPU per row than
        # executemany); rows are inserted in order, so the first of two rows with one
        # id still wins. An SQLite built with fewer bound values (999 before 3.32)
        # gets smaller chunks.
        chunk = min(INSERT_CHUNK, (cur.connection.getlimit(_VARIABLES) - 2) // 5)
        stored = 0
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            cur.execute(_values_sql(len(part)), (model, now, *chain.from_iterable(part)))
            stored += max(int(cur.rowcount), 0)
        return stored

    def integrity_check(self) -> str:
        return str(self._read("PRAGMA integrity_check")[0][0])

    def close(self) -> None:
        for conn in self._readers:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        self._conn.close()


INSERT_CHUNK = 500
"""Prediction rows per INSERT statement on SQLite (5 bound values a row)."""
_VARIABLES = sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER


@functools.lru_cache(maxsize=16)
def _values_sql(n: int) -> str:
    """``INSERT INTO predictions VALUES (...), ... ON CONFLICT DO NOTHING`` for ``n``
    rows; ``?1`` is the model and ``?2`` the receive time, shared by every row."""
    values = ",".join(
        "(?1,{},?2)".format(",".join(f"?{3 + 5 * j + k}" for k in range(5))) for j in range(n)
    )
    return f"INSERT INTO predictions VALUES {values} ON CONFLICT (model, id) DO NOTHING"


def open_store(url: str) -> Store:
    """Open (and migrate) the store at ``url``: ``sqlite:///path.db`` (a relative
    path), ``sqlite:////abs/path.db``, a plain file path, or ``postgresql://...``."""
    if url.startswith(("postgresql://", "postgres://")):
        from assay.service._postgres import PostgresStore

        return PostgresStore(url)
    if url.startswith("sqlite://"):
        path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
        if not path:
            raise ConfigError(f"store URL {url!r} names no file; use sqlite:///assay.db")
    elif "://" in url:
        raise ConfigError(
            f"store URL {url!r} is not supported; use sqlite:///FILE or postgresql://..."
        )
    else:
        path = url
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    return SQLiteStore(path)
