"""`/settings/security`: how people sign in (admins). One section per control: single sign-on
now; more sign-in rules (two-factor by role) join as sections of their own."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.layout import protected_page
from crm_app.components.settings_nav import section_header, settings_page
from crm_app.components.two_factor import required_roles_section
from crm_app.components.ui import no_access
from crm_app.state.base import AppState
from crm_app.state.security_settings import SecuritySettingsState as S


def _section(title: str, description: str, *children: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(title, size="3", as_="h3"),
            rx.text(description, size="2", color_scheme="gray"),
            *children,
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _single_sign_on() -> rx.Component:
    return _section(
        "Single sign-on",
        "People sign in through your OpenID Connect provider (Google, Microsoft Entra, "
        "Keycloak, Authentik...), set with the CRM_OIDC_* environment variables.",
        rx.cond(
            S.sso_configured,
            rx.text(
                "Configured: the sign-in page shows “Sign in with ", S.sso_label, "”.", size="2"
            ),
            rx.text("Not configured: set CRM_OIDC_DISCOVERY_URL and CRM_OIDC_CLIENT_ID.", size="2"),
        ),
        rx.hstack(
            rx.switch(
                id="require-sso",
                checked=S.require_sso,
                on_change=S.set_require_sso,
            ),
            rx.el.label(
                "Require single sign-on for everyone", html_for="require-sso", font_weight="500"
            ),
            align="center",
            spacing="2",
        ),
        rx.text(
            "When required, password sign-in and password resets are refused; people use the "
            "single sign-on button. New people join through an invitation to their e-mail.",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(
            S.sso_message != "",
            rx.callout(S.sso_message, icon="triangle_alert", color_scheme="red", role="alert"),
        ),
        rx.cond(S.sso_configured & (S.not_connected_count > 0), _not_connected()),
    )


def _not_connected() -> rx.Component:
    return rx.callout(
        rx.text(
            S.not_connected_text,
            " They connect it on Settings → Profile; once it is required, they cannot sign "
            "in until they have.",
        ),
        icon="info",
        color_scheme=rx.cond(S.require_sso, "amber", "gray"),
        role="status",
        aria_label="People without single sign-on",
    )


@rx.page(route=routes.SETTINGS_SECURITY, title="Security · Settings · CRM", on_load=S.load)
@protected_page("Settings")
def settings_security() -> rx.Component:
    """Sign-in rules for the whole workspace."""
    return settings_page(
        section_header("Security", "How people sign in to this workspace."),
        rx.cond(
            AppState.can_manage_settings,
            rx.vstack(_single_sign_on(), required_roles_section(), spacing="4", width="100%"),
            no_access("security settings"),
        ),
    )
