"""Reading activities: the API's list (filters, sorts, keyset pages), a user's work split by
when it is due in their time zone (`my_work`), and their calendar (`calendar`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select
from sqlmodel import Session

from crm_app.models import Account, Activity, ActivityKind, Contact, Deal, Lead, User
from crm_app.models.base import utcnow
from crm_app.services import reminder
from crm_app.services.activity import KINDS, RELATED, RESOURCE, zone_of
from crm_app.services.deal_fields import MAX_ID, parse_id
from crm_app.services.errors import FieldError, NotFound, ValidationFailed
from crm_app.services.listing import ListQuery, Page, SortColumn, fetch_page, parse_sort
from crm_app.services.permission import owner_clause, require


def day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


# ---- the list --------------------------------------------------------------------------------

PRIORITY_RANK = case({"low": 0, "normal": 1, "high": 2}, value=Activity.priority, else_=1)
SORTS = {
    "due_at": SortColumn("due_at", Activity.due_at),
    "starts_at": SortColumn("starts_at", Activity.starts_at),
    "done_at": SortColumn("done_at", Activity.done_at),
    "created_at": SortColumn("created_at", Activity.created_at, nullable=False),
    "updated_at": SortColumn("updated_at", Activity.updated_at, nullable=False),
    "kind": SortColumn("kind", Activity.kind, nullable=False),
    "priority": SortColumn("priority", PRIORITY_RANK, nullable=False),
    "subject": SortColumn("subject", Activity.subject, nullable=False),
}
ID = SortColumn("id", Activity.id, nullable=False)
DEFAULT_SORT = "-created_at"


def parse_kinds(value: str | Iterable[str]) -> list[str]:
    """Kinds from "call,task" or a list; ValueError naming the choices."""
    parts = value.split(",") if isinstance(value, str) else list(value)
    wanted = [str(getattr(k, "value", k)).strip() for k in parts if str(k).strip()]
    if not wanted or any(k not in KINDS for k in wanted):
        raise ValueError(f"Pick from: {', '.join(KINDS)}.")
    return list(dict.fromkeys(wanted))


def _aware(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() is None:
        raise ValueError("Use a date and time with its offset, like 2026-01-31T09:00:00+01:00.")
    return moment


def _yes(value: str) -> bool:
    answer = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
    if value.lower() not in answer:
        raise ValueError("Use true or false.")
    return answer[value.lower()]


def _filters(actor: User, filters: dict[str, str]) -> list[Any]:
    """SQL conditions for the list's filters; every bad name or value is reported at once."""

    def owner(value: str):
        if value == "none":
            return Activity.owner_id.is_(None)
        return Activity.owner_id == (actor.id if value == "me" else parse_id(value, "a user"))

    def related(field: str):
        what, largest = RELATED[field][2], RELATED[field][3]
        return lambda v: getattr(Activity, field) == parse_id(v, f"a {what}", largest)

    builders = {
        "kind": lambda v: Activity.kind.in_(parse_kinds(v)),
        "owner_id": owner,
        **{field: related(field) for field in RELATED},
        "due_from": lambda v: Activity.due_at >= _aware(v),
        "due_to": lambda v: Activity.due_at < _aware(v),
        "done": lambda v: Activity.done_at.is_not(None) if _yes(v) else Activity.done_at.is_(None),
    }
    clauses, errors = [], []
    for name, raw in filters.items():
        value = str(raw).strip()
        if value == "":
            continue
        try:
            if name not in builders:
                raise ValueError(f"Unknown filter. Use: {', '.join(sorted(builders))}.")
            clauses.append(builders[name](value))
        except ValueError as error:
            errors.append(FieldError(name, str(error)))
    if errors:
        raise ValidationFailed("Some filters are invalid.", errors)
    return clauses


def list_query(session: Session, actor: User, listq: ListQuery):
    """The SELECT of live activities the actor may read, narrowed by the filters and by the
    search (every word in the subject, any case); not sorted or paged."""
    require(session, actor, RESOURCE, "read")
    query = (
        select(Activity)
        .where(Activity.deleted_at.is_(None))
        .where(owner_clause(session, actor, RESOURCE, "read", Activity.owner_id))
        .where(*_filters(actor, listq.filters))
    )
    for word in listq.q.split():
        query = query.where(Activity.subject.icontains(word, autoescape=True))
    return query


