"""`/settings/audit-log`: who did what, when, filtered by user, record kind, action and date."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.layout import protected_page
from crm_app.components.settings_nav import section_header, settings_page
from crm_app.components.ui import VISUALLY_HIDDEN, field, no_access
from crm_app.state.audit import ANY, AuditLogState
from crm_app.state.base import AppState


def _filter_select(label: str, name: str, value: rx.Var, any_label: str, items) -> rx.Component:
    select_id = f"filter-{name}"
    return rx.vstack(
        rx.el.label(label, html_for=select_id, font_weight="500", font_size="0.875rem"),
        rx.select.root(
            rx.select.trigger(id=select_id, width="100%"),
            rx.select.content(rx.select.item(any_label, value=ANY), items, position="popper"),
            value=value,
            on_change=lambda v: AuditLogState.set_filter(name, v),
            size="3",
        ),
        spacing="1",
        min_width="11rem",
        flex="1",
    )


def _date_filter(label: str, name: str, value: rx.Var) -> rx.Component:
    return rx.box(
        field(
            label,
            name,
            type="date",
            value=value,
            on_change=lambda v: AuditLogState.set_filter(name, v),
        ),
        min_width="9rem",
        flex="1",
    )


def _filters() -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend("Filters", style=VISUALLY_HIDDEN),
        rx.flex(
            _filter_select(
                "User",
                "user",
                AuditLogState.user_filter,
                "Anyone",
                rx.foreach(
                    AuditLogState.user_options, lambda u: rx.select.item(u["label"], value=u["id"])
                ),
            ),
            _filter_select(
                "Record kind",
                "entity",
                AuditLogState.entity_filter,
                "Any kind",
                rx.foreach(AuditLogState.entity_options, lambda e: rx.select.item(e, value=e)),
            ),
            _filter_select(
                "Action",
                "action",
                AuditLogState.action_filter,
                "Any action",
                rx.foreach(AuditLogState.action_options, lambda a: rx.select.item(a, value=a)),
            ),
            _date_filter("From", "date_from", AuditLogState.date_from),
            _date_filter("To", "date_to", AuditLogState.date_to),
            rx.button(
                "Clear filters",
                variant="soft",
                color_scheme="gray",
                on_click=AuditLogState.clear_filters,
                size="3",
                align_self="end",
            ),
            gap="0.75rem",
            wrap="wrap",
            align="end",
            width="100%",
        ),
        rx.cond(
            AuditLogState.date_error != "",
            rx.text(AuditLogState.date_error, color_scheme="red", size="2", role="alert"),
        ),
        border="none",
        padding="0",
        margin="0",
        width="100%",
    )


def _row(event: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(event["at"], white_space="nowrap", font_weight="normal"),
        rx.table.cell(event["actor"]),
        rx.table.cell(rx.code(event["action"], variant="ghost")),
        rx.table.cell(event["entity"], white_space="nowrap"),
        rx.table.cell(
            rx.text(event["changes"], white_space="pre-wrap", size="1", font_family="monospace"),
            max_width="28rem",
            overflow_wrap="anywhere",
        ),
        rx.table.cell(event["ip"]),
    )


def _table() -> rx.Component:
    return rx.cond(
        AuditLogState.events.length() > 0,
        rx.table.root(
            rx.el.caption("Audit events", style=VISUALLY_HIDDEN),
            rx.table.header(
                rx.table.row(
                    *[
                        rx.table.column_header_cell(h)
                        for h in ("When", "Who", "Action", "Record", "Changes", "IP address")
                    ]
                )
            ),
            rx.table.body(rx.foreach(AuditLogState.events, _row)),
            variant="surface",
            size="1",
            width="100%",
        ),
        rx.text("No events match these filters.", color_scheme="gray", role="status"),
    )


def _pager() -> rx.Component:
    return rx.hstack(
        rx.text(
            "Page ", AuditLogState.page_number, size="2", color_scheme="gray", aria_live="polite"
        ),
        rx.spacer(),
        rx.button(
            "Newer",
            variant="soft",
            disabled=AuditLogState.page_number <= 1,
            on_click=AuditLogState.newer,
        ),
        rx.button(
            "Older", variant="soft", disabled=~AuditLogState.has_older, on_click=AuditLogState.older
        ),
        align="center",
        width="100%",
    )


@rx.page(route=routes.SETTINGS_AUDIT, title="Audit log · CRM", on_load=AuditLogState.load)
@protected_page("Settings")
def audit_log() -> rx.Component:
    """The audit log (for those who may read it)."""
    return settings_page(
        rx.cond(
            AppState.can_read_audit,
            rx.vstack(
                section_header(
                    "Audit log", "Every change, newest first. Times are in your time zone."
                ),
                _filters(),
                _table(),
                _pager(),
                spacing="4",
                width="100%",
            ),
            no_access("the audit log"),
        )
    )
