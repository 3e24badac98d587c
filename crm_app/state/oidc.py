"""Settings -> Profile -> Single sign-on: the provider accounts that sign one in."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.services import oidc
from crm_app.state.audit import local_time
from crm_app.state.base import AppState, backend_url
from crm_app.state.record_list import int_arg


class SsoConnectionState(AppState):
    """One's connected provider accounts, and what the last connection attempt came to."""

    sso_configured: bool = False
    sso_label: str = ""
    connect_href: str = ""
    identities: list[dict[str, str]] = []
    connect_notice: str = ""  # the provider account was connected
    connect_error: str = ""  # why it was not

    def _show_identities(self, session, actor) -> None:
        self.sso_configured = oidc.is_configured()
        self.sso_label = oidc.provider_label()
        self.connect_href = backend_url(routes.AUTH_OIDC_CONNECT)
        zone = actor.timezone or "UTC"
        self.identities = [
            {
                "id": str(identity.id),
                "email": identity.email or "No e-mail given",
                "connected": local_time(identity.created_at, zone),
                "last_used": local_time(identity.last_used_at, zone)
                if identity.last_used_at
                else "Never",
            }
            for identity in oidc.connected_identities(session, actor=actor)
        ]

    @rx.event
    def load_identities(self):
        """When the section shows: the connections, and how the round trip just ended."""
        query = self.router.url.query_parameters
        self.connect_error = oidc.message_for(query.get("sso_error"))
        self.connect_notice = (
            ""
            if self.connect_error or query.get("sso") != "connected"
            else ("Connected. You can now sign in with this account.")
        )
        return self._act_then(None, self._show_identities)

    @rx.event
    def disconnect(self, identity_id: str):
        """Stop a provider account signing one in."""
        target = int_arg(identity_id)
        self.connect_notice = self.connect_error = ""

        def disconnect(session, actor) -> None:
            oidc.disconnect(session, actor=actor, identity_id=target, ip=self._client_ip())

        return self._act_then(disconnect, self._show_identities, "Disconnected.")
