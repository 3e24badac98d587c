"""The Single sign-on section of Settings -> Profile: connect a provider account, or stop
one signing you in. Shown only when single sign-on is configured."""

from __future__ import annotations

import reflex as rx

from crm_app.components.table import data_table
from crm_app.components.ui import confirm_button
from crm_app.state.oidc import SsoConnectionState as S


def _disconnect_button(row: rx.Var) -> rx.Component:
    return confirm_button(
        "Disconnect",
        "Disconnect this account?",
        row["email"].to(str) + " no longer signs you in; your password still does.",
        S.disconnect(row["id"]),
        aria_label="Disconnect " + row["email"].to(str),
        color_scheme="red",
    )


def _row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row["email"], weight="medium")),
        rx.table.cell(row["connected"]),
        rx.table.cell(row["last_used"]),
        rx.table.cell(_disconnect_button(row)),
    )


def _connect_button() -> rx.Component:
    return rx.button(
        rx.el.a("Connect ", S.sso_label, href=S.connect_href, reload_document=True),
        as_child=True,
        variant="outline",
        width="fit-content",
    )


def sso_section() -> rx.Component:
    """Connected provider accounts (e-mail there, connected, last used) and Connect."""
    return rx.cond(
        S.sso_configured,
        rx.card(
            rx.vstack(
                rx.heading("Single sign-on", size="4", as_="h2"),
                rx.text(
                    "Sign in with ",
                    S.sso_label,
                    " instead of your password: connect your account there once.",
                    size="2",
                    color_scheme="gray",
                ),
                rx.cond(
                    S.connect_notice != "",
                    rx.callout(S.connect_notice, icon="check", color_scheme="green", role="status"),
                ),
                rx.cond(
                    S.connect_error != "",
                    rx.callout(
                        S.connect_error, icon="triangle_alert", color_scheme="red", role="alert"
                    ),
                ),
                rx.cond(
                    S.identities.length() > 0,
                    data_table(
                        "Connected accounts",
                        ["Account", "Connected", "Last used", ""],
                        rx.table.body(rx.foreach(S.identities, _row)),
                    ),
                    _connect_button(),
                ),
                spacing="3",
                width="100%",
            ),
            width="100%",
            max_width="56rem",
        ),
    )
