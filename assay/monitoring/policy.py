"""Retraining-trigger policies: parse them from YAML, evaluate them over windows.

A policy names conditions on per-window metrics (``drift_share``,
``estimated_accuracy_drop``, any number a window carries), how many windows
in a row must meet them, a cooldown, and what to do when one fires (a signed
webhook, a command; see :mod:`assay.monitoring.webhook`). Evaluation is a pure
function of the policy, the windows and the previous state.

Where a policy comes from decides what it may do. A policy file on the
operator's own machine (``origin="file"``) may run commands and send to private
addresses. A policy sent to the service over HTTP (``origin="api"``) may name
webhooks only: no ``command`` action (commands are the operator's decision, set
in the server's configuration file), no ``allow_private`` (private networks are
allowed only by that file), and ``secret_env`` only among the variables named
``ASSAY_WEBHOOK_*`` (so a token cannot probe the server's environment).

Example policy file::

    name: retrain-credit
    triggers:
      - metric: drift_share
        op: ">"
        value: 0.3
        consecutive: 2
      - metric: estimated_accuracy_drop
        op: ">"
        value: 0.05
    cooldown: 3            # windows; or a duration such as "6h", "30m", "1d"
    window: 1d             # the window the service judges (1d, 6h, 30m or 1000rows)
    grace: 5m              # a time window is judged this long after it ends (late data)
    retention: 90d         # keep raw prediction rows this long (the service's default)
    actions:
      webhook:
        url: https://hooks.example.com/assay
        secret_env: ASSAY_WEBHOOK_SECRET   # or secret: "..."
      command:
        argv: [python, retrain.py]
        timeout_s: 600

Example
-------
>>> p = parse_policy({"triggers": [{"metric": "drift_share", "op": ">", "value": 0.3,
...                                 "consecutive": 2}]})
>>> ws = [{"start": i, "drift_share": v} for i, v in enumerate([0.1, 0.4, 0.5, 0.6])]
>>> [a.window for a in evaluate(p, ws)]
[2]
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from assay.errors import ConfigError

OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_WEBHOOK_TIMEOUT_S = 30.0
"""The longest a webhook attempt may wait for its receiver (default 10 s)."""
MAX_WEBHOOK_ATTEMPTS = 10
"""The most attempts of one delivery (default 5)."""
MAX_ACTIONS = 10
"""The most webhooks (and, in a file, commands) one policy may name."""
MAX_TRIGGERS = 50
"""The most triggers one policy may hold."""
SECRET_ENV_PREFIX = "ASSAY_WEBHOOK_"
"""Over the API, ``secret_env`` must name a variable with this prefix."""
DEFAULT_WINDOW = "1d"
"""The window a policy is judged on when it names none."""
DEFAULT_GRACE_S = 300.0
"""How long after a time window ends its result waits for late data (5 minutes)."""
MIN_WINDOW_SECONDS = 60
"""The shortest time window: 1 minute (``1m``)."""
MAX_WINDOW_SECONDS = 366 * 86400
"""The longest time window: 366 days (``366d``, ``8784h``)."""
MIN_WINDOW_ROWS = 1
"""The smallest row window: 1 row (``1rows``)."""
MAX_WINDOW_ROWS = 1_000_000
"""The largest row window: 1,000,000 rows (``1000000rows``)."""
MAX_GRACE_S = 7 * 86400
"""The longest grace period: 7 days."""
Origin = Literal["file", "api"]
_SIZE = re.compile(r"(\d{1,12})(m|h|d|rows)")
_SIZE_UNITS = {"m": 60, "h": 3600, "d": 86400}


class PolicyError(ConfigError):
    """A policy field has an invalid value; the message names the field."""


@dataclass(frozen=True)
class Trigger:
    """``metric op value`` in ``consecutive`` windows in a row."""

    metric: str
    op: str
    value: float
    consecutive: int = 1
    name: str = ""

    def met(self, x: float | None) -> bool:
        return x is not None and math.isfinite(x) and OPS[self.op](x, self.value)

    def describe(self) -> str:
        times = f" in {self.consecutive} consecutive windows" if self.consecutive > 1 else ""
        return f"{self.metric} {self.op} {self.value:g}{times}"


@dataclass(frozen=True)
class WebhookAction:
    """POST the alert as JSON, signed with HMAC-SHA256 when a secret is set."""

    url: str
    secret: str | None = field(default=None, repr=False)
    secret_env: str | None = None
    allow_private: bool = False
    timeout_s: float = 10.0
    max_attempts: int = 5


@dataclass(frozen=True)
class CommandAction:
    """Run ``argv`` (no shell) with the alert JSON on stdin."""

    argv: tuple[str, ...]
    timeout_s: float = 600.0


@dataclass(frozen=True)
class Policy:
    """Triggers, a cooldown (windows, or seconds of window time) and actions."""

    triggers: tuple[Trigger, ...]
    name: str = "policy"
    cooldown_windows: int = 0
    cooldown_s: float | None = None
    webhooks: tuple[WebhookAction, ...] = ()
    commands: tuple[CommandAction, ...] = ()
    window: str | None = None
    """The window size it is judged on (``None``: the service's default, 1d)."""
    grace_s: float = DEFAULT_GRACE_S
    retention_s: float | None = None
    """Raw prediction rows older than this are deleted (``None``: the service's default)."""


def parse_window(size: str) -> tuple[str, int]:
    """``("time", seconds)`` for ``Nm``/``Nh``/``Nd`` (1 minute to 366 days),
    ``("rows", N)`` for ``Nrows`` (1 to 1,000,000 rows); ``ValueError`` naming
    ``size`` otherwise.

    >>> parse_window("6h"), parse_window("1000rows")
    (('time', 21600), ('rows', 1000))
    """
    m = _SIZE.fullmatch(str(size).strip())
    if not m:
        raise ValueError(
            f"size must look like 1h, 1d, 30m or 500rows (a positive count), not {str(size)[:40]!r}"
        )
    n, unit = int(m.group(1)), m.group(2)
    if unit == "rows":
        if not MIN_WINDOW_ROWS <= n <= MAX_WINDOW_ROWS:
            raise ValueError(
                f"size must be {MIN_WINDOW_ROWS} to {MAX_WINDOW_ROWS} rows, not {size!r}"
            )
        return ("rows", n)
    seconds = n * _SIZE_UNITS[unit]
    if not MIN_WINDOW_SECONDS <= seconds <= MAX_WINDOW_SECONDS:
        raise ValueError(f"size must be a time window from 1m to 366d, not {size!r}")
    return ("time", seconds)


@dataclass(frozen=True)
class PolicyState:
    """What evaluation remembers between calls (JSON-able for a store)."""

    streaks: tuple[int, ...] = ()
    last_start: Any = None
    windows_since_alert: int | None = None
    last_alert_time: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "streaks": list(self.streaks),
            "last_start": self.last_start,
            "windows_since_alert": self.windows_since_alert,
            "last_alert_time": self.last_alert_time,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PolicyState:
        return cls(
            streaks=tuple(int(x) for x in d.get("streaks", ())),
            last_start=d.get("last_start"),
            windows_since_alert=d.get("windows_since_alert"),
            last_alert_time=d.get("last_alert_time"),
        )


@dataclass(frozen=True)
class Alert:
    """A trigger that fired on a window."""

    id: str
    policy: str
    trigger: str
    metric: str
    value: float
    threshold: float
    op: str
    consecutive: int
    window: Any
    window_end: Any = None
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "policy": self.policy,
            "trigger": self.trigger,
            "metric": self.metric,
            "value": self.value,
            "threshold": self.threshold,
            "op": self.op,
            "consecutive": self.consecutive,
            "window": self.window,
            "window_end": self.window_end,
            "message": self.message,
        }


