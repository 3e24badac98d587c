"""`/deals/list`: every deal the user may read, searchable, filterable, sortable, in pages,
with the totals of what the filters match."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.deal_list import deal_filters, deal_totals
from crm_app.components.layout import protected_page
from crm_app.components.record_list import record_list
from crm_app.pages.deal_board import deal_views
from crm_app.state.deal_list import DealListState
from crm_app.state.saved_view import SavedViewState


def _new_deal() -> rx.Component:
    return rx.link(rx.button(rx.icon("plus", size=16), "New deal"), href=routes.DEAL_NEW)


@rx.page(route=routes.DEAL_LIST, title="Deals · CRM", on_load=DealListState.load)
@protected_page("Deals")
def deal_list() -> rx.Component:
    """The deal list."""
    return record_list(
        DealListState,
        all_label="All deals",
        all_href=routes.DEAL_LIST,
        placeholder="Search deal names",
        header_actions=[deal_views("List"), _new_deal()],
        entity_filters=deal_filters(DealListState),
        views=SavedViewState.deal_views,
        summary=deal_totals(DealListState),
    )
