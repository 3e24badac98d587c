"""`/deals`: the board of a pipeline. Drag a card to another stage (or press Space on it and
use the arrow keys); won and lost stages sit under the columns and ask first."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.deal_board import deal_board
from crm_app.components.layout import protected_page
from crm_app.components.record_list import owner_filter, text_filter
from crm_app.components.ui import no_access, select_field, view_switch
from crm_app.state.deal_board import DealBoardState as S


def deal_views(current: str) -> rx.Component:
    """Board, list and forecast of the deals: where each is, the current one marked."""
    views = [("Board", routes.DEALS), ("List", routes.DEAL_LIST), ("Forecast", routes.FORECAST)]
    return view_switch("Deal views", views, current)


def _pipeline_picker() -> rx.Component:
    return rx.hstack(
        rx.el.label("Pipeline", html_for="pipeline", font_weight="500", font_size="0.875rem"),
        rx.select.root(
            rx.select.trigger(id="pipeline", min_width="12rem"),
            rx.select.content(
                rx.foreach(S.pipelines, lambda p: rx.select.item(p["name"], value=p["id"])),
                position="popper",
            ),
            value=S.pipeline_id,
            on_change=S.choose_pipeline,
        ),
        align="center",
        spacing="2",
    )


def _toolbar() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            _pipeline_picker(),
            deal_views("Board"),
            rx.spacer(),
            rx.link(rx.button(rx.icon("plus", size=16), "New deal"), href=routes.DEAL_NEW),
            align="center",
            spacing="3",
            width="100%",
            wrap="wrap",
        ),
        rx.hstack(
            rx.box(
                rx.debounce_input(
                    rx.input(
                        rx.input.slot(rx.icon("search", size=16)),
                        placeholder="Search deals",
                        value=S.query,
                        on_change=S.search,
                        aria_label="Search deals",
                        width="100%",
                    ),
                    debounce_timeout=300,
                ),
                min_width="11rem",
                align_self="end",
            ),
            owner_filter(S),
            text_filter(S, "Closes from", "expected_close_from", type="date"),
            text_filter(S, "Closes by", "expected_close_to", type="date"),
            text_filter(S, "Amount from", "amount_min", type="number", min_width="7rem"),
            text_filter(S, "Amount up to", "amount_max", type="number", min_width="7rem"),
            rx.cond(
                S.filtered,
                rx.button("Clear", variant="ghost", on_click=S.clear_filters, align_self="end"),
            ),
            align="end",
            spacing="3",
            wrap="wrap",
            width="100%",
        ),
        spacing="3",
        width="100%",
    )


def _won_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Mark this deal as won?"),
            rx.alert_dialog.description(
                rx.text(
                    rx.text.strong(S.closing_deal_name),
                    " moves to ",
                    rx.text.strong(S.closing_stage_name),
                    " and leaves the open columns.",
                )
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button("Mark as won", color_scheme="green", on_click=S.confirm_won)
                ),
                justify="end",
                spacing="3",
                margin_top="1rem",
            ),
        ),
        open=S.closing_kind == "won",
        on_open_change=S.cancel_closing,
    )


def _lost_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Why was this deal lost?"),
            rx.dialog.description(
                rx.text(
                    rx.text.strong(S.closing_deal_name),
                    " moves to ",
                    rx.text.strong(S.closing_stage_name),
                    ".",
                ),
                margin_bottom="1rem",
            ),
            rx.form(
                rx.vstack(
                    select_field(
                        "Lost reason",
                        "lost_reason",
                        [rx.foreach(S.lost_reasons, lambda r: rx.select.item(r, value=r))],
                        default="",
                        error=S.lost_reason_error,
                    ),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                        rx.button("Mark as lost", type="submit", color_scheme="red"),
                        justify="end",
                        spacing="3",
                        width="100%",
                        margin_top="1rem",
                    ),
                    spacing="2",
                ),
                on_submit=S.confirm_lost,
            ),
        ),
        open=S.closing_kind == "lost",
        on_open_change=S.cancel_closing,
    )


@rx.page(route=routes.DEALS, title="Deals · CRM", on_load=S.load)
@protected_page("Deals")
def deal_board_page() -> rx.Component:
    """The board of the chosen pipeline."""
    return rx.cond(
        S.can_read,
        rx.vstack(
            _toolbar(),
            rx.cond(
                S.loaded,
                rx.box(
                    deal_board(
                        columns=S.columns,
                        drop_zones=S.drop_zones,
                        version=S.version,
                        read_only=~S.can_move,
                        tick_ms=S.refresh_ms,
                        on_move=S.move,
                        on_more=S.more,
                        on_tick=S.refresh_if_changed,
                    ),
                    width="100%",
                ),
                rx.center(rx.spinner(size="3"), padding="2rem", width="100%", aria_label="Loading"),
            ),
            _won_dialog(),
            _lost_dialog(),
            spacing="4",
            width="100%",
        ),
        no_access("deals"),
    )
