"""`/contacts`: the contact list, with its lifecycle-stage and company filters."""

from __future__ import annotations

from typing import ClassVar

import reflex as rx
from sqlmodel import Session

from crm_app import routes
from crm_app.models import User
from crm_app.services import account as account_service
from crm_app.services import contact as contact_service
from crm_app.services import normalize
from crm_app.services.contact import ContactRow
from crm_app.services.errors import DomainError, NotFound
from crm_app.services.listing import ListQuery
from crm_app.state.base import AppState, error_event
from crm_app.state.record_list import ListSpec, custom_cells, local_date
from crm_app.state.saved_view import SavedViewsMixin

STAGES = contact_service.STAGES
COMPANY_HITS = 10


def stage_label(stage: str) -> str:
    """A lifecycle stage as people read it."""
    return str(stage).replace("_", " ").capitalize()


def contact_row(row: ContactRow, tz: str, definitions: list) -> dict[str, str]:
    """One contact as the list shows it: every column, formatted."""
    c = row.contact
    return {
        "id": str(c.id),
        "href": routes.contact_detail(c.id),
        "name": contact_service.display_name(c),
        "email": c.email or "",
        "phone": normalize.phone_display(c.phone),
        "title": c.title or "",
        "company": row.company or "",
        "owner": row.owner or "",
        "lifecycle_stage": stage_label(c.lifecycle_stage),
        "tags": ", ".join(c.tags or []),
        "created_at": local_date(c.created_at, tz),
        "updated_at": local_date(c.updated_at, tz),
        **custom_cells(c.custom, definitions),
    }


CONTACTS = ListSpec(
    entity="contact",
    noun="contact",
    plural="contacts",
    filters=("lifecycle_stage", "account_id"),
    default_sort=contact_service.DEFAULT_SORT,
    fetch=contact_service.list_contacts,
    count=contact_service.count_contacts,
    to_row=contact_row,
)


class ContactListState(SavedViewsMixin, AppState):
    """The contact list and its company picker."""

    LIST: ClassVar[ListSpec] = CONTACTS

    company_query: str = ""
    company_hits: list[dict[str, str]] = []  # id, name
    company_label: str = ""  # the name of the company filtered by

    def _apply_requested_view(self, session: Session, actor: User) -> None:
        super()._apply_requested_view(session, actor)
        self.company_query, self.company_hits, self.company_label = "", [], ""
        account_id = self.filters.get("account_id", "")
        if account_id:
            try:
                account = account_service.get_account(
                    session, actor=actor, account_id=int(account_id)
                )
                self.company_label = account.name
            except (NotFound, ValueError):
                self.company_label = f"Company #{account_id}"

    @rx.event(supersedes=True)
    def search_companies(self, text: str):
        """Companies whose name starts like `text`, for the company filter."""
        self.company_query = str(text)[:100]
        try:
            with self._actor_session() as (session, actor):
                page = account_service.list_accounts(
                    session,
                    actor=actor,
                    listq=ListQuery(q=self.company_query, sort="name", limit=COMPANY_HITS),
                )
        except DomainError as error:
            return error_event(error)
        self.company_hits = [{"id": str(r.account.id), "name": r.account.name} for r in page.rows]
        return None

    @rx.event
    def pick_company(self, account_id: str):
        """Show only the contacts of one of the companies found."""
        hit = next((h for h in self.company_hits if h["id"] == str(account_id)), None)
        if hit is None:
            return None
        self.company_label = hit["name"]
        return ContactListState.set_filter("account_id", hit["id"])

    @rx.event
    def any_company(self):
        """Stop filtering by company."""
        self.company_label = ""
        return ContactListState.set_filter("account_id", "")
