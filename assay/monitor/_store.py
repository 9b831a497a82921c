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
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from assay.errors import ConfigError

__all__ = ["MIGRATIONS", "ModelRecord", "Store", "open_store"]

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
)

DIALECTS = {
    "sqlite": {"blob": "BLOB", "serial": "INTEGER", "real": "REAL"},
    "postgres": {"blob": "BYTEA", "serial": "BIGSERIAL", "real": "DOUBLE PRECISION"},
}


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
    def add_alert(
        self, model: str, kind: str, window_start: str | None, message: str, details: str
    ) -> None: ...
    def has_alert(self, model: str, kind: str, window_start: str | None) -> bool: ...
    def list_alerts(self, model: str) -> list[dict[str, Any]]: ...
    def close(self) -> None: ...


class _SQLStore:
    """The queries, written once with ``?`` placeholders; subclasses give connections."""

    dialect = "sqlite"
    _lock: threading.Lock

    # -- connections (subclasses) --------------------------------------------
    def _writer(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _reader(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _sql(self, sql: str) -> str:
        return sql

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
        """Apply the migrations not yet applied; returns the schema version."""
        fill = DIALECTS[self.dialect]
        with self._write() as cur:
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
        rows = self._read("SELECT * FROM models WHERE name = ?", (name,))
        return self._model(rows[0]) if rows else None

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
        sql = self._sql(
            "INSERT INTO predictions VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (model, id) DO NOTHING"
        )
        with self._write() as cur:
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


class SQLiteStore(_SQLStore):
    """SQLite in WAL mode with ``synchronous=FULL``: one writer, concurrent readers."""

    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path
        self._memory = path == ":memory:"
        self._lock = threading.Lock()
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
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def _writer(self) -> sqlite3.Connection:
        return self._conn

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

    def integrity_check(self) -> str:
        return str(self._read("PRAGMA integrity_check")[0][0])

    def close(self) -> None:
        for conn in self._readers:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        self._conn.close()


def open_store(url: str) -> Store:
    """Open (and migrate) the store at ``url``: ``sqlite:///path.db`` (a relative
    path), ``sqlite:////abs/path.db``, a plain file path, or ``postgresql://...``."""
    if url.startswith(("postgresql://", "postgres://")):
        from assay.monitor._postgres import PostgresStore

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
