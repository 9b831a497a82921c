"""Trigger policies in the service: stored per model, evaluated over windows, their
actions delivered from an outbox by a background thread.

Window metrics a policy can name (per window, from ``GET .../windows``):

- ``rows``: rows in the window;
- ``drift_share``: share of feature columns ``drift.features`` found drifted;
- ``drifted_columns``: how many feature columns drifted;
- ``drift_failed``: 1 when ``drift.features`` failed on the window, else 0;
- ``prediction_drift_psi``, ``prediction_drift_p_value``, ``prediction_drift_statistic``;
- every number of the CBPE estimate: ``estimated_<m>``, ``estimated_<m>_low``/``_high``,
  ``estimated_<m>_drop`` (reference minus estimate), ``reference_<m>`` for ``m`` in
  accuracy, precision, recall, f1, roc_auc (binary classifiers with a score column);
- ``realized_accuracy`` (or ``realized_mae``, ``realized_rmse`` for regression),
  ``labeled_rows``, and ``realized_accuracy_drop`` (reference accuracy minus realized).

The scheduler (:mod:`assay.service._scheduler`) evaluates a policy over the
windows of the size it names (``window``) as they close, with no request; a window
still filling never advances the policy's state. A model without a policy uses
:data:`DEFAULT_POLICY` (an alert named ``drift`` when ``drift.features`` fails) on
the operator's ``default_window`` (1d).

Alerts are stored by their policy alert id (a resent window never stores one
twice), and each action of an alert is queued in the ``outbox`` table in the same
transaction. :class:`Dispatcher` delivers queued actions outside the request path:
a row stays ``pending`` until its webhook answered 2xx or its command ran.

Delivery is at least once, and once per ``Idempotency-Key`` while the sender
lives. Before it sends an action, a process claims its outbox row
(``claimed_by``, ``claimed_until``) and renews the claim every few seconds until
the answer came, however long the receiver takes; no other process sends a
claimed row, so two live servers never both send one action. When the sender
dies in the middle (killed, or its database connection lost for longer than the
claim, :data:`CLAIM_S`), the claim expires and another process (or the same one
restarted) sends the action again: the receiver may then see it twice, with the
same ``Idempotency-Key`` (stable: a hash of model, alert id and action, the same
on every attempt, after every restart and from every process) and the same
``X-Assay-Delivery`` (the alert id), and must drop the second by that key; so
must it for a request it answered after the webhook's ``timeout_s``, which the
sender takes as unanswered and sends again. That is the contract: no alert lost,
never two live processes sending one action, and every resend under the same key
for the receiver to drop. A webhook not reached after
all its attempts (no answer, or 408/429/5xx) stays ``pending`` and is tried again
later (:data:`RETRY_S`, doubling, :data:`RETRY_ROUNDS` rounds, about 3 hours), so
a receiver that is down for a while loses no alert; a refusal (4xx, a destination
not allowed) and a failed command are final (``failed``). Secrets stay in the policy;
the outbox and the logs never hold them.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

log = logging.getLogger("assay.service.actions")

DEFAULT_POLICY: dict[str, Any] = {
    "name": "default",
    "triggers": [{"metric": "drift_failed", "op": ">=", "value": 1, "name": "drift"}],
}
POLICY_MAX_BYTES = 64 * 1024
DISPATCH_LEASE_S = 10.0
"""How long one process may deliver the outbox without renewing its lease."""
RETRY_S = 30.0
"""The wait before a webhook that could not be reached (after all its attempts) is
tried again from the outbox; it doubles every round, up to :data:`RETRY_MAX_S`."""
RETRY_MAX_S = 3600.0
RETRY_ROUNDS = 10
"""Rounds (each of the webhook's ``max_attempts``) before a row is marked ``failed``:
with the waits above, a receiver may be down for about 3 hours without losing an alert."""
CLAIM_S = 10.0
"""How long a claim on one outbox row lasts unless renewed; the sender renews it every
third of that while it waits for an answer, so a row whose sender died is sent again
within about this long."""


# -- window metrics -----------------------------------------------------------


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


def window_metrics(w: Mapping[str, Any]) -> dict[str, float]:
    """The flat ``{metric: number}`` a policy sees for one window (see the module notes)."""
    out: dict[str, float] = {}
    for key in ("rows", "drift_share"):
        if _num(w.get(key)) is not None:
            out[key] = float(w[key])
    out["drifted_columns"] = float(len(w.get("drifted_columns") or []))
    out["drift_failed"] = 1.0 if w.get("drift_status") == "fail" else 0.0
    pdrift = w.get("prediction_drift") or {}
    for key in ("psi", "p_value", "statistic"):
        if _num(pdrift.get(key)) is not None:
            out[f"prediction_drift_{key}"] = float(pdrift[key])
    est = w.get("estimated_performance") or {}
    for key, v in est.items():
        if _num(v) is not None:
            out[key] = float(v)
    real = w.get("realized_performance") or {}
    for key, v in real.items():
        if _num(v) is None:
            continue
        out[key if key == "labeled_rows" else f"realized_{key}"] = float(v)
    for key, v in (w.get("loop_metrics") or {}).items():  # reviewers, challenger, loop
        if _num(v) is not None:
            out[key] = float(v)
    if "realized_accuracy" in out and "reference_accuracy" in out:
        out["realized_accuracy_drop"] = out["reference_accuracy"] - out["realized_accuracy"]
    return out


# -- policies -------------------------------------------------------------------


def parse_body(body: bytes, content_type: str) -> dict[str, Any]:
    """A policy mapping from a JSON or YAML body (``PolicyError`` when unreadable)."""
    from assay.monitoring.policy import PolicyError

    ct = content_type.split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise PolicyError("policy: the body is not UTF-8 text") from None
    if ct == "application/json" or ct.endswith("+json"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise PolicyError(f"policy: not valid JSON ({exc})") from None
    else:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise PolicyError(f"policy: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise PolicyError("policy: must be a mapping with 'triggers'")
    return data


def validate(data: Mapping[str, Any], allow_networks: tuple[Any, ...] = ()) -> Any:
    """A policy received over the API: ``parse_policy(origin="api")`` (webhooks only),
    each webhook's destination public (or inside the operator's ``allow_networks``)
    and its ``secret_env`` set. A host that does not resolve now is accepted: it is
    vetted again at every delivery."""
    import os

    from assay.monitoring.policy import PolicyError, parse_policy
    from assay.monitoring.webhook import UnsafeDestinationError, WebhookError, vet_destination

    policy = parse_policy(data, origin="api")
    for i, hook in enumerate(policy.webhooks):
        where = f"actions.webhook[{i}]"
        try:
            vet_destination(hook.url, allow_networks=allow_networks)
        except UnsafeDestinationError as exc:
            raise PolicyError(f"{where}.url: {exc}") from None
        except WebhookError:
            pass  # not resolvable from here now; refused at delivery if not public then
        if hook.secret_env and not os.environ.get(hook.secret_env):
            raise PolicyError(
                f"{where}.secret_env: the variable {hook.secret_env!r} is not set "
                "in the service's environment"
            )
    return policy


def stored_policy(data: Mapping[str, Any]) -> Any:
    """The policy a stored mapping may run: parsed as from the API, so a policy stored
    by an older version never runs a command nor reaches a private address (those
    parts are dropped with a warning); an unreadable one falls back to the default."""
    from assay.monitoring.policy import PolicyError, parse_policy

    clean = dict(data)
    actions = dict(clean.get("actions") or {}) if isinstance(clean.get("actions"), dict) else {}
    if "command" in actions:
        log.warning("ignoring a stored policy's command action: set commands in --config")
        actions.pop("command")
    hooks = actions.get("webhook")
    if isinstance(hooks, (dict, list)):
        hooks = [hooks] if isinstance(hooks, dict) else hooks
        actions["webhook"] = [
            {k: v for k, v in h.items() if k != "allow_private"} if isinstance(h, dict) else h
            for h in hooks
        ]
    if "actions" in clean:
        clean["actions"] = actions
    try:
        return parse_policy(clean, origin="api")
    except PolicyError as exc:
        log.warning("a stored policy no longer validates (%s); using the default", exc)
        return parse_policy(DEFAULT_POLICY)


def destinations(data: Mapping[str, Any] | None) -> set[str]:
    """The webhook URLs a policy mapping names (to tell whether a change widens them)."""
    actions = (data or {}).get("actions") if isinstance(data, Mapping) else None
    hooks = actions.get("webhook") if isinstance(actions, Mapping) else None
    if hooks is None:
        return set()
    out = set()
    for h in hooks if isinstance(hooks, list) else [hooks]:
        url = h.get("url") if isinstance(h, Mapping) else h
        out.add(str(url))
    return out


def redact(data: Any) -> Any:
    """``data`` with every ``secret`` value replaced (for GET and logs)."""
    if isinstance(data, Mapping):
        return {k: ("***" if k == "secret" and v else redact(v)) for k, v in data.items()}
    if isinstance(data, list):
        return [redact(v) for v in data]
    return data


def load_stored(store: Any, model: str) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """``(policy mapping, state by window size, stored?)`` of ``model``."""
    import yaml

    found = store.get_policy(model)
    if found is None:
        return DEFAULT_POLICY, {}, False
    return yaml.safe_load(found[0]), json.loads(found[1] or "{}"), True


# -- the outbox worker ------------------------------------------------------------


def retry_wait(rounds: int) -> float:
    """Seconds before the next round of an outbox row that has had ``rounds`` rounds."""
    return float(min(RETRY_MAX_S, RETRY_S * 2**rounds))


def idempotency_key(model: str, alert_id: str, action: str) -> str:
    """The ``Idempotency-Key`` of one action of one alert: the same on every attempt,
    after any restart, and different for every model, alert and action."""
    import hashlib

    return hashlib.sha256(f"{model}\n{alert_id}\n{action}".encode()).hexdigest()[:32]


class Dispatcher:
    """A background thread that delivers queued actions (webhooks, commands).

    ``commands`` (by model name, ``"*"`` for all) and ``allow_networks`` come from
    the operator's configuration, never from a stored policy."""

    def __init__(
        self,
        store: Any,
        poll_s: float = 2.0,
        *,
        commands: Mapping[str, tuple[Any, ...]] | None = None,
        allow_networks: tuple[Any, ...] = (),
        holder: str | None = None,
    ) -> None:
        self.store = store
        self.poll_s = poll_s
        self.commands = dict(commands or {})
        self.allow_networks = tuple(allow_networks)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._thread: threading.Thread | None = None
        self.metrics: Any = None
        self.holder = holder
        self.leased = holder is not None and getattr(store, "dialect", "") == "postgres"
        if holder is None:
            from assay.service._scheduler import holder_id

            holder = holder_id()
        self.claimant = holder

    def _lease(self) -> bool:
        return bool(self.store.take_lease("dispatch", self.holder, DISPATCH_LEASE_S))

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="assay-actions", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def commands_for(self, model: str) -> tuple[Any, ...]:
        """The operator's commands for ``model``'s alerts (its own, then ``"*"``)."""
        return tuple(self.commands.get(model, ())) + tuple(self.commands.get("*", ()))

    def notify(self) -> None:
        self._idle.clear()
        self._wake.set()

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until the outbox has nothing pending (tests, shutdown)."""
        self.notify()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.store.pending_actions(1):
                return True
            time.sleep(0.05)
        return False

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.run_once()
            except Exception as exc:  # keep the worker alive; the row stays pending
                log.warning("action worker error: %s", type(exc).__name__)
                worked = False
            if not worked:
                self._idle.set()
                self._wake.wait(self.poll_s)
                self._wake.clear()

    def run_once(self) -> bool:
        """Deliver what is pending now; whether anything was. With a shared
        (PostgreSQL) store one process delivers at a time (the ``dispatch`` lease)."""
        if self.leased and not self._lease():
            return False
        sent = 0
        for row_id, model, alert_id, action, payload, rounds in self.store.claimable_actions(20):
            if self._stop.is_set() or (self.leased and not self._lease()):
                break
            if not self.store.claim_action(row_id, self.claimant, CLAIM_S):
                continue  # another process sends it now
            with _Renewing(self.store, row_id, self.claimant):
                status, error, again = self._deliver(model, alert_id, action, json.loads(payload))
            retry_at = None
            if status == "failed" and again and rounds + 1 < RETRY_ROUNDS:
                status, retry_at = "pending", time.time() + retry_wait(rounds)
            if not self.store.finish_claimed(row_id, self.claimant, status, error, retry_at):
                log.warning("alert %s %s: claim lost while sending (sent again)", alert_id, action)
            sent += 1
            if self.metrics is not None:
                self.metrics.delivered(action.partition(":")[0], status.replace("pending", "retry"))
        return bool(sent)

    def _deliver(
        self, model: str, alert_id: str, action: str, alert: dict[str, Any]
    ) -> tuple[str, str | None, bool]:
        """``(status, error, worth another round?)``: a webhook not reached, or answered
        with a status worth retrying (429, 5xx...), is; a refusal, a command, a removed
        action are not."""
        from assay.errors import AssayError
        from assay.monitoring.webhook import RETRY_STATUS, deliver, run_command

        kind, _, index = action.partition(":")
        if kind == "webhook":
            data, _, stored = load_stored(self.store, model)
            group = stored_policy(data).webhooks if stored else ()
        else:
            group = self.commands_for(model)
        if not index.isdigit() or int(index) >= len(group):
            what = "policy" if kind == "webhook" else "server configuration"
            return "failed", f"the model's {what} no longer has this action", False
        again = False
        try:
            if kind == "webhook":
                d = deliver(
                    alert,
                    group[int(index)],
                    allow_networks=self.allow_networks,
                    idempotency_key=idempotency_key(model, alert_id, action),
                )
                error = None if d.ok else d.error
                again = not d.ok and (d.status is None or d.status in RETRY_STATUS)
            else:
                r = run_command(alert, group[int(index)])
                error = None if r.ok else ("timed out" if r.timed_out else f"exit {r.returncode}")
        except AssayError as exc:
            error = str(exc)
        log.info("alert %s %s: %s", alert_id, action, "done" if error is None else "failed")
        return ("done", None, False) if error is None else ("failed", error, again)


class _Renewing:
    """Renews a claim on an outbox row every third of :data:`CLAIM_S` while the body of
    the ``with`` runs (a receiver may take longer than a claim to answer)."""

    def __init__(self, store: Any, row_id: int, holder: str) -> None:
        self.store, self.row_id, self.holder = store, row_id, holder
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="assay-claim", daemon=True)

    def __enter__(self) -> _Renewing:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._done.wait(CLAIM_S / 3):
            try:
                if not self.store.claim_action(self.row_id, self.holder, CLAIM_S):
                    log.warning("outbox row %s: claim taken over while sending", self.row_id)
                    return
            except Exception as exc:  # a store outage: try again; the claim may lapse
                log.warning("outbox row %s: claim not renewed: %s", self.row_id, type(exc).__name__)
