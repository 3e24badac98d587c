"""`/settings/jobs`: the background-job queue, and retrying a failed job (admins)."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.layout import protected_page
from crm_app.components.settings_nav import section_header, settings_page
from crm_app.components.table import data_table
from crm_app.components.ui import no_access
from crm_app.services.job_queue import STATUSES
from crm_app.state.base import AppState
from crm_app.state.jobs import ANY, JobsState

S = JobsState
STATUS_COLORS = {"todo": "blue", "doing": "amber", "failed": "red"}


def _counts() -> rx.Component:
    return rx.hstack(
        rx.foreach(
            S.counts,
            lambda c: rx.badge(
                c["label"] + ": " + c["count"],
                color_scheme=rx.match(c["status"], ("failed", "red"), ("doing", "amber"), "blue"),
                variant="soft",
                size="2",
            ),
        ),
        rx.spacer(),
        rx.button(rx.icon("refresh-cw", size=16), "Refresh", variant="soft", on_click=S.refresh),
        width="100%",
        align="center",
        role="status",
        aria_label="Jobs by status",
    )


def _filter(label: str, select_id: str, value, on_change, items) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=select_id, font_weight="500", font_size="0.875rem"),
        rx.select.root(
            rx.select.trigger(id=select_id, min_width="12rem"),
            rx.select.content(*items, position="popper"),
            value=value,
            on_change=on_change,
        ),
        spacing="1",
    )


def _filters() -> rx.Component:
    return rx.hstack(
        _filter(
            "Status",
            "jobs-status",
            S.status_filter,
            S.choose_status,
            [
                rx.select.item("Every status", value=ANY),
                *[rx.select.item(label, value=s) for s, label in STATUSES.items()],
            ],
        ),
        _filter(
            "Queue",
            "jobs-queue",
            S.queue_filter,
            S.choose_queue,
            [
                rx.select.item("Every queue", value=ANY),
                rx.foreach(S.queues, lambda q: rx.select.item(q, value=q)),
            ],
        ),
        spacing="4",
        wrap="wrap",
    )


def _row(job: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(job["id"]),
        rx.table.cell(rx.text(job["task"], font_family="monospace", size="2")),
        rx.table.cell(job["queue"]),
        rx.table.cell(
            rx.badge(
                job["status_label"],
                color_scheme=rx.match(job["status"], ("failed", "red"), ("doing", "amber"), "blue"),
                variant="soft",
            )
        ),
        rx.table.cell(job["attempts"]),
        rx.table.cell(
            rx.text(job["last"], size="2"),
            rx.cond(
                job["error"] != "",
                rx.text(
                    job["error"],
                    size="1",
                    color_scheme="red",
                    font_family="monospace",
                    word_break="break-word",
                ),
            ),
            max_width="24rem",
        ),
        rx.table.cell(
            rx.text(job["args"], font_family="monospace", size="1", word_break="break-all"),
            max_width="20rem",
        ),
        rx.table.cell(
            rx.cond(
                job["status"] == "failed",
                rx.button(
                    "Retry",
                    size="1",
                    variant="soft",
                    aria_label="Retry job " + job["id"],
                    on_click=S.ask_retry(job["id"]),
                ),
            )
        ),
        align="center",
    )


def _pager() -> rx.Component:
    return rx.hstack(
        rx.button("Newer", variant="soft", disabled=S.page_number <= 1, on_click=S.newer),
        rx.text("Page ", S.page_number, size="2", color_scheme="gray"),
        rx.button("Older", variant="soft", disabled=~S.has_older, on_click=S.older),
        align="center",
        spacing="3",
    )


def _retry_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Retry job ", S.confirm_job, "?"),
            rx.alert_dialog.description(
                "The ",
                S.confirm_task,
                " job is queued again and runs as soon as a worker is "
                "free. Its work is written to run safely more than once.",
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.button("Retry job", on_click=S.retry),
                justify="end",
                spacing="3",
                margin_top="1rem",
            ),
        ),
        open=S.confirm_job != "",
        on_open_change=S.close_retry,
    )


@rx.page(route=routes.SETTINGS_JOBS, title="Jobs · Settings · CRM", on_load=S.load)
@protected_page("Settings")
def settings_jobs() -> rx.Component:
    """Queued, running and failed background jobs (admins only)."""
    return settings_page(
        section_header(
            "Jobs",
            "Background work (imports, e-mail, webhooks, automation, reminders) waiting, "
            "running or failed. Failed jobs stay here until retried.",
        ),
        rx.cond(
            AppState.can_manage_settings,
            rx.vstack(
                _counts(),
                _filters(),
                rx.cond(
                    S.jobs.length() > 0,
                    data_table(
                        "Jobs",
                        [
                            "ID",
                            "Task",
                            "Queue",
                            "Status",
                            "Attempts",
                            "Last event",
                            "Arguments",
                            "",
                        ],
                        rx.table.body(rx.foreach(S.jobs, _row)),
                    ),
                    rx.text("No jobs here.", color_scheme="gray", size="2"),
                ),
                _pager(),
                _retry_dialog(),
                spacing="4",
                width="100%",
            ),
            no_access("the job queue"),
        ),
    )
