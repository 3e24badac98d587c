"""`/contacts/merge` and `/accounts/merge`: merge two duplicates, choosing a value per field."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.layout import protected_page
from crm_app.components.table import data_table
from crm_app.state.merge import MergeState


def _choice(row: dict, side: str) -> rx.Component:
    value = row[side]
    return rx.table.cell(
        rx.el.label(
            rx.hstack(
                rx.el.input(
                    type="radio",
                    name=row["name"],
                    checked=row["pick"] == side,
                    on_change=MergeState.pick(row["name"], side),
                    aria_label=row["label"]
                    + (": keep " if side == "survivor" else ": take ")
                    + value,
                ),
                rx.text(value, size="2"),
                align="center",
                spacing="2",
            ),
            cursor="pointer",
        ),
        background=rx.cond(row["pick"] == side, rx.color("accent", 2), "transparent"),
    )


def _row(row: dict) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row["label"]),
        _choice(row, "survivor"),
        _choice(row, "other"),
    )


def _body() -> rx.Component:
    return rx.cond(
        MergeState.problem != "",
        rx.callout(MergeState.problem, icon="triangle_alert", color_scheme="amber", role="alert"),
        rx.vstack(
            rx.text(
                "Pick the value to keep for each field. Tags, e-mails and phone numbers of both "
                "are kept; deals, activities and history move to the record that stays; the "
                "other goes to the trash.",
                size="2",
                color_scheme="gray",
            ),
            data_table(
                "Fields to merge",
                [
                    "Field",
                    "Record that stays (#" + MergeState.survivor_id.to_string() + ")",
                    "Duplicate (#" + MergeState.other_id.to_string() + ")",
                ],
                rx.table.body(rx.foreach(MergeState.rows, _row)),
            ),
            rx.hstack(
                rx.button(
                    "Keep the other record instead", variant="soft", on_click=MergeState.swap
                ),
                rx.spacer(),
                rx.button("Merge", on_click=MergeState.submit),
                width="100%",
            ),
            spacing="4",
            width="100%",
            max_width="60rem",
        ),
    )


@rx.page(
    route=routes.CONTACTS_MERGE, title="Merge contacts · CRM", on_load=MergeState.load_contacts
)
@protected_page("Merge contacts")
def merge_contacts() -> rx.Component:
    """Merge two contacts."""
    return _body()


@rx.page(
    route=routes.ACCOUNTS_MERGE, title="Merge companies · CRM", on_load=MergeState.load_accounts
)
@protected_page("Merge companies")
def merge_accounts() -> rx.Component:
    """Merge two companies."""
    return _body()
