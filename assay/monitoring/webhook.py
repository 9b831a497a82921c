"""Alert actions: a signed webhook and a local command. Standard library only.

Webhook
-------
The alert is POSTed as JSON with these headers:

- ``X-Assay-Signature: sha256=<hex>``: HMAC-SHA256 with the shared secret over
  ``<timestamp>.<body>`` (present when a secret is configured);
- ``X-Assay-Timestamp``: Unix seconds, part of the signed text (reject old ones
  to stop replays);
- ``X-Assay-Delivery``: the alert id, the same on every retry, so a receiver
  can drop duplicates (delivery is at-least-once);
- ``Idempotency-Key``: when the caller gives one (the service does: one key per
  model, alert and action, the same on every attempt and after a restart).

Failures that may pass (connection errors, timeouts, 408, 429, 5xx) are
retried with exponential backoff; other 4xx and any redirect are final
(redirects are never followed). Before connecting, the host is resolved and
refused unless every address is public: :func:`is_public` (globally routable,
not multicast nor reserved, and an IPv4 address embedded in an IPv6 one —
mapped, 6to4, Teredo, NAT64 — public too). So loopback, private, link-local,
carrier-grade NAT (``100.64.0.0/10``, where cloud metadata services such as
``100.100.100.200`` live) and documentation ranges are all refused. Only the
operator can widen this, by naming networks (``allow_networks``, from the
server's configuration file; a local policy file may also set
``allow_private``). The connection then goes to the vetted address (no second
lookup), so DNS rebinding cannot swap it. At most :data:`MAX_RESPONSE_BYTES` of
the answer are read, each attempt is bounded by the action's time-out (at most
:data:`~assay.monitoring.policy.MAX_WEBHOOK_TIMEOUT_S`). The secret is never
logged nor put in an error message.

Receiver side, in Python::

    expected = hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    ok = hmac.compare_digest("sha256=" + expected, request.headers["X-Assay-Signature"])

Example
-------
>>> sign(b"k", b'{"a":1}', 1700000000)
'sha256=1b6ad1bc9bf48c52ce01939866d5877c6cc4e87ddad27e16673cb8c4964394a3'
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import os
import socket
import subprocess
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from assay.errors import AssayError, ConfigError
from assay.monitoring.policy import CommandAction, WebhookAction

log = logging.getLogger("assay.monitoring.webhook")

RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 30.0
USER_AGENT = "assay-webhook/1"
MAX_RESPONSE_BYTES = 64 * 1024
"""The most of a receiver's answer that is read (the rest is dropped)."""


class WebhookError(AssayError):
    """A webhook could not be delivered."""


class UnsafeDestinationError(WebhookError, ValueError):
    """The destination resolves to a private, loopback, link-local or multicast address."""


@dataclass(frozen=True)
class Delivery:
    """Outcome of one webhook delivery."""

    ok: bool
    attempts: int
    status: int | None
    error: str | None = None


@dataclass(frozen=True)
class CommandRun:
    """Outcome of a command action."""

    ok: bool
    returncode: int | None
    timed_out: bool
    stdout: str
    stderr: str


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    """The ``X-Assay-Signature`` value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _embedded_v4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries (mapped, 6to4, Teredo, NAT64)."""
    out = [a for a in (ip.ipv4_mapped, ip.sixtofour) if a is not None]
    if ip.teredo is not None:
        out.extend(ip.teredo)
    if any(ip in net for net in _NAT64):
        out.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return out


def is_public(ip: Address) -> bool:
    """Whether ``ip`` is a public, unicast internet address a webhook may reach.

    An allow-list, not a deny-list: the address must be globally routable
    (``is_global``), not multicast nor reserved, and so must every IPv4
    address embedded in it.

    >>> [is_public(ipaddress.ip_address(a)) for a in ("8.8.8.8", "100.100.100.200", "::1")]
    [True, False, False]
    """
    if not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        return all(is_public(v4) for v4 in _embedded_v4(ip))
    return True


def _allowed(ip: Address, networks: tuple[Network, ...]) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in networks)


def parse_networks(values: Any, where: str = "webhook_allow_networks") -> tuple[Network, ...]:
    """CIDR strings (``"10.20.0.0/16"``) → networks; :class:`ConfigError` names a bad one."""
    if values is None:
        return ()
    if isinstance(values, str) or not isinstance(values, (list, tuple)):
        raise ConfigError(f"{where}: must be a list of networks such as '10.20.0.0/16'")
    out = []
    for i, v in enumerate(values):
        try:
            out.append(ipaddress.ip_network(str(v), strict=False))
        except ValueError:
            raise ConfigError(
                f"{where}[{i}]: {v!r} is not a network such as '10.20.0.0/16'"
            ) from None
    return tuple(out)


Resolver = Callable[[str, int], list[str]]


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(i[4][0]) for i in infos))


