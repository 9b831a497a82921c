"""The store's part for the workbench (#18): audit jobs and the decisions people
record on an audit's next steps.

A mixin of :class:`~assay.service._store._SQLStore` (SQL written once with ``?``
placeholders, run on SQLite and PostgreSQL). An audit belongs to the token that
created it (``owner``: the token's lookup key, never the token); the job queue is
the ``audits`` table itself: a worker claims the oldest ``queued`` row by an
``UPDATE ... WHERE state = 'queued'`` that only one process can win.
Decisions are appended, never overwritten: the latest per step is the one shown.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

MIGRATION = (
    6,
    "workbench: audit jobs and the decisions recorded on their next steps",
    (
        """CREATE TABLE audits (
            id TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            created_at {real} NOT NULL,
            updated_at {real} NOT NULL,
            state TEXT NOT NULL,
            current_check TEXT,
            done_checks INTEGER NOT NULL DEFAULT 0,
            total_checks INTEGER NOT NULL DEFAULT 0,
            reason TEXT,
            spec TEXT NOT NULL,
            files TEXT NOT NULL,
            cancel_requested INTEGER NOT NULL DEFAULT 0,
            holder TEXT,
            started_at {real},
            finished_at {real}
        )""",
        "CREATE INDEX audits_queue ON audits (state, created_at)",
        "CREATE INDEX audits_owner ON audits (owner, created_at)",
        """CREATE TABLE audit_decisions (
            id {serial} PRIMARY KEY,
            audit_id TEXT NOT NULL REFERENCES audits(id),
            check_id TEXT NOT NULL,
            decision TEXT NOT NULL,
            comment TEXT NOT NULL,
            who TEXT NOT NULL,
            token_id TEXT NOT NULL,
            decided_at {real} NOT NULL
        )""",
        "CREATE INDEX audit_decisions_audit ON audit_decisions (audit_id, id)",
    ),
)

STATES = ("queued", "running", "done", "failed", "cancelled")
_COLUMNS = (
    "id, owner, created_at, updated_at, state, current_check, done_checks, total_checks, "
    "reason, spec, files, cancel_requested, started_at, finished_at"
)


@dataclass(frozen=True)
class AuditJob:
    """One workbench audit: who asked (``owner``, a token key), its state and progress,
    the spec and the stored files (random names inside the workbench folder)."""

    id: str
    owner: str
    created_at: float
    updated_at: float
    state: str
    current_check: str | None
    done: int
    total: int
    reason: str | None
    spec: dict[str, Any]
    files: dict[str, Any]
    cancel_requested: bool
    started_at: float | None
    finished_at: float | None


def _job(r: tuple[Any, ...]) -> AuditJob:
    return AuditJob(
        r[0],
        r[1],
        float(r[2]),
        float(r[3]),
        r[4],
        r[5],
        int(r[6]),
        int(r[7]),
        r[8],
        json.loads(r[9]),
        json.loads(r[10]),
        bool(r[11]),
        None if r[12] is None else float(r[12]),
        None if r[13] is None else float(r[13]),
    )


class WorkbenchSQL:
    """Queries for workbench audits (mixed into the SQL store)."""

    if TYPE_CHECKING:  # provided by _SQLStore, which mixes this class in

        def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...
        def _write(self) -> AbstractContextManager[Any]: ...
        def _sql(self, sql: str) -> str: ...

    def add_audit(
        self, audit_id: str, owner: str, spec: dict[str, Any], files: dict[str, Any]
    ) -> None:
        now = time.time()
        with self._write() as cur:
            cur.execute(
                self._sql(
                    "INSERT INTO audits (id, owner, created_at, updated_at, state, spec, files) "
                    "VALUES (?, ?, ?, ?, 'queued', ?, ?)"
                ),
                (audit_id, owner, now, now, json.dumps(spec), json.dumps(files)),
            )

    def get_audit(self, audit_id: str) -> AuditJob | None:
        rows = self._read(f"SELECT {_COLUMNS} FROM audits WHERE id = ?", (audit_id,))
        return _job(rows[0]) if rows else None

    def list_audits(self, owner: str | None, limit: int = 50) -> list[AuditJob]:
        """The newest audits of ``owner`` (every owner's when ``None``)."""
        where, params = ("WHERE owner = ? ", (owner, limit)) if owner else ("", (limit,))
        rows = self._read(
            f"SELECT {_COLUMNS} FROM audits {where}ORDER BY created_at DESC, id LIMIT ?", params
        )
        return [_job(r) for r in rows]

    def claim_audit(self, holder: str) -> AuditJob | None:
        """Take the oldest queued audit for ``holder`` (``None`` when none waits). Two
        processes never take the same one: the update re-checks ``state``."""
        now = time.time()
        with self._write() as cur:
            cur.execute(
                "SELECT id FROM audits WHERE state = 'queued' ORDER BY created_at, id LIMIT 1"
            )
            row = cur.fetchone()
            if row is None:
                return None
            cur.execute(
                self._sql(
                    "UPDATE audits SET state = 'running', holder = ?, started_at = ?, "
                    "updated_at = ? WHERE id = ? AND state = 'queued'"
                ),
                (holder, now, now, row[0]),
            )
            if cur.rowcount != 1:
                return None
        return self.get_audit(row[0])

    def audit_progress(self, audit_id: str, check: str, done: int, total: int) -> bool:
        """Record the check now running; returns whether cancelling was asked."""
        with self._write() as cur:
            cur.execute(
                self._sql(
                    "UPDATE audits SET current_check = ?, done_checks = ?, total_checks = ?, "
                    "updated_at = ? WHERE id = ?"
                ),
                (check, done, total, time.time(), audit_id),
            )
            cur.execute(
                self._sql("SELECT cancel_requested FROM audits WHERE id = ?"),
                (audit_id,),
            )
            row = cur.fetchone()
        return bool(row and row[0])

    def finish_audit(self, audit_id: str, state: str, reason: str | None = None) -> None:
        if state not in STATES:
            raise ValueError(f"state must be one of {', '.join(STATES)}, not {state!r}")
        now = time.time()
        with self._write() as cur:
            cur.execute(
                self._sql(
                    "UPDATE audits SET state = ?, reason = ?, current_check = NULL, "
                    "updated_at = ?, finished_at = ? WHERE id = ?"
                ),
                (state, reason, now, now, audit_id),
            )

    def cancel_audit(self, audit_id: str) -> str | None:
        """Cancel: a queued audit at once, a running one at its next check. Returns the
        state after the request (``None``: no such audit)."""
        now = time.time()
        with self._write() as cur:
            cur.execute(
                self._sql(
                    "UPDATE audits SET state = 'cancelled', reason = 'cancelled before it "
                    "started', updated_at = ?, finished_at = ? WHERE id = ? AND state = 'queued'"
                ),
                (now, now, audit_id),
            )
            cur.execute(
                self._sql(
                    "UPDATE audits SET cancel_requested = 1, updated_at = ? "
                    "WHERE id = ? AND state = 'running'"
                ),
                (now, audit_id),
            )
            cur.execute(
                self._sql("SELECT state FROM audits WHERE id = ?"),
                (audit_id,),
            )
            row = cur.fetchone()
        return row[0] if row else None

    def requeue_stale_audits(self, older_than: float) -> int:
        """Audits left ``running`` by a process that died (no progress since
        ``older_than``) are marked failed, saying so."""
        now = time.time()
        with self._write() as cur:
            cur.execute(
                self._sql(
                    "UPDATE audits SET state = 'failed', reason = 'the server stopped while "
                    "this audit ran; start it again', current_check = NULL, updated_at = ?, "
                    "finished_at = ? WHERE state = 'running' AND updated_at < ?"
                ),
                (now, now, older_than),
            )
            return int(cur.rowcount or 0)

    def add_decision(
        self, audit_id: str, check_id: str, decision: str, comment: str, who: str, token_id: str
    ) -> float:
        now = time.time()
        with self._write() as cur:
            cur.execute(
                self._sql(
                    "INSERT INTO audit_decisions (audit_id, check_id, decision, comment, who, "
                    "token_id, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                ),
                (audit_id, check_id, decision, comment, who, token_id, now),
            )
        return now

    def list_decisions(self, audit_id: str) -> list[dict[str, Any]]:
        """Every decision on ``audit_id``, oldest first."""
        rows = self._read(
            "SELECT check_id, decision, comment, who, decided_at FROM audit_decisions "
            "WHERE audit_id = ? ORDER BY id",
            (audit_id,),
        )
        return [
            {"check_id": r[0], "decision": r[1], "comment": r[2], "who": r[3], "at": float(r[4])}
            for r in rows
        ]
