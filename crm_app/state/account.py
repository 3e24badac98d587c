"""Companies: the new-company form, the company page, and the company picker contacts use."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from crm_app import routes
from crm_app.models import Account, User
from crm_app.services import account, related
from crm_app.services.errors import DomainError, DuplicateFound
from crm_app.services.listing import ListQuery
from crm_app.services.permission import can
from crm_app.state.base import AppState, error_event
from crm_app.state.detail import RecordPage
from crm_app.state.record_form import RecordForm, text
from crm_app.state.tag import RecordTags
from crm_app.state.views import (
    Choice,
    MatchView,
    RelatedRow,
    contact_rows,
    owner_view,
    phone_view,
    select_view,
    text_view,
)

PICKER_SIZE = 10
ADDRESS = ("street", "city", "region", "postal_code", "country")
TEXT_FIELDS = ("name", "domain", "website", "industry", "phone", *ADDRESS)


class CompanyPicker(AppState, mixin=True):
    """A search box that offers up to ten companies matching what is typed."""

    company_query: str = ""
    company_options: list[Choice] = []

    def _company_chosen(self, choice: Choice | None) -> Any:
        raise NotImplementedError

    @rx.event(supersedes=True)
    def search_companies(self, typed: str):
        """Companies whose name, domain or city start with the typed words."""
        self.company_query = str(typed)[:100]
        if not self.company_query.strip():
            self.company_options = []
            return None
        listq = ListQuery(q=self.company_query, limit=PICKER_SIZE, sort="name")
        try:
            with self._actor_session() as (session, actor):
                page = account.list_accounts(session, actor=actor, listq=listq)
        except DomainError as error:
            return error_event(error)
        self.company_options = [
            Choice(str(r.account.id), _company_label(r.account)) for r in page.rows
        ]
        return None

    @rx.event
    def choose_company(self, value: str):
        """Take one of the offered companies."""
        choice = next((c for c in self.company_options if c.value == str(value)), None)
        self.company_query, self.company_options = "", []
        return None if choice is None else self._company_chosen(choice)

    @rx.event
    def clear_company(self):
        """No company."""
        self.company_query, self.company_options = "", []
        return self._company_chosen(None)

    @rx.event
    def company_key(self, key: str):
        """Escape closes the offered companies."""
        if key == "Escape":
            self.company_query, self.company_options = "", []


def _company_label(company: Account) -> str:
    return f"{company.name} ({company.domain})" if company.domain else company.name


class AccountFormState(RecordForm, AppState):
    """`/accounts/new`."""

    def _entity(self) -> str:
        return "account"

    def _data(self, form: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = {key: text(form, key, 500) for key in TEXT_FIELDS}
        data["description"] = text(form, "description", 10_000)
        size = text(form, "size", 20)
        data["size"] = "" if size == "none" else size
        return data

    def _create(self, session: Session, actor: User, data: dict, allow_duplicate: bool) -> Any:
        return account.create_account(
            session, actor=actor, data=data, allow_duplicate=allow_duplicate, ip=self._client_ip()
        )

    def _route(self, record_id: int) -> str:
        return routes.account_detail(record_id)


class AccountPageState(RecordTags, RecordPage, AppState):
    """`/accounts/[id]`: the company, its contacts, deals, activities and timeline."""

    name: str = ""
    domain: str = ""
    owner_name: str = ""
    contacts: list[RelatedRow] = []
    contacts_total: int = 0
    can_add_contact: bool = False

    def _entity(self) -> str:
        return "account"

    def _fetch(self, session: Session, actor: User) -> Account:
        return account.get_account(session, actor=actor, account_id=self.record_id)

    def _update(self, session, actor, data: dict, allow_duplicate: bool) -> Account:
        return account.update_account(
            session,
            actor=actor,
            account_id=self.record_id,
            data=data,
            version=self.version,
            allow_duplicate=allow_duplicate,
            ip=self._client_ip(),
        )

    def _matches(self, error: DuplicateFound) -> list[MatchView]:
        return [
            MatchView(m.id, m.label, m.detail, routes.account_detail(m.id)) for m in error.matches
        ]

    def _delete(self, session: Session, actor: User):
        account.delete_account(
            session, actor=actor, account_id=self.record_id, ip=self._client_ip()
        )
        return [
            rx.redirect(routes.ACCOUNTS),
            rx.toast.success(f"{self.name} was moved to the trash."),
        ]

    def _show(self, session: Session, actor: User, company: Account) -> None:
        self.name, self.domain, self.tags = company.name, company.domain or "", company.tags or []
        owner = owner_view(session, actor, "account", company.owner_id)
        self.owner_name = owner.display
        self.fields = [
            text_view("name", "Name", company.name),
            text_view("domain", "Domain", company.domain),
            text_view("website", "Website", company.website, "url", company.website or ""),
            text_view("industry", "Industry", company.industry),
            select_view("size", "Size", company.size, account.SIZES, blank="Not set"),
            phone_view("phone", "Phone", company.phone),
            text_view("street", "Street", company.street),
            text_view("city", "City", company.city),
            text_view("region", "Region", company.region),
            text_view("postal_code", "Postal code", company.postal_code),
            text_view("country", "Country", company.country),
            text_view("description", "Description", company.description, "textarea"),
            owner,
        ]

    def _load_related(self, session: Session, actor: User) -> None:
        self.can_add_contact = can(session, actor, "contact", "create")
        self.contacts, self.contacts_total = self._contacts(session, actor, 0)
        self._load_deals_and_activities(session, actor)

    def _contacts(self, session, actor, offset: int) -> tuple[list[RelatedRow], int]:
        found = related.account_contacts(
            session, actor=actor, account_id=self.record_id, offset=offset
        )
        return contact_rows(found), found.total

    def _related_deals(self, session, actor, offset: int):
        return related.account_deals(session, actor=actor, account_id=self.record_id, offset=offset)

    @rx.event
    def more_contacts(self):
        """The next ten contacts."""
        return self._more("contacts", self._contacts)

    @rx.var
    def new_contact_href(self) -> str:
        """The new-contact form, with this company filled in."""
        return routes.contact_new(account_id=self.record_id)
