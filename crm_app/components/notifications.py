"""The notification bell of the top bar: a badge with the unread count, the newest ones.

The count follows new notifications without a reload: while the tab is visible, `ticker.jsx`
asks the server to re-count every few seconds (one indexed count), and the badge changes only
when the count did."""

from __future__ import annotations

import reflex as rx

from crm_app.state.base import AppState
from crm_app.state.notification import NotificationState as S

RECOUNT_MS = 10_000


class Ticker(rx.Component):
    """Fires on_tick every `ms` milliseconds while the tab is visible (renders nothing)."""

    library = f"$/public{rx.asset('ticker.jsx', shared=True)}"
    tag = "Ticker"

    ms: rx.Var[int]
    on_tick: rx.EventHandler[lambda: []]


def _item(item: rx.Var) -> rx.Component:
    return rx.el.button(
        rx.hstack(
            rx.cond(
                item["unread"] != "",
                rx.box(
                    width="8px",
                    height="8px",
                    border_radius="50%",
                    background=rx.color("accent", 9),
                    flex_shrink="0",
                    aria_label="Unread",
                ),
            ),
            rx.vstack(
                rx.text(item["title"], weight="medium", size="2"),
                rx.cond(item["body"] != "", rx.text(item["body"], size="1", color_scheme="gray")),
                rx.text(item["when"], size="1", color_scheme="gray"),
                spacing="0",
                align="start",
            ),
            align="center",
            spacing="2",
        ),
        type="button",
        on_click=S.open_item(item["id"]),
        width="100%",
        text_align="left",
        padding="0.5rem",
        border_radius="var(--radius-2)",
        background="transparent",
        cursor="pointer",
        _hover={"background": rx.color("gray", 3)},
    )


def notification_bell() -> rx.Component:
    """The bell, its unread count (kept up to date), and the list it opens."""
    return rx.fragment(_bell(), Ticker.create(ms=RECOUNT_MS, on_tick=S.recount))


def _bell() -> rx.Component:
    unread = AppState.unread_notifications
    return rx.popover.root(
        rx.popover.trigger(
            rx.box(
                rx.icon_button(
                    rx.icon("bell", size=18),
                    variant="ghost",
                    color_scheme="gray",
                    aria_label=rx.cond(
                        unread > 0, f"Notifications, {unread} unread", "Notifications"
                    ),
                ),
                rx.cond(
                    unread > 0,
                    rx.badge(
                        unread,
                        color_scheme="red",
                        variant="solid",
                        radius="full",
                        size="1",
                        position="absolute",
                        top="-6px",
                        right="-8px",
                        pointer_events="none",
                        aria_hidden="true",
                    ),
                ),
                position="relative",
            )
        ),
        rx.popover.content(
            rx.vstack(
                rx.hstack(
                    rx.heading("Notifications", size="3", as_="h2"),
                    rx.spacer(),
                    rx.cond(
                        unread > 0,
                        rx.button(
                            "Mark all as read",
                            variant="ghost",
                            size="1",
                            on_click=S.mark_all_read,
                        ),
                    ),
                    width="100%",
                    align="center",
                ),
                rx.cond(
                    S.items.length() > 0,
                    rx.vstack(rx.foreach(S.items, _item), spacing="1", width="100%"),
                    rx.text("Nothing yet.", size="2", color_scheme="gray"),
                ),
                spacing="2",
                width="20rem",
                max_height="24rem",
                overflow_y="auto",
            ),
            align="end",
        ),
        on_open_change=S.opened,
    )