def list_activities(session: Session, *, actor: User, listq: ListQuery) -> Page:
    """A page of live activities matching the filters, in the requested order (newest first
    by default). Filters (`listq.filters`): kind (comma-separated), owner_id (an id, `me` or
    `none`), contact_id, account_id, lead_id, deal_id, due_from and due_to (ISO times with an
    offset: from <= due_at < to), done (true/false).

    `Page.rows` holds Activity objects.
    """
    query = list_query(session, actor, listq)
    keys = parse_sort(listq.sort, SORTS, DEFAULT_SORT)
    page = fetch_page(session, query, keys=keys, id_column=ID, listq=listq)
    page.rows = [activity for (activity,) in page.rows]
    return page


# ---- my work and the calendar ------------------------------------------------------------------


@dataclass
class WorkRow:
    """An activity as "My work" and the calendar show it, with what it is about."""

    id: int
    kind: str
    subject: str
    due_at: datetime | None
    starts_at: datetime | None
    ends_at: datetime | None
    done_at: datetime | None
    priority: str
    owner_id: int | None
    owner: str
    related_kind: str | None  # deal, lead, contact or account (the most specific one)
    related_id: int | None
    related_name: str
    link: str  # the related record's page, else the activities page


@dataclass
class Bucket:
    """Some rows of one part of "My work" and how many there are in all."""

    rows: list[WorkRow]
    total: int


@dataclass
class MyWork:
    """A user's open work by when it is due, and what they did last."""

    day: date  # today, in the actor's time zone
    overdue: Bucket  # due before today, most overdue first
    today: Bucket
    upcoming: Bucket  # due after today, soonest first, then those with no due time
    done: Bucket  # most recently done first


@dataclass
class CalendarItem(WorkRow):
    """A task (at its due time) or a meeting (at its start) on a calendar."""

    day: date  # where a month or week grid places it: the local day of `at`
    at: datetime  # in the actor's time zone
    attending: bool  # a meeting of someone else's the user attends


def _person_name(model: Any, *fallbacks: Any) -> Any:
    full = func.nullif(func.trim(func.concat_ws(" ", model.first_name, model.last_name)), "")
    return func.coalesce(full, *fallbacks, func.concat("#", model.id))


def _name_of(model: Any, name: Any, link: Any) -> Any:
    # A scalar subquery per name rather than a join: each runs only for the rows of the page,
    # and five outer joins cost the planner more than the whole query then takes.
    return select(name).where(model.id == link).scalar_subquery()


_ROW_COLUMNS = (
    Activity.id,
    Activity.kind,
    Activity.subject,
    Activity.due_at,
    Activity.starts_at,
    Activity.ends_at,
    Activity.done_at,
    Activity.priority,
    Activity.owner_id,
    _name_of(User, User.name, Activity.owner_id),
    Activity.deal_id,
    _name_of(Deal, Deal.name, Activity.deal_id),
    Activity.lead_id,
    _name_of(Lead, _person_name(Lead, Lead.email, Lead.company_name), Activity.lead_id),
    Activity.contact_id,
    _name_of(Contact, _person_name(Contact, Contact.email), Activity.contact_id),
    Activity.account_id,
    _name_of(Account, Account.name, Activity.account_id),
)


def _rows(session: Session, where: Iterable[Any], order: list[Any], limit: int) -> list[WorkRow]:
    """Rows with their owner's and related record's names: one query, whatever their number."""
    query = select(*_ROW_COLUMNS).where(*where).order_by(*order, Activity.id).limit(limit)
    rows = []
    for row in session.execute(query):
        named = zip(RELATED, row[10::2], row[11::2], strict=True)
        field, related_id, name = next((r for r in named if r[1] is not None), (None, None, ""))
        rows.append(
            WorkRow(
                *row[:9],
                owner=row[9] or "",
                related_kind=field.removesuffix("_id") if field else None,
                related_id=related_id,
                related_name=name or "",
                link=reminder.activity_link(**({field: related_id} if field else {})),
            )
        )
    return rows


# When a task or a meeting is: its due time or its start.
WHEN = case((Activity.kind == ActivityKind.meeting, Activity.starts_at), else_=Activity.due_at)


