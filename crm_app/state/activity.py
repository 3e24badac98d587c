"""Logging activities from a record's page: the composer above its timeline.

A note, call, e-mail, meeting or task is written in one form whose fields follow the chosen
kind. Keys pick the kind from anywhere on the page (N, C, E, M, T) and Ctrl+Enter saves; the
new item shows in the timeline at once. The rules (who may log what on which record, the
sanitising of the text, reminders, rescoring a lead, telling an assignee) are
`services.activity`'s.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import reflex as rx
from sqlmodel import Session

from crm_app.models import User
from crm_app.services import activity, contact, related, rich_text, user
from crm_app.services.errors import DomainError, FieldError, ValidationFailed
from crm_app.services.listing import ListQuery
from crm_app.services.permission import can
from crm_app.state.base import AppState, error_event
from crm_app.state.views import Choice

KINDS = [
    Choice("note", "Note"),
    Choice("call", "Call"),
    Choice("email", "E-mail"),
    Choice("meeting", "Meeting"),
    Choice("task", "Task"),
]
HOTKEYS = {"n": "note", "c": "call", "e": "email", "m": "meeting", "t": "task"}
OUTCOMES = ["Connected", "Left voicemail", "No answer", "Busy", "Wrong number"]
PRIORITIES = [Choice("low", "Low"), Choice("normal", "Normal"), Choice("high", "High")]
# minutes before the due or start time
REMINDERS = [
    Choice("none", "No reminder"),
    Choice("0", "At the time"),
    Choice("15", "15 minutes before"),
    Choice("60", "1 hour before"),
    Choice("1440", "1 day before"),
]
ATTENDEE_OPTIONS = 8
# the composer's form fields, and the service field each error belongs to
ERROR_FIELDS = {
    "subject": "subject",
    "body": "body",
    "outcome": "outcome",
    "duration_minutes": "duration_minutes",
    "starts_at": "starts_at",
    "ends_at": "ends_at",
    "location": "location",
    "due_at": "due_at",
    "reminder_at": "reminder",
    "owner_id": "owner_id",
    "attendee_contact_ids": "attendees",
    "attendee_user_ids": "attendees",
}


def local_datetime(raw: Any, zone: str) -> datetime | None:
    """A `datetime-local` input's value ("2026-11-26T14:30"), read in the user's zone."""
    text = str(raw or "").strip()[:40]
    if not text:
        return None
    try:
        naive = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("Enter a date and time.") from None
    return naive.replace(tzinfo=ZoneInfo(zone or "UTC")) if naive.tzinfo is None else naive


class ActivityComposer(AppState, mixin=True):
    """The composer of a record page (`_entity()` and `record_id` come from the page)."""

    compose_kind: str = "note"
    compose_errors: dict[str, str] = {}
    compose_key: int = 0  # bumped after a save, so the form's inputs start empty again
    can_log: bool = False
    assignees: list[Choice] = []  # whom a task can be given to
    colleagues: list[Choice] = []  # whom a meeting can invite
    attendee_query: str = ""
    attendee_options: list[Choice] = []
    attendees: list[Choice] = []

    def _entity(self) -> str:
        raise NotImplementedError

    def _reload_timeline(self, session: Session, actor: User) -> None:
        raise NotImplementedError

    def _load_related(self, session: Session, actor: User) -> None:
        raise NotImplementedError

    def _ready_composer(self, session: Session, actor: User) -> None:
        """Called when the page opens: who may log here, and whom a task can be given to."""
        self.compose_errors, self.attendees, self.attendee_options = {}, [], []
        self.attendee_query = ""
        self.can_log = can(session, actor, "activity", "create")
        if self.can_log:
            self.assignees = [
                Choice(str(i), name)
                for i, name in related.owner_choices(session, actor=actor, resource="activity")
            ]
            self.colleagues = [Choice(str(i), name) for i, name in user.colleagues(session)]

    @rx.event
    def pick_kind(self, kind: str | list[str]):
        """Write a note, call, e-mail, meeting or task."""
        if isinstance(kind, str) and kind in {c.value for c in KINDS}:
            self.compose_kind, self.compose_errors = kind, {}

    @rx.event
    def hotkey(self, key: str):
        """N, C, E, M or T pressed outside a text field: that kind, ready to type."""
        kind = HOTKEYS.get(str(key).lower()[:1])
        if kind and self.can_log:
            self.compose_kind, self.compose_errors = kind, {}

    # ---- meeting attendees --------------------------------------------------------------

    @rx.event(supersedes=True)
    def search_attendees(self, typed: str):
        """Contacts matching what is typed, to add to the meeting."""
        self.attendee_query = str(typed)[:100]
        if not self.attendee_query.strip():
            self.attendee_options = []
            return None
        listq = ListQuery(
            q=self.attendee_query, limit=ATTENDEE_OPTIONS, sort="last_name,first_name"
        )
        try:
            with self._actor_session() as (session, actor):
                page = contact.list_contacts(session, actor=actor, listq=listq)
        except DomainError as error:
            return error_event(error)
        taken = {c.value for c in self.attendees}
        self.attendee_options = [
            Choice(str(r.contact.id), contact.display_name(r.contact))
            for r in page.rows
            if str(r.contact.id) not in taken
        ]
        return None

    @rx.event
    def add_attendee(self, value: str):
        """Add one of the offered contacts."""
        choice = next((c for c in self.attendee_options if c.value == str(value)), None)
        self.attendee_query, self.attendee_options = "", []
        if choice is not None and len(self.attendees) < 100:
            self.attendees = [*self.attendees, choice]

    @rx.event
    def remove_attendee(self, value: str):
        """Take a contact off the meeting."""
        self.attendees = [c for c in self.attendees if c.value != str(value)]

    @rx.event
    def attendee_key(self, key: str):
        """Escape closes the offered contacts."""
        if key == "Escape":
            self.attendee_query, self.attendee_options = "", []

    # ---- saving -------------------------------------------------------------------------

    def _compose_data(self, form: dict[str, Any], actor: User) -> dict[str, Any]:
        """The service's input from the form; raises ValidationFailed naming bad fields."""
        kind = self.compose_kind
        zone = actor.timezone or "UTC"
        data: dict[str, Any] = {
            "kind": kind,
            self._entity() + "_id": self.record_id,
            "subject": str(form.get("subject") or "").strip(),
            "body": rich_text.from_markdown(str(form.get("body") or "")[: rich_text.LIMIT]),
        }
        errors: dict[str, str] = {}

        def when(name: str) -> datetime | None:
            try:
                return local_datetime(form.get(name), zone)
            except ValueError as error:
                errors[name] = str(error)
                return None

        if kind == "call":
            data["outcome"] = str(form.get("outcome") or "").strip()[:100] or None
            minutes = str(form.get("duration_minutes") or "").strip()
            if minutes:
                if minutes.isdigit() and int(minutes) <= 24 * 60:
                    data["duration_minutes"] = int(minutes)
                else:
                    errors["duration_minutes"] = "Enter whole minutes (up to a day)."
        if kind == "meeting":
            data["starts_at"] = when("starts_at")
            data["ends_at"] = when("ends_at")
            data["location"] = str(form.get("location") or "").strip()[:300] or None
            data["attendee_contact_ids"] = [int(c.value) for c in self.attendees]
            data["attendee_user_ids"] = [
                int(c.value) for c in self.colleagues if form.get(f"user:{c.value}")
            ]
            if data["starts_at"] is None and "starts_at" not in errors:
                errors["starts_at"] = "A meeting needs a start."
        if kind == "task":
            data["due_at"] = when("due_at")
            data["priority"] = str(form.get("priority") or "normal")
            owner = str(form.get("owner_id") or "")
            data["owner_id"] = int(owner) if owner.isdigit() else actor.id
        if kind in ("meeting", "task"):
            reminder = str(form.get("reminder") or "none")
            at = data.get("starts_at") if kind == "meeting" else data.get("due_at")
            if reminder != "none" and reminder.isdigit():
                if at is None:
                    errors["reminder"] = "A reminder needs a time to count back from."
                else:
                    data["reminder_at"] = at - timedelta(minutes=int(reminder))
        if not data["subject"] and kind in ("meeting", "task"):
            errors["subject"] = f"Give the {kind} a subject."
        if not data["subject"] and not data["body"] and kind in ("note", "email"):
            errors["body"] = "Write something first."
        if errors:
            problems = [FieldError(name, message) for name, message in errors.items()]
            raise ValidationFailed("Check the highlighted fields.", problems)
        return data

    @rx.event
    def log_activity(self, form: dict):
        """Save the composed activity; it shows at the top of the timeline."""
        self.compose_errors = {}
        try:
            with self._actor_session() as (session, actor):
                data = self._compose_data(form, actor)
                activity.create_activity(session, actor=actor, data=data)
                self._reload_timeline(session, actor)
                self._load_related(session, actor)
        except ValidationFailed as error:
            self.compose_errors = {
                ERROR_FIELDS.get(e.field, e.field): e.message for e in error.errors
            } or {"form": error.message}
            return None
        except DomainError as error:
            return error_event(error)
        label = next(c.label for c in KINDS if c.value == self.compose_kind)
        self.compose_key += 1
        self.attendees, self.attendee_options, self.attendee_query = [], [], ""
        return rx.toast.success(f"{label} saved.", duration=3000)
