"""`/unsubscribe/[token]`: confirm to stop receiving mass mail. No sign-in and no app shell."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.state.unsubscribe import UnsubscribeState

S = UnsubscribeState


@rx.page(route=routes.UNSUBSCRIBE, title="Unsubscribe", on_load=S.load)
def unsubscribe() -> rx.Component:
    """One button: no more mass mail to this address."""
    body = rx.match(
        S.phase,
        (
            "ready",
            rx.vstack(
                rx.text("Stop receiving these e-mails at ", rx.text.strong(S.email), "?"),
                rx.button("Unsubscribe", size="3", on_click=S.confirm),
                spacing="3",
            ),
        ),
        (
            "done",
            rx.callout(
                rx.text(
                    rx.text.strong(S.email),
                    " is unsubscribed. You will get no more of these e-mails.",
                ),
                icon="check",
                color_scheme="green",
                role="status",
            ),
        ),
        ("invalid", rx.callout(S.problem, icon="triangle_alert", color_scheme="red", role="alert")),
        rx.spinner(),
    )
    return rx.center(
        rx.card(
            rx.vstack(rx.heading("Unsubscribe", size="6", as_="h1"), body, spacing="4"),
            max_width="32rem",
            width="100%",
        ),
        padding="2rem",
        min_height="100vh",
    )
