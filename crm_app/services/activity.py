"""Activities: calls, e-mails, meetings, tasks and notes, and the rules of each kind. A user's
work, their calendar and the API's list are `activity_list`'s.

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

The body is HTML, sanitised on every save (`rich_text.sanitize`). Every write of an activity
about a lead rescores that lead in the same transaction (scores count activities), and an
activity given to someone other than the actor tells them (a notification).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError as PydanticError
from sqlalchemy import func, select
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
from crm_app.services import crud, lead_scoring, reminder, rich_text
from crm_app.services.deal_fields import MAX_BIG_ID, MAX_ID, parse_id
from crm_app.services.errors import FieldError, Forbidden, ValidationFailed
from crm_app.services.permission import can, require

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


def zone_of(user: User) -> ZoneInfo:
    """The user's time zone (UTC when it is unset or unknown)."""
    return reminder.zone_of(user.timezone)


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
        out["body"] = rich_text.sanitize(out["body"])
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
