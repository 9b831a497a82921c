"""The scheduler: judges every model's windows as they close, with no request.

Each model is judged on the window its policy names (``window: 1d``, ``6h``,
``1000rows``; the operator's ``default_window`` when it names none, 1d by
default). A time window closes at its end plus the policy's ``grace`` (late data
still counts until then; default 5 minutes); a row window closes when it holds
its count (in timestamp order, with the rows that share its last timestamp), and
then keeps its place: a late row no later than the last closed row window's end
joins the closed window whose span it falls in (from its start to the next one's),
which is computed again like a late time window, and no other window moves
(:func:`assay.service._windows.cut_row_windows`). On every tick
(``Settings.evaluate_every_s``, 5 s by default) the scheduler:

1. computes each newly closed window (drift per column, prediction drift,
   realized and estimated performance) and stores the result; a stored window
   whose rows changed since (late data, labels) is computed again, at most once per
   ``recompute_every_s`` (60 s), and the result it replaces is kept in
   ``window_changes``;
2. evaluates the policy over the stored windows it has not yet seen, from its
   stored state; a window it had already passed whose result was stored again since
   (late data after the grace period, or the first rows of a window that had none:
   every stored result is numbered, ``seq``, and the state keeps the last one seen)
   is judged again by replaying the policy around it (:meth:`Scheduler._rejudge`).
   In one transaction it stores the new alerts, queues their
   actions in the outbox and saves the state; a crash before that transaction
   means the next tick does it again (alert ids are deterministic, so nothing is
   stored twice), a crash after it means the actions are delivered from the
   outbox after the restart;
3. deletes raw prediction rows older than the retention period (the policy's
   ``retention``, else the operator's ``--retention``), whole windows at a time,
   in short batches; window results and alerts are kept.

Reading windows (``GET .../windows``) returns the stored results; it evaluates
nothing.

Several processes may share a PostgreSQL store (``assay serve --workers N``, or
separate servers): each model's evaluation is leased (``leases`` table) to one
process at a time, renewed every tick and expiring after three ticks (at least
10 s), so the models of a killed process are taken over. The outbox is delivered
by one process at a time the same way. SQLite is written by one process; it takes
no leases.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from assay.monitoring.policy import parse_window
from assay.service._records import TIMESTAMP_MIN, in_range
from assay.service._store import ModelRecord
from assay.service._windows import cut_row_windows, span, window_item

log = logging.getLogger("assay.service.scheduler")

MAX_WINDOWS_PER_TICK = 50
"""The most windows one tick computes per model (the rest wait for the next tick)."""
RETENTION_BATCH = 5000
"""Rows deleted per retention transaction."""
LEASE_MIN_S = 10.0
"""The shortest lease on a model's evaluation (else three ticks): a killed process's
models are taken over by another within it."""
FULL_LOOK_S = 60.0
"""How often a tick looks at every window of a model, not only those ingest changed."""


def _row_fingerprint(rows: list[tuple[Any, ...]]) -> str:
    h = hashlib.sha1(usedforsecurity=False)
    for r in rows:
        h.update(f"{r[0]}\x00{r[5]}\x01".encode())
    return h.hexdigest()


class Scheduler:
    """Judges closed windows and applies retention in a background thread.

    ``run_once(now)`` does one tick synchronously (tests pass ``now``)."""

    def __init__(
        self,
        store: Any,
        settings: Any,
        dispatcher: Any = None,
        *,
        metrics: Any = None,
        clock: Callable[[], float] = time.time,
        holder: str | None = None,
    ) -> None:
        self.store, self.settings, self.dispatcher = store, settings, dispatcher
        self.holder = holder or holder_id()
        # several processes share a PostgreSQL store: one evaluates a model at a time
        self.leased = getattr(store, "dialect", "sqlite") == "postgres"
        self.metrics = metrics
        self.clock = clock
        self._lock = threading.Lock()
        # so a tick reads only what changed since the last look:
        self._change_id: dict[str, int] = {}  # model -> last change log id read
        self._full_at: dict[tuple[str, str], float] = {}  # last full look (monotonic)
        self._closed: dict[tuple[str, str], int] = {}  # time buckets closed at the last look
        self._pending: dict[tuple[str, str], set[float]] = {}  # changed, not yet computed
        self._cutoffs: dict[tuple[str, str], float] = {}
        self._computed: dict[tuple[str, str, float], float] = {}  # monotonic time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_tick: float | None = None

    # -- the thread ----------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None and self.settings.evaluate_every_s > 0:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="assay-scheduler", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception as exc:  # a store outage: try again on the next tick
                log.warning("scheduler tick failed: %s: %s", type(exc).__name__, exc)
            self._stop.wait(self.settings.evaluate_every_s)

    # -- what changed -------------------------------------------------------------------
    def _take(self, model: str, key: tuple[str, str]) -> tuple[list[float] | None, bool]:
        """``(changed ts range, look at everything?)`` from the store's change log
        since the last look (ingest writes it in the same transaction as the rows, so
        a change made through any process is seen). Everything is looked at on the
        first look, after labels, and every ``FULL_LOOK_S``."""
        after = self._change_id.get(model, 0)
        rows = self.store.changes_since(model, after)
        change: list[float] | None = None
        full = False
        for _id, lo, hi in rows:
            if lo is None or hi is None:
                full = True
            elif change is None:
                change = [float(lo), float(hi)]
            else:
                change = [min(change[0], float(lo)), max(change[1], float(hi))]
        if rows:
            self._change_id[model] = int(rows[-1][0])
            self.store.forget_changes(model, int(rows[-1][0]))
        last = self._full_at.get(key)
        full = full or last is None or time.monotonic() - last >= FULL_LOOK_S
        return change, full

    # -- one tick --------------------------------------------------------------------
    def run_once(self, now: float | None = None) -> int:
        """Judge every model's closed windows; returns how many alerts were new."""
        now = self.clock() if now is None else now
        new = 0
        with self._lock:
            for model in self.store.list_models():
                if self._stop.is_set():
                    break
                try:
                    new += self._model(model, now)
                except Exception:
                    self._full_at.clear()  # what was taken is lost: look at everything next
                    if self.metrics is not None:
                        self.metrics.evaluation_errors.inc()
                    raise
        self.last_tick = now
        if new and self.dispatcher is not None:
            self.dispatcher.notify()
        return new

    def policy_of(self, model: str) -> tuple[Any, bool]:
        """``(policy, stored?)`` of ``model`` (the default policy when it has none)."""
        from assay.service._policies import load_stored, stored_policy

        data, _, stored = load_stored(self.store, model)
        return stored_policy(data), stored

    def window_of(self, policy: Any) -> str:
        return policy.window or self.settings.default_window

    def _model(self, model: ModelRecord, now: float) -> int:
        if self.leased:
            ttl = max(LEASE_MIN_S, 3.0 * self.settings.evaluate_every_s)
            if not self.store.take_lease(f"evaluate:{model.name}", self.holder, ttl):
                for key in [k for k in self._full_at if k[0] == model.name]:
                    del self._full_at[key]  # when it comes back here: look at everything
                return 0  # another process evaluates this model now
        policy, _ = self.policy_of(model.name)
        size = self.window_of(policy)
        kind, n = parse_window(size)
        if kind == "time":
            self._close_time(model, size, n, policy.grace_s, now)
        else:
            self._close_rows(model, size, n)
        new = self._evaluate(model, size, policy)
        self._retain(model, size, kind, n, policy, now)
        return new

    def _close_time(self, model: ModelRecord, size: str, n: int, grace: float, now: float) -> None:
        key = (model.name, size)
        closed_upto = int((now - grace) // n)  # buckets below this have closed
        change, full = self._take(model.name, key)
        before = self._closed.get(key)
        pending = self._pending.get(key, set())
        if not full and change is None and before == closed_upto and not pending:
            return  # nothing arrived and no window closed since the last look
        # Only closed buckets are judged, so the open one (where live ingest lands) is
        # never fingerprinted: its rows would be counted on every tick for nothing.
        have = self.store.window_fingerprints(model.name, size)
        held: set[int] = set()
        if full:
            fps = self.store.time_fingerprints(model.name, n, TIMESTAMP_MIN, closed_upto * n)
        else:  # only the buckets that changed, newly closed or still waiting
            spans = [int(b) for b in pending]
            if change is not None:
                spans += [int(change[0] // n), int(change[1] // n)]
            if before is not None and before < closed_upto:
                spans += [before - 1, closed_upto - 1]
            if not spans or min(spans) >= closed_upto:
                self._closed[key] = closed_upto
                return
            lo, hi = min(spans), min(max(spans), closed_upto - 1)
            # A stored window computed less than recompute_every_s ago waits anyway: at
            # the ends of the span it is kept pending without being counted again, so a
            # backfill into a closed window costs no GROUP BY over it on every tick.
            held = {int(k) for k in have if lo <= k <= hi and self._throttled(*key, k, have)}
            while lo <= hi and lo in held:
                lo += 1
            while hi >= lo and hi in held:
                hi -= 1
            held = {b for b in held if not lo <= b <= hi}
            if lo > hi:
                self._pending[key] = pending | {float(b) for b in held}
                self._closed[key] = closed_upto
                return
            fps = self.store.time_fingerprints(model.name, n, lo * n, (hi + 1) * n)
        cutoff = self._cutoff(model.name, size)
        todo = [
            b
            for b in sorted(fps)
            if b < closed_upto
            and in_range(b * n)
            and have.get(float(b)) != fps[b]
            and not (cutoff is not None and b * n < cutoff and float(b) in have)
        ]
        waiting = {float(b) for b in todo if self._throttled(model.name, size, float(b), have)}
        todo = [b for b in todo if float(b) not in waiting]
        for b in todo[:MAX_WINDOWS_PER_TICK]:
            start, end = b * n, b * n + n
            rows = self.store.load_span(model.name, start, end)
            if rows:
                self._store(model, size, float(b), end, fps[b], rows, start, end)
        later = {float(b) for b in [*todo[MAX_WINDOWS_PER_TICK:], *held]}
        self._pending[key] = waiting | later
        self._closed[key] = closed_upto
        if full:
            self._full_at[key] = time.monotonic()

    def _throttled(self, model: str, size: str, key: float, have: dict) -> bool:
        """Whether a stored window that late data changed waits before it is computed
        again (at most once per ``recompute_every_s``: a backfill into a closed window
        is not recomputed on every tick)."""
        if key not in have:
            return False
        last = self._computed.get((model, size, key))
        wait = self.settings.recompute_every_s
        return last is not None and time.monotonic() - last < wait

    def _close_rows(self, model: ModelRecord, size: str, n: int) -> None:
        """Store each newly filled row window, and compute again a stored one that late
        rows or labels changed (see :func:`cut_row_windows`: a closed row window keeps
        its place, late rows join it)."""
        key = (model.name, size)
        change, full = self._take(model.name, key)
        pending = self._pending.get(key, set())
        if not full and change is None and not pending:
            return
        spans = self.store.row_window_spans(model.name, size)
        since = None
        if not full and spans:  # from the earliest stored window the change touches
            lo = min([*([change[0]] if change is not None else []), *pending])
            at = bisect.bisect_right([k for k, _ in spans], lo) - 1
            since = spans[at][0] if at > 0 else None
            spans = spans[max(at, 0) :]
        rows = self.store.load_predictions(model.name, since)
        old, new, _filling = cut_row_windows(rows, n, spans)
        have = self.store.window_fingerprints(model.name, size)
        todo = [(k, w) for k, w in sorted(old.items()) if have.get(k) != _row_fingerprint(w)]
        todo += [(float(w[0][1]), w) for w in new]
        done, waiting = 0, set()
        for wkey, w in todo:
            if self._throttled(model.name, size, wkey, have) or done == MAX_WINDOWS_PER_TICK:
                waiting.add(wkey)
                continue
            start, end = span("rows", n, w)
            if wkey in have:  # a stored window keeps the start it closed with
                start = wkey
            self._store(model, size, wkey, end, _row_fingerprint(w), w, start, end)
            done += 1
        self._pending[key] = waiting
        if full:
            self._full_at[key] = time.monotonic()

    def _store(self, model, size, key, end_ts, fp, rows, start, end) -> None:
        t0 = time.perf_counter()
        item = window_item(model, rows, start, end, self.settings.seed, self.store)
        revision = self.store.put_window(model.name, size, key, end_ts, fp, item)
        self._computed[(model.name, size, key)] = time.monotonic()
        if self.metrics is not None:
            self.metrics.window_evaluated(model.name, item, time.perf_counter() - t0, revision)
        if revision > 1:
            log.info("window %s of %s changed (late data), revision %d", key, model.name, revision)

    def _evaluate(self, model: ModelRecord, size: str, policy: Any) -> int:
        from assay.monitoring.policy import PolicyState, advance
        from assay.service._policies import window_metrics

        state = self.store.schedule_state(model.name, size)
        seq = self.store.window_seq(model.name, size)  # read first: later results wait
        last = (state or {}).get("last_start")
        fired: list[Any] = []
        st = PolicyState.from_dict(state or {})
        if state is None or last is None:
            windows = self.store.window_results(model.name, size, self.settings.max_windows)
        else:
            windows = self.store.window_results(model.name, size, after=str(last))
            if "seq" in state:  # a state saved before results were numbered: from now on
                fired, st = self._rejudge(model.name, size, policy, st, int(state["seq"]))
        evaluated = [{"start": w["start"], "end": w["end"], **window_metrics(w)} for w in windows]
        more, st = advance(policy, evaluated, st)
        fired += more
        new_state = {**st.to_dict(), "seq": seq}
        if not fired and state == new_state:
            return 0
        commands = self.dispatcher.commands_for(model.name) if self.dispatcher else ()
        alerts, actions = [], []
        for a in fired:
            payload = {**a.to_dict(), "model": model.name, "window_size": size}
            alerts.append((a.id, a.trigger, a.window, a.message, json.dumps(payload)))
            for i in range(len(policy.webhooks)):
                actions.append((a.id, f"webhook:{i}", json.dumps(payload)))
            for i in range(len(commands)):
                actions.append((a.id, f"command:{i}", json.dumps(payload)))
        new = self.store.record_evaluation(model.name, size, new_state, alerts, actions)
        if self.metrics is not None and new:
            for a in fired:
                self.metrics.alerts.labels(model=model.name, policy=a.policy).inc()
        return new

    def _rejudge(
        self, model: str, size: str, policy: Any, state: Any, seen: int
    ) -> tuple[list[Any], Any]:
        """The alerts late data raises on windows the policy had already passed (a
        backfill after the grace period), and the state to go on from.

        Each window stored since the last evaluation (``seq`` after ``seen``) that
        starts no later than the state's ``last_start`` is judged again: the policy
        is replayed from a fresh state over the stored windows around it (enough
        before it for a streak and a cooldown to build up, and the windows after it
        that a streak through it can end on), and the alerts of the window and those
        after it are kept. An alert raised before has the same id (policy, trigger,
        window start), so it is neither stored nor delivered twice. When that replay
        reaches the last judged window, its streaks are carried on (the late data
        may start or break a streak); an alert it raises restarts the cooldown.
        Alerts already raised are never withdrawn."""
        import math

        from assay.monitoring.policy import advance
        from assay.service._policies import window_metrics

        revised = self.store.revised_windows(model, size, seen, str(state.last_start))
        if not revised:
            return [], state
        kind, n = parse_window(size)
        after = max((t.consecutive for t in policy.triggers), default=1) - 1
        before = after + policy.cooldown_windows
        if policy.cooldown_s and kind == "time":
            before += math.ceil(policy.cooldown_s / n)
        fired: dict[str, Any] = {}
        carried = state
        for wkey, _ in revised:
            around = self.store.windows_around(model, size, wkey, before, after)
            around = [(k, w) for k, w in around if str(w["start"]) <= str(state.last_start)]
            judged = [
                {"start": w["start"], "end": w["end"], **window_metrics(w)} for _, w in around
            ]
            alerts, replayed = advance(policy, judged, None)
            keep = {str(w["start"]) for k, w in around if k >= wkey}
            fired.update({a.id: a for a in alerts if str(a.window) in keep})
            if around and str(around[-1][1]["start"]) == str(state.last_start):
                carried = _carry(carried, replayed)
        if fired:
            log.info("late data: %d alert(s) of %s on windows judged before", len(fired), model)
        return list(fired.values()), carried

    # -- retention -----------------------------------------------------------------------
    def retention_of(self, policy: Any) -> float | None:
        return policy.retention_s or self.settings.retention_s

    def _cutoff(self, model: str, size: str) -> float | None:
        return self._cutoffs.get((model, size))

    def _retain(
        self, model: ModelRecord, size: str, kind: str, n: int, policy: Any, now: float
    ) -> None:
        keep = self.retention_of(policy)
        if not keep:
            return
        before = now - keep
        if kind == "time":
            cutoff = (before // n) * n  # whole windows only
        else:
            # the first stored row window that ends after ``before``: rows before it go
            results = self.store.window_results(model.name, size, 1_000_000)
            later = [w for w in results if _ts(w["end"]) >= before]
            if not results or (later and later[0] is results[0]):
                return
            cutoff = _ts(later[0]["start"]) if later else _ts(results[-1]["end"]) + 1e-9
        self._cutoffs[(model.name, size)] = cutoff
        deleted = 0
        while not self._stop.is_set():
            got = self.store.delete_old_predictions(model.name, cutoff, RETENTION_BATCH)
            deleted += got
            if got < RETENTION_BATCH:
                break
            time.sleep(0)  # let ingest take the writer between batches
        if deleted:
            log.info("retention: deleted %d rows of %s before %s", deleted, model.name, cutoff)
            if self.metrics is not None:
                self.metrics.retention_deleted.labels(model=model.name).inc(deleted)


def _carry(state: Any, replayed: Any) -> Any:
    """``state`` with a replay's streaks (the replay reached its last window) and, when
    the replay alerted more recently, that alert's cooldown."""
    from dataclasses import replace

    out = replace(state, streaks=replayed.streaks)
    since = replayed.windows_since_alert
    if since is not None and (
        state.windows_since_alert is None or since < state.windows_since_alert
    ):
        out = replace(out, windows_since_alert=since, last_alert_time=replayed.last_alert_time)
    return out


def holder_id() -> str:
    """This process's name on a lease: host, process id and a random suffix."""
    import os
    import socket
    import uuid

    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _ts(iso: str) -> float:
    from assay.monitoring.policy import _time

    return float(_time(iso) or 0.0)
