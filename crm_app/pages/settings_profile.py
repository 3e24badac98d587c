"""`/settings/profile`: one's own name, time zone and password."""

from __future__ import annotations

from zoneinfo import available_timezones

import reflex as rx

from crm_app import routes
from crm_app.components.layout import protected_page
from crm_app.components.settings_nav import settings_page
from crm_app.components.ui import field
from crm_app.state.profile import ProfileState

# Static, so the ~600 names ship once with the page rather than in every tab's state.
TIMEZONES = sorted(available_timezones())


def _section(title: str, description: str, form: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(title, size="4", as_="h2"),
            rx.text(description, size="2", color_scheme="gray"),
            form,
            spacing="3",
            width="100%",
        ),
        width="100%",
        max_width="36rem",
    )


def _profile_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            field(
                "Name",
                "name",
                default_value=ProfileState.name,
                required=True,
                auto_complete="name",
                error=ProfileState.name_error,
            ),
            field(
                "Time zone",
                "timezone",
                default_value=ProfileState.timezone,
                list="timezones",
                error=ProfileState.timezone_error,
                auto_complete="off",
                placeholder="Type to search, e.g. Europe/Berlin",
            ),
            rx.el.datalist(*[rx.el.option(value=tz) for tz in TIMEZONES], id="timezones"),
            rx.text(
                "Dates and times across the CRM are shown in this time zone.",
                size="1",
                color_scheme="gray",
            ),
            rx.button("Save profile", type="submit"),
            spacing="3",
            width="100%",
        ),
        on_submit=ProfileState.save_profile,
        key=ProfileState.profile_form_key,
        width="100%",
    )


def _password_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            field(
                "Current password",
                "current_password",
                type="password",
                required=True,
                auto_complete="current-password",
                error=ProfileState.current_error,
            ),
            field(
                "New password",
                "new_password",
                type="password",
                required=True,
                auto_complete="new-password",
                error=ProfileState.new_error,
            ),
            field(
                "Repeat new password",
                "repeat_password",
                type="password",
                required=True,
                auto_complete="new-password",
                error=ProfileState.repeat_error,
            ),
            rx.button("Change password", type="submit"),
            spacing="3",
            width="100%",
        ),
        on_submit=ProfileState.change_password,
        key=ProfileState.password_form_key,
        width="100%",
    )


@rx.page(route=routes.SETTINGS_PROFILE, title="Profile · CRM", on_load=ProfileState.load)
@protected_page("Settings")
def profile() -> rx.Component:
    """Name, time zone, password."""
    return settings_page(
        _section("Profile", "How you appear to your team.", _profile_form()),
        _section(
            "Password",
            "Changing it signs you out everywhere else; this browser stays signed in.",
            _password_form(),
        ),
    )
