"""Tables with an accessible name (a visually hidden caption), as screen readers expect."""

from __future__ import annotations

import reflex as rx

from crm_app.components.ui import VISUALLY_HIDDEN


def data_table(caption: str, headers: list[str], body: rx.Component, **props) -> rx.Component:
    """A table named by `caption`, with column headers and a body of rows."""
    return rx.table.root(
        rx.el.caption(caption, style=VISUALLY_HIDDEN),
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
        body,
        variant="surface",
        width="100%",
        **props,
    )
