"""Contacts: the new-contact form and the contact page."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from crm_app import routes
from crm_app.models import Account, Contact, User
from crm_app.services import account, contact, related
from crm_app.services.errors import DomainError, DuplicateFound
from crm_app.state.account import CompanyPicker
from crm_app.state.base import AppState
from crm_app.state.detail import RecordPage
from crm_app.state.record_form import RecordForm, text
from crm_app.state.tag import RecordTags
from crm_app.state.views import (
    Choice,
    FieldView,
    MatchView,
    owner_view,
    phone_view,
    select_view,
    text_view,
)

TEXT_FIELDS = ("first_name", "last_name", "email", "phone", "title")


class ContactFormState(CompanyPicker, RecordForm, AppState):
    """`/contacts/new`, optionally `?account=<id>` to start in that company."""

    company_id: str = ""
    company_name: str = ""

    def _entity(self) -> str:
        return "contact"

    def _prepare(self, session: Session, actor: User) -> None:
        self.company_id = self.company_name = ""
        self.company_query, self.company_options = "", []
        try:
            account_id = int(self.router.url.query_parameters.get("account", "")[:18])
            company = account.get_account(session, actor=actor, account_id=account_id)
        except (ValueError, DomainError):
            return  # no company, or one that is gone: start without
        self.company_id, self.company_name = str(company.id), company.name

    def _company_chosen(self, choice: Choice | None) -> None:
        self.company_id = choice.value if choice else ""
        self.company_name = choice.label if choice else ""

    def _data(self, form: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = {key: text(form, key, 320) for key in TEXT_FIELDS}
        data["lifecycle_stage"] = text(form, "lifecycle_stage", 40)
        data["account_id"] = self.company_id or None
        return data

    def _create(self, session: Session, actor: User, data: dict, allow_duplicate: bool) -> Any:
        return contact.create_contact(
            session, actor=actor, data=data, allow_duplicate=allow_duplicate, ip=self._client_ip()
        )

    def _route(self, record_id: int) -> str:
        return routes.contact_detail(record_id)


class ContactPageState(CompanyPicker, RecordTags, RecordPage, AppState):
    """`/contacts/[id]`: the contact, their company, deals, activities and timeline."""

    name: str = ""
    job_title: str = ""
    owner_name: str = ""
    company_id: int = 0
    company_name: str = ""
    company_detail: str = ""

    def _entity(self) -> str:
        return "contact"

    def _id_limit(self) -> int:
        return 2**63

    def _fetch(self, session: Session, actor: User) -> Contact:
        return contact.get_contact(session, actor=actor, contact_id=self.record_id)

    def _update(self, session, actor, data: dict, allow_duplicate: bool) -> Contact:
        return contact.update_contact(
            session,
            actor=actor,
            contact_id=self.record_id,
            data=data,
            version=self.version,
            allow_duplicate=allow_duplicate,
            ip=self._client_ip(),
        )

    def _matches(self, error: DuplicateFound) -> list[MatchView]:
        return [
            MatchView(m.id, m.label, m.detail, routes.contact_detail(m.id)) for m in error.matches
        ]

    def _delete(self, session: Session, actor: User):
        contact.delete_contact(
            session, actor=actor, contact_id=self.record_id, ip=self._client_ip()
        )
        return [
            rx.redirect(routes.CONTACTS),
            rx.toast.success(f"{self.name} was moved to the trash."),
        ]

    def _company_chosen(self, choice: Choice | None):
        return self._save({"account_id": int(choice.value) if choice else None})

    def _show(self, session: Session, actor: User, person: Contact) -> None:
        self.name, self.job_title = contact.display_name(person), person.title or ""
        self.tags = person.tags or []
        company = session.get(Account, person.account_id) if person.account_id else None
        if company is not None and company.deleted_at is not None:
            company = None  # in the trash: shown as no company until it is restored
        self.company_id = company.id if company else 0
        self.company_name = company.name if company else ""
        facts = (company.domain, company.industry, company.city) if company else ()
        self.company_detail = " · ".join(p for p in facts if p)
        owner = owner_view(session, actor, "contact", person.owner_id)
        self.owner_name = owner.display
        self.fields = [
            text_view("first_name", "First name", person.first_name),
            text_view("last_name", "Last name", person.last_name),
            text_view("email", "E-mail", person.email, "email", _mailto(person.email)),
            phone_view("phone", "Phone", person.phone),
            text_view("title", "Title", person.title),
            select_view(
                "lifecycle_stage", "Lifecycle stage", person.lifecycle_stage, contact.STAGES
            ),
            owner,
            text_view(
                "additional_emails", "Other e-mails", ", ".join(person.additional_emails), "list"
            ),
            text_view(
                "additional_phones", "Other phones", ", ".join(person.additional_phones), "list"
            ),
        ]

    def _view(self, key: str) -> FieldView | None:
        # the company is edited in the header, where its name links to its page
        return self._company_view() if key == "account_id" else super()._view(key)

    def _company_view(self) -> FieldView:
        return FieldView(
            key="account_id",
            label="Company",
            kind="company",
            value=str(self.company_id or ""),
            display=self.company_name,
            href=routes.account_detail(self.company_id) if self.company_id else "",
        )

    @rx.var
    def initials(self) -> str:
        """Up to two initials for the avatar."""
        return "".join(part[0] for part in self.name.split()[:2]).upper() or "?"

    def _load_related(self, session: Session, actor: User) -> None:
        self._load_deals_and_activities(session, actor)

    def _related_deals(self, session, actor, offset: int):
        return related.contact_deals(session, actor=actor, contact_id=self.record_id, offset=offset)


def _mailto(email: str | None) -> str:
    return f"mailto:{email}" if email else ""
