"""`/activities`: My work (overdue, today, upcoming, done) and `/activities/calendar`."""

from __future__ import annotations

from typing import Any

import reflex as rx

from crm_app import routes
from crm_app.components.activity_calendar import activity_calendar
from crm_app.components.layout import protected_page
from crm_app.components.ui import view_switch
from crm_app.state.activity_calendar import WEEKDAYS, CalendarState
from crm_app.state.my_work import KIND_FILTERS, RELATED_FILTERS, MyWorkState

W = MyWorkState
C = CalendarState
VIEWS = [("My work", routes.ACTIVITIES), ("Calendar", routes.ACTIVITY_CALENDAR)]


def _select(label: str, name: str, value: rx.Var, on_change: Any, items: Any) -> rx.Component:
    return rx.hstack(
        rx.el.label(label, html_for=name, font_weight="500", font_size="0.875rem"),
        rx.select.root(
            rx.select.trigger(id=name, min_width="10rem"),
            rx.select.content(items, position="popper"),
            value=value,
            on_change=on_change,
        ),
        align="center",
        spacing="2",
    )


def _choices(choices: Any) -> rx.Component:
    if isinstance(choices, rx.Var):
        return rx.foreach(choices, lambda c: rx.select.item(c.label, value=c.value))
    return rx.fragment(*[rx.select.item(c.label, value=c.value) for c in choices])


# ---- My work -----------------------------------------------------------------------------------


