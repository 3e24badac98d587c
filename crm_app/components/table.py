"""Tables with an accessible name (a visually hidden caption), as screen readers expect."""

from __future__ import annotations

import reflex as rx

VISUALLY_HIDDEN = {
    "position": "absolute",
    "width": "1px",
    "height": "1px",
    "padding": "0",
    "margin": "-1px",
    "overflow": "hidden",
    "clip": "rect(0, 0, 0, 0)",
    "white_space": "nowrap",
    "border": "0",
}


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
