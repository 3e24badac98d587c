"""The lead list: the contacts' record list (toolbar, filters, bulk bar, pager, saved views)
with a score cell drawn as a number and a small bar, and without the CSV export (the
exporter knows contacts and companies only).

`components/record_list.py` renders every cell as text and always offers the export, so the
pieces that differ are composed here around its shared parts.
"""

from __future__ import annotations

import reflex as rx

from crm_app.components import record_list as shared
from crm_app.components.ui import no_access

SCORE_STYLE = {
    "& .crm-score": {"display": "inline-flex", "align-items": "center", "gap": "0.5rem"},
    "& .crm-score-number": {"min-width": "1.75rem", "text-align": "right"},
    "& .crm-score-bar": {
        "display": "inline-block",
        "width": "3.5rem",
        "height": "0.375rem",
        "border-radius": "9999px",
        "background": "var(--gray-a4)",
        "overflow": "hidden",
    },
    "& .crm-score-fill": {"display": "block", "height": "100%", "background": "var(--accent-9)"},
}


def score_cell(score: rx.Var) -> rx.Component:
    """A score 0-100: the number, and a bar as long as the score (decorative)."""
    return rx.el.span(
        rx.el.span(score, class_name="crm-score-number"),
        rx.el.span(
            rx.el.span(class_name="crm-score-fill", style={"width": score + "%"}),
            class_name="crm-score-bar",
            aria_hidden="true",
        ),
        class_name="crm-score",
    )


def _cell(row: rx.Var, key: rx.Var) -> rx.Component:
    return rx.el.td(
        rx.cond(key == "score", score_cell(row[key]), row[key]),
        class_name="rt-TableCell",
    )


def lead_table(S) -> rx.Component:
    """One page of leads, as `record_table` draws records, with the score as a bar."""
    return shared.record_table(S, "Leads", cell=_cell, style=SCORE_STYLE)


def _toolbar(S, *, placeholder: str, views: rx.Var, all_label: str, all_href: str):
    return rx.flex(
        rx.box(shared._search(S, placeholder), flex="1", min_width="12rem", max_width="28rem"),
        rx.hstack(
            shared._filters_button(S),
            shared._column_chooser(S),
            shared._views_menu(S, views, all_label, all_href),
            spacing="2",
            wrap="wrap",
        ),
        gap="0.5rem",
        wrap="wrap",
        align="center",
        width="100%",
    )


def lead_list(
    S,
    *,
    all_label: str,
    all_href: str,
    placeholder: str,
    header_actions: list[rx.Component],
    entity_filters: list[rx.Component],
    views: rx.Var,
) -> rx.Component:
    """The whole lead list page body (a notice instead for those who may not read leads)."""
    body = rx.vstack(
        shared.list_heading(S, all_label, *header_actions),
        rx.cond(
            S.view_missing,
            rx.callout(
                "That saved view no longer exists, or is not shared with you.",
                icon="triangle_alert",
                color_scheme="amber",
                role="alert",
                width="100%",
            ),
        ),
        _toolbar(S, placeholder=placeholder, views=views, all_label=all_label, all_href=all_href),
        shared.filter_bar(S, *entity_filters),
        shared.bulk_bar(S),
        rx.cond(
            S.loaded,
            rx.fragment(lead_table(S), shared.empty_state(S), shared.pager(S)),
            rx.center(rx.spinner(size="3"), padding="2rem", width="100%", aria_label="Loading"),
        ),
        shared._bulk_delete_dialog(S),
        shared._view_dialogs(S),
        spacing="3",
        width="100%",
    )
    return rx.cond(S.can_read, body, no_access("leads"))
