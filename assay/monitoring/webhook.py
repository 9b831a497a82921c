"""Alert actions: a signed webhook and a local command. Standard library only.

Webhook
-------
The alert is POSTed as JSON with these headers:

- ``X-Assay-Signature: sha256=<hex>``: HMAC-SHA256 with the shared secret over
  ``<timestamp>.<body>`` (present when a secret is configured);
- ``X-Assay-Timestamp``: Unix seconds, part of the signed text (reject old ones
  to stop replays);
- ``X-Assay-Delivery``: the alert id, the same on every retry, so a receiver
  can drop duplicates (delivery is at-least-once).

Failures that may pass (connection errors, timeouts, 408, 429, 5xx) are
retried with exponential backoff; other 4xx and any redirect are final
(redirects are never followed). Before connecting, the host is resolved and
refused if any address is loopback, link-local, private, multicast, reserved
or unspecified, unless the action sets ``allow_private``; the connection then
goes to the vetted address (no second lookup), so DNS rebinding cannot swap it.
The secret is never logged nor put in an error message.

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


def _unsafe(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_link_local
        or ip.is_private
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


Resolver = Callable[[str, int], list[str]]


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(i[4][0]) for i in infos))


def vet_destination(
    url: str, *, allow_private: bool = False, resolver: Resolver = _resolve
) -> tuple[urllib.parse.SplitResult, str]:
    """Parse ``url`` and pick the address to connect to; refuse unsafe ones.

    Raises :class:`UnsafeDestinationError` when any resolved address is
    loopback, link-local, private, multicast, reserved or unspecified and
    ``allow_private`` is false.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"webhook url must be http:// or https:// with a host, got {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addrs = resolver(parts.hostname, port)
    except OSError as exc:
        raise WebhookError(f"cannot resolve webhook host {parts.hostname!r}: {exc}") from None
    if not addrs:
        raise WebhookError(f"webhook host {parts.hostname!r} has no address")
    if not allow_private:
        bad = [a for a in addrs if _unsafe(ipaddress.ip_address(a.split("%")[0]))]
        if bad:
            raise UnsafeDestinationError(
                f"webhook host {parts.hostname!r} resolves to {bad[0]}, a loopback, private, "
                "link-local or multicast address; set allow_private: true on the webhook "
                "action to send there"
            )
    return parts, addrs[0]


def _post(parts: urllib.parse.SplitResult, ip: str, body: bytes, headers: dict, timeout: float):
    import http.client

    port = parts.port or (443 if parts.scheme == "https" else 80)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = cls(parts.hostname, port, timeout=timeout)

    def pinned(_addr: Any, *args: Any, **kw: Any) -> socket.socket:
        return socket.create_connection((ip, port), *args, **kw)

    conn._create_connection = pinned  # connect to the vetted address only
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read(65536)
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
) -> Delivery:
    """POST ``alert`` as signed JSON, retrying with exponential backoff.

    Returns a :class:`Delivery` (``ok`` only after a 2xx answer). Raises
    :class:`UnsafeDestinationError` for a refused destination.
    """
    parts, ip = vet_destination(action.url, allow_private=action.allow_private, resolver=resolver)
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
