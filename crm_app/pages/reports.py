"""`/reports`: the range and filters, a tab per report, and the chosen report as a table
that sorts by its column headings and exports as CSV."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.layout import protected_page
from crm_app.components.report import report_filters, report_table
from crm_app.components.ui import no_access
from crm_app.state.report import REPORTS, HeaderView
from crm_app.state.report import ReportState as S

SORT_ICONS = {"ascending": "arrow-up", "descending": "arrow-down"}


def _sort_icon(sort: rx.Var) -> rx.Component:
    return rx.match(
        sort,
        *[(way, rx.icon(icon, size=14, aria_hidden="true")) for way, icon in SORT_ICONS.items()],
        rx.icon("arrow-up-down", size=14, opacity="0.4", aria_hidden="true"),
    )


def _heading(column: HeaderView) -> rx.Component:
    # the whole heading is the sort button; aria-sort says how the table is sorted now
    align = rx.cond(column.numeric, "right", "left")
    return rx.table.column_header_cell(
        rx.cond(
            column.sortable,
            rx.el.button(
                rx.hstack(rx.text(column.label), _sort_icon(column.sort), spacing="1"),
                on_click=S.sort_by(column.key),
                type="button",
                style={
                    "all": "unset",
                    "cursor": "pointer",
                    "font_weight": "inherit",
                    "&:focus-visible": {"outline": f"2px solid {rx.color('accent', 8)}"},
                },
            ),
            column.label,
        ),
        aria_sort=rx.cond(column.sortable, column.sort, None),
        text_align=align,
        white_space="nowrap",
    )


def _cell(text: rx.Var, index: rx.Var) -> rx.Component:
    # the first cell names its row for screen readers; numbers line up on the right
    align = rx.cond(S.columns[index].numeric, "right", "left")
    return rx.cond(
        index == 0,
        rx.table.row_header_cell(text, white_space="nowrap"),
        rx.table.cell(text, white_space="nowrap", text_align=align),
    )


def _table() -> rx.Component:
    return rx.box(
        report_table(
            S.view,
            S.title + ", " + S.range_label,
            columns=S.columns,
            heading=_heading,
            cell=_cell,
        ),
        overflow_x="auto",
        width="100%",
    )


def _notice(text: rx.Var, icon: str, color: str, role: str) -> rx.Component:
    return rx.callout(text, icon=icon, color_scheme=color, role=role, width="100%")


def _report() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.heading(S.title, as_="h2", size="4"),
            rx.spacer(),
            rx.button(
                rx.icon("download", size=16),
                "Export CSV",
                on_click=S.export_csv,
                disabled=S.problem != "",
                variant="soft",
            ),
            align="center",
            gap="0.75rem",
            width="100%",
        ),
        rx.cond(
            S.problem != "",
            _notice(S.problem, "triangle-alert", "red", "alert"),
            rx.cond(
                S.empty != "",
                _notice(S.empty, "info", "gray", "status"),
                _table(),
            ),
        ),
        spacing="3",
        width="100%",
    )


def _reports() -> rx.Component:
    return rx.vstack(
        report_filters(S),
        rx.tabs.root(
            rx.tabs.list(
                *[rx.tabs.trigger(tab.label, value=tab.name) for tab in REPORTS],
                aria_label="Reports",
                wrap="wrap",
            ),
            # one panel whose value follows the chosen tab: it holds whichever report is shown
            rx.tabs.content(_report(), value=S.report, padding_top="1rem"),
            value=S.report,
            on_change=S.choose_report,
            activation_mode="manual",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )


@rx.page(route=routes.REPORTS, title="Reports · CRM", on_load=S.load)
@protected_page("Reports")
def reports() -> rx.Component:
    """Report tables for a range, filtered, sorted and exported."""
    return rx.cond(S.can_report, _reports(), rx.cond(S.denied, no_access("reports")))
