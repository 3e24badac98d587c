"""The global search box with its results popover."""

from __future__ import annotations

import reflex as rx

from crm_app.state.search import SearchState


def _hit(hit: dict) -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.badge(hit["kind"], variant="soft", size="1"),
            rx.vstack(
                rx.text(hit["label"], size="2", weight="medium"),
                rx.text(hit["detail"], size="1", color_scheme="gray"),
                spacing="0",
            ),
            align="center",
            spacing="2",
        ),
        href=hit["href"],
        on_click=SearchState.clear,
        underline="none",
        padding="0.5rem",
        border_radius="var(--radius-2)",
        _hover={"background": rx.color("gray", 3)},
        width="100%",
        role="option",
    )


def global_search() -> rx.Component:
    """Search every record kind from any page."""
    return rx.box(
        rx.debounce_input(
            rx.input(
                rx.input.slot(rx.icon("search", size=16)),
                rx.cond(
                    SearchState.text != "",
                    rx.input.slot(
                        rx.icon_button(
                            rx.icon("x", size=14),
                            variant="ghost",
                            size="1",
                            aria_label="Clear search",
                            on_click=SearchState.clear,
                        )
                    ),
                ),
                placeholder="Search contacts, companies, leads, deals…",
                value=SearchState.text,
                on_change=SearchState.search,
                type="search",
                aria_label="Search",
                on_key_down=SearchState.on_key,
                width="100%",
            ),
            debounce_timeout=200,
        ),
        rx.cond(
            SearchState.searched,
            rx.box(
                rx.cond(
                    SearchState.hits.length() > 0,
                    rx.vstack(
                        rx.foreach(SearchState.hits, _hit),
                        spacing="0",
                        role="listbox",
                        aria_label="Search results",
                    ),
                    rx.text("No matches.", size="2", color_scheme="gray", padding="0.5rem"),
                ),
                position="absolute",
                top="calc(100% + 4px)",
                left="0",
                right="0",
                max_height="24rem",
                overflow_y="auto",
                padding="0.25rem",
                background=rx.color("gray", 1),
                border=f"1px solid {rx.color('gray', 6)}",
                border_radius="var(--radius-3)",
                box_shadow="var(--shadow-4)",
                z_index="10",
            ),
        ),
        position="relative",
        width=["100%", "16rem", "22rem"],
    )
