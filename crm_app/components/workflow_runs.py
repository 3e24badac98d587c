"""A workflow rule's run log (Settings -> Automation): newest first, a page at a time."""

from __future__ import annotations

import reflex as rx

from crm_app.components.table import data_table
from crm_app.state.workflow import WorkflowState as S


def _run_row(run: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(run["at"]),
        rx.table.cell(rx.badge(run["status"], color_scheme=run["color"], variant="soft")),
        rx.table.cell(rx.link(run["record"], href=run["href"])),
        rx.table.cell(run["event"]),
        rx.table.cell(
            rx.vstack(
                rx.text(run["done"], size="2"),
                rx.cond(run["error"] != "", rx.text(run["error"], size="2", color_scheme="red")),
                spacing="1",
            )
        ),
        rx.table.cell(run["duration"]),
        align="center",
    )


def run_log() -> rx.Component:
    """The open rule's runs, newest first, a page at a time."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Run log: ", S.log_rule_name, size="4", as_="h2"),
                rx.spacer(),
                rx.button("Refresh", variant="soft", size="1", on_click=S.show_runs(S.log_rule_id)),
                rx.button(
                    "Close log",
                    variant="soft",
                    color_scheme="gray",
                    size="1",
                    on_click=S.close_runs,
                ),
                width="100%",
                align="center",
            ),
            rx.cond(
                S.runs.length() > 0,
                data_table(
                    "Run log",
                    ["When", "Status", "Record", "Event", "What happened", "Took"],
                    rx.table.body(rx.foreach(S.runs, _run_row)),
                ),
                rx.text("This rule has not run yet.", size="2", color_scheme="gray"),
            ),
            rx.hstack(
                rx.button(
                    "Newer",
                    variant="soft",
                    size="1",
                    disabled=S.runs_page <= 1,
                    on_click=S.newer_runs,
                ),
                rx.text("Page ", S.runs_page, size="2", color_scheme="gray"),
                rx.button(
                    "Older",
                    variant="soft",
                    size="1",
                    disabled=~S.runs_have_older,
                    on_click=S.older_runs,
                ),
                spacing="3",
                align="center",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )
