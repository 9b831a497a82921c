"""Bearer tokens: random secrets stored as SHA-256 digests, compared in constant time.

Scopes nest: ``read`` < ``write`` < ``admin``.

>>> token = new_token()
>>> token_key(token) == token_key(token) and len(digest(token)) == 64
True
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Literal

Scope = Literal["read", "write", "admin"]
SCOPES: dict[str, frozenset[str]] = {
    "read": frozenset({"read"}),
    "write": frozenset({"read", "write"}),
    "admin": frozenset({"read", "write", "admin"}),
}


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