def _readable_owner(session: Session, actor: User, owner_id: int | None) -> int:
    """Whose work to show: the actor's, or that of someone whose activities they may read."""
    require(session, actor, RESOURCE, "read")
    if owner_id is None or owner_id == actor.id:
        return actor.id
    owner = session.get(User, owner_id) if 0 < owner_id <= MAX_ID else None
    if owner is None:
        raise NotFound("No such user.")
    require(session, actor, RESOURCE, "read", SimpleNamespace(owner_id=owner.id, created_by=None))
    return owner.id


def my_work(
    session: Session,
    *,
    actor: User,
    owner_id: int | None = None,
    kinds: Iterable[str] | None = None,
    related: str | None = None,
    now: datetime | None = None,
    limit: int = 50,
) -> MyWork:
    """The open tasks (or `kinds`) of the owner (the actor unless given) split by their due
    day in the actor's time zone, and the latest done ones; `related` ("deal", "lead",
    "contact" or "account") keeps those about such a record. At most `limit` rows a part."""
    owner_id = _readable_owner(session, actor, owner_id)
    try:
        wanted = parse_kinds(kinds or [ActivityKind.task])
    except ValueError as error:
        raise ValidationFailed.for_field("kinds", str(error)) from None
    if related is not None and f"{related}_id" not in RELATED:
        raise ValidationFailed.for_field("related", "Pick deal, lead, contact or account.")
    limit = max(1, min(int(limit), 200))
    zone = zone_of(actor)
    today = (now or utcnow()).astimezone(zone).date()
    start, tomorrow = day_start(today, zone), day_start(today + timedelta(days=1), zone)
    mine = [Activity.owner_id == owner_id, Activity.deleted_at.is_(None), Activity.kind.in_(wanted)]
    if related is not None:
        mine.append(getattr(Activity, f"{related}_id").is_not(None))
    # Tasks alone compare due_at itself, which the open-tasks index (owner_id, due_at) serves.
    when = WHEN if set(wanted) - {ActivityKind.task} else Activity.due_at
    is_open, is_done = Activity.done_at.is_(None), Activity.done_at.is_not(None)
    parts = {
        "overdue": when < start,
        "today": and_(when >= start, when < tomorrow),
        "upcoming": or_(when >= tomorrow, when.is_(None)),
    }
    totals = session.execute(
        select(*[func.count().filter(c) for c in parts.values()]).where(*mine, is_open)
    ).one()
    done_total = session.execute(select(func.count()).where(*mine, is_done)).scalar_one()
    buckets = {
        name: Bucket(_rows(session, [*mine, is_open, c], [when.asc().nulls_last()], limit), total)
        for (name, c), total in zip(parts.items(), totals, strict=True)
    }
    done = _rows(session, [*mine, is_done], [Activity.done_at.desc()], limit)
    return MyWork(day=today, **buckets, done=Bucket(done, done_total))


CALENDAR_DAYS = 62  # a month grid with its leading and trailing weeks, and then some
CALENDAR_ROWS = 5000


def calendar(
    session: Session, *, actor: User, start: date, end: date, owner_id: int | None = None
) -> list[CalendarItem]:
    """The owner's (the actor unless given) tasks due and meetings starting on the days
    [start, end) of the actor's time zone, with the meetings of others they attend, in time
    order; done ones too. A meeting is placed on the day it starts."""
    owner_id = _readable_owner(session, actor, owner_id)
    if not start < end or (end - start).days > CALENDAR_DAYS:
        raise ValidationFailed.for_field(
            "end", f"Pick an end after the start, at most {CALENDAR_DAYS} days later."
        )
    zone = zone_of(actor)
    low, high = day_start(start, zone), day_start(end, zone)
    tasks = and_(
        Activity.kind == ActivityKind.task,
        Activity.owner_id == owner_id,
        Activity.due_at >= low,
        Activity.due_at < high,
    )
    meetings = and_(
        Activity.kind == ActivityKind.meeting,
        Activity.starts_at >= low,
        Activity.starts_at < high,
        or_(Activity.owner_id == owner_id, Activity.attendee_user_ids.contains([owner_id])),
    )
    where = [
        Activity.deleted_at.is_(None),
        or_(tasks, meetings),
        owner_clause(session, actor, RESOURCE, "read", Activity.owner_id),
    ]
    items = []
    for row in _rows(session, where, [WHEN], CALENDAR_ROWS):
        at = (row.starts_at if row.kind == ActivityKind.meeting else row.due_at).astimezone(zone)
        attending = row.owner_id != owner_id
        items.append(CalendarItem(**vars(row), day=at.date(), at=at, attending=attending))
    return items
