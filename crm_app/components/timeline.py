"""A record's timeline: changes and activities, newest first, with "Load older"."""

from __future__ import annotations

from typing import Any

import reflex as rx

from crm_app.components.ui import download_link

ICONS = {
    "create": "circle-plus",
    "update": "pencil",
    "delete": "trash-2",
    "restore": "undo-2",
    "merge": "merge",
    "call": "phone",
    "email": "mail",
    "meeting": "calendar",
    "task": "square-check",
    "note": "sticky-note",
}


# Formatted text in the flow of a timeline: tight paragraphs and lists.
RICH_TEXT = {
    "& p, & ul, & ol, & blockquote, & pre": {"margin": "0 0 0.35em"},
    "& > div > :last-child": {"margin_bottom": "0"},
    "& ul, & ol": {"padding_left": "1.25em"},
    "& ul": {"list_style": "disc"},
    "& ol": {"list_style": "decimal"},
    "& blockquote": {"border_left": f"3px solid {rx.color('gray', 6)}", "padding_left": "0.6em"},
    "& a": {"color": rx.color("accent", 11)},
}


def _icon(action: rx.Var) -> rx.Component:
    return rx.box(
        rx.match(
            action,
            *[(name, rx.icon(icon, size=14)) for name, icon in ICONS.items()],
            rx.icon("dot", size=14),
        ),
        display="flex",
        align_items="center",
        justify_content="center",
        width="1.75rem",
        height="1.75rem",
        min_width="1.75rem",
        border_radius="9999px",
        background=rx.color("accent", 3),
        color=rx.color("accent", 11),
        aria_hidden="true",
    )


def _entry(entry: Any) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            _icon(entry.action),
            rx.vstack(
                rx.flex(
                    rx.text(entry.title, weight="medium", size="2"),
                    rx.cond(
                        entry.actor != "",
                        rx.text("by ", entry.actor, size="2", color_scheme="gray"),
                    ),
                    rx.spacer(),
                    rx.text(entry.at, size="1", color_scheme="gray", white_space="nowrap"),
                    gap="0.5rem",
                    wrap="wrap",
                    width="100%",
                ),
                rx.cond(entry.when != "", rx.text(entry.when, size="1", color_scheme="gray")),
                rx.foreach(
                    entry.lines,
                    lambda line: rx.text(line, size="2", color=rx.color("gray", 11)),
                ),
                rx.cond(
                    entry.html != "",
                    # sanitised by services.rich_text when saved and when read
                    rx.box(
                        rx.html(entry.html),
                        style=RICH_TEXT,
                        font_size="var(--font-size-2)",
                        color=rx.color("gray", 12),
                        width="100%",
                        overflow_wrap="anywhere",
                    ),
                ),
                rx.cond(
                    entry.invite != "",
                    download_link("Invitation (.ics)", entry.invite, icon="calendar-plus"),
                ),
                spacing="1",
                width="100%",
                min_width="0",
            ),
            align="start",
            spacing="3",
            width="100%",
        ),
        padding_y="0.5rem",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def timeline(state: Any) -> rx.Component:
    """The entries of `state.timeline`, and a button for older ones when there are more."""
    return rx.el.section(
        rx.vstack(
            rx.heading("Timeline", size="4", as_="h3", id="timeline-heading"),
            rx.cond(
                state.timeline.length() > 0,
                rx.el.ol(
                    rx.foreach(state.timeline, _entry),
                    list_style="none",
                    margin="0",
                    padding="0",
                    width="100%",
                ),
                rx.text("Nothing has happened yet.", size="2", color_scheme="gray"),
            ),
            rx.cond(
                state.timeline_more,
                rx.button("Load older", variant="soft", on_click=state.load_older),
            ),
            spacing="2",
            width="100%",
        ),
        aria_labelledby="timeline-heading",
        width="100%",
    )
