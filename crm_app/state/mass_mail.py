"""Settings -> Mass mail: pick a saved view and a template, preview, test, send, and watch the
campaign's progress (polled, like the import page)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import reflex as rx
from sqlmodel import Session

from crm_app import routes
from crm_app.db import session_scope
from crm_app.models import User
from crm_app.services import auth, email_template, mass_mail, saved_view
from crm_app.services.errors import DomainError, Unauthenticated, ValidationFailed
from crm_app.services.permission import can
from crm_app.state.base import AppState, error_event, session_token_of

POLL_SECONDS = 2.0
WATCH_LIMIT_SECONDS = 3600.0


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


def _as_actor(token: str | None, work: Callable[[Session, User], Any]) -> Any:
    with session_scope() as session:
        user = auth.authenticate(session, token)
        if user is None:
            raise Unauthenticated()
        return work(session, user)


def _campaign_view(session: Session, actor: User, campaign) -> dict[str, str]:
    progress = mass_mail.progress(session, actor=actor, campaign_id=campaign.id)
    return {
        "id": str(campaign.id),
        "name": campaign.name,
        "status": campaign.status,
        "total": str(progress.total),
        "sent": str(progress.sent),
        "failed": str(progress.failed),
        "suppressed": str(progress.suppressed),
        "pending": str(progress.pending),
        "created": _when(campaign.created_at),
    }


def _campaigns(session: Session, actor: User) -> list[dict[str, str]]:
    return [
        _campaign_view(session, actor, c) for c in mass_mail.list_campaigns(session, actor=actor)
    ]


class MassMailState(AppState):
    """The composer (view, template, audience, preview) and the recent campaigns."""

    can_send: bool = False
    views: list[dict[str, str]] = []
    templates: list[dict[str, str]] = []
    view_id: str = ""
    template_id: str = ""
    audience: dict[str, int] = {}
    preview_subject: str = ""
    preview_html: str = ""
    problem: str = ""
    campaigns: list[dict[str, str]] = []
    recipients: list[dict[str, str]] = []
    recipients_of: str = ""
    _watching: int = 0

    def _reload(self, session: Session, actor: User) -> None:
        self.can_send = can(session, actor, mass_mail.RESOURCE, "send")
        if not self.can_send:
            return
        self.views = [
            {
                "id": str(v.id),
                "label": f"{'Contacts' if v.entity == 'contact' else 'Leads'}: {v.name}",
            }
            for v in saved_view.list_views(session, actor=actor)
            if v.entity in mass_mail.ENTITIES
        ]
        self.templates = [
            {"id": str(t.id), "name": t.name, "entity": t.entity}
            for t in email_template.list_templates(session, actor=actor)
            if t.entity in mass_mail.ENTITIES
        ]
        self.campaigns = _campaigns(session, actor)

    @rx.event
    def load(self):
        """on_load."""
        self.view_id = self.template_id = self.problem = ""
        self.audience, self.preview_subject, self.preview_html = {}, "", ""
        self.recipients, self.recipients_of = [], ""
        # a list holding None is refused by Reflex: watch only once the page loaded
        problem = self._load_page(self._reload)
        return problem if problem is not None else MassMailState.watch

    def _refresh_choice(self, session: Session, actor: User) -> None:
        self.problem, self.preview_subject, self.preview_html = "", "", ""
        if not self.view_id:
            self.audience = {}
            return
        found = mass_mail.audience(session, actor=actor, view_id=int(self.view_id))
        self.audience = {
            "with_email": found.with_email,
            "suppressed": found.suppressed,
            "sendable": found.sendable,
        }
        if self.template_id:
            rendered = mass_mail.preview(
                session, actor=actor, view_id=int(self.view_id), template_id=int(self.template_id)
            )
            self.preview_subject, self.preview_html = rendered.subject, rendered.html

    def _choose(self, key: str, value: str):
        if value and not value.isdigit():
            return error_event(ValidationFailed("Pick from the list."))
        setattr(self, key, value)
        try:
            with self._actor_session() as (session, actor):
                self._refresh_choice(session, actor)
        except ValidationFailed as error:
            self.problem = "; ".join(e.message for e in error.errors) or error.message
        except DomainError as error:
            return error_event(error)
        return None

    @rx.event
    def choose_view(self, view_id: str):
        """Pick the saved view to mail."""
        return self._choose("view_id", str(view_id))

    @rx.event
    def choose_template(self, template_id: str):
        """Pick the template to send."""
        return self._choose("template_id", str(template_id))

    def _ids(self) -> tuple[int, int]:
        if not (self.view_id.isdigit() and self.template_id.isdigit()):
            raise ValidationFailed("Pick a saved view and a template first.")
        return int(self.view_id), int(self.template_id)

    @rx.event
    def send_test(self):
        """Send the first person's message to me."""
        try:
            with self._actor_session() as (session, actor):
                view_id, template_id = self._ids()
                message = mass_mail.send_test(
                    session, actor=actor, view_id=view_id, template_id=template_id
                )
                to = message.to_address
        except DomainError as error:
            return error_event(error)
        return rx.toast.success(f"Test sent to {to}.")

    @rx.event
    def send(self):
        """Start the campaign (the page asked for confirmation)."""
        try:
            with self._actor_session() as (session, actor):
                view_id, template_id = self._ids()
                mass_mail.start_campaign(
                    session,
                    actor=actor,
                    view_id=view_id,
                    template_id=template_id,
                    ip=self._client_ip(),
                )
                self.campaigns = _campaigns(session, actor)
        except DomainError as error:
            return error_event(error)
        return [rx.toast.success("Sending started."), MassMailState.watch]

    @rx.event
    def cancel(self, campaign_id: str):
        """Stop a campaign that is still sending."""
        try:
            with self._actor_session() as (session, actor):
                mass_mail.cancel_campaign(session, actor=actor, campaign_id=int(campaign_id))
                self.campaigns = _campaigns(session, actor)
        except (DomainError, ValueError) as error:
            return error_event(
                error if isinstance(error, DomainError) else ValidationFailed("Bad id.")
            )
        return rx.toast.success("Campaign cancelled.")

    @rx.event
    def show_recipients(self, campaign_id: str):
        """List a campaign's recipients and their status."""
        try:
            with self._actor_session() as (session, actor):
                rows = mass_mail.list_recipients(session, actor=actor, campaign_id=int(campaign_id))
        except (DomainError, ValueError) as error:
            return error_event(
                error if isinstance(error, DomainError) else ValidationFailed("Bad id.")
            )
        self.recipients_of = str(campaign_id)
        self.recipients = [
            {
                "email": r.email,
                "name": r.name,
                "status": r.status,
                "sent": _when(r.sent_at),
                "error": r.error or "",
            }
            for r in rows
        ]
        return None

    @rx.event(background=True)
    async def watch(self):
        """Refresh the campaigns' progress every few seconds while one is sending."""
        async with self:
            self._watching += 1
            ticket, token = self._watching, session_token_of(self)
        waited = 0.0
        while waited < WATCH_LIMIT_SECONDS:
            await asyncio.sleep(POLL_SECONDS)
            waited += POLL_SECONDS
            try:
                views = await asyncio.to_thread(_as_actor, token, _campaigns)
            except DomainError:
                return
            async with self:
                if ticket != self._watching or self.router.url.path.rstrip("/") != routes.MASS_MAIL:
                    return
                self.campaigns = views
            if not any(v["status"] == "sending" for v in views):
                return
