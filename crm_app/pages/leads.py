"""`/leads`: every lead the user may read, searchable, filterable, sortable (by score too)."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.layout import protected_page
from crm_app.components.lead_list import lead_list
from crm_app.components.record_list import select_filter, text_filter
from crm_app.state.lead_list import NO_SOURCE, STATUSES, LeadListState, status_label
from crm_app.state.saved_view import SavedViewState

S = LeadListState


def _new_lead() -> rx.Component:
    return rx.link(rx.button(rx.icon("plus", size=16), "New lead"), href=routes.LEAD_NEW)


def _lead_filters() -> list[rx.Component]:
    return [
        select_filter(
            S,
            "Status",
            "status",
            "Any status",
            *[rx.select.item(status_label(s), value=s) for s in STATUSES],
        ),
        select_filter(
            S,
            "Source",
            "source",
            "Any source",
            rx.select.item("No source", value=NO_SOURCE),
            rx.foreach(S.sources, lambda name: rx.select.item(name, value=name)),
        ),
        text_filter(S, "Score from", "score_min", type="number", min_width="7rem"),
        text_filter(S, "Score to", "score_max", type="number", min_width="7rem"),
    ]


@rx.page(route=routes.LEADS, title="Leads · CRM", on_load=S.load)
@protected_page("Leads")
def leads() -> rx.Component:
    """The lead list."""
    return lead_list(
        S,
        all_label="All leads",
        all_href=routes.LEADS,
        placeholder="Search name, e-mail, phone or company",
        header_actions=[_new_lead()],
        entity_filters=_lead_filters(),
        views=SavedViewState.lead_views,
    )
