"""`/settings/profile`: one's own name, time zone, password, e-mail, calendar feed, sessions,
two-factor and single sign-on."""

from __future__ import annotations

from zoneinfo import available_timezones

import reflex as rx

from crm_app import routes
from crm_app.components.layout import protected_page
from crm_app.components.oidc import sso_section
from crm_app.components.sessions import sessions_section
from crm_app.components.settings_nav import settings_page
from crm_app.components.two_factor import two_factor_section
from crm_app.components.ui import confirm_button, field, link_box
from crm_app.state.oidc import SsoConnectionState
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


def _email_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            field(
                "New e-mail",
                "email",
                type="email",
                default_value=ProfileState.me_email,
                required=True,
                auto_complete="email",
                error=ProfileState.email_error,
            ),
            field(
                "Your password",
                "email_password",
                type="password",
                required=True,
                auto_complete="current-password",
                error=ProfileState.email_password_error,
            ),
            rx.button("Change e-mail", type="submit"),
            spacing="3",
            width="100%",
        ),
        on_submit=ProfileState.change_email,
        key=ProfileState.email_form_key,
        width="100%",
    )


FEED_NOTE = (
    "Copy this URL now: it is shown only this once. Add it in your calendar app as a "
    "subscription (Google: Other calendars -> From URL; Outlook: Add calendar -> Subscribe "
    "from web; Apple: File -> New Calendar Subscription)."
)


def _confirm(label: str, title: str, description: str, on_confirm: rx.EventHandler) -> rx.Component:
    return confirm_button(label, title, description, on_confirm, size="2", confirm_color="red")


def _calendar_feed() -> rx.Component:
    return rx.vstack(
        rx.cond(ProfileState.calendar_url != "", link_box(ProfileState.calendar_url, FEED_NOTE)),
        rx.cond(
            ProfileState.has_calendar_feed,
            rx.vstack(
                rx.cond(
                    ProfileState.calendar_url == "",
                    rx.text(
                        "Your feed is on. Its URL was shown when it was created; "
                        "reset it for a new one.",
                        size="2",
                    ),
                ),
                rx.hstack(
                    _confirm(
                        "Reset URL",
                        "Reset the calendar feed URL?",
                        "You get a new URL; calendars subscribed to the current one stop "
                        "updating until you give them the new one.",
                        ProfileState.create_calendar_feed,
                    ),
                    _confirm(
                        "Turn off",
                        "Turn the calendar feed off?",
                        "Its URL stops working; your calendars keep what they last fetched.",
                        ProfileState.turn_off_calendar_feed,
                    ),
                ),
                spacing="3",
            ),
            rx.button("Create feed URL", on_click=ProfileState.create_calendar_feed),
        ),
        spacing="3",
        width="100%",
    )


@rx.page(
    route=routes.SETTINGS_PROFILE,
    title="Profile · CRM",
    on_load=[ProfileState.load, SsoConnectionState.load_identities],
)
@protected_page("Settings")
def profile() -> rx.Component:
    """Name, time zone, password, calendar feed."""
    return settings_page(
        _section("Profile", "How you appear to your team.", _profile_form()),
        _section(
            "Password",
            "Changing it signs you out everywhere else; this browser stays signed in.",
            _password_form(),
        ),
        _section(
            "E-mail",
            "You sign in with it. Changing it signs you out everywhere else.",
            _email_form(),
        ),
        _section(
            "Calendar feed",
            "See your tasks and meetings in Google Calendar, Outlook or Apple Calendar through "
            "a private URL: keep it to yourself, as anyone with it can read them.",
            _calendar_feed(),
        ),
        sessions_section(),
        two_factor_section(),
        sso_section(),
    )
