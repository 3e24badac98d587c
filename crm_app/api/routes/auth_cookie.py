"""Browser session cookie: set from a sign-in hand-off code, cleared on sign-out.

These routes are for the web app only (not part of the public API schema).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from crm_app import routes
from crm_app.api.deps import DbSession, client_ip
from crm_app.api.problems import problem
from crm_app.services import auth, rate_limit
from crm_app.services.errors import Forbidden, Unauthenticated
from crm_app.settings import get_settings

router = APIRouter(include_in_schema=False)


class HandoffIn(BaseModel):
    """The single-use code a successful sign-in produced."""

    code: str


def _check_origin(request: Request) -> None:
    """Refuse cross-site posts (a page elsewhere cannot sign a browser in or out)."""
    origin = request.headers.get("origin")
    if origin and origin.rstrip("/") not in get_settings().allowed_origins:
        raise Forbidden("Cross-site request refused.")


@router.post(routes.AUTH_SESSION, status_code=204)
def open_session(body: HandoffIn, request: Request, session: DbSession) -> Response:
    """Redeem the hand-off code and set the HttpOnly session cookie. Attempts per address
    are limited like sign-ins (a code is one per sign-in); a bad code is answered, not
    raised, so the attempt's count is committed."""
    _check_origin(request)
    ip = client_ip(request)
    settings = get_settings()
    rate_limit.enforce(
        session,
        bucket="auth_handoff",
        key=ip,
        limit=settings.sign_in_ip_limit,
        window=auth.SIGN_IN_WINDOW,
    )
    try:
        _, token = auth.redeem_handoff(
            session, code=body.code, ip=ip, user_agent=request.headers.get("user-agent")
        )
    except Unauthenticated as error:
        return problem(401, error.message)
    response = Response(status_code=204)
    response.set_cookie(
        routes.SESSION_COOKIE,
        token,
        max_age=settings.session_max_days * 86400,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path="/",
    )
    return response


@router.post(routes.AUTH_SIGN_OUT, status_code=204)
def close_session(request: Request, session: DbSession) -> Response:
    """End the session on the server and clear the cookie."""
    _check_origin(request)
    auth.sign_out(session, token=request.cookies.get(routes.SESSION_COOKIE), ip=client_ip(request))
    response = Response(status_code=204)
    response.delete_cookie(routes.SESSION_COOKIE, path="/")
    return response
