"""The store's part for scheduled evaluation: stored window results (with a record
of every change late data made to a closed window), the scheduler's policy state
per model and window size, retention deletes, and a liveness probe.

A mixin of :class:`~assay.service._store._SQLStore`: the SQL is written once with
``?`` placeholders and runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

MIGRATION = (
    4,
    "scheduled evaluation: window results, their changes, scheduler state, delivery times",
    (
        """CREATE TABLE window_results (
            model TEXT NOT NULL REFERENCES models(name),
            size TEXT NOT NULL,
            wkey {real} NOT NULL,
            start_iso TEXT NOT NULL,
            end_ts {real} NOT NULL,
            fingerprint TEXT NOT NULL,
            revision INTEGER NOT NULL,
            result TEXT NOT NULL,
            computed_at {real} NOT NULL,
            PRIMARY KEY (model, size, wkey)
        )""",
        """CREATE TABLE window_changes (
            id {serial} PRIMARY KEY,
            model TEXT NOT NULL,
            size TEXT NOT NULL,
            wkey {real} NOT NULL,
            changed_at {real} NOT NULL,
            revision INTEGER NOT NULL,
            before TEXT NOT NULL
        )""",
        """CREATE TABLE schedules (
            model TEXT NOT NULL REFERENCES models(name),
            size TEXT NOT NULL,
            state_json TEXT NOT NULL,
            updated_at {real} NOT NULL,
            PRIMARY KEY (model, size)
        )""",
        "ALTER TABLE outbox ADD COLUMN delivered_at {real}",
        "CREATE INDEX outbox_status ON outbox (status, id)",
    ),
)


LEASE_MIGRATION = (
    5,
    "leases (one process evaluates a model, or delivers, at a time); the change log",
    (
        """CREATE TABLE leases (
            name TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            expires_at {real} NOT NULL
        )""",
        """CREATE TABLE changes (
            id {counter},
            model TEXT NOT NULL,
            lo {real},
            hi {real}
        )""",
        "CREATE INDEX changes_model ON changes (model, id)",
    ),
)


CLAIM_MIGRATION = (
    8,
    "outbox claims (one process delivers an action at a time); the order windows were stored",
    (
        "ALTER TABLE outbox ADD COLUMN claimed_by TEXT",
        "ALTER TABLE outbox ADD COLUMN claimed_until {real}",
        "ALTER TABLE window_results ADD COLUMN seq INTEGER",
        "CREATE INDEX window_results_seq ON window_results (model, size, seq)",
    ),
)
"""``claimed_by``/``claimed_until``: the process delivering a pending action and until
when (renewed while it delivers); ``seq``: a window result's place in the order
results of its model and size were stored, so the scheduler finds every result
stored since it last judged (a backfilled window included)."""


class WindowResultsSQL:
    """Queries for scheduled evaluation (mixed into the SQL store)."""

    dialect: str

    if TYPE_CHECKING:  # provided by _SQLStore, which mixes this class in

        def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...
        def _write(self) -> AbstractContextManager[Any]: ...
        def _sql(self, sql: str) -> str: ...

    def _bucket(self) -> str:
        # the time bucket of a row: floor(ts / n); ts is positive, so SQLite's
        # truncating CAST is a floor; PostgreSQL's CAST rounds, so FLOOR first
        if self.dialect == "postgres":
            return "CAST(FLOOR(p.ts / ?) AS BIGINT)"
        return "CAST(p.ts / ? AS INTEGER)"

    def ping(self) -> bool:
        """Whether the store answers a query now."""
        return self._read("SELECT 1")[0][0] == 1

    def time_fingerprints(
        self, model: str, seconds: int, start: float | None = None, end: float | None = None
    ) -> dict[int, str]:
        """Per time bucket of ``seconds`` (with ``start <= ts < end`` when given): rows,
        labeled rows and the last times a row or a label arrived, as text (a changed
        value means late data changed it)."""
        where, params = "", [seconds, model]
        if start is not None and end is not None:
            where, params = " AND p.ts >= ? AND p.ts < ?", [*params, start, end]
        rows = self._read(
            f"SELECT {self._bucket()} AS b, COUNT(*), COUNT(l.id), MAX(p.received_at), "
            "MAX(l.received_at), COUNT(d.id), MAX(d.received_at), COUNT(c.id), "
            "MAX(c.received_at) FROM predictions p LEFT JOIN labels l "
            "ON l.model = p.model AND l.id = p.id LEFT JOIN human_decisions d "
            "ON d.model = p.model AND d.id = p.id LEFT JOIN challenger_predictions c "
            f"ON c.model = p.model AND c.id = p.id WHERE p.model = ?{where} GROUP BY b",
            params,
        )
        out = {}
        for r in rows:  # decisions and challenger rows (#17) count only where there are some
            extra = f":{r[5]}:{r[6]!r}:{r[7]}:{r[8]!r}" if r[5] or r[7] else ""
            out[int(r[0])] = f"{r[1]}:{r[2]}:{r[3]!r}:{r[4]!r}{extra}"
        return out

    def load_span(self, model: str, start: float, end: float) -> list[tuple[Any, ...]]:
        """Rows with ``start <= ts < end`` as :meth:`load_predictions` gives them."""
        return self._read(
            "SELECT p.id, p.ts, p.features, p.prediction, p.score, l.label FROM predictions p "
            "LEFT JOIN labels l ON l.model = p.model AND l.id = p.id "
            "WHERE p.model = ? AND p.ts >= ? AND p.ts < ? ORDER BY p.ts, p.id",
            (model, start, end),
        )

    def window_fingerprints(self, model: str, size: str) -> dict[float, str]:
        rows = self._read(
            "SELECT wkey, fingerprint FROM window_results WHERE model = ? AND size = ?",
            (model, size),
        )
        return {float(r[0]): r[1] for r in rows}

    def row_window_spans(self, model: str, size: str) -> list[tuple[float, float]]:
        """``(key, end)`` of every stored window of ``size``, in key order (for a row
        window: the first and last timestamps it closed with)."""
        rows = self._read(
            "SELECT wkey, end_ts FROM window_results WHERE model = ? AND size = ? ORDER BY wkey",
            (model, size),
        )
        return [(float(r[0]), float(r[1])) for r in rows]

    def put_window(
        self,
        model: str,
        size: str,
        wkey: float,
        end_ts: float,
        fingerprint: str,
        result: dict[str, Any],
    ) -> int:
        """Store a closed window's result; a result already stored is replaced and
        the one it replaces kept in ``window_changes``. Returns the revision (1 for
        the first result)."""
        now = time.time()
        with self._write() as cur:
            cur.execute(
                self._sql(
                    "SELECT COALESCE(MAX(seq), 0) FROM window_results WHERE model = ? AND size = ?"
                ),
                (model, size),
            )
            seq = int(cur.fetchone()[0]) + 1
            cur.execute(
                self._sql(
                    "SELECT revision, result FROM window_results "
                    "WHERE model = ? AND size = ? AND wkey = ?"
                ),
                (model, size, wkey),
            )
            old = cur.fetchone()
            revision = 1 if old is None else int(old[0]) + 1
            stored = {**result, "revision": revision, "computed_at": now}
            if old is not None:
                cur.execute(
                    self._sql(
                        "INSERT INTO window_changes (model, size, wkey, changed_at, revision, "
                        "before) VALUES (?, ?, ?, ?, ?, ?)"
                    ),
                    (model, size, wkey, now, revision, old[1]),
                )
            cur.execute(
                self._sql(
                    "INSERT INTO window_results (model, size, wkey, start_iso, end_ts, "
                    "fingerprint, revision, result, computed_at, seq) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (model, size, wkey) DO UPDATE SET end_ts = excluded.end_ts, "
                    "start_iso = excluded.start_iso, fingerprint = excluded.fingerprint, "
                    "revision = excluded.revision, result = excluded.result, "
                    "computed_at = excluded.computed_at, seq = excluded.seq"
                ),
                (
                    model,
                    size,
                    wkey,
                    str(result["start"]),
                    end_ts,
                    fingerprint,
                    revision,
                    json.dumps(stored),
                    now,
                    seq,
                ),
            )
        return revision

    def window_seq(self, model: str, size: str) -> int:
        """The ``seq`` of the result of ``size`` windows stored last (0: none yet)."""
        rows = self._read(
            "SELECT COALESCE(MAX(seq), 0) FROM window_results WHERE model = ? AND size = ?",
            (model, size),
        )
        return int(rows[0][0])

    def revised_windows(
        self, model: str, size: str, after_seq: int, upto_start: str
    ) -> list[tuple[float, dict[str, Any]]]:
        """``(wkey, result)`` of the results stored after ``after_seq`` for windows that
        start no later than ``upto_start`` (windows the policy had judged, or passed
        over when they had no rows, that late data changed since), oldest first."""
        rows = self._read(
            "SELECT wkey, result FROM window_results WHERE model = ? AND size = ? "
            "AND seq > ? AND start_iso <= ? ORDER BY wkey",
            (model, size, after_seq, upto_start),
        )
        return [(float(r[0]), json.loads(r[1])) for r in rows]

    def windows_around(
        self, model: str, size: str, wkey: float, before: int, after: int
    ) -> list[tuple[float, dict[str, Any]]]:
        """``(wkey, result)`` of up to ``before`` stored windows before ``wkey``, the one
        at ``wkey`` and up to ``after`` after it, oldest first."""
        head = self._read(
            "SELECT wkey, result FROM window_results WHERE model = ? AND size = ? "
            "AND wkey < ? ORDER BY wkey DESC LIMIT ?",
            (model, size, wkey, before),
        )
        tail = self._read(
            "SELECT wkey, result FROM window_results WHERE model = ? AND size = ? "
            "AND wkey >= ? ORDER BY wkey LIMIT ?",
            (model, size, wkey, after + 1),
        )
        return [(float(r[0]), json.loads(r[1])) for r in [*reversed(head), *tail]]

    def window_results(
        self, model: str, size: str, limit: int = 24, after: str | None = None
    ) -> list[dict[str, Any]]:
        """Stored results of ``size`` windows, oldest first: the latest ``limit``,
        or (``after``) every one starting after that ISO time, oldest first."""
        if after is not None:
            rows = self._read(
                "SELECT result FROM window_results WHERE model = ? AND size = ? "
                "AND start_iso > ? ORDER BY wkey",
                (model, size, after),
            )
            return [json.loads(r[0]) for r in rows]
        rows = self._read(
            "SELECT result FROM window_results WHERE model = ? AND size = ? "
            "ORDER BY wkey DESC LIMIT ?",
            (model, size, limit),
        )
        return [json.loads(r[0]) for r in reversed(rows)]

    def window_changes(self, model: str, size: str) -> list[dict[str, Any]]:
        """Every replaced result (late data), oldest first."""
        rows = self._read(
            "SELECT wkey, changed_at, revision, before FROM window_changes "
            "WHERE model = ? AND size = ? ORDER BY id",
            (model, size),
        )
        keys = ("wkey", "changed_at", "revision")
        return [{**dict(zip(keys, r[:3], strict=True)), "before": json.loads(r[3])} for r in rows]

    def schedule_state(self, model: str, size: str) -> dict[str, Any] | None:
        rows = self._read(
            "SELECT state_json FROM schedules WHERE model = ? AND size = ?", (model, size)
        )
        return json.loads(rows[0][0]) if rows else None

    def record_evaluation(
        self,
        model: str,
        size: str,
        state: dict[str, Any],
        alerts: Sequence[tuple[str, str, str | None, str, str]],
        actions: Sequence[tuple[str, str, str]],
    ) -> int:
        """In one transaction: store the alerts (a known alert id is left as it is),
        queue each action once, save the scheduler's state. Returns the new alerts."""
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
                added = max(int(cur.rowcount), 0)
                new += added
                if not added:
                    continue  # an alert already stored had its actions queued then
                for a_id, action, payload in actions:
                    if a_id != alert_id:
                        continue
                    cur.execute(
                        self._sql(
                            "INSERT INTO outbox (model, alert_id, action, payload, status, "
                            "attempts, last_error, created_at, updated_at) VALUES "
                            "(?, ?, ?, ?, 'pending', 0, NULL, ?, ?) "
                            "ON CONFLICT (model, alert_id, action) DO NOTHING"
                        ),
                        (model, alert_id, action, payload, now, now),
                    )
            cur.execute(
                self._sql(
                    "INSERT INTO schedules VALUES (?, ?, ?, ?) ON CONFLICT (model, size) "
                    "DO UPDATE SET state_json = excluded.state_json, "
                    "updated_at = excluded.updated_at"
                ),
                (model, size, json.dumps(state), now),
            )
        return new

    def changes_since(self, model: str, after: int) -> list[tuple[int, Any, Any]]:
        """``(id, lowest ts, highest ts)`` of what was stored for ``model`` after change
        ``after`` (``None`` bounds: labels, which may touch any window)."""
        return self._read(
            "SELECT id, lo, hi FROM changes WHERE model = ? AND id > ? ORDER BY id",
            (model, after),
        )

    def forget_changes(self, model: str, upto: int) -> None:
        with self._write() as cur:
            cur.execute(
                self._sql("DELETE FROM changes WHERE model = ? AND id <= ?"),
                (model, upto),
            )

    def take_lease(self, name: str, holder: str, ttl_s: float) -> bool:
        """Take or renew the lease ``name`` for ``ttl_s`` seconds; ``True`` when
        ``holder`` holds it now (it was free, expired, or already its own). A process
        killed while holding a lease loses it when it expires."""
        now = time.time()
        with self._write() as cur:
            cur.execute(
                self._sql(
                    "INSERT INTO leases VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                    "holder = excluded.holder, expires_at = excluded.expires_at "
                    "WHERE leases.holder = excluded.holder OR leases.expires_at < ?"
                ),
                (name, holder, now + ttl_s, now),
            )
            return int(cur.rowcount) == 1

    def claimable_actions(self, limit: int = 20) -> list[tuple[Any, ...]]:
        """Pending outbox rows no live process is delivering now, oldest first, as
        ``(row_id, model, alert_id, action, payload_json, attempts)``."""
        return self._read(
            "SELECT id, model, alert_id, action, payload, attempts FROM outbox "
            "WHERE status = 'pending' AND (claimed_until IS NULL OR claimed_until < ?) "
            "ORDER BY id LIMIT ?",
            (time.time(), limit),
        )

    def claim_action(self, row_id: int, holder: str, ttl_s: float) -> bool:
        """Claim (or renew ``holder``'s claim on) a pending outbox row for ``ttl_s``
        seconds; ``True`` when ``holder`` may deliver it now. A row claimed by another
        process is free again only when its claim expires (that process died)."""
        now = time.time()
        with self._write() as cur:
            cur.execute(
                self._sql(
                    "UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id = ? "
                    "AND status = 'pending' AND (claimed_by = ? OR claimed_until IS NULL "
                    "OR claimed_until < ?)"
                ),
                (holder, now + ttl_s, row_id, holder, now),
            )
            return int(cur.rowcount) == 1

    def finish_claimed(
        self,
        row_id: int,
        holder: str,
        status: str,
        error: str | None,
        retry_at: float | None = None,
    ) -> bool:
        """Mark a row ``holder`` claimed ``done``, ``failed`` or ``pending`` (one more
        round, sent again from ``retry_at`` on, by any process); ``False`` when the row
        is no longer its claim."""
        now = time.time()
        with self._write() as cur:
            cur.execute(
                self._sql(
                    "UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ?, "
                    "updated_at = ?, delivered_at = ?, claimed_until = ? WHERE id = ? "
                    "AND status = 'pending' AND claimed_by = ?"
                ),
                (status, error, now, now if status == "done" else None, retry_at, row_id, holder),
            )
            return int(cur.rowcount) == 1

    def outbox_counts(self) -> dict[str, int]:
        """Outbox rows by status (``pending``, ``done``, ``failed``)."""
        rows = self._read("SELECT status, COUNT(*) FROM outbox GROUP BY status")
        return {str(r[0]): int(r[1]) for r in rows}

    def delete_old_predictions(self, model: str, before: float, batch: int = 5000) -> int:
        """Delete up to ``batch`` of ``model``'s prediction rows (and their labels)
        with a timestamp before ``before``, in one short transaction; returns how
        many. Window results and alerts are kept."""
        pick = "SELECT id FROM predictions WHERE model = ? AND ts < ? ORDER BY ts LIMIT ?"
        with self._write() as cur:
            for table in ("labels", "human_decisions", "challenger_predictions"):
                cur.execute(
                    self._sql(f"DELETE FROM {table} WHERE model = ? AND id IN ({pick})"),
                    (model, model, before, batch),
                )
            cur.execute(
                self._sql(f"DELETE FROM predictions WHERE model = ? AND id IN ({pick})"),
                (model, model, before, batch),
            )
            return max(int(cur.rowcount), 0)
