"""`/leads/[id]`, `/deals/[id]`: a record's read-only summary (contacts and companies have
their own pages, pages/contact.py and pages/account.py)."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.layout import protected_page
from crm_app.state.record import RecordState


def _field(item: dict) -> rx.Component:
    return rx.data_list.item(
        rx.data_list.label(item["label"]),
        rx.data_list.value(item["value"]),
    )


def _summary() -> rx.Component:
    return rx.cond(
        RecordState.problem != "",
        rx.callout(RecordState.problem, icon="triangle_alert", color_scheme="amber", role="alert"),
        rx.card(
            rx.vstack(
                rx.badge(RecordState.kind, variant="soft"),
                rx.heading(RecordState.title, size="6", as_="h2"),
                rx.data_list.root(rx.foreach(RecordState.fields, _field), size="2"),
                spacing="3",
            ),
            max_width="40rem",
            width="100%",
        ),
    )


def _page(title: str):
    @protected_page(title)
    def body() -> rx.Component:
        return _summary()

    return body


rx.page(route=f"{routes.LEADS}/[id]", title="Lead · CRM", on_load=RecordState.load_lead)(
    _page("Lead")
)
rx.page(route=f"{routes.DEALS}/[id]", title="Deal · CRM", on_load=RecordState.load_deal)(
    _page("Deal")
)
