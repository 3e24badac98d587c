"""What the dashboard and the reports page share: the range and filter bar, and a report table
(headings, rows and totals as text)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

from crm_app.components.ui import VISUALLY_HIDDEN
from crm_app.state.report_filter import ANY, CUSTOM, RANGES


def _select(label: str, name: str, value: rx.Var, on_change: Any, *items: Any) -> rx.Component:
    return rx.hstack(
        rx.el.label(label, html_for=name, font_weight="500", font_size="0.875rem"),
        rx.select.root(
            rx.select.trigger(id=name, min_width="9rem"),
            rx.select.content(*items, position="popper"),
            value=value,
            on_change=on_change,
        ),
        align="center",
        spacing="2",
    )


def _choices(choices: rx.Var) -> rx.Component:
    return rx.foreach(choices, lambda c: rx.select.item(c.label, value=c.value))


def _custom_range(state: Any) -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.el.label("From", html_for="report-from", font_size="0.875rem"),
            rx.input(id="report-from", name="from", type="date", default_value=state.date_from),
            rx.el.label("To", html_for="report-to", font_size="0.875rem"),
            rx.input(id="report-to", name="to", type="date", default_value=state.date_to),
            rx.button("Apply", type="submit", variant="soft"),
            align="center",
            spacing="2",
        ),
        on_submit=state.set_dates,
        reset_on_submit=False,
    )


def report_filters(state: Any) -> rx.Component:
    """The range (a preset or two days) and the pipeline, owner and team filters."""
    return rx.vstack(
        rx.flex(
            _select(
                "Range",
                "report-range",
                state.range_preset,
                state.set_range,
                *[rx.select.item(c.label, value=c.value) for c in RANGES],
            ),
            _select(
                "Pipeline",
                "report-pipeline",
                state.pipeline_id,
                state.set_pipeline,
                rx.select.item("All pipelines", value=ANY),
                _choices(state.pipelines),
            ),
            _select(
                "Owner",
                "report-owner",
                state.owner_id,
                state.set_owner,
                rx.select.item("Everyone", value=ANY),
                _choices(state.owners),
            ),
            _select(
                "Team",
                "report-team",
                state.team_id,
                state.set_team,
                rx.select.item("All teams", value=ANY),
                _choices(state.teams),
            ),
            gap="1rem",
            wrap="wrap",
            align="center",
        ),
        rx.cond(state.range_preset == CUSTOM, _custom_range(state)),
        rx.text(state.range_label, size="2", color_scheme="gray", aria_live="polite"),
        spacing="2",
        width="100%",
    )


def _cell(text: rx.Var, index: rx.Var) -> rx.Component:
    # the first cell names its row for screen readers
    return rx.cond(
        index == 0,
        rx.table.row_header_cell(text, white_space="nowrap"),
        rx.table.cell(text, white_space="nowrap"),
    )


def _heading(column: Any) -> rx.Component:
    return rx.table.column_header_cell(column.label)


def report_table(
    view: Any,
    caption: rx.Var | str,
    *,
    columns: Any = None,
    heading: Callable[[Any], rx.Component] = _heading,
    cell: Callable[[rx.Var, rx.Var], rx.Component] = _cell,
) -> rx.Component:
    """A TableView: its headings, rows and totals; the first column names each row. A page
    may draw the headings (`heading` over `columns`, the view's by default) and the cells
    its own way (sort buttons, numbers aligned)."""
    return rx.table.root(
        rx.el.caption(caption, style=VISUALLY_HIDDEN),
        rx.table.header(
            rx.table.row(rx.foreach(view.columns if columns is None else columns, heading))
        ),
        rx.table.body(
            rx.foreach(view.rows, lambda row: rx.table.row(rx.foreach(row, cell))),
            rx.foreach(
                view.footer,
                lambda row: rx.table.row(rx.foreach(row, cell), font_weight="600"),
            ),
        ),
        variant="surface",
        size="1",
        width="100%",
    )
