"""Bearer tokens: random secrets stored as SHA-256 digests, compared in constant time;
and the dashboard's server-side sessions.

Scopes nest: ``read`` < ``write`` < ``admin``.

A dashboard login turns a token into a session: a fresh random id (the cookie's
value, unrelated to the token) whose SHA-256 digest is stored with the token's id
and scope, its creation and expiry (:data:`SESSION_TTL_S`, 8 hours) and a revoked
flag. A session grants ``read`` at most, whatever its token's scope; it ends when
it expires, on logout (deleted from the store) and when its token is deleted
(:func:`revoke_token`) or no longer allows ``read``.

>>> token = new_token()
>>> token_key(token) == token_key(token) and len(digest(token)) == 64
True
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Literal

Scope = Literal["read", "write", "admin"]
SCOPES: dict[str, frozenset[str]] = {
    "read": frozenset({"read"}),
    "write": frozenset({"read", "write"}),
    "admin": frozenset({"read", "write", "admin"}),
}
SESSION_TTL_S = 8 * 3600
"""How long a dashboard session lives, in seconds (default 28,800: 8 hours)."""
SESSION_SCOPE = "read"
"""The most a dashboard session grants (the dashboard only reads)."""


def new_token() -> str:
    """A fresh random token (shown once; only its digest is stored)."""
    return "assay_" + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_key(token: str) -> str:
    """The lookup key of a token: a prefix of a second, domain-separated digest, so
    that the key reveals nothing of the stored digest."""
    return hashlib.sha256(b"assay-token-key:" + token.encode("utf-8")).hexdigest()[:24]


def create_token(store, scope: str, name: str | None = None, token: str | None = None) -> str:
    """Store a token with ``scope`` (a new random one unless ``token`` is given)."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    token = token or new_token()
    store.add_token(token_key(token), digest(token), scope, name)
    return token


def token_scope(store, token: str) -> str | None:
    """The scope of ``token``, or ``None`` when it is not a stored token."""
    found = store.get_token(token_key(token))
    if found is None:
        hmac.compare_digest(digest(token), "0" * 64)  # same work on a miss
        return None
    stored, scope = found
    return scope if hmac.compare_digest(stored, digest(token)) else None


def allows(scope: str, needed: str) -> bool:
    return needed in SCOPES.get(scope, frozenset())


def revoke_token(store, token: str) -> bool:
    """Delete ``token`` and revoke the dashboard sessions made from it; ``False``
    when it was not a stored token."""
    if token_scope(store, token) is None:
        return False
    return store.delete_token(token_key(token))


def create_session(store, token: str, ttl_s: float | None = None) -> str | None:
    """A new dashboard session for ``token`` (``None`` when the token may not
    read); returns the session id for the cookie, of which only the digest is
    stored. ``ttl_s`` defaults to :data:`SESSION_TTL_S`."""
    scope = token_scope(store, token)
    if scope is None or not allows(scope, SESSION_SCOPE):
        return None
    session_id = secrets.token_urlsafe(32)
    now = time.time()
    ttl = SESSION_TTL_S if ttl_s is None else ttl_s
    store.add_session(digest(session_id), token_key(token), scope, now, now + ttl)
    return session_id


def session_scope(store, session_id: str) -> str | None:
    """``read`` when ``session_id`` names a live session whose token still allows
    reading, else ``None``."""
    if not session_id:
        return None
    found = store.get_session(digest(session_id))
    if found is None or found.revoked or found.expires_at <= time.time():
        return None
    if found.token_scope is None or not allows(found.token_scope, SESSION_SCOPE):
        return None
    return SESSION_SCOPE


def end_session(store, session_id: str) -> None:
    """Delete the session ``session_id`` from the store (logout)."""
    if session_id:
        store.delete_session(digest(session_id))