def _row(item: Any) -> rx.Component:
    label = "Done: " + item.title
    return rx.el.li(
        rx.flex(
            rx.el.input(
                type="checkbox",
                # not held by the page: it ticks at once, and the server's answer moves the row
                default_checked=item.done,
                key=item.id.to_string() + rx.cond(item.done, "-done", "-open"),
                on_change=lambda checked: W.tick(item.id, checked),
                aria_label=label,
                style={"width": "1.1rem", "height": "1.1rem", "margin_top": "0.15rem"},
            ),
            rx.vstack(
                rx.flex(
                    rx.link(
                        item.title,
                        href=item.href,
                        weight="medium",
                        size="2",
                        text_decoration=rx.cond(item.done, "line-through", "none"),
                    ),
                    rx.cond(
                        item.priority != "",
                        rx.badge(
                            item.priority,
                            color_scheme=rx.cond(item.priority == "High", "red", "gray"),
                            size="1",
                        ),
                    ),
                    rx.cond(item.kind == "meeting", rx.badge("Meeting", size="1")),
                    gap="0.5rem",
                    align="center",
                    wrap="wrap",
                ),
                rx.text(
                    rx.cond(item.related != "", item.related + " · ", ""),
                    rx.cond(item.when != "", item.when, "No due date"),
                    size="1",
                    color_scheme="gray",
                ),
                spacing="1",
                min_width="0",
                flex="1",
            ),
            rx.cond(
                ~item.done,
                rx.el.input(
                    type="date",
                    default_value=item.day,
                    key=item.id.to_string() + item.day,
                    aria_label="Reschedule " + item.title,
                    on_change=lambda day: W.move_to(item.id, day),
                    style={
                        "border": f"1px solid {rx.color('gray', 6)}",
                        "border_radius": "var(--radius-2)",
                        "padding": "0.15rem 0.35rem",
                        "font_size": "0.8rem",
                        "background": "transparent",
                        "color": "inherit",
                    },
                ),
            ),
            gap="0.75rem",
            align="start",
            width="100%",
        ),
        padding_y="0.5rem",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def _part(title: str, name: str, rows: rx.Var, empty: str, tone: str = "gray") -> rx.Component:
    heading_id = f"work-{name}"
    total = W.totals.get(name, 0)
    return rx.card(
        rx.el.section(
            rx.hstack(
                rx.heading(title, size="4", as_="h2", id=heading_id),
                rx.badge(total, color_scheme=tone, variant="soft"),
                align="center",
                spacing="2",
            ),
            rx.cond(
                rows.length() > 0,
                rx.el.ul(rx.foreach(rows, _row), list_style="none", margin="0", padding="0"),
                rx.text(empty, size="2", color_scheme="gray", padding_y="0.5rem"),
            ),
            rx.cond(
                total > rows.length(),
                rx.button(
                    "Show more",
                    variant="soft",
                    size="1",
                    on_click=W.show_more,
                    disabled=W.limit >= 200,
                ),
            ),
            aria_labelledby=heading_id,
        ),
        width="100%",
    )


def _work_filters() -> rx.Component:
    return rx.flex(
        _select("Show", "work-kinds", W.kinds, W.set_kinds, _choices(KIND_FILTERS)),
        _select("Owner", "work-owner", W.owner, W.set_owner, _choices(W.owners)),
        _select("About", "work-related", W.related_kind, W.set_related, _choices(RELATED_FILTERS)),
        gap="1rem",
        wrap="wrap",
        align="center",
    )


@rx.page(route=routes.ACTIVITIES, title="My work · CRM", on_load=W.load)
@protected_page("Activities")
def my_work() -> rx.Component:
    """Overdue, today's, upcoming and done work, ticked off and rescheduled in place."""
    return rx.vstack(
        rx.flex(
            view_switch("Activity views", VIEWS, "My work"),
            rx.text(W.today_label, size="2", color_scheme="gray"),
            justify="between",
            align="center",
            wrap="wrap",
            gap="0.5rem",
            width="100%",
        ),
        _work_filters(),
        rx.grid(
            _part("Overdue", "overdue", W.overdue, "Nothing overdue.", "red"),
            _part("Today", "today", W.today, "Nothing due today.", "indigo"),
            _part("Upcoming", "upcoming", W.upcoming, "Nothing coming up."),
            _part("Done", "done", W.done, "Nothing done yet.", "green"),
            columns=rx.breakpoints(initial="1", lg="2"),
            spacing="4",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )


# ---- the calendar ------------------------------------------------------------------------------


def _calendar_bar() -> rx.Component:
    return rx.flex(
        rx.hstack(
            rx.icon_button(
                rx.icon("chevron-left", size=16),
                variant="soft",
                aria_label=rx.cond(C.view == "week", "Previous week", "Previous month"),
                on_click=C.step(-1),
            ),
            rx.button("Today", variant="soft", on_click=C.go_today),
            rx.icon_button(
                rx.icon("chevron-right", size=16),
                variant="soft",
                aria_label=rx.cond(C.view == "week", "Next week", "Next month"),
                on_click=C.step(1),
            ),
            rx.heading(C.title, size="5", as_="h2", aria_live="polite"),
            align="center",
            spacing="2",
        ),
        rx.hstack(
            _select("Owner", "calendar-owner", C.owner, C.set_owner, _choices(C.owners)),
            rx.segmented_control.root(
                rx.segmented_control.item("Month", value="month"),
                rx.segmented_control.item("Week", value="week"),
                value=C.view,
                on_change=C.set_view,
                aria_label="Calendar view",
            ),
            align="center",
            spacing="3",
        ),
        justify="between",
        align="center",
        wrap="wrap",
        gap="0.75rem",
        width="100%",
    )


@rx.page(route=routes.ACTIVITY_CALENDAR, title="Calendar · CRM", on_load=C.load)
@protected_page("Activities")
def activity_calendar_page() -> rx.Component:
    """A month or week of tasks and meetings; drag one (or Alt+arrows) to another day."""
    return rx.vstack(
        view_switch("Activity views", VIEWS, "Calendar"),
        _calendar_bar(),
        rx.card(
            activity_calendar(
                days=C.days,
                version=C.version,
                weekdays=WEEKDAYS,
                min_height=rx.cond(C.view == "week", "320px", "104px"),
                on_move=C.move,
            ),
            width="100%",
        ),
        rx.text(
            "Drag a task or meeting to another day, or focus it and press Alt with an arrow key.",
            size="1",
            color_scheme="gray",
        ),
        spacing="4",
        width="100%",
    )
