"""Sign-in, forgotten password, and setting a password from an invitation or reset link."""

from __future__ import annotations

import time

import reflex as rx

from crm_app import routes
from crm_app.db import session_scope
from crm_app.services import auth, invitation, oidc, two_factor
from crm_app.services.errors import DomainError, ErrorCode, NotFound
from crm_app.state.base import backend_url, client_ip_of, handoff_script, session_token_of


class LoginState(rx.State):
    """The sign-in form, and the single sign-on button when SSO is configured."""

    error: str = ""
    is_submitting: bool = False
    awaiting_code: bool = False  # the password was right; two-factor asks for a code
    use_recovery: bool = False  # a recovery code instead of the app's code
    # Server-side only: lets this tab try codes for 5 minutes, useless without a right one.
    _second_factor_token: str = ""
    _second_factor_until: float = 0.0  # time.monotonic() when that token lapses
    sso_label: str = ""  # the button's text; "" when SSO is not configured
    sso_href: str = ""
    sso_required: bool = False  # the password form is hidden
    sso_error: str = ""  # why the last single sign-on failed

    @rx.event
    def submit(self, form: dict):
        """Check the credentials; on success trade the hand-off code for the session cookie."""
        self.error = ""
        email, password = str(form.get("email", ""))[:320], str(form.get("password", ""))[:200]
        ip = client_ip_of(self)
        with session_scope() as session:
            outcome = auth.sign_in(session, email=email, password=password, ip=ip)
        if outcome.second_factor_token:
            self._second_factor_token = outcome.second_factor_token
            self._second_factor_until = time.monotonic() + auth.SECOND_FACTOR_SECONDS
            self.awaiting_code, self.use_recovery = True, False
            return None
        if outcome.error is not None or outcome.handoff_code is None:
            self.error = outcome.error.message if outcome.error else "Sign-in failed."
            return None
        self.is_submitting = True
        next_path = self.router.url.query_parameters.get("next", routes.DASHBOARD)
        return rx.call_script(handoff_script(outcome.handoff_code, next_path))

    @rx.event
    def submit_code(self, form: dict):
        """The second step: a right code (or recovery code) signs in."""
        self.error = ""
        code = str(form.get("code", ""))[:40]
        with session_scope() as session:
            outcome = two_factor.complete_sign_in(
                session, token=self._second_factor_token, code=code, ip=client_ip_of(self)
            )
        if outcome.error is not None or outcome.handoff_code is None:
            if outcome.error is None or outcome.error.code is ErrorCode.UNAUTHENTICATED:
                self._clear_second_factor()
            self.error = outcome.error.message if outcome.error else "Sign-in failed."
            return None
        self._clear_second_factor()
        self.is_submitting = True
        next_path = self.router.url.query_parameters.get("next", routes.DASHBOARD)
        return rx.call_script(handoff_script(outcome.handoff_code, next_path))

    @rx.event
    def toggle_recovery(self):
        """Switch between the app's code and a recovery code."""
        self.use_recovery, self.error = not self.use_recovery, ""

    @rx.event
    def start_over(self):
        """Back to e-mail and password."""
        self._clear_second_factor()
        self.error = ""

    def _clear_second_factor(self) -> None:
        self._second_factor_token, self.awaiting_code, self.use_recovery = "", False, False
        self._second_factor_until = 0.0

    @rx.event
    def redirect_if_signed_in(self):
        """on_load: a visitor who is already signed in goes straight to the app. A code step
        still pending survives a reload (or a load that lands after the password went in)."""
        self.is_submitting = False
        if time.monotonic() >= self._second_factor_until:
            self._clear_second_factor()
            self.error = ""
        with session_scope() as session:
            user = auth.authenticate(session, session_token_of(self))
            self._show_sso(session)
        if user is not None:
            return rx.redirect(routes.DASHBOARD)
        return None

    def _show_sso(self, session) -> None:
        query = self.router.url.query_parameters
        configured = oidc.is_configured()
        self.sso_label = oidc.button_label() if configured else ""
        self.sso_href = backend_url(routes.oidc_start(query.get("next")))
        self.sso_required = oidc.sso_required(session)
        self.sso_error = oidc.message_for(query.get("sso_error"))


class ForgotPasswordState(rx.State):
    """Asking for a password reset link."""

    sent: bool = False
    error: str = ""

    @rx.event
    def submit(self, form: dict):
        """Always answer the same way, so the form does not reveal who has an account."""
        email = str(form.get("email", ""))[:320]
        ip = client_ip_of(self)
        try:
            with session_scope() as session:
                invitation.request_password_reset(session, email=email, ip=ip)
        except DomainError as error:  # too many requests: the same for any e-mail
            self.error = error.message
            return
        self.sent, self.error = True, ""

    @rx.event
    def show_form(self):
        """on_load: show the form again."""
        self.sent, self.error = False, ""


class SetPasswordState(rx.State):
    """The page behind an invitation or password-reset link."""

    purpose: str = invitation.INVITE
    valid: bool = False
    checked: bool = False
    greeting_name: str = ""
    email: str = ""
    problem: str = ""
    password_error: str = ""

    def _token(self) -> str:
        return str(self.router.page.params.get("token", ""))[:200]

    def _load(self, purpose: str) -> None:
        self.purpose = purpose
        self.password_error = ""
        try:
            with session_scope() as session:
                user = invitation.peek(session, token=self._token(), purpose=purpose)
                self.greeting_name, self.email = user.name, user.email
            self.valid, self.problem = True, ""
        except NotFound as error:
            self.valid, self.problem = False, error.message
        self.checked = True

    @rx.event
    def load_invitation(self):
        """on_load of /invite/[token]."""
        self._load(invitation.INVITE)

    @rx.event
    def load_reset(self):
        """on_load of /reset-password/[token]."""
        self._load(invitation.RESET)

    @rx.event
    def submit(self, form: dict):
        """Set the password, then sign in with it."""
        password = str(form.get("password", ""))[:200]
        if password != str(form.get("confirm", ""))[:200]:
            self.password_error = "The two passwords differ."  # noqa: S105 - a message
            return None
        ip = client_ip_of(self)
        try:
            with session_scope() as session:
                code = invitation.set_password_with_token(
                    session, token=self._token(), purpose=self.purpose, password=password, ip=ip
                )
        except DomainError as error:
            self.password_error = error.message
            if isinstance(error, NotFound):
                self.valid, self.problem = False, error.message
            return None
        if code is None:  # two-factor is on: the new password is only the first step
            return [
                rx.redirect(routes.LOGIN),
                rx.toast.success("Password saved. Sign in with it and your authentication code."),
            ]
        return rx.call_script(handoff_script(code, routes.DASHBOARD))
