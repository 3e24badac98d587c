"""The Sessions section of Settings -> Profile: where you are signed in, and ending it."""

from __future__ import annotations

import reflex as rx

from crm_app.components.table import data_table
from crm_app.components.ui import confirm_button
from crm_app.state.sessions import SessionsState


def _end_button(row: rx.Var) -> rx.Component:
    return confirm_button(
        "End",
        "End this session?",
        row["device"].to(str) + " at " + row["ip"].to(str) + " is signed out at once.",
        SessionsState.end_session(row["id"]),
        aria_label="End session: " + row["device"].to(str) + ", " + row["ip"].to(str),
        color_scheme="red",
        confirm_label="End session",
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
    return confirm_button(
        "Sign out all other sessions",
        "Sign out all other sessions?",
        "Every other browser signed in as you is signed out at once; this one stays.",
        SessionsState.end_other_sessions,
        color_scheme="red",
        confirm_label="Sign out others",
        size="2",
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
