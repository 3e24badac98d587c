"""Activities: calls, e-mails, meetings, tasks and notes; a user's work (`my_work`) and their
calendar (`calendar`).

What each kind carries (`_rule_errors`):

- a call, an e-mail and a note happened: their `done_at` is now unless given; only a call has
  an `outcome` and a `duration_minutes`;
- a meeting needs `starts_at` (an `ends_at`, if given, not before it) and alone has a
  `location` and attendees (live contacts the actor may read, active users);
- a task alone has a `due_at` and a priority other than normal;
- tasks and meetings are open until ticked done (`complete_task`), and alone have reminders.

An edit is held to the rules it breaks: what a row already carried (rows loaded in bulk) does
not block changing something else.

A reminder (`reminder_at`) belongs to a task's due time or a meeting's start, at or before it.
Setting it arms it again (clears `reminder_sent_at`); moving the due time or the start moves the
reminder by as much, armed again if it is still to come; removing them removes it.

The body is HTML from a rich-text editor, sanitised on every save (`clean_body`). Every write of
an activity about a lead rescores that lead in the same transaction (scores count activities),
and an activity given to someone other than the actor tells them (a notification).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import nh3
from pydantic import ValidationError as PydanticError
from sqlalchemy import and_, case, func, or_, select
from sqlmodel import Session

from crm_app.models import (
    Account,
    Activity,
    ActivityCreate,
    ActivityKind,
    ActivityUpdate,
    Contact,
    Deal,
    Lead,
    Notification,
    Priority,
    User,
)
from crm_app.models.base import utcnow
from crm_app.services import crud, lead_scoring, reminder
from crm_app.services.deal_fields import MAX_BIG_ID, MAX_ID, parse_id
from crm_app.services.errors import FieldError, Forbidden, NotFound, ValidationFailed
from crm_app.services.listing import ListQuery, Page, SortColumn, fetch_page, parse_sort
from crm_app.services.permission import can, owner_clause, require

RESOURCE = "activity"
LABEL = "activity"
KINDS = [k.value for k in ActivityKind]
HAPPENED = frozenset({ActivityKind.call, ActivityKind.email, ActivityKind.note})
OPEN_KINDS = frozenset({ActivityKind.task, ActivityKind.meeting})  # to do until ticked done
KIND_LABELS = {
    "call": "call",
    "email": "e-mail",
    "meeting": "meeting",
    "task": "task",
    "note": "note",
}
EDITABLE = tuple(ActivityCreate.model_fields)
BODY_LIMIT = 100_000
NOTIFICATION_KIND = "assigned"

# Fields only some kinds carry: field -> (those kinds, what others are told).
ONLY: dict[str, tuple[frozenset[str], str]] = {
    "outcome": (frozenset({ActivityKind.call}), "Only calls have an outcome."),
    "duration_minutes": (frozenset({ActivityKind.call}), "Only calls have a duration."),
    "due_at": (frozenset({ActivityKind.task}), "Only tasks have a due time."),
    "starts_at": (frozenset({ActivityKind.meeting}), "Only meetings have a start time."),
    "ends_at": (frozenset({ActivityKind.meeting}), "Only meetings have an end time."),
    "location": (frozenset({ActivityKind.meeting}), "Only meetings have a location."),
    "attendee_contact_ids": (frozenset({ActivityKind.meeting}), "Only meetings have attendees."),
    "attendee_user_ids": (frozenset({ActivityKind.meeting}), "Only meetings have attendees."),
    "reminder_at": (OPEN_KINDS, "Only tasks and meetings have reminders."),
}
# What a reminder belongs to, per kind.
ANCHORS = {ActivityKind.task: ("due_at", "due time"), ActivityKind.meeting: ("starts_at", "start")}
# Related records, most specific first (the one a row names, as `reminder.activity_link`
# links to it): field -> (table, permission resource, label, largest id).
RELATED: dict[str, tuple[Any, str, str, int]] = {
    "deal_id": (Deal, "deal", "deal", MAX_ID),
    "lead_id": (Lead, "lead", "lead", MAX_ID),
    "contact_id": (Contact, "contact", "contact", MAX_BIG_ID),
    "account_id": (Account, "account", "company", MAX_ID),
}
NOT_NULL = {"subject": "", "body": "", "priority": Priority.normal.value}
TIMES = ("due_at", "done_at", "reminder_at", "starts_at", "ends_at")

_TEXT_TAGS = {"p", "br", "b", "strong", "i", "em", "u", "s", "blockquote", "code", "pre"}
_ALLOWED_TAGS = _TEXT_TAGS | {"ul", "ol", "li", "a", "h3", "h4"}
_LINK_SCHEMES = ("http://", "https://", "mailto:")


def _only_absolute_links(tag: str, attribute: str, value: str) -> str | None:
    # nh3 drops unknown schemes (javascript:) but keeps relative URLs; a note's link must
    # leave the app, so keep only absolute http(s) and mailto links.
    if attribute == "href" and not value.strip().lower().startswith(_LINK_SCHEMES):
        return None
    return value


_CLEANER = nh3.Cleaner(
    tags=_ALLOWED_TAGS,
    attributes={"a": {"href"}},
    url_schemes={"http", "https", "mailto"},
    link_rel="noopener",
    attribute_filter=_only_absolute_links,
)


def clean_body(html: str | None) -> str:
    """The body's HTML with only basic formatting and http(s)/mailto links kept; scripts,
    event handlers and styles go."""
    return _CLEANER.clean(html or "")


def zone_of(user: User) -> ZoneInfo:
    """The user's time zone (UTC when it is unset or unknown)."""
    return reminder.zone_of(user.timezone)


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


