"""`/settings/automation`: workflow rules ("when ..., if ..., then ...") and their run logs
(admins)."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.layout import protected_page
from crm_app.components.settings_nav import section_header, settings_page
from crm_app.components.table import data_table
from crm_app.components.ui import no_access
from crm_app.components.workflow import builder
from crm_app.components.workflow_runs import run_log
from crm_app.state.base import AppState
from crm_app.state.workflow import WorkflowState as S


def _rule_row(row: rx.Var) -> rx.Component:
    name = row["name"]
    return rx.table.row(
        rx.table.row_header_cell(name),
        rx.table.cell(row["trigger"]),
        rx.table.cell(
            rx.switch(
                checked=row["active"] == "yes",
                on_change=lambda on: S.set_rule_active(row["id"], on),
                aria_label="Active: " + name,
            )
        ),
        rx.table.cell(row["last_run"]),
        rx.table.cell(row["runs"]),
        rx.table.cell(
            rx.cond(
                row["failed"] != "0",
                rx.badge(row["failed"], color_scheme="red", variant="soft"),
                rx.text("0"),
            )
        ),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    "Log",
                    variant="soft",
                    size="1",
                    aria_label="Run log of " + name,
                    on_click=S.show_runs(row["id"]),
                ),
                rx.button(
                    "Edit",
                    variant="soft",
                    size="1",
                    aria_label="Edit " + name,
                    on_click=S.open_edit(row["id"]),
                ),
                rx.button(
                    "Delete",
                    variant="soft",
                    color_scheme="red",
                    size="1",
                    aria_label="Delete " + name,
                    on_click=S.ask_delete(row["id"]),
                ),
                spacing="2",
            )
        ),
        align="center",
    )


def _rules() -> rx.Component:
    return rx.cond(
        S.rules.length() > 0,
        data_table(
            "Automation rules",
            ["Name", "When", "Active", "Last run", "Runs", "Failed", "Actions"],
            rx.table.body(rx.foreach(S.rules, _rule_row)),
        ),
        rx.text("No rules yet.", color_scheme="gray", size="2"),
    )


def _delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete the rule “", S.confirm_name, "”?"),
            rx.alert_dialog.description("It stops running; its run log goes with it."),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.button("Delete rule", color_scheme="red", on_click=S.delete),
                justify="end",
                spacing="3",
                margin_top="1rem",
            ),
        ),
        open=S.confirm_delete != "",
        on_open_change=S.close_delete,
    )


@rx.page(route=routes.SETTINGS_AUTOMATION, title="Automation · Settings · CRM", on_load=S.load)
@protected_page("Settings")
def settings_automation() -> rx.Component:
    """Workflow rules, the rule builder and a rule's run log (admins only)."""
    return settings_page(
        section_header(
            "Automation",
            "Rules that act when something happens: when a trigger fires and the conditions "
            "hold, the actions run in the background. Rules that set off each other are "
            "stopped after a few steps.",
            rx.cond(
                AppState.can_manage_settings & ~S.builder_open,
                rx.button(rx.icon("plus", size=16), "New rule", on_click=S.open_new),
            ),
        ),
        rx.cond(
            AppState.can_manage_settings,
            rx.vstack(
                rx.cond(S.builder_open, builder()),
                _rules(),
                rx.cond(S.log_rule_id != "", run_log()),
                _delete_dialog(),
                spacing="4",
                width="100%",
            ),
            no_access("automation"),
        ),
    )
