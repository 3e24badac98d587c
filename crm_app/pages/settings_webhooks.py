"""`/settings/webhooks`: webhooks (admins): create (secret shown once), switch on or off,
rotate the secret, delete, and each one's delivery log with redelivery."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.layout import protected_page
from crm_app.components.settings_nav import section_header, settings_page
from crm_app.components.table import data_table
from crm_app.components.ui import confirm_button, field, no_access
from crm_app.components.webhook import event_checkbox, secret_dialog
from crm_app.state.base import AppState
from crm_app.state.webhook import WebhookState as S


def _create_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("New webhook"),
            rx.form(
                rx.vstack(
                    field(
                        "Endpoint URL",
                        "url",
                        placeholder="https://example.com/webhooks/crm",
                        error=S.url_error,
                        auto_focus=True,
                    ),
                    rx.el.fieldset(
                        rx.el.legend("Events", font_weight="500", font_size="0.875rem"),
                        rx.grid(
                            rx.foreach(S.event_choices, event_checkbox),
                            columns=rx.breakpoints(initial="1", sm="2"),
                            gap="0.5rem",
                            width="100%",
                        ),
                        rx.cond(
                            S.events_error != "",
                            rx.text(S.events_error, color_scheme="red", size="2", role="alert"),
                        ),
                        border="none",
                        padding="0",
                        margin="0",
                        width="100%",
                    ),
                    rx.hstack(
                        rx.dialog.close(
                            rx.button("Cancel", variant="soft", color_scheme="gray", type="button")
                        ),
                        rx.button("Create webhook", type="submit"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=S.create,
            ),
            max_width="40rem",
        ),
        open=S.create_open,
        on_open_change=S.open_create,
    )


def _status(w: rx.Var) -> rx.Component:
    color = rx.match(w["status"], ("Active", "green"), ("Failing", "amber"), "gray")
    return rx.vstack(
        rx.badge(w["status"], color_scheme=color),
        rx.cond(w["detail"] != "", rx.text(w["detail"], size="1", color_scheme="gray")),
        spacing="1",
    )


def _webhook_row(w: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.text(w["url"], word_break="break-all")),
        rx.table.cell(rx.text(w["events"], size="2")),
        rx.table.cell(_status(w)),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    "Deliveries",
                    size="1",
                    variant="soft",
                    on_click=S.show_log(w["id"]),
                    aria_label="Deliveries of " + w["url"],
                ),
                rx.cond(
                    w["is_active"] == "yes",
                    rx.button(
                        "Switch off",
                        size="1",
                        variant="soft",
                        color_scheme="gray",
                        on_click=S.set_active(w["id"], False),
                        aria_label="Switch off " + w["url"],
                    ),
                    rx.button(
                        "Switch on",
                        size="1",
                        variant="soft",
                        on_click=S.set_active(w["id"], True),
                        aria_label="Switch on " + w["url"],
                    ),
                ),
                confirm_button(
                    "Rotate secret",
                    "Rotate the secret of " + w["url"] + "?",
                    "A new secret is shown once. The old one keeps signing deliveries for 24 "
                    "hours, so the receiver can switch over.",
                    S.rotate(w["id"]),
                    aria_label="Rotate secret of " + w["url"],
                ),
                confirm_button(
                    "Delete",
                    "Delete the webhook to " + w["url"] + "?",
                    "Nothing more is sent to it, and its delivery log goes too.",
                    S.delete(w["id"]),
                    aria_label="Delete " + w["url"],
                    color_scheme="red",
                ),
                spacing="2",
                wrap="wrap",
            )
        ),
        align="center",
    )


def _delivery_row(d: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.vstack(rx.text(d["event"]), rx.code(d["event_id"], size="1"), spacing="1")
        ),
        rx.table.cell(d["time"]),
        rx.table.cell(d["attempts"]),
        rx.table.cell(d["code"]),
        rx.table.cell(d["duration"]),
        rx.table.cell(
            rx.vstack(
                rx.text(d["status"]),
                rx.cond(d["error"] != "", rx.text(d["error"], size="1", color_scheme="gray")),
                rx.cond(
                    d["next"] != "", rx.text("Next try " + d["next"], size="1", color_scheme="gray")
                ),
                spacing="1",
            )
        ),
        rx.table.cell(
            rx.button(
                "Redeliver",
                size="1",
                variant="soft",
                on_click=S.redeliver(d["id"]),
                aria_label="Redeliver " + d["event_id"],
            )
        ),
    )


def _log() -> rx.Component:
    return rx.cond(
        S.log_id != "",
        rx.vstack(
            rx.hstack(
                rx.heading("Deliveries to ", rx.el.span(S.log_url), size="3", as_="h3"),
                rx.spacer(),
                rx.button("Refresh", size="1", variant="soft", on_click=S.refresh_log),
                width="100%",
                align="center",
            ),
            rx.cond(
                S.deliveries.length() > 0,
                data_table(
                    "Deliveries",
                    ["Event", "Time", "Attempts", "Last code", "Duration", "Status", ""],
                    rx.table.body(rx.foreach(S.deliveries, _delivery_row)),
                ),
                rx.text("No deliveries yet.", color_scheme="gray"),
            ),
            rx.hstack(
                rx.button(
                    "Newer",
                    size="1",
                    variant="soft",
                    on_click=S.newer,
                    disabled=S.log_cursors.length() == 0,
                ),
                rx.button(
                    "Older",
                    size="1",
                    variant="soft",
                    on_click=S.older,
                    disabled=S.next_cursor == "",
                ),
                justify="end",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
    )


def _webhooks() -> rx.Component:
    return rx.vstack(
        rx.cond(
            S.webhooks.length() > 0,
            data_table(
                "Webhooks",
                ["Endpoint", "Events", "Status", ""],
                rx.table.body(rx.foreach(S.webhooks, _webhook_row)),
            ),
            rx.text("No webhooks yet.", color_scheme="gray"),
        ),
        _log(),
        _create_dialog(),
        secret_dialog(S.new_secret, S.secret_open, S.close_secret),
        spacing="5",
        width="100%",
    )


@rx.page(route=routes.SETTINGS_WEBHOOKS, title="Webhooks · Settings · CRM", on_load=S.load)
@protected_page("Settings")
def settings_webhooks() -> rx.Component:
    """Outgoing webhooks and their delivery logs (admins only)."""
    return settings_page(
        section_header(
            "Webhooks",
            "Send record events, signed per Standard Webhooks, to your own endpoints.",
            rx.cond(
                AppState.can_manage_settings,
                rx.button(rx.icon("plus", size=16), "New webhook", on_click=S.open_create(True)),
            ),
        ),
        rx.cond(AppState.can_manage_settings, _webhooks(), no_access("the webhooks")),
    )
