"""The "Send e-mail" dialog of contact, lead and deal pages."""

from __future__ import annotations

import reflex as rx

from crm_app.services import email, email_template
from crm_app.services.errors import DomainError, ValidationFailed
from crm_app.state.base import AppState, error_event

KINDS = ("contact", "lead", "deal")


def _page_state(entity: str):
    """The record page to reload after sending, so its timeline shows the e-mail."""
    from crm_app.state.contact import ContactPageState
    from crm_app.state.deal import DealPageState
    from crm_app.state.lead import LeadPageState

    return {"contact": ContactPageState, "lead": LeadPageState, "deal": DealPageState}[entity]


class SendEmailState(AppState):
    """One message being written about one record."""

    is_open: bool = False
    entity: str = "contact"
    record_id: int = 0
    addresses: list[dict[str, str]] = []
    templates: list[dict[str, str]] = []
    to: str = ""
    subject: str = ""
    body: str = ""
    template_id: str = ""
    errors: dict[str, str] = {}
    preview_subject: str = ""
    preview_html: str = ""
    previewing: bool = False
    sending: bool = False

    @rx.event
    def open_for(self, entity: str, record_id: int):
        """Open the dialog about a record: its addresses and the templates of its kind."""
        if entity not in KINDS:
            return error_event(ValidationFailed("Pick a contact, lead or deal."))
        try:
            with self._actor_session() as (session, actor):
                found = email.addresses_for(
                    session, actor=actor, entity=entity, record_id=int(record_id)
                )
                templates = email_template.list_templates(session, actor=actor, entity=entity)
        except (DomainError, ValueError) as error:
            return error_event(
                error if isinstance(error, DomainError) else ValidationFailed("Bad record.")
            )
        self.entity, self.record_id = entity, int(record_id)
        self.addresses = [{"address": a, "label": f"{label} <{a}>"} for a, label in found]
        self.templates = [{"id": str(t.id), "name": t.name} for t in templates]
        self.to = found[0][0] if found else ""
        self.subject = self.body = self.template_id = ""
        self.errors, self.previewing, self.sending = {}, False, False
        self.is_open = True
        return None

    @rx.event
    def close(self, is_open: bool = False):
        """Close the dialog (Cancel, Escape)."""
        self.is_open = bool(is_open)

    @rx.event
    def set_value(self, key: str, value: str):
        """A field changed."""
        if key in ("to", "subject", "body"):
            setattr(self, key, str(value)[: email_template.BODY_MAX])
            self.errors = {k: v for k, v in self.errors.items() if k != key}
            self.previewing = False

    @rx.event
    def pick_template(self, template_id: str):
        """Fill the subject and body from a template (its merge fields render on send)."""
        try:
            with self._actor_session() as (session, actor):
                template = email_template.get_template(
                    session, actor=actor, template_id=int(template_id)
                )
        except (DomainError, ValueError) as error:
            return error_event(
                error if isinstance(error, DomainError) else ValidationFailed("Bad template.")
            )
        self.template_id = str(template.id)
        self.subject, self.body, self.previewing = template.subject, template.body, False
        return None

    @rx.event
    def preview(self):
        """Show the message as it will be sent."""
        try:
            with self._actor_session() as (session, actor):
                rendered = email_template.preview(
                    session,
                    actor=actor,
                    entity=self.entity,
                    subject=self.subject,
                    body=self.body,
                    record_id=self.record_id,
                )
        except ValidationFailed as error:
            self.errors = {e.field: e.message for e in error.errors}
            return None
        except DomainError as error:
            return error_event(error)
        self.preview_subject, self.preview_html, self.previewing = (
            rendered.subject,
            rendered.html,
            True,
        )
        return None

    @rx.event
    def send(self):
        """Queue the message and log it on the record; the page reloads its timeline."""
        self.errors = {}
        try:
            with self._actor_session() as (session, actor):
                email.send_from_record(
                    session,
                    actor=actor,
                    entity=self.entity,
                    record_id=self.record_id,
                    draft=email.Draft(
                        to=self.to,
                        subject=self.subject,
                        body=self.body,
                        template_id=int(self.template_id) if self.template_id else None,
                    ),
                )
        except ValidationFailed as error:
            self.errors = {e.field: e.message for e in error.errors} or {"form": error.message}
            return None
        except DomainError as error:
            return error_event(error)
        self.is_open = False
        return [rx.toast.success("E-mail queued."), _page_state(self.entity).load]
