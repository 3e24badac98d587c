"""Pieces of the deal list: its own filters and the totals of the view."""

from __future__ import annotations

import reflex as rx

from crm_app.components.record_list import LABEL_STYLE, select_filter, text_filter
from crm_app.state.record_list import ANY

STATUSES = (("open", "Open"), ("won", "Won"), ("lost", "Lost"))


def _pipeline_filter(S) -> rx.Component:
    value = S.filters["pipeline_id"]
    return rx.vstack(
        rx.el.label("Pipeline", html_for="filter-pipeline_id", style=LABEL_STYLE),
        rx.select.root(
            rx.select.trigger(id="filter-pipeline_id", width="100%"),
            rx.select.content(
                rx.select.item("Any pipeline", value=ANY),
                rx.foreach(S.pipelines, lambda p: rx.select.item(p["name"], value=p["id"])),
                position="popper",
            ),
            value=rx.cond(value == "", ANY, value),
            on_change=S.choose_pipeline,
        ),
        spacing="1",
        min_width="10rem",
        max_width="18rem",
        flex="1",
    )


def deal_filters(S) -> list[rx.Component]:
    """Pipeline, stage, status, expected close dates and amounts."""
    return [
        _pipeline_filter(S),
        select_filter(
            S,
            "Stage",
            "stage_id",
            "Any stage",
            rx.foreach(S.stage_choices, lambda s: rx.select.item(s["label"], value=s["id"])),
        ),
        select_filter(
            S,
            "Status",
            "status",
            "Any status",
            *[rx.select.item(label, value=value) for value, label in STATUSES],
        ),
        text_filter(S, "Closes from", "expected_close_from", type="date", min_width="9rem"),
        text_filter(S, "Closes by", "expected_close_to", type="date", min_width="9rem"),
        text_filter(S, "Amount from", "amount_min", type="number", min_width="8rem"),
        text_filter(S, "Amount up to", "amount_max", type="number", min_width="8rem"),
    ]


def _stat(label: str, *values: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.el.dt(label, style={"font_size": "0.75rem", "color": rx.color("gray", 11)}),
        *values,
        spacing="0",
        min_width="8rem",
    )


def _value(text: rx.Var | str) -> rx.Component:
    return rx.el.dd(text, style={"margin": "0", "font_weight": "600", "font_size": "1.125rem"})


def deal_totals(S) -> rx.Component:
    """How many deals the view holds, and their amount and weighted amount per currency
    (amounts in different currencies are not added up)."""
    return rx.el.section(
        rx.el.dl(
            _stat("Deals", _value(S.count_label)),
            _stat(
                "Amount",
                rx.cond(
                    S.counted,
                    rx.foreach(S.totals, lambda t: _value(t["amount"])),
                    _value("…"),
                ),
                rx.cond(S.counted & (S.totals.length() == 0), _value("—")),
            ),
            _stat(
                "Weighted",
                rx.cond(
                    S.counted,
                    rx.foreach(S.totals, lambda t: _value(t["weighted"])),
                    _value("…"),
                ),
                rx.cond(S.counted & (S.totals.length() == 0), _value("—")),
            ),
            style={"display": "flex", "gap": "2rem", "flex_wrap": "wrap", "margin": "0"},
        ),
        aria_label="Totals",
        aria_live="polite",
        width="100%",
        padding="0.75rem 1rem",
        border=f"1px solid {rx.color('gray', 5)}",
        border_radius="var(--radius-3)",
        background=rx.color("gray", 2),
    )
