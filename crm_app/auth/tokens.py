"""Random secret tokens, stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets


def new_token(nbytes: int = 32) -> str:
    """A URL-safe random token with `nbytes` of entropy."""
    return secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored (tokens are high-entropy)."""
    return hashlib.sha256(token.encode()).hexdigest()
