"""The tabs along the top of every settings page."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.state.base import AppState


def _tab(label: str, href: str, visible: rx.Var | bool = True) -> rx.Component:
    active = rx.State.router.page.path == href
    link = rx.link(
        label,
        href=href,
        underline="none",
        padding_x="0.75rem",
        padding_y="0.375rem",
        border_radius="var(--radius-2)",
        weight=rx.cond(active, "bold", "regular"),
        color=rx.cond(active, rx.color("accent", 11), rx.color("gray", 11)),
        background=rx.cond(active, rx.color("accent", 3), "transparent"),
        aria_current=rx.cond(active, "page", None),
        white_space="nowrap",
    )
    return link if visible is True else rx.cond(visible, link)


def settings_nav() -> rx.Component:
    """Links to each settings page the user may open."""
    return rx.el.nav(
        rx.flex(
            _tab("Profile", routes.SETTINGS_PROFILE),
            _tab("Users", routes.SETTINGS_USERS, AppState.can_manage_users),
            _tab("Roles", routes.SETTINGS_ROLES),
            _tab("Custom fields", routes.SETTINGS_CUSTOM_FIELDS, AppState.can_manage_settings),
            _tab("Pipelines", routes.SETTINGS_PIPELINES, AppState.can_manage_settings),
            _tab("Leads", routes.SETTINGS_LEADS, AppState.can_manage_settings),
            _tab("Web forms", routes.SETTINGS_FORMS, AppState.can_manage_settings),
            _tab("Automation", routes.SETTINGS_AUTOMATION, AppState.can_manage_settings),
            _tab("Security", routes.SETTINGS_SECURITY, AppState.can_manage_settings),
            _tab("API keys", routes.SETTINGS_API_KEYS),
            _tab("E-mail templates", routes.SETTINGS_EMAIL_TEMPLATES),
            _tab("Mass mail", routes.MASS_MAIL),
            _tab("Outbox", routes.SETTINGS_OUTBOX, AppState.can_manage_settings),
            _tab("Webhooks", routes.SETTINGS_WEBHOOKS, AppState.can_manage_settings),
            _tab("Import / export", routes.SETTINGS_IMPORT, AppState.can_import_export),
            _tab("Audit log", routes.SETTINGS_AUDIT, AppState.can_read_audit),
            _tab("Jobs", routes.SETTINGS_JOBS, AppState.can_manage_settings),
            _tab("Trash", routes.SETTINGS_TRASH),
            gap="0.25rem",
            wrap="wrap",
        ),
        aria_label="Settings",
        width="100%",
        padding_bottom="0.75rem",
        margin_bottom="1rem",
        border_bottom=f"1px solid {rx.color('gray', 5)}",
    )


def settings_page(*children: rx.Component) -> rx.Component:
    """A settings page body under the settings tabs."""
    return rx.vstack(settings_nav(), *children, spacing="4", width="100%")


def section_header(
    title: str, description: rx.Component | rx.Var | str, *actions: rx.Component
) -> rx.Component:
    """A settings page's heading and one-line description, with its buttons on the right."""
    text = description if isinstance(description, rx.Component) else rx.text(description)
    text.style.update({"font_size": "var(--font-size-2)", "color": rx.color("gray", 11)})
    return rx.hstack(
        rx.vstack(rx.heading(title, size="4", as_="h2"), text, spacing="1"),
        rx.spacer(),
        *actions,
        width="100%",
        align="end",
        wrap="wrap",
    )
