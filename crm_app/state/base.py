"""The state every signed-in page builds on: who is calling, re-checked on every event.

The session token lives in an HttpOnly cookie that the event websocket's handshake carries;
it is read on the server from the connection's headers, never sent to the browser state.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.cookies import CookieError, SimpleCookie
from typing import Any

import reflex as rx
from reflex.config import get_config
from sqlmodel import Session

from crm_app import routes
from crm_app.db import get_engine, session_scope
from crm_app.models import User
from crm_app.services import auth, notification, two_factor
from crm_app.services.errors import DomainError, ErrorCode, Unauthenticated
from crm_app.services.permission import can


def backend_url(path: str) -> str:
    """Where the browser reaches a FastAPI route: same origin in production, the backend
    port under the dev server."""
    config = get_config()
    if config.frontend_port == config.backend_port:
        return path
    return config.api_url.rstrip("/") + path


def handoff_script(code: str, next_path: str) -> str:
    """JavaScript that trades a sign-in hand-off code for the session cookie, then navigates.

    A full navigation opens a new websocket, whose handshake then carries the cookie.
    """
    url = json.dumps(backend_url(routes.AUTH_SESSION))
    body = json.dumps(json.dumps({"code": code}))
    target = json.dumps(routes.safe_next(next_path))
    return (
        f"fetch({url}, {{method: 'POST', credentials: 'include', "
        f"headers: {{'Content-Type': 'application/json'}}, body: {body}}})"
        f".then(r => window.location.assign(r.ok ? {target} : '/login'))"
    )


def sign_out_script() -> str:
    """JavaScript that ends the session on the server, clears the cookie and goes to sign-in."""
    url = json.dumps(backend_url(routes.AUTH_SIGN_OUT))
    return (
        f"fetch({url}, {{method: 'POST', credentials: 'include'}})"
        f".finally(() => window.location.assign('{routes.LOGIN}'))"
    )


def error_event(error: DomainError) -> rx.event.EventSpec:
    """How the UI reports a domain error that has no field to sit next to."""
    if error.code is ErrorCode.UNAUTHENTICATED:
        return rx.redirect(routes.LOGIN, replace=True)
    return rx.toast.error(error.message, duration=6000)


def session_token_in(cookie_header: str | None) -> str | None:
    """The session token in a Cookie header, or None."""
    if not cookie_header:
        return None
    try:
        morsel = SimpleCookie(cookie_header).get(routes.SESSION_COOKIE)
    except CookieError:
        return None
    return morsel.value if morsel else None


def session_token_of(state: rx.State) -> str | None:
    """The session cookie of the tab's websocket connection."""
    return session_token_in(state.router.headers.cookie)


def client_ip_of(state: rx.State) -> str | None:
    """The address of the tab's websocket client: Reflex resolves it from the peer and the
    trusted proxy hops (`CRM_TRUSTED_PROXY_HOPS`, passed to `rx.Config`)."""
    return state.router.session.client_ip or None


class AppState(rx.State):
    """The signed-in user as the shell shows them, and the guard of every protected page."""

    me_id: int = 0
    me_name: str = ""
    me_email: str = ""
    me_role: str = ""
    can_manage_users: bool = False
    can_manage_settings: bool = False
    can_read_audit: bool = False
    can_import_export: bool = False
    unread_notifications: int = 0  # the bell's badge: counted on each page load, then polled
    checked: bool = False

    def _session_token(self) -> str | None:
        return session_token_of(self)

    def _client_ip(self) -> str | None:
        return client_ip_of(self)

    @contextmanager
    def _actor_session(self) -> Iterator[tuple[Session, User]]:
        """A transaction and the calling user; raises Unauthenticated when the session ended."""
        with session_scope() as session:
            user = auth.authenticate(session, self._session_token())
            if user is None:
                raise Unauthenticated()
            yield session, user

    @contextmanager
    def _polling_session(self) -> Iterator[tuple[Session, User]]:
        """Like `_actor_session`, for what a page asks on its own every few seconds (the
        bell's count, the board's changes): never committed, so polling does not move the
        session's last-seen time and an idle tab still signs out."""
        with Session(get_engine(), autoflush=False) as session:
            user = auth.authenticate(session, self._session_token())
            if user is None:
                raise Unauthenticated()
            yield session, user

    def _act_then(
        self,
        change: Callable[[Session, User], Any] | None,
        show: Callable[[Session, User], None],
        message: str | None = None,
    ) -> rx.event.EventSpec | None:
        """In one transaction, as the calling user: `change` (when given), then `show` what
        the page shows now. A refusal is reported (a toast, or the sign-in page); `message`
        is toasted when it went through."""
        try:
            with self._actor_session() as (session, actor):
                if change is not None:
                    change(session, actor)
                show(session, actor)
        except DomainError as error:
            return error_event(error)
        return rx.toast.success(message) if message else None

    def _show_user(self, session: Session, user: User) -> None:
        self.me_id = user.id or 0
        self.me_name = user.name
        self.me_email = user.email
        self.me_role = user.role
        self.can_manage_users = can(session, user, "user", "manage")
        self.can_manage_settings = can(session, user, "setting", "manage")
        self.can_read_audit = can(session, user, "audit", "read")
        self.can_import_export = any(
            can(session, user, entity, action)
            for entity in ("contact", "account")
            for action in ("import", "export")
        )
        self.unread_notifications = notification.unread_count(session, actor=user)
        self.checked = True

    def _load_page(
        self, load: Callable[[Session, User], None] | None = None
    ) -> rx.event.EventSpec | None:
        """on_load of a protected page: in one transaction, check the session, show the user,
        then run `load`. Returns the redirect to sign in, or the error to show."""
        try:
            with self._actor_session() as (session, user):
                if two_factor.must_enrol(session, user) and not self._on_enrolment_page():
                    self.checked = False  # the role requires two-factor: set it up first
                    return rx.redirect(routes.SETTINGS_PROFILE, replace=True)
                self._show_user(session, user)
                if load is not None:
                    load(session, user)
        except Unauthenticated:
            self.checked = False
            return rx.redirect(routes.login(self.router.url.path), replace=True)
        except DomainError as error:
            return error_event(error)
        return None

    def _on_enrolment_page(self) -> bool:
        return self.router.url.path.rstrip("/") == routes.SETTINGS_PROFILE

    def _check_session(self) -> rx.event.EventSpec | None:
        """Show the signed-in user, or return the redirect that sends a visitor to sign in."""
        return self._load_page()

    @rx.event
    def guard(self):
        """on_load of every protected page without data of its own."""
        return self._check_session()

    @rx.event
    def sign_out(self):
        """End this browser's session."""
        self.checked = False
        return rx.call_script(sign_out_script())

    @rx.var
    def me_initials(self) -> str:
        """Up to two initials for the avatar."""
        parts = self.me_name.split()
        return "".join(p[0] for p in parts[:2]).upper() or "?"
