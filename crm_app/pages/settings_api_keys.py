"""`/settings/api-keys`: create (shown once), list and revoke API keys."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.layout import protected_page
from crm_app.components.settings_nav import section_header, settings_page
from crm_app.components.table import data_table
from crm_app.components.ui import field
from crm_app.state.api_key import ApiKeyState


def _create_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("plus", size=16), "Create API key")),
        rx.dialog.content(
            rx.dialog.title("Create API key"),
            rx.cond(
                ApiKeyState.new_key != "",
                rx.vstack(
                    rx.callout(
                        "Copy this key now: it will not be shown again.",
                        icon="info",
                        color_scheme="amber",
                    ),
                    rx.el.label("Your new API key", html_for="new-api-key", font_weight="500"),
                    rx.hstack(
                        rx.input(
                            id="new-api-key",
                            value=ApiKeyState.new_key,
                            read_only=True,
                            width="100%",
                            font_family="monospace",
                        ),
                        rx.icon_button(
                            rx.icon("copy"),
                            aria_label="Copy key",
                            on_click=rx.set_clipboard(ApiKeyState.new_key),
                        ),
                        width="100%",
                    ),
                    rx.dialog.close(rx.button("Done", on_click=ApiKeyState.open_create(False))),
                    spacing="3",
                ),
                rx.form(
                    rx.vstack(
                        field(
                            "Name",
                            "name",
                            placeholder="e.g. Zapier, billing sync",
                            error=ApiKeyState.name_error,
                            auto_focus=True,
                        ),
                        rx.text(
                            "The key acts as you, with your role's permissions.",
                            size="2",
                            color_scheme="gray",
                        ),
                        rx.hstack(
                            rx.dialog.close(
                                rx.button(
                                    "Cancel", variant="soft", color_scheme="gray", type="button"
                                )
                            ),
                            rx.button("Create", type="submit"),
                            justify="end",
                            width="100%",
                        ),
                        spacing="3",
                    ),
                    on_submit=ApiKeyState.create,
                ),
            ),
        ),
        open=ApiKeyState.create_open,
        on_open_change=ApiKeyState.open_create,
    )


def _row(key: dict) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(key["name"]),
        rx.table.cell(rx.code(key["prefix"])),
        rx.table.cell(key["owner"]),
        rx.table.cell(key["created"]),
        rx.table.cell(key["last_used"]),
        rx.table.cell(
            rx.badge(
                key["status"], color_scheme=rx.cond(key["status"] == "Active", "green", "gray")
            )
        ),
        rx.table.cell(
            rx.cond(
                key["status"] == "Active",
                rx.alert_dialog.root(
                    rx.alert_dialog.trigger(
                        rx.button(
                            "Revoke",
                            variant="soft",
                            color_scheme="red",
                            size="1",
                            aria_label="Revoke " + key["name"],
                        )
                    ),
                    rx.alert_dialog.content(
                        rx.alert_dialog.title("Revoke this key?"),
                        rx.alert_dialog.description(
                            "Programs using ",
                            rx.text.strong(key["name"]),
                            " will get 401 from now on. This cannot be undone.",
                        ),
                        rx.hstack(
                            rx.alert_dialog.cancel(
                                rx.button("Cancel", variant="soft", color_scheme="gray")
                            ),
                            rx.alert_dialog.action(
                                rx.button(
                                    "Revoke key",
                                    color_scheme="red",
                                    on_click=ApiKeyState.revoke(key["id"]),
                                )
                            ),
                            justify="end",
                            spacing="3",
                            margin_top="1rem",
                        ),
                    ),
                ),
            )
        ),
    )


@rx.page(route=routes.SETTINGS_API_KEYS, title="API keys · CRM", on_load=ApiKeyState.load)
@protected_page("Settings")
def api_keys() -> rx.Component:
    """Keys for the REST API."""
    return settings_page(
        section_header(
            "API keys",
            rx.text(
                "Use a key as ",
                rx.code("Authorization: Bearer <key>"),
                " with the ",
                rx.link("REST API", href=routes.API_DOCS, is_external=True),
                ".",
            ),
            _create_dialog(),
        ),
        rx.cond(
            ApiKeyState.keys.length() > 0,
            data_table(
                "API keys",
                ["Name", "Key", "Owner", "Created", "Last used", "Status", ""],
                rx.table.body(rx.foreach(ApiKeyState.keys, _row)),
            ),
            rx.text("No API keys yet.", color_scheme="gray"),
        ),
    )
