"""`/activities/calendar`: a month or a week of tasks and meetings, moved to another day by
dragging them (or Alt+arrow keys). The days are the viewer's, in their time zone."""

from __future__ import annotations

import calendar as month_days
from datetime import date, timedelta
from typing import Any

import reflex as rx
from sqlmodel import Session

from crm_app.models import User
from crm_app.models.base import utcnow
from crm_app.services import activity, activity_list, user
from crm_app.state.base import AppState
from crm_app.state.views import Choice

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MOVABLE = {"task", "meeting"}


def grid_start(anchor: date, view: str) -> date:
    """The Monday the grid starts on: of the anchor's week, or of its month's first week."""
    first = anchor if view == "week" else anchor.replace(day=1)
    return first - timedelta(days=first.weekday())


def grid_days(anchor: date, view: str) -> list[date]:
    """The days a month (whole weeks around it) or a week view shows."""
    start = grid_start(anchor, view)
    if view == "week":
        return [start + timedelta(days=i) for i in range(7)]
    last = anchor.replace(day=month_days.monthrange(anchor.year, anchor.month)[1])
    weeks = ((last - start).days // 7) + 1
    return [start + timedelta(days=i) for i in range(weeks * 7)]


def day_cells(
    days: list[date], items: list[activity_list.CalendarItem], anchor: date, view: str, today: date
) -> list[dict[str, Any]]:
    """The grid for the calendar component: each day with its items, formatted."""
    by_day: dict[date, list[dict[str, Any]]] = {day: [] for day in days}
    for item in items:
        if item.day not in by_day:
            continue
        title = item.subject or item.kind.capitalize()
        if item.related_name:
            title = f"{title} · {item.related_name}"
        by_day[item.day].append(
            {
                "id": str(item.id),
                "kind": item.kind,
                "title": title,
                "time": f"{item.at:%H:%M}",
                "when": f"{item.at:%a %-d %b, %H:%M}",
                "href": item.link,
                "done": item.done_at is not None,
                # a meeting one attends is the organiser's to move
                "movable": item.kind in MOVABLE and not item.attending,
            }
        )
    return [
        {
            "date": day.isoformat(),
            "number": str(day.day),
            "label": f"{day:%A %-d %B %Y}",
            "inMonth": view == "week" or day.month == anchor.month,
            "today": day == today,
            "items": by_day[day],
        }
        for day in days
    ]


class CalendarState(AppState):
    """The calendar's view (month or week), the day it shows, whose, and its days."""

    view: str = "month"
    anchor: str = ""  # ISO day inside the shown month or week
    title: str = ""
    owner: str = ""
    owners: list[Choice] = []
    days: list[dict[str, Any]] = []
    version: int = 0  # bumped to undo a refused move

    @rx.event
    def load(self):
        """on_load: this month, the viewer's own."""
        self.view, self.anchor, self.owner = "month", "", ""
        return self._load_page(self._open)

    def _open(self, session: Session, actor: User) -> None:
        self.owners = [Choice(str(i), name) for i, name in user.colleagues(session)]
        self.owner = str(actor.id)
        self._fetch(session, actor)

    def _today(self, actor: User) -> date:
        return utcnow().astimezone(activity.zone_of(actor)).date()

    def _fetch(self, session: Session, actor: User) -> None:
        today = self._today(actor)
        try:
            anchor = date.fromisoformat(self.anchor) if self.anchor else today
        except ValueError:
            anchor = today
        self.anchor = anchor.isoformat()
        days = grid_days(anchor, self.view)
        items = activity_list.calendar(
            session,
            actor=actor,
            start=days[0],
            end=days[-1] + timedelta(days=1),
            owner_id=int(self.owner) if self.owner.isdigit() else None,
        )
        self.days = day_cells(days, items, anchor, self.view, today)
        if self.view == "week":
            self.title = f"Week of {days[0]:%-d %B %Y}"
        else:
            self.title = f"{anchor:%B %Y}"

    def _refresh(self, change: Any = None) -> Any:
        """Apply `change(session, actor)` (if any), then read the days again; a refused move
        puts the item back (`version`)."""
        refused = self._act_then(change, self._fetch)
        if refused is not None:
            self.version += 1
        return refused

    @rx.event
    def set_view(self, value: str | list[str]):
        """Month or week."""
        if value in ("month", "week"):
            self.view = str(value)
            return self._refresh()
        return None

    @rx.event
    def set_owner(self, value: str | list[str]):
        """Whose calendar (the service checks the viewer may read it)."""
        if isinstance(value, str) and value.isdigit() and len(value) < 11:
            self.owner = value
            return self._refresh()
        return None

    @rx.event
    def step(self, direction: int):
        """The previous (-1) or next (1) month or week."""
        try:
            current = date.fromisoformat(self.anchor)
            forward = int(direction) > 0
        except (TypeError, ValueError):
            return None
        if self.view == "week":
            current += timedelta(days=7 if forward else -7)
        else:
            month = current.month + (1 if forward else -1)
            year = current.year + (month - 1) // 12
            current = date(year, (month - 1) % 12 + 1, 1)
        self.anchor = current.isoformat()
        return self._refresh()

    @rx.event
    def go_today(self):
        """Back to the month or week of today."""
        self.anchor = ""
        return self._refresh()

    @rx.event
    def move(self, item_id: str, day: str):
        """A task or meeting dropped on another day: the same time of day, that day."""
        try:
            ident = int(str(item_id)[:20])
            target = date.fromisoformat(str(day)[:10])
        except ValueError:
            self.version += 1
            return None

        def change(session: Session, actor: User) -> None:
            activity.reschedule(session, actor=actor, activity_id=ident, day=target)

        return self._refresh(change)
