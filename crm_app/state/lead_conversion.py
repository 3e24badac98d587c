"""The lead page's "Convert" dialog: the contact and company the lead becomes (the matches
`lead_conversion.preview_conversion` finds, or new ones) and an optional deal in a chosen
pipeline and stage; converting calls `lead_conversion.convert_lead` once."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from crm_app import routes
from crm_app.models import Lead, LeadStatus, StageKind, User
from crm_app.services import lead as leads
from crm_app.services import lead_conversion, pipeline
from crm_app.services.errors import DomainError, ValidationFailed
from crm_app.services.permission import can
from crm_app.state.base import AppState, error_event
from crm_app.state.record_form import text
from crm_app.state.views import Choice

MATCH, NEW, AUTO = "match", "new", "auto"  # link the match, create one, let the service decide


def _id(raw: str) -> int | None:
    try:
        return int(str(raw)[:12])
    except ValueError:
        return None


class LeadConversion(AppState, mixin=True):
    """What the convert dialog offers and what was picked in it."""

    can_convert: bool = False
    convert_open: bool = False
    lead_company: str = ""  # the lead's company name: "Create a new company <name>"
    contact_match: str = ""  # the contact with the lead's e-mail, as shown
    contact_match_id: str = ""
    contact_hidden: bool = False  # one exists that the user may not open
    contact_choice: str = NEW
    account_match: str = ""
    account_match_id: str = ""
    account_hidden: bool = False
    account_choice: str = AUTO
    with_deal: bool = False
    deal_name: str = ""
    pipelines: list[Choice] = []
    stages: list[Choice] = []  # the open stages of the chosen pipeline
    deal_pipeline: str = ""
    deal_stage: str = ""
    convert_errors: dict[str, str] = {}
    convert_error: str = ""
    _open_stages: dict[str, list[Choice]] = {}

    def _show_conversion(self, lead: Lead) -> None:
        """Called when the page shows the lead (after `can_edit` is known)."""
        self.can_convert = self.can_edit and lead.status != LeadStatus.converted
        self.lead_company = lead.company_name or ""
        self.deal_name = (lead.company_name or leads.display_name(lead))[:200]

    @rx.event
    def open_convert(self):
        """Open the dialog with the matches found now and the pipelines to pick from."""
        if not self.can_convert:
            return None
        self.convert_errors, self.convert_error, self.with_deal = {}, "", False
        try:
            with self._actor_session() as (session, actor):
                self._preview(session, actor)
                self._load_pipelines(session, actor)
        except DomainError as error:
            return error_event(error)
        self.convert_open = True
        return None

    def _preview(self, session: Session, actor: User) -> None:
        found = lead_conversion.preview_conversion(session, actor=actor, lead_id=self.record_id)
        contact, account = found.contact, found.account
        self.contact_match_id = str(contact.id) if contact else ""
        self.contact_match = (
            f"{contact.first_name} {contact.last_name}".strip() + f" ({contact.email})"
            if contact
            else ""
        )
        self.contact_hidden = found.contact_hidden
        self.contact_choice = MATCH if contact else NEW
        self.account_match_id = str(account.id) if account else ""
        self.account_match = (
            account.name + (f" ({account.domain})" if account.domain else "") if account else ""
        )
        self.account_hidden = found.account_hidden
        self.account_choice = MATCH if account else NEW if self.lead_company else AUTO

    def _load_pipelines(self, session: Session, actor: User) -> None:
        found = (
            pipeline.list_pipelines(session, actor=actor)
            if can(session, actor, "pipeline", "read")
            else []
        )
        self.pipelines = [Choice(str(p.pipeline.id), p.pipeline.name) for p in found]
        self._open_stages = {
            str(p.pipeline.id): [
                Choice(str(s.id), s.name) for s in p.stages if s.kind == StageKind.open
            ]
            for p in found
        }
        default = next((p for p in found if p.pipeline.is_default), found[0] if found else None)
        self._pick_pipeline(str(default.pipeline.id) if default else "")

    def _pick_pipeline(self, pipeline_id: str) -> None:
        self.deal_pipeline = pipeline_id if pipeline_id in self._open_stages else ""
        self.stages = self._open_stages.get(self.deal_pipeline, [])
        self.deal_stage = self.stages[0].value if self.stages else ""

    @rx.event
    def close_convert(self, is_open: bool = False):
        """Dismiss the dialog."""
        if not is_open:
            self.convert_open = False

    @rx.event
    def choose_contact(self, choice: str):
        """Link the contact found by e-mail, or create a new one."""
        if choice == NEW or (choice == MATCH and self.contact_match_id):
            self.contact_choice = choice

    @rx.event
    def choose_account(self, choice: str):
        """Link the company found, or create one from the lead's company name."""
        if (choice == MATCH and self.account_match_id) or (choice == NEW and self.lead_company):
            self.account_choice = choice

    @rx.event
    def toggle_deal(self, checked: bool):
        """Create a deal too, or not."""
        self.with_deal = bool(checked)

    @rx.event
    def choose_pipeline(self, pipeline_id: str):
        """The deal's pipeline; its first open stage is picked."""
        self._pick_pipeline(str(pipeline_id))

    @rx.event
    def choose_stage(self, stage_id: str):
        """The deal's stage, among the chosen pipeline's open stages."""
        if any(s.value == str(stage_id) for s in self.stages):
            self.deal_stage = str(stage_id)

    @rx.event
    def convert(self, form: dict):
        """Convert the lead as picked, then open the new deal (or the contact)."""
        self.convert_errors, self.convert_error = {}, ""
        try:
            with self._actor_session() as (session, actor):
                done = lead_conversion.convert_lead(
                    session,
                    actor=actor,
                    lead_id=self.record_id,
                    contact_id=_id(self.contact_match_id) if self.contact_choice == MATCH else None,
                    new_contact=self.contact_choice == NEW,
                    account_id=_id(self.account_match_id) if self.account_choice == MATCH else None,
                    new_account=self.account_choice == NEW,
                    create_deal=self.with_deal,
                    deal=self._deal(form) if self.with_deal else None,
                    ip=self._client_ip(),
                )
                deal_id, contact_id = (done.deal.id if done.deal else None), done.contact.id
        except ValidationFailed as error:
            self.convert_errors = {e.field: e.message for e in error.errors}
            self.convert_error = error.message
            return None
        except DomainError as error:
            return error_event(error)
        self.convert_open = False
        target = routes.deal_detail(deal_id) if deal_id else routes.contact_detail(contact_id)
        return [rx.redirect(target), rx.toast.success("Lead converted.")]

    def _deal(self, form: dict) -> dict[str, Any]:
        """The deal's fields; those left unpicked fall back to the deal service's defaults."""
        picked = {
            "amount": text(form, "deal_amount", 40).strip() or None,
            "pipeline_id": _id(self.deal_pipeline),
            "stage_id": _id(self.deal_stage),
        }
        return {"name": text(form, "deal_name", 200)} | {
            k: v for k, v in picked.items() if v is not None
        }
