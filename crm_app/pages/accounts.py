"""`/accounts` ("Companies"): every company the user may read, searchable and filterable."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.layout import protected_page
from crm_app.components.record_list import record_list, select_filter, text_filter
from crm_app.state.account_list import SIZES, AccountListState
from crm_app.state.saved_view import SavedViewState


def _new_company() -> rx.Component:
    return rx.link(rx.button(rx.icon("plus", size=16), "New company"), href=routes.ACCOUNT_NEW)


def _company_filters() -> list[rx.Component]:
    return [
        text_filter(AccountListState, "Industry", "industry"),
        select_filter(
            AccountListState,
            "Size",
            "size",
            "Any size",
            *[rx.select.item(size, value=size) for size in SIZES],
        ),
        text_filter(AccountListState, "Country", "country"),
    ]


@rx.page(route=routes.ACCOUNTS, title="Companies · CRM", on_load=AccountListState.load)
@protected_page("Companies")
def accounts() -> rx.Component:
    """The company list."""
    return record_list(
        AccountListState,
        all_label="All companies",
        all_href=routes.ACCOUNTS,
        placeholder="Search name, domain, phone or city",
        header_actions=[_new_company()],
        entity_filters=_company_filters(),
        views=SavedViewState.account_views,
    )
