"""`/contacts`: every contact the user may read, searchable, filterable, sortable, in pages."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.layout import protected_page
from crm_app.components.record_list import picker_filter, record_list, select_filter
from crm_app.state.contact_list import STAGES, ContactListState, stage_label
from crm_app.state.saved_view import SavedViewState


def _new_contact() -> rx.Component:
    return rx.link(rx.button(rx.icon("plus", size=16), "New contact"), href=routes.CONTACT_NEW)


def _stage_filter() -> rx.Component:
    return select_filter(
        ContactListState,
        "Lifecycle stage",
        "lifecycle_stage",
        "Any stage",
        *[rx.select.item(stage_label(s), value=s) for s in STAGES],
    )


def _company_filter() -> rx.Component:
    return picker_filter(
        "Company",
        ContactListState.company_label,
        "Any company",
        ContactListState.company_query,
        ContactListState.company_hits,
        on_search=ContactListState.search_companies,
        on_pick=ContactListState.pick_company,
        on_any=ContactListState.any_company,
    )


@rx.page(route=routes.CONTACTS, title="Contacts · CRM", on_load=ContactListState.load)
@protected_page("Contacts")
def contacts() -> rx.Component:
    """The contact list."""
    return record_list(
        ContactListState,
        all_label="All contacts",
        all_href=routes.CONTACTS,
        placeholder="Search name, e-mail or phone",
        header_actions=[_new_contact()],
        entity_filters=[_stage_filter(), _company_filter()],
        views=SavedViewState.contact_views,
    )
