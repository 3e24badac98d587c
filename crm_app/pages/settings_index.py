"""`/settings`: opens the first settings page, the profile."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.layout import protected_page
from crm_app.state.profile import ProfileState


@rx.page(route=routes.SETTINGS, title="Settings · CRM", on_load=ProfileState.open_settings)
@protected_page("Settings")
def settings_index() -> rx.Component:
    """Shown only for the moment before the redirect."""
    return rx.center(rx.spinner(size="3"), width="100%", padding="2rem", aria_label="Loading")
