"""Single sign-on: send the browser to the OpenID provider, and take its answer back.

Web app routes on the app's own port (not part of the public API schema). The state the
provider must return is also kept in a short-lived HttpOnly cookie, so only the browser that
started a sign-in can finish it.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from crm_app import routes
from crm_app.api.deps import DbSession, client_ip
from crm_app.models import User
from crm_app.services import auth, oidc
from crm_app.settings import get_settings

router = APIRouter(include_in_schema=False)

STATE_COOKIE = "crm_oidc_state"


@router.get(routes.AUTH_OIDC_START)
def start(request: Request, session: DbSession, next: str | None = None) -> RedirectResponse:
    """Record a sign-in and redirect to the provider."""
    try:
        started = oidc.begin(session, next_path=next)
    except oidc.SsoRefused as refusal:
        return RedirectResponse(routes.login_sso_error(refusal.reason), status_code=303)
    return _to_provider(started)


@router.get(routes.AUTH_OIDC_CONNECT)
def connect(request: Request, session: DbSession) -> RedirectResponse:
    """A signed-in user connects their provider account: the same trip, bound to them. Only
    from the app's own pages (a cross-site link cannot start one)."""
    user = _signed_in(request, session)
    if user is None:
        return RedirectResponse(routes.login(routes.SETTINGS_PROFILE), status_code=303)
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return RedirectResponse(routes.profile_sso(error="expired"), status_code=303)
    try:
        started = oidc.begin(session, next_path=None, connect=user)
    except oidc.SsoRefused as refusal:
        return RedirectResponse(routes.profile_sso(error=refusal.reason), status_code=303)
    return _to_provider(started)


def _signed_in(request: Request, session: DbSession) -> User | None:
    """The user of this browser's session cookie, if it is live."""
    return auth.authenticate(session, request.cookies.get(routes.SESSION_COOKIE))


def _to_provider(started: oidc.SsoStart) -> RedirectResponse:
    response = RedirectResponse(started.url, status_code=303)
    response.set_cookie(
        STATE_COOKIE,
        started.state,
        max_age=int(oidc.LOGIN_VALID.total_seconds()),
        httponly=True,
        secure=get_settings().cookie_secure,
        samesite="lax",  # sent on the provider's top-level redirect back to us
        path=routes.AUTH_OIDC_CALLBACK,
    )
    return response


@router.get(routes.AUTH_OIDC_CALLBACK)
def callback(
    request: Request,
    session: DbSession,
    state: str = "",
    code: str | None = None,
    error: str | None = None,
) -> RedirectResponse:
    """Finish the sign-in: set the session cookie and go on, or back to sign-in with why."""
    outcome = oidc.finish(
        session,
        state=state[:200],
        code=code[:2000] if code else None,
        browser_state=request.cookies.get(STATE_COOKIE),
        provider_error=error,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
        signed_in=_signed_in(request, session),
    )
    if outcome.connecting:
        reason = outcome.error.reason if outcome.error else None
        response = RedirectResponse(routes.profile_sso(error=reason), status_code=303)
    elif outcome.error is not None or outcome.session_token is None:
        reason = outcome.error.reason if outcome.error else "invalid"
        response = RedirectResponse(routes.login_sso_error(reason), status_code=303)
    else:
        response = RedirectResponse(routes.safe_next(outcome.next_path), status_code=303)
        _set_session_cookie(response, outcome.session_token)
    response.delete_cookie(STATE_COOKIE, path=routes.AUTH_OIDC_CALLBACK)
    return response


def _set_session_cookie(response: RedirectResponse, token: str) -> None:
    # The same cookie, with the same attributes, as auth_cookie.open_session sets.
    settings = get_settings()
    response.set_cookie(
        routes.SESSION_COOKIE,
        token,
        max_age=settings.session_max_days * 86400,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path="/",
    )
