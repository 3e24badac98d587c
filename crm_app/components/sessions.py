"""The Sessions section of Settings -> Profile: where you are signed in, and ending it."""

from __future__ import annotations

import reflex as rx

from crm_app.components.table import data_table
from crm_app.state.sessions import SessionsState


def _end_button(row: rx.Var) -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(
                "End",
                size="1",
                variant="soft",
                color_scheme="red",
                aria_label="End session: " + row["device"].to(str) + ", " + row["ip"].to(str),
            )
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("End this session?"),
            rx.alert_dialog.description(
                row["device"].to(str) + " at " + row["ip"].to(str) + " is signed out at once."
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(
                        "End session",
                        color_scheme="red",
                        on_click=SessionsState.end_session(row["id"]),
                    )
                ),
                justify="end",
                margin_top="1rem",
            ),
        ),
    )


def _row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.hstack(
                rx.text(row["device"], weight="medium"),
                rx.cond(row["current"] != "", rx.badge("This device", color_scheme="green")),
                spacing="2",
                align="center",
                wrap="wrap",
            )
        ),
        rx.table.cell(row["ip"]),
        rx.table.cell(row["signed_in"]),
        rx.table.cell(row["last_seen"]),
        rx.table.cell(rx.cond(row["current"] != "", rx.fragment(), _end_button(row))),
    )


def _end_others() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button("Sign out all other sessions", variant="soft", color_scheme="red")
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Sign out all other sessions?"),
            rx.alert_dialog.description(
                "Every other browser signed in as you is signed out at once; this one stays."
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(
                        "Sign out others",
                        color_scheme="red",
                        on_click=SessionsState.end_other_sessions,
                    )
                ),
                justify="end",
                margin_top="1rem",
            ),
        ),
    )


def sessions_section() -> rx.Component:
    """Open sessions (device, address, signed in, last seen) with End and sign out others."""
    return rx.card(
        rx.vstack(
            rx.heading("Sessions", size="4", as_="h2"),
            rx.text(
                "Where you are signed in. End a session you do not recognise, then change "
                "your password.",
                size="2",
                color_scheme="gray",
            ),
            data_table(
                "Sessions",
                ["Device", "Address", "Signed in", "Last seen", ""],
                rx.table.body(rx.foreach(SessionsState.sessions, _row)),
            ),
            rx.cond(SessionsState.sessions.length() > 1, _end_others()),
            spacing="3",
            width="100%",
        ),
        width="100%",
        max_width="56rem",
        on_mount=SessionsState.load_sessions,
    )
