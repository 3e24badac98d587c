"""Pieces of the webhooks settings page: an event checkbox, the secret shown once, and a
button that asks before it acts."""

from __future__ import annotations

from typing import Any

import reflex as rx

from crm_app.state.webhook import WebhookState


def event_checkbox(choice: rx.Var) -> rx.Component:
    """One event type to tick, labelled by its name (e.g. "contact.created")."""
    return rx.checkbox(
        rx.code(choice["type"]),
        checked=choice["on"] == "yes",
        on_change=lambda on: WebhookState.toggle_event(choice["type"], on),
    )


def secret_dialog(secret: rx.Var, is_open: rx.Var, on_open_change: Any) -> rx.Component:
    """The signing secret, shown this once with a copy button."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Signing secret"),
            rx.vstack(
                rx.callout(
                    "Copy this secret now: it will not be shown again. Verify each delivery's "
                    "webhook-signature with it (any Standard Webhooks library does).",
                    icon="info",
                    color_scheme="amber",
                ),
                rx.el.label("Webhook secret", html_for="webhook-secret", font_weight="500"),
                rx.hstack(
                    rx.input(
                        id="webhook-secret",
                        value=secret,
                        read_only=True,
                        width="100%",
                        font_family="monospace",
                    ),
                    rx.icon_button(
                        rx.icon("copy"),
                        aria_label="Copy secret",
                        on_click=rx.set_clipboard(secret),
                    ),
                    width="100%",
                ),
                rx.hstack(
                    rx.dialog.close(rx.button("Done")),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
            ),
        ),
        open=is_open,
        on_open_change=on_open_change,
    )
