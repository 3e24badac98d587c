"""Settings -> Security: how people sign in to the workspace (admins)."""

from __future__ import annotations

import reflex as rx

from crm_app.services import oidc
from crm_app.services.errors import DomainError, ValidationFailed
from crm_app.state.base import AppState, error_event


class SecuritySettingsState(AppState):
    """Single sign-on: whether it is configured, and the switch that requires it."""

    sso_configured: bool = False
    sso_label: str = ""
    require_sso: bool = False
    sso_message: str = ""  # why the switch did not move
    not_connected_count: int = 0  # active people with no provider account connected
    not_connected_text: str = ""  # how many, and a few of their names

    def _show_security(self, session, actor) -> None:
        shown = oidc.security_settings(session, actor=actor)
        self.sso_configured = shown.sso_configured
        self.sso_label = shown.sso_label
        self.require_sso = shown.require_sso
        count = self.not_connected_count = shown.not_connected_count
        more = count - len(shown.not_connected)
        names = ", ".join(shown.not_connected) + (f" and {more} more" if more > 0 else "")
        who = "1 active person has" if count == 1 else f"{count} active people have"
        self.not_connected_text = f"{who} not connected single sign-on: {names}."

    @rx.event
    def load(self):
        """on_load."""
        self.sso_message = ""
        return self._load_page(self._show_security)

    @rx.event
    def set_require_sso(self, required: bool):
        """Require single sign-on for everyone, or allow passwords again."""
        self.sso_message = ""
        try:
            with self._actor_session() as (session, actor):
                oidc.set_sso_required(
                    session, actor=actor, required=bool(required), ip=self._client_ip()
                )
                self._show_security(session, actor)
        except ValidationFailed as error:
            self.sso_message = error.message
            return None
        except DomainError as error:
            return error_event(error)
        return rx.toast.success(
            "Single sign-on is now required." if required else "Passwords work again."
        )
