"""Failed-authentication throttling: per client, in memory, bounded.

A client (``request.client.host``) that sends wrong credentials again and again
is locked out for a while, with exponential back-off:

- the dashboard login allows :data:`LOGIN_MAX_FAILURES` (5) failures, the API's
  bearer tokens :data:`API_MAX_FAILURES` (20: machine clients retry, and one
  misconfigured job should not lock out a whole host at once);
- failures count until :data:`WINDOW_S` (15 minutes) pass without one and
  without a lockout;
- the failure that reaches the limit locks the client out for
  :data:`BASE_LOCKOUT_S` (60 s), each further failure doubles it, up to
  :data:`MAX_LOCKOUT_S` (15 minutes);
- while locked out every attempt is refused (429 with ``Retry-After``), a
  correct token included, and is not checked at all; a success after the
  lockout resets the client's count.

There is no per-account counter: a token is a random secret with no user name
or guessable prefix in front of it, so the only thing an attempt identifies is
the client sending it. The login and the API keep separate counters.

The state lives in this process's memory (one :class:`Throttle` per app and
purpose): several workers or replicas each keep their own, and a restart
forgets it. At most :data:`MAX_ENTRIES` (10,000) clients are tracked; past that
the entry updated longest ago is dropped. Behind a reverse proxy every request
comes from the proxy's address: ``X-Forwarded-For`` is not trusted, since any
client can write it.

>>> t = Throttle(max_failures=2, clock=lambda: 0.0)
>>> t.failure("10.0.0.1"), t.failure("10.0.0.1"), t.retry_after("10.0.0.1")
(0.0, 60.0, 60.0)
>>> t.retry_after("10.0.0.2")
0.0
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "API_MAX_FAILURES",
    "BASE_LOCKOUT_S",
    "LOGIN_MAX_FAILURES",
    "MAX_ENTRIES",
    "MAX_LOCKOUT_S",
    "WINDOW_S",
    "Throttle",
    "client_key",
    "throttle_for",
]

LOGIN_MAX_FAILURES = 5
"""Failed dashboard logins from one client before it is locked out (default 5)."""
API_MAX_FAILURES = 20
"""Wrong API bearer tokens from one client before it is locked out (default 20)."""
WINDOW_S = 15 * 60.0
"""Failures are forgotten this many seconds after the last one or the end of the
lockout, whichever is later (default 900)."""
BASE_LOCKOUT_S = 60.0
"""The first lockout, in seconds (default 60); each further failure doubles it."""
MAX_LOCKOUT_S = 15 * 60.0
"""The longest lockout, in seconds (default 900)."""
MAX_ENTRIES = 10_000
"""Clients tracked at most per throttle (default 10,000); the stalest is dropped."""

Purpose = Literal["login", "api"]
LIMITS: dict[str, int] = {"login": LOGIN_MAX_FAILURES, "api": API_MAX_FAILURES}
_CREATE = threading.Lock()


@dataclass
class _Entry:
    failures: int
    last_at: float
    locked_until: float


class Throttle:
    """Counts failures per key and says how long a key is locked out.

    Parameters
    ----------
    max_failures
        Failures that lock the key out (the one reaching it included).
    window_s, base_lockout_s, max_lockout_s, max_entries
        As the module constants of the same (upper-case) names.
    clock
        Seconds, monotonic (tests pass a fake one).
    """

    def __init__(
        self,
        *,
        max_failures: int = LOGIN_MAX_FAILURES,
        window_s: float = WINDOW_S,
        base_lockout_s: float = BASE_LOCKOUT_S,
        max_lockout_s: float = MAX_LOCKOUT_S,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.base_lockout_s = base_lockout_s
        self.max_lockout_s = max_lockout_s
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def _live(self, key: str, now: float) -> _Entry | None:
        """``key``'s entry, dropped (``None``) once it has expired."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if now - max(entry.last_at, entry.locked_until) > self.window_s:
            del self._entries[key]
            return None
        return entry

    def retry_after(self, key: str) -> float:
        """Seconds ``key`` is still locked out for (``0.0`` when it may try)."""
        with self._lock:
            now = self.clock()
            entry = self._live(key, now)
            return max(entry.locked_until - now, 0.0) if entry else 0.0

    def failure(self, key: str) -> float:
        """Count one failure of ``key``; returns the lockout it now has (seconds)."""
        with self._lock:
            now = self.clock()
            entry = self._live(key, now) or _Entry(0, now, now)
            entry.failures += 1
            entry.last_at = now
            excess = entry.failures - self.max_failures
            if excess >= 0:
                lockout = min(self.base_lockout_s * 2.0 ** min(excess, 32), self.max_lockout_s)
                entry.locked_until = now + lockout
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
            return max(entry.locked_until - now, 0.0)

    def success(self, key: str) -> None:
        """Forget ``key``'s failures (a correct credential after any lockout)."""
        if key in self._entries:
            with self._lock:
                self._entries.pop(key, None)


def client_key(request: Any) -> str:
    """The throttled identity of a request: its peer address."""
    client = getattr(request, "client", None)
    return str(client.host) if client and client.host else "unknown"


def throttle_for(app: Any, purpose: Purpose) -> Throttle:
    """The app's throttle for ``purpose`` (``login`` or ``api``), made on first use."""
    state = app.state
    found = getattr(state, "throttles", None)
    if found is None:
        with _CREATE:
            found = getattr(state, "throttles", None)
            if found is None:
                found = {name: Throttle(max_failures=n) for name, n in LIMITS.items()}
                state.throttles = found
    return found[purpose]