# -- parsing -------------------------------------------------------------------


def _need(d: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in d or d[key] is None:
        raise PolicyError(f"{where}.{key}: required field is missing")
    return d[key]


def _number(
    v: Any,
    where: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    integer: bool = False,
) -> Any:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise PolicyError(f"{where}: must be a number, got {v!r:.80}")
    if integer and int(v) != v:
        raise PolicyError(f"{where}: must be a whole number, got {v!r}")
    if minimum is not None and v < minimum:
        raise PolicyError(f"{where}: must be at least {minimum:g}, got {v!r}")
    if maximum is not None and v > maximum:
        raise PolicyError(f"{where}: must be at most {maximum:g}, got {v!r}")
    return int(v) if integer else float(v)


def _no_extra(d: Mapping[str, Any], allowed: set[str], where: str) -> None:
    extra = sorted(set(d) - allowed)
    if extra:
        raise PolicyError(
            f"{where}: unknown field(s) {', '.join(map(str, extra))}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )


def _mapping(v: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(v, Mapping):
        raise PolicyError(f"{where}: must be a mapping, got {type(v).__name__}")
    return v


def _as_list(v: Any) -> list[Any]:
    return list(v) if isinstance(v, (list, tuple)) else [v]


def parse_duration(text: str, where: str = "cooldown") -> float:
    """``"30s"``, ``"15m"``, ``"6h"``, ``"1d"`` → seconds."""
    m = _DURATION.match(str(text))
    if not m:
        raise PolicyError(
            f"{where}: must be a number of windows or a duration like '30m', '6h', '1d'; "
            f"got {text!r}"
        )
    return float(m.group(1)) * _UNIT_S[m.group(2)]


def _trigger(d: Any, where: str) -> Trigger:
    d = _mapping(d, where)
    _no_extra(d, {"metric", "op", "value", "consecutive", "name"}, where)
    metric = _need(d, "metric", where)
    if not isinstance(metric, str) or not metric:
        raise PolicyError(f"{where}.metric: must be a metric name, got {metric!r}")
    op = str(d.get("op", ">"))
    if op not in OPS:
        raise PolicyError(f"{where}.op: must be one of {', '.join(OPS)}, got {op!r}")
    value = _number(_need(d, "value", where), f"{where}.value")
    consecutive = _number(d.get("consecutive", 1), f"{where}.consecutive", minimum=1, integer=True)
    return Trigger(metric, op, value, consecutive, str(d.get("name") or ""))


def _webhook(d: Any, where: str, origin: Origin) -> WebhookAction:
    if isinstance(d, str):
        d = {"url": d}
    d = _mapping(d, where)
    allowed = {"url", "secret", "secret_env", "allow_private", "timeout_s", "max_attempts"}
    if origin == "api" and "allow_private" in d:
        raise PolicyError(
            f"{where}.allow_private: not accepted over the API; the service's operator "
            "allows private networks with webhook_allow_networks in its configuration file"
        )
    _no_extra(d, allowed, where)
    url = _need(d, "url", where)
    if not isinstance(url, str) or len(url) > 2048 or not re.match(r"^https?://[^/\s]+", url):
        raise PolicyError(f"{where}.url: must be an http:// or https:// URL, got {url!r:.200}")
    allow_private = d.get("allow_private", False)
    if not isinstance(allow_private, bool):
        raise PolicyError(f"{where}.allow_private: must be true or false, got {allow_private!r}")
    for key in ("secret", "secret_env"):
        if d.get(key) is not None and not isinstance(d[key], str):
            raise PolicyError(f"{where}.{key}: must be a string")
    env = d.get("secret_env")
    if origin == "api" and env is not None and not _secret_env_ok(env):
        raise PolicyError(
            f"{where}.secret_env: over the API it must name a variable "
            f"{SECRET_ENV_PREFIX}<NAME> (letters, digits, _), got {env!r:.80}"
        )
    return WebhookAction(
        url=url,
        secret=d.get("secret"),
        secret_env=env,
        allow_private=allow_private,
        timeout_s=_number(
            d.get("timeout_s", 10.0),
            f"{where}.timeout_s",
            minimum=0.1,
            maximum=MAX_WEBHOOK_TIMEOUT_S,
        ),
        max_attempts=_number(
            d.get("max_attempts", 5),
            f"{where}.max_attempts",
            minimum=1,
            maximum=MAX_WEBHOOK_ATTEMPTS,
            integer=True,
        ),
    )


def _secret_env_ok(name: str) -> bool:
    return bool(re.fullmatch(re.escape(SECRET_ENV_PREFIX) + r"[A-Z0-9_]{1,64}", name))


def parse_command(d: Any, where: str) -> CommandAction:
    """One command action (``argv`` list, optional ``timeout_s``) from a mapping or a list."""
    if isinstance(d, (list, tuple)):
        d = {"argv": d}
    d = _mapping(d, where)
    _no_extra(d, {"argv", "timeout_s"}, where)
    argv = _need(d, "argv", where)
    if isinstance(argv, str) or not argv or not all(isinstance(a, str) for a in argv):
        raise PolicyError(
            f"{where}.argv: must be a non-empty list of strings (no shell), got {argv!r}"
        )
    timeout = _number(d.get("timeout_s", 600.0), f"{where}.timeout_s", minimum=0.1)
    return CommandAction(tuple(argv), timeout)


def command_list(cmds: Any) -> list[Any]:
    """One command or a list of them, as a list."""
    if cmds is None:
        return []
    if isinstance(cmds, Mapping) or (
        isinstance(cmds, (list, tuple)) and cmds and all(isinstance(a, str) for a in cmds)
    ):
        return [cmds]
    return _as_list(cmds)


def parse_policy(data: Mapping[str, Any], *, origin: Origin = "file") -> Policy:
    """Validate a policy mapping; :class:`PolicyError` names the bad field.

    ``origin="api"`` is a policy received over HTTP: it may name webhooks only
    (see the module notes).
    """
    data = _mapping(data, "policy")
    known = {"name", "model", "triggers", "cooldown", "actions", "window", "grace", "retention"}
    _no_extra(data, known, "policy")
    raw = _need(data, "triggers", "policy")
    if not isinstance(raw, (list, tuple)) or not raw:
        raise PolicyError("policy.triggers: must be a non-empty list of triggers")
    if len(raw) > MAX_TRIGGERS:
        raise PolicyError(f"policy.triggers: at most {MAX_TRIGGERS} triggers, got {len(raw)}")
    triggers = tuple(_trigger(t, f"triggers[{i}]") for i, t in enumerate(raw))
    cooldown = data.get("cooldown", 0)
    cooldown_windows, cooldown_s = 0, None
    if isinstance(cooldown, str):
        cooldown_s = parse_duration(cooldown)
    else:
        cooldown_windows = _number(cooldown, "cooldown", minimum=0, integer=True)
    actions = _mapping(data.get("actions") or {}, "actions")
    if origin == "api" and "command" in actions:
        raise PolicyError(
            "actions.command: commands are not accepted over the API; the service's "
            "operator sets them in its configuration file (assay serve --config)"
        )
    _no_extra(actions, {"webhook", "command"}, "actions")
    hooks = [] if actions.get("webhook") is None else _as_list(actions["webhook"])
    cmds = command_list(actions.get("command"))
    for key, items in (("webhook", hooks), ("command", cmds)):
        if len(items) > MAX_ACTIONS:
            raise PolicyError(f"actions.{key}: at most {MAX_ACTIONS}, got {len(items)}")
    window = data.get("window")
    if window is not None:
        try:
            parse_window(str(window))
        except ValueError as exc:
            raise PolicyError(f"window: {exc}") from None
        window = str(window).strip()
    grace_s = DEFAULT_GRACE_S
    if data.get("grace") is not None:
        grace_s = parse_duration(str(data["grace"]), "grace")
        if grace_s > MAX_GRACE_S:
            raise PolicyError(f"grace: at most 7d, got {data['grace']!r}")
    retention_s = None
    if data.get("retention") is not None:
        retention_s = parse_duration(str(data["retention"]), "retention")
        if retention_s < 3600:
            raise PolicyError(f"retention: at least 1h, got {data['retention']!r}")
    return Policy(
        triggers=triggers,
        name=str(data.get("name") or "policy"),
        cooldown_windows=cooldown_windows,
        cooldown_s=cooldown_s,
        window=window,
        grace_s=grace_s,
        retention_s=retention_s,
        webhooks=tuple(_webhook(h, f"actions.webhook[{i}]", origin) for i, h in enumerate(hooks)),
        commands=tuple(parse_command(c, f"actions.command[{i}]") for i, c in enumerate(cmds)),
    )


def load_policy(source: str | Path | Mapping[str, Any]) -> Policy:
    """A policy from a mapping, a YAML file path, or YAML text."""
    if isinstance(source, Mapping):
        return parse_policy(source)
    import yaml

    text = str(source)
    if isinstance(source, Path) or ("\n" not in text and text.endswith((".yaml", ".yml"))):
        path = Path(source)
        if not path.is_file():
            raise PolicyError(f"policy file {str(path)!r} does not exist")
        text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"policy: not valid YAML ({exc})") from None
    return parse_policy(data)


# -- evaluation ------------------------------------------------------------------


def _value(window: Mapping[str, Any], metric: str) -> float | None:
    v = window.get(metric)
    if v is None and isinstance(window.get("metrics"), Mapping):
        v = window["metrics"].get(metric)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


def _time(v: Any) -> float | None:
    """Seconds since the epoch from a number, a datetime or an ISO 8601 string."""
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, _dt.datetime):
        dt = v
    else:
        try:
            dt = _dt.datetime.fromisoformat(str(v).replace("Z", "+00:00"))
        except ValueError:
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=_dt.UTC)
    return dt.timestamp()


