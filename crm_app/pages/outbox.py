"""`/settings/outbox`: every outgoing message with its status (in development mode, the mail
that would have been sent), and the suppression list."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.email import field_error, rendered_message
from crm_app.components.layout import protected_page
from crm_app.components.settings_nav import section_header, settings_page
from crm_app.components.table import data_table
from crm_app.services.email import PAGE_SIZE
from crm_app.state.outbox import STATUSES, OutboxState

S = OutboxState
STATUS_COLORS = {
    "queued": "blue",
    "sent": "green",
    "kept": "gray",
    "failed": "red",
    "suppressed": "amber",
}


def _status(status: rx.Var) -> rx.Component:
    return rx.badge(status, color_scheme=rx.match(status, *STATUS_COLORS.items(), "gray"))


def _message_row(m: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.button(
                rx.cond(m["subject"] != "", m["subject"], "(no subject)"),
                variant="ghost",
                on_click=S.open_message(m["id"]),
            )
        ),
        rx.table.cell(m["to"]),
        rx.table.cell(
            _status(m["status"]), rx.cond(m["error"] != "", rx.text(m["error"], size="1"))
        ),
        rx.table.cell(m["created"]),
    )


def _message_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Message"),
            rx.vstack(
                rx.text(rx.text.strong("To: "), S.opened["to"], size="2"),
                rx.text(rx.text.strong("From: "), S.opened["from"], size="2"),
                rx.text(rx.text.strong("Status: "), S.opened["status"], size="2"),
                rx.cond(
                    S.opened["headers"] != "",
                    # plain text in a <pre>: a code block would pull a syntax highlighter
                    rx.el.pre(
                        S.opened["headers"],
                        aria_label="Headers",
                        white_space="pre-wrap",
                        word_break="break-all",
                        font_size="12px",
                        padding="0.5rem",
                        border_radius="4px",
                        background="var(--gray-a3)",
                        width="100%",
                        margin="0",
                    ),
                ),
                rendered_message(S.opened["subject"], S.opened["html"], label="Message body"),
                rx.dialog.close(rx.button("Close", variant="soft")),
                spacing="2",
                width="100%",
            ),
            max_width="720px",
        ),
        open=S.opened.contains("id"),
        on_open_change=S.close_message,
    )


def _filter() -> rx.Component:
    return rx.hstack(
        rx.el.label("Status", html_for="outbox-status", font_size="0.875rem"),
        rx.select.root(
            rx.select.trigger(id="outbox-status"),
            rx.select.content(
                rx.select.item("All", value="all"),
                *[rx.select.item(s, value=s) for s in STATUSES],
            ),
            value=rx.cond(S.status != "", S.status, "all"),
            on_change=S.filter_status,
        ),
        rx.spacer(),
        rx.text(S.total, " messages", size="2", color_scheme="gray"),
        rx.button(
            "Previous", size="1", variant="soft", disabled=S.offset == 0, on_click=S.page(-1)
        ),
        rx.button(
            "Next",
            size="1",
            variant="soft",
            disabled=S.offset + PAGE_SIZE >= S.total,
            on_click=S.page(1),
        ),
        align="center",
        width="100%",
    )


def _suppression_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row["email"]),
        rx.table.cell(row["reason"]),
        rx.table.cell(row["created"]),
        rx.table.cell(
            rx.button(
                "Remove",
                size="1",
                variant="soft",
                color_scheme="red",
                aria_label="Remove " + row["email"],
                on_click=S.remove_suppression(row["id"]),
            )
        ),
    )


def _suppressions() -> rx.Component:
    return rx.vstack(
        section_header(
            "Suppression list",
            "Mass mail and automated e-mails skip these addresses.",
        ),
        rx.hstack(
            rx.debounce_input(
                rx.input(
                    value=S.suppression_query,
                    on_change=S.search_suppressions,
                    placeholder="Search addresses…",
                    aria_label="Search suppressed addresses",
                ),
                debounce_timeout=300,
            ),
            rx.form(
                rx.hstack(
                    rx.input(
                        name="email",
                        type="email",
                        placeholder="name@example.com",
                        aria_label="Address to suppress",
                    ),
                    rx.button("Suppress", type="submit", variant="soft"),
                ),
                on_submit=S.add_suppression,
                reset_on_submit=True,
            ),
            wrap="wrap",
            width="100%",
        ),
        field_error(S.suppression_error),
        rx.cond(
            S.suppressions.length() > 0,
            data_table(
                "Suppressed addresses",
                ["Address", "Reason", "Since", ""],
                rx.table.body(rx.foreach(S.suppressions, _suppression_row)),
            ),
            rx.text("No suppressed addresses.", color_scheme="gray", size="2"),
        ),
        spacing="3",
        width="100%",
    )


@rx.page(route=routes.SETTINGS_OUTBOX, title="Outbox · CRM", on_load=S.load)
@protected_page("Settings")
def outbox() -> rx.Component:
    """Outgoing e-mail and the suppression list (admins)."""
    return settings_page(
        section_header(
            "Outbox",
            rx.cond(
                S.sends_mail,
                rx.text("Messages sent through the configured SMTP server."),
                rx.text(
                    "Development mode: no SMTP server is configured (CRM_SMTP_HOST), so "
                    "messages are kept here instead of being sent."
                ),
            ),
        ),
        _filter(),
        rx.cond(
            S.messages.length() > 0,
            data_table(
                "Outgoing messages",
                ["Subject", "To", "Status", "Created"],
                rx.table.body(rx.foreach(S.messages, _message_row)),
            ),
            rx.text("No messages yet.", color_scheme="gray"),
        ),
        _message_dialog(),
        _suppressions(),
    )
