"""Settings -> Audit log: filtered, keyset-paged events, newest first."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import reflex as rx

from crm_app.services import audit, user
from crm_app.services.errors import DomainError, Forbidden
from crm_app.state.base import AppState, error_event

PAGE_SIZE = 50
ANY = "any"  # the "no filter" choice: a select item's value cannot be empty
FILTERS = ("user", "entity", "action", "date_from", "date_to")


def local_time(value: datetime | None, tz_name: str) -> str:
    """A moment in the user's time zone, naming the zone (e.g. "2025-03-01 14:05 CET")."""
    if value is None:
        return ""
    try:
        zone = ZoneInfo(tz_name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def change_lines(changes: dict[str, Any]) -> str:
    """Changed fields as "field: before → after" lines."""
    lines = []
    for name, pair in changes.items():
        if isinstance(pair, list | tuple) and len(pair) == 2:
            lines.append(f"{name}: {_shown(pair[0])} → {_shown(pair[1])}")
        else:
            lines.append(f"{name}: {_shown(pair)}")
    return "\n".join(lines)


def _parse_date(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


class AuditLogState(AppState):
    """One page of events, the filters, and the cursors of the pages before it."""

    events: list[dict[str, str]] = []
    user_options: list[dict[str, str]] = []
    entity_options: list[str] = []
    action_options: list[str] = []
    user_filter: str = ANY
    entity_filter: str = ANY
    action_filter: str = ANY
    date_from: str = ""
    date_to: str = ""
    date_error: str = ""
    has_older: bool = False
    page_number: int = 1
    # before_id of each page shown so far (None: the newest); the last one is on screen.
    _cursors: list[int | None] = [None]
    _next_before_id: int | None = None

    def _criteria(self) -> dict[str, Any]:
        """The filters as service arguments; ValueError names a bad date."""
        try:
            date_from, date_to = _parse_date(self.date_from), _parse_date(self.date_to)
        except ValueError:
            raise ValueError("Enter dates as YYYY-MM-DD.") from None
        if date_from and date_to and date_from > date_to:
            raise ValueError("The start date is after the end date.")
        return {
            "user_id": int(self.user_filter) if self.user_filter.isdigit() else None,
            "entity": None if self.entity_filter == ANY else self.entity_filter,
            "action": None if self.action_filter == ANY else self.action_filter,
            "date_from": date_from,
            "date_to": date_to,
        }

    def _fetch(self) -> rx.event.EventSpec | None:
        """Show the page that starts at the last cursor."""
        try:
            criteria = self._criteria()
        except ValueError as error:
            self.date_error, self.events, self.has_older = str(error), [], False
            return None
        self.date_error = ""
        try:
            with self._actor_session() as (session, actor):
                page = audit.list_events(
                    session, actor=actor, before_id=self._cursors[-1], limit=PAGE_SIZE, **criteria
                )
                tz = actor.timezone
        except DomainError as error:
            self.events = []
            return error_event(error)
        self.events = [
            {
                "id": str(row.id),
                "at": local_time(row.at, tz),
                "actor": row.actor,
                "action": row.action,
                "entity": row.entity + (f" #{row.entity_id}" if row.entity_id is not None else ""),
                "changes": change_lines(row.changes),
                "ip": row.ip or "",
            }
            for row in page.rows
        ]
        self._next_before_id = page.next_before_id
        self.has_older = page.next_before_id is not None
        self.page_number = len(self._cursors)
        return None

    def _load_choices(self, session, actor) -> None:
        if not self.can_read_audit:
            return
        self.entity_options, self.action_options = audit.filter_choices(session, actor=actor)
        try:
            people, _ = user.list_users(session, actor=actor, limit=200)
        except Forbidden:
            people = []  # may read the log but not the user list: filter by entity instead
        self.user_options = [{"id": str(p.id), "label": f"{p.name} ({p.email})"} for p in people]

    @rx.event
    def load(self):
        """on_load: newest events, no filters."""
        self.events, self.has_older = [], False
        problem = self._load_page(self._load_choices)
        if problem is not None or not self.can_read_audit:
            return problem
        self.user_filter = self.entity_filter = self.action_filter = ANY
        self.date_from = self.date_to = ""
        self._cursors = [None]
        return self._fetch()

    @rx.event
    def set_filter(self, name: str, value: str):
        """Change one filter and show the newest matching events."""
        name, value = str(name), str(value)[:50]
        if name not in FILTERS:
            return None
        setattr(self, name if name.startswith("date") else f"{name}_filter", value)
        self._cursors = [None]
        return self._fetch()

    @rx.event
    def clear_filters(self):
        """Show every event again."""
        self.user_filter = self.entity_filter = self.action_filter = ANY
        self.date_from = self.date_to = ""
        self._cursors = [None]
        return self._fetch()

    @rx.event
    def older(self):
        """The next page back in time."""
        if self._next_before_id is None:
            return None
        self._cursors = [*self._cursors, self._next_before_id]
        return self._fetch()

    @rx.event
    def newer(self):
        """The page before this one."""
        if len(self._cursors) > 1:
            self._cursors = self._cursors[:-1]
        return self._fetch()
