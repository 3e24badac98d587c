"""`/`: the home page."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.layout import protected_page
from crm_app.state.home import HomeState


def _tally(tally: dict) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(tally["label"], size="2", color_scheme="gray"),
            rx.heading(tally["count"], size="7"),
            spacing="1",
        ),
        min_width="12rem",
        flex="1",
    )


@rx.page(route=routes.DASHBOARD, title="Home · CRM", on_load=HomeState.load)
@protected_page("Home")
def home() -> rx.Component:
    """Greeting and the workspace at a glance."""
    return rx.vstack(
        rx.heading("Welcome, ", HomeState.me_name, size="6", as_="h2"),
        rx.flex(rx.foreach(HomeState.tallies, _tally), gap="1rem", wrap="wrap", width="100%"),
        spacing="5",
        width="100%",
    )
