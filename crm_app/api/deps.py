"""Request dependencies: a database session per request and the calling user."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import text
from sqlmodel import Session

from crm_app.auth.tokens import hash_token
from crm_app.db import session_scope
from crm_app.models import User
from crm_app.services import api_key, rate_limit
from crm_app.services.errors import Unauthenticated
from crm_app.settings import client_address, get_settings

_bearer = HTTPBearer(auto_error=False, description="An API key from Settings -> API keys.")


def get_session() -> Iterator[Session]:
    """One transaction per request, committed before the response is sent."""
    with session_scope() as session:
        yield session


DbSession = Annotated[Session, Depends(get_session, scope="function")]


def get_actor(
    session: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The user whose API key is in `Authorization: Bearer`, or 401."""
    if credentials is None:
        raise Unauthenticated("Send an API key as 'Authorization: Bearer <key>'.")
    user = api_key.authenticate_key(session, credentials.credentials)
    if user is None:
        raise Unauthenticated("The API key is unknown, revoked or expired.")
    _count_key_request(credentials.credentials)
    return user


def _count_key_request(plaintext: str) -> None:
    """At most CRM_API_RATE_LIMIT requests a minute per key, or RateLimited (429). Counted in
    a short transaction of its own: it holds even when the request fails, and the key's
    counter row is not kept locked while the request runs (parallel calls do not queue)."""
    with session_scope() as session:
        # a counter lost in a crash costs nothing; not waiting for the WAL flush saves most
        # of this transaction's time
        session.execute(text("SET LOCAL synchronous_commit = off"))
        rate_limit.enforce(
            session,
            bucket="api_key",
            key=hash_token(plaintext),
            limit=get_settings().api_rate_limit,
            window=timedelta(minutes=1),
            what="requests with this API key",
        )


Actor = Annotated[User, Depends(get_actor)]


def client_ip(request: Request) -> str | None:
    """The caller's address: the peer's, or the one the trusted proxies saw
    (`CRM_TRUSTED_PROXY_HOPS`)."""
    peer = request.client.host if request.client else None
    hops = get_settings().trusted_proxy_hops
    return client_address(peer, request.headers.get("x-forwarded-for"), hops)