# ---- validation ------------------------------------------------------------------------------


def _message(error: dict[str, Any]) -> str:
    if error["type"] == "missing":
        return "This field is required."
    text = str(error["msg"]).removeprefix("Value error, ")
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _parsed(schema: Any, data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """The fields of `data` typed by `schema` (ActivityCreate or ActivityUpdate); all errors
    at once, each naming its field."""
    errors = [FieldError(k, "This field cannot be set.") for k in sorted(set(data) - {*EDITABLE})]
    try:
        typed = schema.model_validate({k: v for k, v in data.items() if k in EDITABLE})
    except PydanticError as error:
        # The schemas' one check across fields is a meeting ending before it starts.
        errors += [
            FieldError(str(e["loc"][0]) if e["loc"] else "ends_at", _message(e))
            for e in error.errors()
        ]
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", errors)
    return typed.model_dump(exclude_unset=partial)


def _normalised(values: dict[str, Any]) -> dict[str, Any]:
    out = {k: (NOT_NULL[k] if v is None and k in NOT_NULL else v) for k, v in values.items()}
    for key in ("kind", "priority"):
        if out.get(key) is not None:
            out[key] = str(getattr(out[key], "value", out[key]))
    if "subject" in out:
        out["subject"] = " ".join(out["subject"].split())
    if "body" in out:
        out["body"] = clean_body(out["body"])
    for key in TIMES:
        if out.get(key) is not None:
            out[key] = out[key].astimezone(UTC)
    for key in ("attendee_contact_ids", "attendee_user_ids"):
        if key in out:
            out[key] = list(dict.fromkeys(out[key] or []))
    return out


def _anchor(values: dict[str, Any]) -> datetime | None:
    """The time a reminder belongs to: a task's due time, a meeting's start."""
    field, _ = ANCHORS.get(values["kind"], (None, ""))
    return values[field] if field else None


def _rule_errors(v: dict[str, Any]) -> list[FieldError]:
    """What the kind of the activity does not allow (see the module docstring)."""
    kind = v["kind"]
    if kind is None:
        return [FieldError("kind", "Pick one of: " + ", ".join(KINDS) + ".")]
    errors = [
        FieldError(field, message)
        for field, (kinds, message) in ONLY.items()
        if v[field] not in (None, []) and kind not in kinds
    ]
    if v["priority"] != Priority.normal and kind != ActivityKind.task:
        errors.append(FieldError("priority", "Only tasks have a priority."))
    if kind in OPEN_KINDS and not v["subject"]:
        errors.append(FieldError("subject", "Enter a subject."))
    elif not v["subject"] and not v["body"]:
        errors.append(FieldError("subject", "Enter a subject or some notes."))
    if len(v["body"]) > BODY_LIMIT:
        errors.append(FieldError("body", f"Use at most {BODY_LIMIT} characters."))
    if kind == ActivityKind.meeting:
        if v["starts_at"] is None:
            errors.append(FieldError("starts_at", "A meeting needs a start time."))
        elif v["ends_at"] is not None and v["ends_at"] < v["starts_at"]:
            errors.append(FieldError("ends_at", "A meeting cannot end before it starts."))
    if v["reminder_at"] is not None and kind in ANCHORS:
        anchor, what = _anchor(v), ANCHORS[kind][1]
        if anchor is None:
            errors.append(FieldError("reminder_at", f"A reminder needs a {what}."))
        elif v["reminder_at"] > anchor:
            errors.append(FieldError("reminder_at", f"Remind at or before the {what}."))
    return errors


def _live(session: Session, model: Any, value: Any, largest: int) -> Any | None:
    try:
        record = session.get(model, parse_id(value, "an", largest))
    except ValueError:
        return None
    return record if record is not None and record.deleted_at is None else None


def _check(
    session: Session,
    actor: User,
    values: dict[str, Any],
    *,
    related: Iterable[str],
    contact_ids: list[int],
    user_ids: list[int],
    before: dict[str, Any] | None = None,
) -> None:
    """ValidationFailed for broken kind rules and references that name nothing live, then
    Forbidden for a record the actor may not read. An edit is held only to what it breaks:
    what was already amiss `before` (rows bulk-loaded or imported, records trashed since) does
    not block it, so only the `related` fields and the attendees given are looked up."""
    tolerated = {(e.field, e.message) for e in _rule_errors(before)} if before else set()
    errors = [e for e in _rule_errors(values) if (e.field, e.message) not in tolerated]
    unreadable: list[str] = []
    for field in related:
        model, resource, what, largest = RELATED[field]
        record = _live(session, model, values[field], largest)
        if record is None:
            errors.append(FieldError(field, f"Pick an existing {what}."))
        elif not can(session, actor, resource, "read", record):
            unreadable.append(what)
    if contact_ids:
        wanted = [i for i in contact_ids if 0 < i <= MAX_BIG_ID]
        found = session.execute(
            select(Contact).where(Contact.id.in_(wanted), Contact.deleted_at.is_(None))
        ).scalars()
        readable = {c.id: can(session, actor, "contact", "read", c) for c in found}
        if len(readable) < len(contact_ids):
            errors.append(FieldError("attendee_contact_ids", "Pick existing contacts."))
        elif not all(readable.values()):
            unreadable.append("contact")
    if user_ids:
        wanted = [i for i in user_ids if 0 < i <= MAX_ID]
        active = session.execute(
            select(func.count()).where(User.id.in_(wanted), User.is_active.is_(True))
        ).scalar_one()
        if active < len(user_ids):
            errors.append(FieldError("attendee_user_ids", "Pick active users."))
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", errors)
    if unreadable:
        raise Forbidden(f"You may not see this {unreadable[0]}.")


def _with_done_default(values: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Calls, e-mails and notes happened: done now unless said when."""
    if values["kind"] in HAPPENED and values["done_at"] is None:
        return {**values, "done_at": now}
    return values


def _settled_reminder(
    before: dict[str, Any], after: dict[str, Any], *, given: bool, now: datetime
) -> dict[str, Any]:
    """`reminder_at` and `reminder_sent_at` after a change from `before` to `after`."""
    if given:
        changed = after["reminder_at"] != before["reminder_at"]
        return {"reminder_sent_at": None} if changed else {}
    reminder_at = before["reminder_at"]
    old, new = _anchor(before), _anchor(after)
    if reminder_at is None or old == new:
        return {}
    if new is None:
        return {"reminder_at": None, "reminder_sent_at": None}
    if old is None:
        return {}
    moved = reminder_at + (new - old)
    # A reminder moved into the past is not sent again (or late) for the move.
    sent = None if moved > now else before["reminder_sent_at"]
    return {"reminder_at": moved, "reminder_sent_at": sent}


# ---- create, read, change --------------------------------------------------------------------


def create_activity(
    session: Session, *, actor: User, data: dict[str, Any], ip: str | None = None
) -> Activity:
    """Log or plan an activity, owned by the actor unless another owner is given (and
    allowed); see the module docstring for what each kind carries."""
    require(session, actor, RESOURCE, "create")
    values = _normalised(_parsed(ActivityCreate, {"owner_id": actor.id, **data}, partial=False))
    values = _with_done_default(values, utcnow())
    _check(
        session,
        actor,
        values,
        related=[f for f in RELATED if values[f] is not None],
        contact_ids=values["attendee_contact_ids"],
        user_ids=values["attendee_user_ids"],
    )
    crud.check_owner(session, actor, RESOURCE, values["owner_id"])
    activity = Activity(**values)
    crud.created(session, actor, activity, entity=RESOURCE, fields=values, ip=ip)
    _after_write(session, actor, activity, lead_ids={activity.lead_id}, assigned=True)
    return activity


def get_activity(session: Session, *, actor: User, activity_id: int) -> Activity:
    """A live activity the actor may read."""
    activity = crud.for_read(session, actor, Activity, activity_id, resource=RESOURCE, label=LABEL)
    require(session, actor, RESOURCE, "read", activity)
    return activity


def _for_change(session: Session, actor: User, activity_id: int, action: str = "update"):
    activity = crud.for_change(
        session, actor, Activity, activity_id, resource=RESOURCE, label=LABEL, action=action
    )
    require(session, actor, RESOURCE, "read", activity)
    return activity


def update_activity(
    session: Session,
    *,
    actor: User,
    activity_id: int,
    data: dict[str, Any],
    version: int | None = None,
    ip: str | None = None,
) -> Activity:
    """Change some fields; `version` guards against overwriting someone else's edit. Moving a
    due time or a start moves its reminder (see the module docstring)."""
    activity = _for_change(session, actor, activity_id)
    crud.check_version(activity, version)
    given = _normalised(_parsed(ActivityUpdate, data, partial=True))
    return _change(session, actor, activity, given, ip=ip)


def _change(
    session: Session, actor: User, activity: Activity, given: dict[str, Any], *, ip: str | None
) -> Activity:
    now = utcnow()
    before = {k: getattr(activity, k) for k in (*EDITABLE, "reminder_sent_at")}
    after = _with_done_default({**before, **given}, now)
    after |= _settled_reminder(before, after, given="reminder_at" in given, now=now)
    _check(
        session,
        actor,
        after,
        related=[f for f in RELATED if after[f] is not None and after[f] != before[f]],
        contact_ids=[
            i for i in after["attendee_contact_ids"] if i not in before["attendee_contact_ids"]
        ],
        user_ids=[i for i in after["attendee_user_ids"] if i not in before["attendee_user_ids"]],
        before=before,
    )
    reassigned = after["owner_id"] != before["owner_id"]
    if reassigned:
        crud.check_owner(session, actor, RESOURCE, after["owner_id"])
    changes = {k: v for k, v in after.items() if v != before[k]}
    if crud.apply_changes(session, actor, activity, changes, entity=RESOURCE, ip=ip):
        leads = {before["lead_id"], activity.lead_id}
        _after_write(session, actor, activity, lead_ids=leads, assigned=reassigned)
    return activity


def complete_task(
    session: Session,
    *,
    actor: User,
    activity_id: int,
    done: bool = True,
    ip: str | None = None,
) -> Activity:
    """Tick a task (or a meeting) done now, or open it again; ticking a done one keeps when
    it was done."""
    activity = _for_change(session, actor, activity_id)
    if activity.kind not in OPEN_KINDS:
        raise ValidationFailed.for_field(
            "done_at", "Calls, e-mails and notes are done when logged."
        )
    if done == (activity.done_at is not None):
        return activity
    return _change(session, actor, activity, {"done_at": utcnow() if done else None}, ip=ip)


def reschedule(
    session: Session, *, actor: User, activity_id: int, day: date, ip: str | None = None
) -> Activity:
    """Move a task's due time or a meeting (its end and reminder too) to `day`, at the same
    time of day on the actor's clock, across a daylight-saving change as well."""
    activity = _for_change(session, actor, activity_id)
    field, what = ANCHORS.get(activity.kind, (None, ""))
    if field is None:
        raise ValidationFailed.for_field("day", "Only tasks and meetings can be rescheduled.")
    current = getattr(activity, field)
    if current is None:
        raise ValidationFailed.for_field(field, f"Give it a {what} first.")
    zone = zone_of(actor)
    local = current.astimezone(zone)
    moved = datetime.combine(day, local.time(), tzinfo=zone).astimezone(UTC)
    given: dict[str, Any] = {field: moved}
    if field == "starts_at" and activity.ends_at is not None:
        given["ends_at"] = activity.ends_at + (moved - current)
    return _change(session, actor, activity, given, ip=ip)


def delete_activity(
    session: Session, *, actor: User, activity_id: int, ip: str | None = None
) -> None:
    """Move an activity to the trash."""
    activity = _for_change(session, actor, activity_id, action="delete")
    crud.trash(session, actor, activity, entity=RESOURCE, ip=ip)
    session.flush()
    _rescore(session, {activity.lead_id})


def restore_activity(
    session: Session, *, actor: User, activity_id: int, ip: str | None = None
) -> Activity:
    """Bring an activity back from the trash."""
    activity = crud.restore(
        session, actor, Activity, activity_id, resource=RESOURCE, label=LABEL, ip=ip
    )
    session.flush()
    _rescore(session, {activity.lead_id})
    return activity


def _rescore(session: Session, lead_ids: set[int | None]) -> None:
    for lead_id in sorted(i for i in lead_ids if i is not None):
        lead_scoring.rescore_lead(session, lead_id)


def _after_write(
    session: Session, actor: User, activity: Activity, *, lead_ids: set[int | None], assigned: bool
) -> None:
    _rescore(session, lead_ids)
    if assigned and activity.owner_id not in (None, actor.id):
        notify_owner(session, actor=actor, activity=activity)


def notify_owner(session: Session, *, actor: User, activity: Activity) -> Notification:
    """Tell the owner the actor gave them an activity ("Alex assigned you a task: Call back")."""
    label = KIND_LABELS[activity.kind]
    article = "an" if label[0] in "aeiou" else "a"
    title = f"{actor.name} assigned you {article} {label}"
    if activity.subject:
        title += f": {activity.subject}"
    notification = Notification(
        user_id=activity.owner_id,
        kind=NOTIFICATION_KIND,
        title=title[:200],
        link=reminder.activity_link(**{f: getattr(activity, f) for f in RELATED}),
    )
    session.add(notification)
    return notification


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
    start, tomorrow = _day_start(today, zone), _day_start(today + timedelta(days=1), zone)
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
    low, high = _day_start(start, zone), _day_start(end, zone)
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
