"""The forecast's filters, its chart of totals per month and its table per owner."""

from __future__ import annotations

from typing import Any

import reflex as rx

from crm_app.components.record_list import LABEL_STYLE
from crm_app.components.ui import VISUALLY_HIDDEN
from crm_app.state.record_list import ANY


def _select(label: str, select_id: str, value: rx.Var, on_change: Any, *items) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=select_id, style=LABEL_STYLE),
        rx.select.root(
            rx.select.trigger(id=select_id, min_width="12rem"),
            rx.select.content(*items, position="popper"),
            value=value,
            on_change=on_change,
        ),
        spacing="1",
    )


def forecast_filters(S: Any) -> rx.Component:
    """Pipeline and owner."""
    return rx.hstack(
        _select(
            "Pipeline",
            "forecast-pipeline",
            S.pipeline_id,
            S.choose_pipeline,
            rx.select.item("Every pipeline", value=ANY),
            rx.foreach(S.pipelines, lambda p: rx.select.item(p["name"], value=p["id"])),
        ),
        _select(
            "Owner",
            "forecast-owner",
            S.owner_id,
            S.choose_owner,
            rx.select.item("Everyone", value=ANY),
            rx.select.item("Me", value="me"),
            rx.select.item("Unassigned", value="none"),
            rx.foreach(S.owners, lambda o: rx.select.item(o["name"], value=o["id"])),
        ),
        spacing="3",
        wrap="wrap",
    )


def _bar(bar: Any) -> rx.Component:
    return rx.hstack(
        rx.text(bar["month"], size="1", width="5.5rem", flex_shrink="0", color_scheme="gray"),
        rx.box(
            rx.box(width=bar["width"], height="100%", background=bar["color"], border_radius="2px"),
            flex="1",
            height="14px",
        ),
        rx.text(bar["label"], size="1", width="9rem", flex_shrink="0", text_align="right"),
        align="center",
        spacing="2",
        width="100%",
    )


def forecast_chart(S: Any) -> rx.Component:
    """Bars of the weighted total per month and currency, drawn with plain boxes (a chart
    library would be bundled into every page). The table below is the accessible, exact
    version of the same numbers."""
    return rx.card(
        rx.vstack(
            rx.heading("Weighted total by month", size="3", as_="h2"),
            rx.vstack(rx.foreach(S.chart, _bar), spacing="1", width="100%", aria_hidden="true"),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def _row(row: Any, *, strong: bool = False) -> rx.Component:
    weight = "bold" if strong else "regular"
    return rx.table.row(
        rx.table.row_header_cell(rx.text(row.owner, weight=weight), white_space="nowrap"),
        rx.foreach(
            row.cells,
            lambda cell: rx.table.cell(
                rx.text(cell, weight=weight), text_align="right", white_space="nowrap"
            ),
        ),
        rx.table.cell(rx.text(row.total, weight="bold"), text_align="right", white_space="nowrap"),
    )


def forecast_table(S: Any) -> rx.Component:
    """A row per owner and a total row; a column per month and a total column."""
    return rx.box(
        rx.table.root(
            rx.el.caption("Weighted forecast by owner and month", style=VISUALLY_HIDDEN),
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Owner"),
                    rx.foreach(
                        S.months,
                        lambda m: rx.table.column_header_cell(
                            m, text_align="right", white_space="nowrap"
                        ),
                    ),
                    rx.table.column_header_cell("Total", text_align="right"),
                )
            ),
            rx.table.body(
                rx.foreach(S.rows, lambda r: _row(r)),
                _row(S.total, strong=True),
            ),
            variant="surface",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
    )
