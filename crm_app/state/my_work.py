"""`/activities`: "My work": overdue, today's, upcoming and done tasks (or meetings), ticked
off and rescheduled in place. What is whose and what is due when are
`services.activity.my_work`'s answers, in the viewer's time zone."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import reflex as rx
from sqlmodel import Session

from crm_app.models import User
from crm_app.services import activity, activity_list, user
from crm_app.state.base import AppState
from crm_app.state.views import Choice

KIND_FILTERS = [
    Choice("task", "Tasks"),
    Choice("meeting", "Meetings"),
    Choice("task,meeting", "Tasks and meetings"),
]
RELATED_FILTERS = [
    Choice("any", "Any record"),
    Choice("deal", "Deals"),
    Choice("lead", "Leads"),
    Choice("contact", "Contacts"),
    Choice("account", "Companies"),
]
PAGE = 50
MOST = 200
PRIORITY_LABELS = {"high": "High", "low": "Low"}


@dataclasses.dataclass
class WorkView:
    """One task or meeting of My work, formatted for the viewer."""

    id: int
    kind: str
    title: str
    href: str
    related: str
    when: str  # "Tue 1 Dec, 09:30", or "" without a time
    day: str  # its local day for the date input ("2026-12-01"), or ""
    priority: str  # "High", "Low" or "" for normal
    owner: str
    done: bool


def _when(value: datetime | None, zone: ZoneInfo, today: date) -> tuple[str, str]:
    if value is None:
        return "", ""
    local = value.astimezone(zone)
    day = local.date()
    shape = "%a %-d %b" if day.year == today.year else "%a %-d %b %Y"
    label = "Today" if day == today else local.strftime(shape)
    return f"{label}, {local:%H:%M}", day.isoformat()


def work_views(rows: list[activity_list.WorkRow], zone: ZoneInfo, today: date) -> list[WorkView]:
    """Rows of a part of My work as the page lists them."""
    views = []
    for row in rows:
        when, day = _when(row.due_at or row.starts_at, zone, today)
        views.append(
            WorkView(
                id=row.id,
                kind=row.kind,
                title=row.subject or row.kind.capitalize(),
                href=row.link,
                related=row.related_name,
                when=when,
                day=day,
                priority=PRIORITY_LABELS.get(row.priority, ""),
                owner=row.owner,
                done=row.done_at is not None,
            )
        )
    return views


class MyWorkState(AppState):
    """The parts of My work, its filters, and the ticks and moves made on it."""

    kinds: str = "task"
    owner: str = ""  # a user id; "" for the viewer
    related_kind: str = "any"
    owners: list[Choice] = []
    limit: int = PAGE
    today_label: str = ""
    overdue: list[WorkView] = []
    today: list[WorkView] = []
    upcoming: list[WorkView] = []
    done: list[WorkView] = []
    totals: dict[str, int] = {}

    @rx.event
    def load(self):
        """on_load: the viewer's open tasks."""
        self.kinds, self.owner, self.related_kind, self.limit = "task", "", "any", PAGE
        return self._load_page(self._open)

    def _open(self, session: Session, actor: User) -> None:
        self.owners = [Choice(str(i), name) for i, name in user.colleagues(session)]
        self.owner = str(actor.id)
        self._fetch(session, actor)

    def _fetch(self, session: Session, actor: User) -> None:
        owner = int(self.owner) if self.owner.isdigit() else None
        work = activity_list.my_work(
            session,
            actor=actor,
            owner_id=owner,
            kinds=self.kinds.split(","),
            related=None if self.related_kind == "any" else self.related_kind,
            limit=self.limit,
        )
        zone = activity.zone_of(actor)
        self.today_label = work.day.strftime("%A %-d %B")
        parts = {"overdue": work.overdue, "today": work.today, "upcoming": work.upcoming}
        for name, bucket in {**parts, "done": work.done}.items():
            setattr(self, name, work_views(bucket.rows, zone, work.day))
        self.totals = {name: b.total for name, b in {**parts, "done": work.done}.items()}

    def _refresh(self, change: Any = None) -> Any:
        """Apply `change(session, actor)` (if any), then read My work again, in one go."""
        return self._act_then(change, self._fetch)

    # ---- filters ------------------------------------------------------------------------

    @rx.event
    def set_kinds(self, value: str | list[str]):
        """Tasks, meetings, or both."""
        if isinstance(value, str) and value in {c.value for c in KIND_FILTERS}:
            self.kinds, self.limit = str(value), PAGE
            return self._refresh()
        return None

    @rx.event
    def set_owner(self, value: str | list[str]):
        """Whose work (the service checks the viewer may read it)."""
        if isinstance(value, str) and value.isdigit() and len(value) < 11:
            self.owner, self.limit = value, PAGE
            return self._refresh()
        return None

    @rx.event
    def set_related(self, value: str | list[str]):
        """Only work about deals, leads, contacts or companies."""
        if isinstance(value, str) and value in {c.value for c in RELATED_FILTERS}:
            self.related_kind, self.limit = str(value), PAGE
            return self._refresh()
        return None

    @rx.event
    def show_more(self):
        """More rows in each part."""
        self.limit = min(self.limit + PAGE, MOST)
        return self._refresh()

    # ---- changes ------------------------------------------------------------------------

    @rx.event
    def tick(self, activity_id: int, done: bool):
        """Mark a task done, or open it again."""
        ident, finished = _id(activity_id), bool(done)
        if ident is None:
            return None

        def change(session: Session, actor: User) -> None:
            activity.complete_task(session, actor=actor, activity_id=ident, done=finished)

        return self._refresh(change)

    @rx.event
    def move_to(self, activity_id: int, day: str):
        """Reschedule to another day, at the same time of day."""
        ident = _id(activity_id)
        try:
            target = date.fromisoformat(str(day)[:10])
        except ValueError:
            return rx.toast.error("Pick a date.")
        if ident is None:
            return None

        def change(session: Session, actor: User) -> None:
            activity.reschedule(session, actor=actor, activity_id=ident, day=target)

        return self._refresh(change) or rx.toast.success(f"Moved to {target:%a %-d %b}.")


def _id(value: Any) -> int | None:
    try:
        ident = int(value)
    except (TypeError, ValueError):
        return None
    return ident if 0 < ident < 2**63 else None
