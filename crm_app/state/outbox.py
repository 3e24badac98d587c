"""Settings -> Outbox: outgoing messages (kept ones in development mode) and the suppression
list."""

from __future__ import annotations

import reflex as rx

from crm_app.models import MessageStatus
from crm_app.services import email, suppression
from crm_app.services.errors import DomainError, ValidationFailed
from crm_app.settings import get_settings
from crm_app.state.base import AppState, error_event

STATUSES = [s.value for s in MessageStatus]


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


class OutboxState(AppState):
    """A page of messages, the one opened, and a page of suppressed addresses."""

    messages: list[dict[str, str]] = []
    total: int = 0
    offset: int = 0
    status: str = ""
    sends_mail: bool = False
    opened: dict[str, str] = {}
    suppressions: list[dict[str, str]] = []
    suppressed_total: int = 0
    suppression_query: str = ""
    suppression_error: str = ""

    def _reload(self, session, actor) -> None:
        self.sends_mail = get_settings().sends_mail
        rows, self.total = email.list_messages(
            session, actor=actor, status=self.status, offset=self.offset
        )
        self.messages = [
            {
                "id": str(m.id),
                "to": m.to_address,
                "subject": m.subject,
                "status": m.status,
                "created": _when(m.created_at),
                "error": m.error or "",
            }
            for m in rows
        ]
        found, self.suppressed_total = suppression.list_suppressions(
            session, actor=actor, q=self.suppression_query
        )
        self.suppressions = [
            {"id": str(s.id), "email": s.email, "reason": s.reason, "created": _when(s.created_at)}
            for s in found
        ]

    @rx.event
    def load(self):
        """on_load."""
        self.offset, self.opened = 0, {}
        return self._load_page(self._reload)

    @rx.event
    def filter_status(self, status: str):
        """Show only messages of one status ("all": every one)."""
        self.status = status if status in STATUSES else ""
        self.offset = 0
        return self._act_then(None, self._reload)

    @rx.event
    def page(self, step: int):
        """The next (1) or previous (-1) page."""
        self.offset = max(0, self.offset + (email.PAGE_SIZE if int(step) > 0 else -email.PAGE_SIZE))
        return self._act_then(None, self._reload)

    @rx.event
    def open_message(self, message_id: str):
        """Show one message as it was (or would be) sent."""
        try:
            with self._actor_session() as (session, actor):
                m = email.get_message(session, actor=actor, message_id=int(message_id))
        except (DomainError, ValueError) as error:
            return error_event(
                error if isinstance(error, DomainError) else ValidationFailed("Bad id.")
            )
        self.opened = {
            "id": str(m.id),
            "to": m.to_address,
            "from": m.from_address,
            "subject": m.subject,
            "html": m.html,
            "status": m.status,
            "headers": "\n".join(f"{k}: {v}" for k, v in (m.headers or {}).items()),
        }
        return None

    @rx.event
    def close_message(self, is_open: bool = False):
        """Close the message dialog."""
        if not is_open:
            self.opened = {}

    @rx.event
    def search_suppressions(self, query: str):
        """Find suppressed addresses."""
        self.suppression_query = str(query)[:320]
        return self._act_then(None, self._reload)

    @rx.event
    def add_suppression(self, form: dict):
        """Stop mass mail to an address."""
        self.suppression_error = ""
        try:
            with self._actor_session() as (session, actor):
                suppression.add_suppression(
                    session, actor=actor, email=str(form.get("email", ""))[:400]
                )
                self._reload(session, actor)
        except ValidationFailed as error:
            self.suppression_error = error.message
            return None
        except DomainError as error:
            return error_event(error)
        return rx.toast.success("Address suppressed.")

    @rx.event
    def remove_suppression(self, suppression_id: str):
        """Let mass mail reach an address again."""
        try:
            with self._actor_session() as (session, actor):
                suppression.remove_suppression(
                    session, actor=actor, suppression_id=int(suppression_id)
                )
                self._reload(session, actor)
        except (DomainError, ValueError) as error:
            return error_event(
                error if isinstance(error, DomainError) else ValidationFailed("Bad id.")
            )
        return rx.toast.success("Address removed from the suppression list.")
