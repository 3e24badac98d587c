"""Settings -> Webhooks: the list, the create dialog, the secret shown once, and a webhook's
delivery log with redelivery."""

from __future__ import annotations

from datetime import datetime

import reflex as rx
from sqlmodel import Session

from crm_app.models import User, Webhook
from crm_app.services import webhook
from crm_app.services.errors import DomainError, ValidationFailed
from crm_app.state.audit import local_time
from crm_app.state.base import AppState, error_event
from crm_app.state.record_list import int_arg

GROUP_LABELS = {
    "contact": "Contacts",
    "account": "Companies",
    "lead": "Leads",
    "deal": "Deals",
    "activity": "Activities",
}
STATUS_LABELS = {
    "pending": "Pending",
    "succeeded": "Succeeded",
    "failed": "Failed, will retry",
    "gave_up": "Gave up",
}


def _event_choices(on: set[str] | None = None) -> list[dict[str, str]]:
    return [
        {"type": t, "group": GROUP_LABELS.get(group, group), "on": "yes" if t in (on or ()) else ""}
        for group, types in webhook.event_groups().items()
        for t in types
    ]


class WebhookState(AppState):
    """The webhooks (admins only), the create dialog, and one webhook's deliveries."""

    webhooks: list[dict[str, str]] = []
    create_open: bool = False
    event_choices: list[dict[str, str]] = _event_choices()
    url_error: str = ""
    events_error: str = ""
    new_secret: str = ""  # shown once, after create or rotate
    secret_open: bool = False
    log_id: str = ""  # the webhook whose deliveries are shown
    log_url: str = ""
    deliveries: list[dict[str, str]] = []
    log_cursors: list[str] = []  # the cursor of each page shown so far ("" the first)
    next_cursor: str = ""

    def _when(self, value: datetime | None) -> str:
        return local_time(value, "UTC") if value else ""

    def _row(self, w: Webhook) -> dict[str, str]:
        if not w.is_active:
            status, detail = "Off", w.disabled_reason or ""
        elif w.failing_since is not None:
            status, detail = "Failing", "Failing since " + self._when(w.failing_since)
        else:
            status, detail = "Active", ""
        return {
            "id": str(w.id),
            "url": w.url,
            "events": ", ".join(w.events),
            "status": status,
            "detail": detail,
            "is_active": "yes" if w.is_active else "",
        }

    def _reload(self, session: Session, actor: User) -> None:
        if not self.can_manage_settings:
            return
        self.webhooks = [self._row(w) for w in webhook.list_webhooks(session, actor=actor)]
        if self.log_id and not any(w["id"] == self.log_id for w in self.webhooks):
            self.log_id, self.deliveries = "", []
        if self.log_id:
            self._read_log(session, actor)

    def _read_log(self, session: Session, actor: User) -> None:
        cursor = self.log_cursors[-1] if self.log_cursors else ""
        page = webhook.list_deliveries(
            session, actor=actor, webhook_id=int_arg(self.log_id), cursor=cursor or None
        )
        self.deliveries = [
            {
                "id": str(r.delivery.id),
                "event": r.delivery.event_type,
                "event_id": r.delivery.event_id,
                "time": self._when(r.delivery.created_at),
                "attempts": str(r.delivery.attempts),
                "code": str(r.delivery.last_status_code or "—"),
                "duration": (
                    f"{r.delivery.last_duration_ms} ms"
                    if r.delivery.last_duration_ms is not None
                    else "—"
                ),
                "status": STATUS_LABELS.get(str(r.delivery.status), str(r.delivery.status)),
                "error": r.delivery.last_error or "",
                "next": self._when(r.delivery.next_attempt_at),
            }
            for r in page.rows
        ]
        self.next_cursor = page.next_cursor or ""

    @rx.event
    def load(self):
        """on_load: the webhooks, for admins (others see a notice)."""
        self.create_open = self.secret_open = False
        self.new_secret = ""
        return self._load_page(self._reload)

    # ---- create -----------------------------------------------------------------------------

    @rx.event
    def open_create(self, is_open: bool = True):
        """Open (blank) or close the create dialog."""
        self.create_open = bool(is_open) and self.can_manage_settings
        self.url_error = self.events_error = ""
        if self.create_open:
            self.event_choices = _event_choices()

    @rx.event
    def toggle_event(self, event_type: str, on: bool):
        """Tick or untick one event type in the dialog."""
        self.event_choices = [
            {**c, "on": ("yes" if on else "")} if c["type"] == event_type else c
            for c in self.event_choices
        ]

    @rx.event
    def create(self, form: dict):
        """Create the webhook, then show its secret once."""
        self.url_error = self.events_error = ""
        data = {
            "url": str(form.get("url", ""))[:2048],
            "events": [c["type"] for c in self.event_choices if c["on"]],
        }
        try:
            with self._actor_session() as (session, actor):
                created = webhook.create_webhook(session, actor=actor, data=data)
                self._reload(session, actor)
        except ValidationFailed as error:
            for problem in error.errors or []:
                if problem.field == "url":
                    self.url_error = problem.message
                elif problem.field == "events":
                    self.events_error = problem.message
            return None if error.errors else error_event(error)
        except DomainError as error:
            return error_event(error)
        self.create_open = False
        self.new_secret, self.secret_open = created.secret, True
        return None

    @rx.event
    def close_secret(self, is_open: bool = False):
        """Close the secret dialog; the secret is forgotten."""
        self.secret_open = bool(is_open) and self.new_secret != ""
        if not self.secret_open:
            self.new_secret = ""

    # ---- change -------------------------------------------------------------------------------

    @rx.event
    def rotate(self, webhook_id: str):
        """A new secret, shown once; the old one keeps signing for 24 hours."""
        try:
            with self._actor_session() as (session, actor):
                rotated = webhook.rotate_secret(
                    session, actor=actor, webhook_id=int_arg(webhook_id)
                )
                self._reload(session, actor)
        except DomainError as error:
            return error_event(error)
        self.new_secret, self.secret_open = rotated.secret, True
        return None

    @rx.event
    def set_active(self, webhook_id: str, on: bool):
        """Switch a webhook on (clearing its failure streak) or off."""

        def change(session: Session, actor: User) -> None:
            webhook.update_webhook(
                session, actor=actor, webhook_id=int_arg(webhook_id), data={"is_active": bool(on)}
            )

        return self._act_then(
            change, self._reload, "Webhook switched on." if on else "Webhook switched off."
        )

    @rx.event
    def delete(self, webhook_id: str):
        """Delete a webhook and its delivery log."""

        def change(session: Session, actor: User) -> None:
            webhook.delete_webhook(session, actor=actor, webhook_id=int_arg(webhook_id))

        return self._act_then(change, self._reload, "Webhook deleted.")

    # ---- the delivery log ------------------------------------------------------------------------

    @rx.event
    def show_log(self, webhook_id: str):
        """Show a webhook's deliveries, newest first."""
        self.log_id = str(int_arg(webhook_id))
        self.log_url = next((w["url"] for w in self.webhooks if w["id"] == self.log_id), "")
        self.log_cursors = []
        return self._act_then(None, self._reload)

    @rx.event
    def refresh_log(self):
        """Read the current page of deliveries again."""
        return self._act_then(None, self._reload)

    @rx.event
    def older(self):
        """The next page of older deliveries."""
        if self.next_cursor:
            self.log_cursors = [*self.log_cursors, self.next_cursor]
        return self._act_then(None, self._reload)

    @rx.event
    def newer(self):
        """Back one page, towards the newest deliveries."""
        self.log_cursors = self.log_cursors[:-1]
        return self._act_then(None, self._reload)

    @rx.event
    def redeliver(self, delivery_id: str):
        """Send a delivery again now, with the same event id."""

        def change(session: Session, actor: User) -> None:
            webhook.redeliver(session, actor=actor, delivery_id=int_arg(delivery_id))

        return self._act_then(change, self._reload, "Redelivery queued.")