def _alert_id(policy: str, index: int, window: Any) -> str:
    key = json.dumps([policy, index, str(window)])
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def _cooling(policy: Policy, since: int | None, now: float | None, last: float | None) -> bool:
    """Whether an alert is held back (alerts of one window never hold each other back)."""
    if since is None or since == 0:
        return False
    if policy.cooldown_s is None:
        return since <= policy.cooldown_windows
    return last is not None and now is not None and now - last < policy.cooldown_s


def advance(
    policy: Policy, windows: Sequence[Mapping[str, Any]], state: PolicyState | None = None
) -> tuple[list[Alert], PolicyState]:
    """Evaluate ``policy`` over ``windows`` (oldest first) from ``state``.

    Returns the alerts and the new state; nothing is mutated. Windows whose
    ``start`` is not after ``state.last_start`` were seen before and are
    skipped, so the caller may pass overlapping lists. A window lacking a
    trigger's metric breaks that trigger's streak. After an alert, a trigger's
    streak restarts, and no alert fires while the policy cools down
    (``cooldown`` windows, or a duration of window time measured on each
    window's ``end``, else ``start``).
    """
    st = state or PolicyState()
    streaks = list(st.streaks) if len(st.streaks) == len(policy.triggers) else []
    streaks = streaks or [0] * len(policy.triggers)
    last_start, since, last_time = st.last_start, st.windows_since_alert, st.last_alert_time
    alerts: list[Alert] = []
    for w in windows:
        start = w.get("start")
        if start is not None and last_start is not None:
            try:
                if start <= last_start:
                    continue
            except TypeError:
                pass
        if start is not None:
            last_start = start
        since = None if since is None else since + 1
        now = _time(w.get("end", start))
        for i, t in enumerate(policy.triggers):
            x = _value(w, t.metric)
            streaks[i] = streaks[i] + 1 if t.met(x) else 0
            if streaks[i] < t.consecutive or x is None:
                continue
            if _cooling(policy, since, now, last_time):
                continue
            streaks[i] = 0
            since, last_time = 0, now
            label = t.name or t.describe()
            alerts.append(
                Alert(
                    id=_alert_id(policy.name, i, start),
                    policy=policy.name,
                    trigger=label,
                    metric=t.metric,
                    value=x,
                    threshold=t.value,
                    op=t.op,
                    consecutive=t.consecutive,
                    window=start,
                    window_end=w.get("end"),
                    message=f"{t.metric} = {x:.4g} {t.op} {t.value:g}"
                    + (f" for {t.consecutive} consecutive windows" if t.consecutive > 1 else "")
                    + f" (policy {policy.name!r}).",
                )
            )
    new = replace(
        st,
        streaks=tuple(streaks),
        last_start=last_start,
        windows_since_alert=since,
        last_alert_time=last_time,
    )
    return alerts, new


def evaluate(
    policy: Policy, windows: Sequence[Mapping[str, Any]], state: PolicyState | None = None
) -> list[Alert]:
    """The alerts ``policy`` fires over ``windows`` (see :func:`advance`)."""
    return advance(policy, windows, state)[0]
