"""`/settings/trash`: records deleted in the last 30 days, restorable."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.layout import protected_page
from crm_app.components.settings_nav import section_header, settings_page
from crm_app.components.table import data_table
from crm_app.state.trash import ALL, TrashState


def _row(item: dict) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(item["label"]),
        rx.table.cell(item["kind"]),
        rx.table.cell(item["deleted"]),
        rx.table.cell(
            rx.cond(
                item["can_restore"] == "yes",
                rx.button(
                    "Restore",
                    size="1",
                    variant="soft",
                    aria_label="Restore " + item["label"],
                    on_click=TrashState.restore(item["entity"], item["id"]),
                ),
                rx.text("—", color_scheme="gray"),
            )
        ),
    )


def _kind_filter() -> rx.Component:
    return rx.select.root(
        rx.select.trigger(aria_label="Show"),
        rx.select.content(
            rx.select.item("Everything", value=ALL),
            rx.select.item("Contacts", value="contact"),
            rx.select.item("Companies", value="account"),
            rx.select.item("Leads", value="lead"),
            rx.select.item("Deals", value="deal"),
        ),
        value=TrashState.kind,
        on_change=TrashState.show_kind,
    )


@rx.page(route=routes.SETTINGS_TRASH, title="Trash · CRM", on_load=TrashState.load)
@protected_page("Settings")
def trash_page() -> rx.Component:
    """The trash."""
    return settings_page(
        section_header(
            "Trash",
            "Deleted records stay here for 30 days. Restoring one brings back its links.",
            _kind_filter(),
        ),
        rx.cond(
            TrashState.items.length() > 0,
            data_table(
                "Deleted records",
                ["Name", "Kind", "Deleted", ""],
                rx.table.body(rx.foreach(TrashState.items, _row)),
            ),
        ),
        rx.hstack(
            rx.text(TrashState.page_label, size="2", color_scheme="gray", aria_live="polite"),
            rx.spacer(),
            rx.button(
                "Previous",
                variant="soft",
                disabled=TrashState.offset == 0,
                on_click=TrashState.page(-1),
            ),
            rx.button(
                "Next",
                variant="soft",
                disabled=TrashState.offset + 50 >= TrashState.total,
                on_click=TrashState.page(1),
            ),
            width="100%",
            align="center",
        ),
    )
