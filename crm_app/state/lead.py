"""Leads: the new-lead form and the lead page (its conversion dialog is `LeadConversion`)."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from crm_app import routes
from crm_app.models import Account, Contact, Deal, Lead, LeadStatus, User
from crm_app.services import lead as leads
from crm_app.services import lead_scoring, lead_source, related
from crm_app.services.errors import DuplicateFound
from crm_app.services.permission import can
from crm_app.state.base import AppState
from crm_app.state.detail import RecordPage
from crm_app.state.lead_conversion import LeadConversion
from crm_app.state.record_form import RecordForm, text
from crm_app.state.tag import RecordTags
from crm_app.state.views import (
    NONE,
    Choice,
    FieldView,
    MatchView,
    RelatedRow,
    owner_view,
    phone_view,
    text_view,
)

TEXT_FIELDS = ("first_name", "last_name", "email", "phone", "company_name", "title")


def status_label(status: str) -> str:
    """A lead status as people read it."""
    return str(status).capitalize()


def source_choices(session: Session, actor: User, current: str | None = None) -> list[Choice]:
    """ "No source", the active sources in the admins' order, and the current one if retired."""
    names = [s.name for s in lead_source.list_sources(session, actor=actor)]
    if current and current not in names:
        names.insert(0, current)
    return [Choice(NONE, "No source"), *[Choice(n, n) for n in names]]


def _source_view(session: Session, actor: User, lead: Lead) -> FieldView:
    return FieldView(
        key="source",
        label="Source",
        kind="select",
        value=lead.source or NONE,
        display=lead.source or "",
        options=source_choices(session, actor, lead.source),
    )


def _status_view(lead: Lead) -> FieldView:
    """The status select offers the current status and the ones the flow allows next."""
    allowed = [lead.status, *leads.NEXT_STATUSES[LeadStatus(lead.status)]]
    return FieldView(
        key="status",
        label="Status",
        kind="select",
        value=str(lead.status),
        display=status_label(lead.status),
        options=[Choice(str(s), status_label(s)) for s in allowed],
    )


def _points(points: int) -> str:
    return f"+{points}" if points > 0 else str(points)


