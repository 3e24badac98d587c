"""Settings -> Profile -> Two-factor authentication, and the admin's "Require two-factor for"."""

from __future__ import annotations

from urllib.parse import quote

import reflex as rx

from crm_app.services import two_factor
from crm_app.services.errors import DomainError
from crm_app.state.base import AppState, error_event

ROLE_CHOICES = [("admin", "Admin"), ("manager", "Manager"), ("rep", "Rep"), ("viewer", "Viewer")]


class TwoFactorState(AppState):
    """The signed-in user's own two-factor settings. The secret is in state only while
    enrolling (the page shows it), the recovery codes only right after they were made."""

    enabled: bool = False
    required: bool = False  # the user's role must use it: it cannot be turned off
    codes_left: int = 0
    enrolling: bool = False
    secret: str = ""
    qr_data_uri: str = ""
    recovery_codes: list[str] = []
    code_error: str = ""
    proof_error: str = ""
    form_key: int = 0  # bumped to empty the forms

    @rx.event
    def load(self):
        """on_mount of the section: where the user stands."""
        self._forget_secrets()
        return self._act_then(None, self._show)

    def _show(self, session, me) -> None:
        self.enabled = two_factor.is_enabled(me)
        self.required = two_factor.is_required(session, me)
        self.codes_left = two_factor.recovery_codes_left(session, actor=me) if self.enabled else 0

    def _forget_secrets(self) -> None:
        self.enrolling, self.secret, self.qr_data_uri = False, "", ""
        self.recovery_codes = []
        self.code_error = self.proof_error = ""

    @rx.event
    def start(self):
        """Make a new secret and show it as a QR code and as text."""
        self._forget_secrets()
        try:
            with self._actor_session() as (session, me):
                enrolment = two_factor.begin_enrolment(session, actor=me)
        except DomainError as error:
            return error_event(error)
        self.enrolling, self.secret = True, enrolment.secret
        self.qr_data_uri = enrolment.qr_data_uri
        self.form_key += 1
        return None

    @rx.event
    def cancel(self):
        """Leave enrolment; two-factor stays off."""
        self._forget_secrets()

    @rx.event
    def confirm(self, form: dict):
        """Turn two-factor on with a code from the app, then show the recovery codes once."""
        self.code_error = ""
        code = str(form.get("code", ""))[:20]
        try:
            with self._actor_session() as (session, me):
                outcome = two_factor.confirm_enrolment(
                    session, actor=me, code=code, ip=self._client_ip()
                )
                if outcome.error is None:
                    self._show(session, me)
        except DomainError as error:
            return error_event(error)
        if outcome.error is not None:
            self.code_error = outcome.error.message
            return None
        self._forget_secrets()
        self.recovery_codes = outcome.recovery_codes
        return rx.toast.success("Two-factor authentication is on.")

    @rx.event
    def regenerate(self):
        """New recovery codes, shown once; the old ones stop working."""
        self._forget_secrets()
        try:
            with self._actor_session() as (session, me):
                codes = two_factor.regenerate_recovery_codes(
                    session, actor=me, ip=self._client_ip()
                )
                self._show(session, me)
        except DomainError as error:
            return error_event(error)
        self.recovery_codes = codes
        return None

    @rx.event
    def hide_codes(self):
        """The user has stored the recovery codes."""
        self.recovery_codes = []

    @rx.event
    def turn_off(self, form: dict):
        """Turn two-factor off with the password or a current code."""
        self.proof_error = ""
        proof = str(form.get("proof", ""))[:200]
        try:
            with self._actor_session() as (session, me):
                error = two_factor.turn_off(session, actor=me, proof=proof, ip=self._client_ip())
                self._show(session, me)
        except DomainError as error:
            return error_event(error)
        if error is not None:
            self.proof_error = error.message
            return None
        self._forget_secrets()
        self.form_key += 1
        return rx.toast.success("Two-factor authentication is off.")

    @rx.var
    def codes_text(self) -> str:
        """The recovery codes one a line, to copy or download."""
        return "\n".join(self.recovery_codes)

    @rx.var
    def codes_download(self) -> str:
        """The recovery codes as a text file's data URL (made in the browser, never stored)."""
        text = "CRM recovery codes: each works once.\n\n" + "\n".join(self.recovery_codes)
        return "data:text/plain;charset=utf-8," + quote(text + "\n")


class TwoFactorPolicyState(AppState):
    """Admins: which roles must use two-factor authentication."""

    policy_roles: list[str] = []
    is_admin: bool = False

    @rx.event
    def load(self):
        """on_mount of the section."""
        return self._act_then(None, self._show)

    def _show(self, session, me) -> None:
        self.is_admin = me.role == "admin"
        self.policy_roles = two_factor.required_roles(session) if self.is_admin else []

    @rx.event
    def toggle(self, role: str, checked: bool):
        """Tick or untick one role (saved with Save)."""
        rest = [r for r in self.policy_roles if r != role]
        self.policy_roles = [*rest, role] if checked and role in dict(ROLE_CHOICES) else rest

    @rx.event
    def save(self):
        """Save the roles that must use two-factor."""
        roles = list(self.policy_roles)

        def change(session, me) -> None:
            two_factor.set_required_roles(session, actor=me, roles=roles, ip=self._client_ip())

        return self._act_then(change, self._show, "Saved. Those roles must now use two-factor.")