def vet_destination(
    url: str,
    *,
    allow_private: bool = False,
    allow_networks: tuple[Network, ...] = (),
    resolver: Resolver = _resolve,
) -> tuple[urllib.parse.SplitResult, str]:
    """Parse ``url`` and pick the address to connect to; refuse unsafe ones.

    Raises :class:`UnsafeDestinationError` unless every resolved address is
    public (:func:`is_public`) or inside one of ``allow_networks`` (the
    operator's configuration). ``allow_private`` lets any address through; it
    comes only from a policy file on the operator's own machine, never from
    the service's API.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"webhook url must be http:// or https:// with a host, got {url!r}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ConfigError(f"webhook url {url!r} has an invalid port") from None
    try:
        addrs = resolver(parts.hostname, port)
    except (OSError, UnicodeError) as exc:
        raise WebhookError(f"cannot resolve webhook host {parts.hostname!r}: {exc}") from None
    if not addrs:
        raise WebhookError(f"webhook host {parts.hostname!r} has no address")
    if not allow_private:
        for a in addrs:
            ip = ipaddress.ip_address(a.split("%")[0])
            if not is_public(ip) and not _allowed(ip, allow_networks):
                raise UnsafeDestinationError(
                    f"webhook url {_safe_url(parts)!r} resolves to {a}, which is not a public "
                    "internet address; the service's operator can allow a private network "
                    "with webhook_allow_networks in its configuration file"
                )
    return parts, addrs[0]


def _post(parts: urllib.parse.SplitResult, ip: str, body: bytes, headers: dict, timeout: float):
    import http.client

    port = parts.port or (443 if parts.scheme == "https" else 80)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    assert parts.hostname is not None  # vet_destination refused a URL without a host
    conn = cls(parts.hostname, port, timeout=timeout)

    def pinned(_addr: Any, *args: Any, **kw: Any) -> socket.socket:
        return socket.create_connection((ip, port), *args, **kw)

    # Connect to the vetted address only, through http.client's connection hook.
    conn._create_connection = pinned  # type: ignore[attr-defined]  # typeshed omits the hook
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read(MAX_RESPONSE_BYTES)
        return resp.status
    finally:
        conn.close()


def _safe_url(parts: urllib.parse.SplitResult) -> str:
    """The URL for logs: no user info, no query string (either may hold a token)."""
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{':' + str(parts.port) if parts.port else ''}{parts.path}"


def secret_of(action: WebhookAction) -> bytes | None:
    """The shared secret: ``secret``, else the ``secret_env`` environment variable."""
    if action.secret:
        return action.secret.encode()
    if action.secret_env:
        value = os.environ.get(action.secret_env)
        if not value:
            raise ConfigError(
                f"webhook secret_env names {action.secret_env!r}, which is not set or empty"
            )
        return value.encode()
    return None


def deliver(
    alert: Mapping[str, Any],
    action: WebhookAction,
    *,
    backoff_base_s: float = BACKOFF_BASE_S,
    sleep: Callable[[float], None] = time.sleep,
    resolver: Resolver = _resolve,
    allow_networks: tuple[Network, ...] = (),
    idempotency_key: str | None = None,
) -> Delivery:
    """POST ``alert`` as signed JSON, retrying with exponential backoff.

    Returns a :class:`Delivery` (``ok`` only after a 2xx answer). Raises
    :class:`UnsafeDestinationError` for a refused destination (checked before
    the first attempt, against ``allow_networks`` from the operator).
    """
    parts, ip = vet_destination(
        action.url,
        allow_private=action.allow_private,
        allow_networks=allow_networks,
        resolver=resolver,
    )
    body = json.dumps(dict(alert), sort_keys=True, separators=(",", ":"), default=str).encode()
    secret = secret_of(action)
    where = _safe_url(parts)
    status: int | None = None
    error: str | None = None
    for attempt in range(1, action.max_attempts + 1):
        ts = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Assay-Timestamp": str(ts),
            "X-Assay-Delivery": str(alert.get("id", "")),
        }
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        if secret is not None:
            headers["X-Assay-Signature"] = sign(secret, body, ts)
        try:
            status = _post(parts, ip, body, headers, action.timeout_s)
            error = None
        except (OSError, ValueError) as exc:
            status, error = None, f"{type(exc).__name__}: {exc}"
        if status is not None and 200 <= status < 300:
            log.info("webhook %s delivered (attempt %d)", where, attempt)
            return Delivery(True, attempt, status)
        if status is not None and 300 <= status < 400:
            error = f"the destination answered {status} (a redirect); redirects are not followed"
            break
        if status is not None and status not in RETRY_STATUS:
            error = f"the destination answered {status}"
            break
        error = error or f"the destination answered {status}"
        log.warning("webhook %s attempt %d failed: %s", where, attempt, error)
        if attempt < action.max_attempts:
            sleep(min(BACKOFF_MAX_S, backoff_base_s * 2 ** (attempt - 1)))
    log.warning("webhook %s not delivered: %s", where, error)
    return Delivery(False, attempt, status, error)


def run_command(alert: Mapping[str, Any], action: CommandAction) -> CommandRun:
    """Run ``action.argv`` (no shell) with the alert JSON on stdin, within its timeout."""
    body = json.dumps(dict(alert), sort_keys=True, default=str)
    try:
        proc = subprocess.run(  # argv list from the policy, never a shell
            list(action.argv),
            input=body,
            capture_output=True,
            text=True,
            timeout=action.timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else ""
        return CommandRun(False, None, True, out[-4000:], "")
    except OSError as exc:
        return CommandRun(False, None, False, "", f"{type(exc).__name__}: {exc}")
    return CommandRun(
        proc.returncode == 0, proc.returncode, False, proc.stdout[-4000:], proc.stderr[-4000:]
    )