class LeadFormState(RecordForm, AppState):
    """`/leads/new`."""

    sources: list[Choice] = []
    statuses: list[Choice] = [Choice(s, status_label(s)) for s in leads.SETTABLE_STATUSES]

    def _entity(self) -> str:
        return "lead"

    def _prepare(self, session: Session, actor: User) -> None:
        self.sources = source_choices(session, actor)

    def _data(self, form: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = {key: text(form, key, 320) for key in TEXT_FIELDS}
        source = text(form, "source", 100)
        data["source"] = None if source in ("", NONE) else source
        data["status"] = text(form, "status", 40) or LeadStatus.new.value
        return data

    def _create(self, session: Session, actor: User, data: dict, allow_duplicate: bool) -> Any:
        return leads.create_lead(
            session, actor=actor, data=data, allow_duplicate=allow_duplicate, ip=self._client_ip()
        )

    def _route(self, record_id: int) -> str:
        return routes.lead_detail(record_id)


class LeadPageState(LeadConversion, RecordTags, RecordPage, AppState):
    """`/leads/[id]`: the lead, its score and why, what it became, activities and timeline."""

    name: str = ""
    job_title: str = ""
    company: str = ""
    owner_name: str = ""
    status: str = ""
    score: int = 0
    score_rules: list[dict[str, str]] = []  # name, description, points ("+10")
    converted: bool = False
    became: list[RelatedRow] = []  # the contact, company and deal a conversion made

    def _entity(self) -> str:
        return "lead"

    def _fetch(self, session: Session, actor: User) -> Lead:
        return leads.get_lead(session, actor=actor, lead_id=self.record_id)

    def _update(self, session, actor, data: dict, allow_duplicate: bool) -> Lead:
        return leads.update_lead(
            session,
            actor=actor,
            lead_id=self.record_id,
            data=data,
            version=self.version,
            allow_duplicate=allow_duplicate,
            ip=self._client_ip(),
        )

    def _matches(self, error: DuplicateFound) -> list[MatchView]:
        return [MatchView(m.id, m.label, m.detail, routes.lead_detail(m.id)) for m in error.matches]

    def _delete(self, session: Session, actor: User):
        leads.delete_lead(session, actor=actor, lead_id=self.record_id, ip=self._client_ip())
        return [rx.redirect(routes.LEADS), rx.toast.success(f"{self.name} was moved to the trash.")]

    def _add_tag(self, name: str) -> rx.event.EventSpec | None:
        return self._tag_change(_tag_changer(add=True), name)

    def _remove_tag(self, name: str) -> rx.event.EventSpec | None:
        return self._tag_change(_tag_changer(add=False), name)

    def _show(self, session: Session, actor: User, lead: Lead) -> None:
        self.name, self.job_title = leads.display_name(lead), lead.title or ""
        self.company, self.tags = lead.company_name or "", lead.tags or []
        self.status, self.score = str(lead.status), lead.score
        self.converted = lead.status == LeadStatus.converted
        owner = owner_view(session, actor, "lead", lead.owner_id)
        self.owner_name = owner.display
        email_href = f"mailto:{lead.email}" if lead.email else ""
        self.fields = [
            text_view("first_name", "First name", lead.first_name),
            text_view("last_name", "Last name", lead.last_name),
            text_view("email", "E-mail", lead.email, "email", email_href),
            phone_view("phone", "Phone", lead.phone),
            text_view("company_name", "Company", lead.company_name),
            text_view("title", "Title", lead.title),
            _status_view(lead),
            _source_view(session, actor, lead),
            owner,
        ]
        rules = lead_scoring.matched_rules(session, actor=actor, lead_id=lead.id)
        self.score_rules = [
            {
                "name": rule.name,
                "description": lead_scoring.describe(lead_scoring.parse_condition(rule.condition)),
                "points": _points(rule.points),
            }
            for rule in rules
        ]
        self.became = _became(session, lead)
        self._show_conversion(lead)

    def _load_related(self, session: Session, actor: User) -> None:
        # a lead has no deals of its own: the one a conversion made is shown with `became`
        self.can_see_deals, self.deals, self.deals_total = False, [], 0
        self.can_see_activities = can(session, actor, "activity", "read")
        if self.can_see_activities:
            self.activities, self.activities_total = self._activities(session, actor, 0)

    def _related_deals(self, session, actor, offset: int):
        return related.Related([], 0)

    @rx.var
    def initials(self) -> str:
        """Up to two initials for the avatar."""
        return "".join(part[0] for part in self.name.split()[:2]).upper() or "?"

    @rx.var
    def status_text(self) -> str:
        """The status as the header's badge shows it."""
        return status_label(self.status)


def _tag_changer(*, add: bool):
    """`RecordTags._tag_change`'s change function for leads (tags service knows contacts and
    companies only)."""

    def change(session, *, actor, entity, record_id, tag, ip):
        return leads.change_tag(session, actor=actor, lead_id=record_id, tag=tag, add=add, ip=ip)

    return change


def _became(session: Session, lead: Lead) -> list[RelatedRow]:
    """Links to the contact, company and deal the lead was converted into (those still live)."""
    rows = []
    contact = session.get(Contact, lead.converted_contact_id) if lead.converted_contact_id else None
    if contact is not None and contact.deleted_at is None:
        name = f"{contact.first_name} {contact.last_name}".strip() or contact.email or "Contact"
        rows.append(RelatedRow(contact.id, name, routes.contact_detail(contact.id), "Contact"))
    account = session.get(Account, lead.converted_account_id) if lead.converted_account_id else None
    if account is not None and account.deleted_at is None:
        rows.append(
            RelatedRow(account.id, account.name, routes.account_detail(account.id), "Company")
        )
    deal = session.get(Deal, lead.converted_deal_id) if lead.converted_deal_id else None
    if deal is not None and deal.deleted_at is None:
        rows.append(RelatedRow(deal.id, deal.name, routes.deal_detail(deal.id), "Deal"))
    return rows
