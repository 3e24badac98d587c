"""Calendar feeds: a private iCalendar URL per user, and a meeting's invitation as a file.

The feed URL carries a secret token; only its SHA-256 is stored (User.calendar_token_hash), as
for API keys. Calendar apps fetch it without signing in, so the token is the only check.

Google Calendar ignores VTODO, so tasks are VEVENTs too: all-day when due at midnight in the
user's time zone (a due date without a time), else a short event at the due time. Every time
is written in UTC; a task does not block its owner's free/busy time.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vDuration
from sqlalchemy import DateTime, Result, case, func, select, type_coerce, union_all
from sqlmodel import Session

from crm_app import routes
from crm_app.auth.tokens import hash_token, new_token
from crm_app.models import Activity, ActivityKind, Contact, User
from crm_app.models.base import utcnow
from crm_app.services import audit, crud
from crm_app.services.errors import NotFound
from crm_app.services.permission import can, require
from crm_app.services.reminder import activity_link, zone_of
from crm_app.settings import get_settings

FEED_PATH = f"{routes.API_PREFIX}/calendar/{{token}}.ics"
INVITE_PATH = f"{routes.API_PREFIX}/activities/{{activity_id}}/invite.ics"
PRODID = "-//CRM//Activities//EN"
WINDOW_BEFORE = timedelta(days=90)
WINDOW_AFTER = timedelta(days=365)
REFRESH = timedelta(hours=1)  # a hint: Google refreshes when it likes (about twice a day)
TASK_LENGTH = timedelta(minutes=15)
ONE_DAY = timedelta(days=1)
MEETING_LENGTH = timedelta(minutes=30)  # when a meeting has neither an end nor a duration
FETCH_ROWS = 500  # of the feed's rows at a time
BODY_CHARS = 4000  # of a description's HTML, read from the database
DESCRIPTION_CHARS = 1000  # of its text, in the calendar
TOKEN_MAX = 100  # longer tokens are not ours: refused before hashing

_BREAKS = re.compile(r"<br\s*/?>|</(?:p|div|li|h[1-6]|tr|blockquote|pre)>", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]*>")
_BLANK_LINES = re.compile(r"\n{3,}")


def feed_url(token: str) -> str:
    """The full URL a calendar app subscribes to."""
    return get_settings().base_url + FEED_PATH.format(token=token)


def invite_path(activity_id: int) -> str:
    """Where the browser downloads a meeting's invitation."""
    return INVITE_PATH.format(activity_id=int(activity_id))


def create_feed(session: Session, *, actor: User) -> str:
    """A new secret feed token for the actor, replacing (and so revoking) any earlier one.
    Returned once: only its hash is kept."""
    require(session, actor, "activity", "read")
    token = new_token(32)
    replaced = actor.calendar_token_hash is not None
    actor.calendar_token_hash = hash_token(token)
    session.add(actor)
    audit.record(
        session,
        actor=actor,
        action="calendar_feed_reset" if replaced else "calendar_feed_create",
        entity="user",
        entity_id=actor.id,
    )
    session.flush()
    return token


def revoke_feed(session: Session, *, actor: User) -> None:
    """Turn the actor's feed off: its URL answers 404 from now on."""
    if actor.calendar_token_hash is None:
        return
    actor.calendar_token_hash = None
    session.add(actor)
    audit.record(
        session, actor=actor, action="calendar_feed_revoke", entity="user", entity_id=actor.id
    )
    session.flush()


def has_feed(session: Session, *, actor: User) -> bool:
    """Whether the actor has a live feed URL."""
    return actor.calendar_token_hash is not None


# ---- the feed ---------------------------------------------------------------------------------


def _feed_owner(session: Session, token: str) -> User:
    if not token or len(token) > TOKEN_MAX:
        raise NotFound("No such calendar.")
    user = session.execute(
        select(User).where(
            User.calendar_token_hash == hash_token(token),
            User.is_active.is_(True),
            User.deleted_at.is_(None),
        )
    ).scalar_one_or_none()
    if user is None or not can(session, user, "activity", "read"):
        raise NotFound("No such calendar.")
    return user


# Rows loaded in bulk may give a meeting a due time rather than a start.
MEETING_START = func.coalesce(Activity.starts_at, Activity.due_at)


def _utc_text(moment: Any) -> Any:
    """A timestamp as iCalendar's UTC text, formatted by the database (faster than Python)."""
    return func.to_char(func.timezone("UTC", moment), 'YYYYMMDD"T"HH24MISS"Z"')


def _meeting_end() -> Any:
    """A meeting's end: its own unless before its start, else its duration or half an hour."""
    return case(
        (Activity.ends_at >= MEETING_START, Activity.ends_at),
        (
            Activity.duration_minutes > 0,
            MEETING_START + Activity.duration_minutes * timedelta(minutes=1),
        ),
        else_=MEETING_START + MEETING_LENGTH,
    )


def _event_columns(kind: ActivityKind) -> tuple[Any, ...]:
    """What `_vevent` reads of an activity of `kind`: `at` (its due time or start) orders the
    feed and places an all-day task; `start` and `end` are already iCalendar text."""
    if kind == ActivityKind.meeting:
        at, end = MEETING_START, _meeting_end()
    else:
        at, end = Activity.due_at, Activity.due_at + TASK_LENGTH
    return (
        Activity.id,
        Activity.kind,
        Activity.subject,
        func.left(Activity.body, BODY_CHARS).label("body"),
        Activity.location,
        Activity.deal_id,
        Activity.lead_id,
        Activity.contact_id,
        Activity.account_id,
        _utc_text(Activity.created_at).label("created"),
        _utc_text(Activity.updated_at).label("changed"),
        func.greatest(Activity.version - 1, 0).label("sequence"),
        # aware as the driver returns it: UTCDateTime's conversion of each row is not needed
        type_coerce(at, DateTime(timezone=True)).label("at"),
        _utc_text(at).label("start"),
        _utc_text(end).label("end"),
    )


def _feed_rows(session: Session, user: User, now: datetime) -> Result[Any]:
    """The user's open tasks and the meetings they own or attend, in the window around `now`,
    in time order, fetched a few hundred at a time: holding thousands of rows at once set off
    the garbage collector's full passes (some 60 ms each in a process the size of the app's)."""
    start, end = now - WINDOW_BEFORE, now + WINDOW_AFTER
    live, meeting_at = Activity.deleted_at.is_(None), MEETING_START
    # each part reads an index of its own: ix_activities_open_owner_due_kind,
    # ix_activities_meeting_owner_start and ix_activities_meeting_guests
    tasks = select(*_event_columns(ActivityKind.task)).where(
        Activity.owner_id == user.id,
        Activity.done_at.is_(None),
        live,
        Activity.kind == ActivityKind.task,
        Activity.due_at >= start,
        Activity.due_at < end,
    )
    meetings = select(*_event_columns(ActivityKind.meeting)).where(
        Activity.kind == ActivityKind.meeting, live, meeting_at >= start, meeting_at < end
    )
    owned = meetings.where(Activity.owner_id == user.id)
    # the meetings of others the user attends, so that none is listed twice
    guests = func.array_remove(
        Activity.attendee_user_ids, Activity.owner_id, type_=Activity.attendee_user_ids.type
    )
    feed = union_all(tasks, owned, meetings.where(guests.contains([user.id])))
    ordered = feed.order_by(feed.selected_columns.at, feed.selected_columns.id)
    return session.execute(ordered).yield_per(FETCH_ROWS)


def feed_for_token(session: Session, token: str, *, now: datetime | None = None) -> bytes:
    """The iCalendar feed behind a feed token, with what falls in the window around `now` (the
    current time unless given); NotFound for an unknown or revoked token or an inactive user."""
    user = _feed_owner(session, token)
    calendar = _calendar(method="PUBLISH")
    calendar.add("x-wr-calname", f"CRM — {user.name}")
    calendar.add("x-wr-caldesc", "Your tasks and meetings in the CRM")
    calendar.add("x-wr-timezone", user.timezone or "UTC")
    calendar.add("refresh-interval", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    zone, base = zone_of(user.timezone), get_settings().base_url
    rows = _feed_rows(session, user, now or utcnow())
    return _with_events(calendar, "".join([_vevent(row, zone=zone, base=base) for row in rows]))


# ---- a meeting's invitation ------------------------------------------------------------------


def meeting_invite(session: Session, *, actor: User, activity_id: int) -> bytes:
    """One meeting as an .ics file for a calendar app: its owner organises, its attendee
    contacts and users with an e-mail are invited."""
    meeting = crud.for_read(
        session, actor, Activity, activity_id, resource="activity", label="activity"
    )
    if meeting.kind != ActivityKind.meeting or not (meeting.starts_at or meeting.due_at):
        raise NotFound("Only a meeting with a start time has an invitation.")
    owner = session.get(User, meeting.owner_id) if meeting.owner_id else None
    row = session.execute(
        select(*_event_columns(ActivityKind.meeting)).where(Activity.id == meeting.id)
    ).one()
    event = Event.from_ical(
        _vevent(row, zone=zone_of(actor.timezone), base=get_settings().base_url)
    )
    organizer = owner if owner is not None and owner.email else None
    guests = _attendees(session, meeting) if organizer else []
    if organizer:
        event.add("organizer", _address(organizer.email, organizer.name))
    for email, name in guests:
        event.add(
            "attendee",
            _address(email, name),
            parameters={"ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION", "RSVP": "TRUE"},
        )
    # iTIP: a REQUEST invites attendees; a PUBLISH (no one to invite) lists none.
    calendar = _calendar(method="REQUEST" if guests else "PUBLISH")
    calendar.add_component(event)
    return calendar.to_ical()


def _attendees(session: Session, meeting: Activity) -> list[tuple[str, str]]:
    """(e-mail, name) of the meeting's attendee contacts and users that have an e-mail."""
    found: list[tuple[str, str]] = []
    if meeting.attendee_contact_ids:
        contacts = session.execute(
            select(Contact.email, Contact.first_name, Contact.last_name)
            .where(
                Contact.id.in_(meeting.attendee_contact_ids),
                Contact.deleted_at.is_(None),
                Contact.email.is_not(None),
                Contact.email != "",
            )
            .order_by(Contact.last_name, Contact.first_name, Contact.id)
        )
        found += [(c.email, f"{c.first_name} {c.last_name}".strip()) for c in contacts]
    if meeting.attendee_user_ids:
        users = session.execute(
            select(User.email, User.name)
            .where(User.id.in_(meeting.attendee_user_ids), User.id != meeting.owner_id)
            .order_by(User.name, User.id)
        )
        found += [(u.email, u.name) for u in users if u.email]
    return found


# ---- building blocks ---------------------------------------------------------------------------


def _calendar(*, method: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    return calendar


@lru_cache
def _uid_host() -> str:
    return urlsplit(get_settings().base_url).hostname or "crm"


def _address(email: str, name: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    if name:
        address.params["CN"] = name
    return address


def _with_events(calendar: Calendar, events: str) -> bytes:
    """The calendar with `events` (VEVENT text) as its components."""
    shell, tail = calendar.to_ical(), b"END:VCALENDAR\r\n"
    return shell.removesuffix(tail) + events.encode() + tail


def _vevent(row: Any, *, zone: ZoneInfo, base: str) -> str:
    """One activity (a row of `_event_columns`) as VEVENT text.

    Written by hand rather than with icalendar's Event, which took ten times as long for a
    feed of thousands; the times come formatted from the database, and the row is unpacked
    once (reading a row's fields by name costs more than all the rest). The tests parse it
    back."""
    activity_id, kind, subject, body, location, deal_id, lead_id, contact_id, account_id = row[:9]
    created, changed, sequence, at, start, end = row[9:]
    link = base + activity_link(
        deal_id=deal_id, lead_id=lead_id, contact_id=contact_id, account_id=account_id
    )
    if kind == ActivityKind.meeting:
        summary = subject or "Meeting"
        when = f"DTSTART:{start}\r\nDTEND:{end}\r\nSTATUS:CONFIRMED\r\n"
    else:
        summary = f"Task: {subject}" if subject else "Task"
        when = _task_span(at, start, end, zone) + "TRANSP:TRANSPARENT\r\n"  # not busy
    text = _short(plain_text(body), DESCRIPTION_CHARS) if body else ""
    # the lines of fixed width are short enough to need no folding
    return "".join(
        (
            "BEGIN:VEVENT\r\n",
            _fold(f"UID:activity-{activity_id}@{_uid_host()}"),
            f"DTSTAMP:{changed}\r\nCREATED:{created}\r\nLAST-MODIFIED:{changed}\r\n",
            f"SEQUENCE:{sequence}\r\n",
            _fold(f"SUMMARY:{_text(summary)}"),
            when,
            _fold(f"LOCATION:{_text(location)}") if location else "",
            _fold("DESCRIPTION:" + _text(f"{text}\n\n{link}" if text else link)),
            _fold(f"URL:{link}"),
            "END:VEVENT\r\n",
        )
    )


def _task_span(due: datetime, start: str, end: str, zone: ZoneInfo) -> str:
    """A task's DTSTART and DTEND: the whole day when due at midnight in the user's time zone
    (a due date without a time), else `start` and `end` (its due time and a quarter after)."""
    local = due.astimezone(zone)
    if not (local.hour or local.minute or local.second):
        day = local.date()
        return f"DTSTART;VALUE=DATE:{day:%Y%m%d}\r\nDTEND;VALUE=DATE:{day + ONE_DAY:%Y%m%d}\r\n"
    return f"DTSTART:{start}\r\nDTEND:{end}\r\n"


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_ESCAPED = re.compile(r"[\\;,\x00-\x08\x0a-\x1f\x7f]")  # what `_text` changes


def _text(value: str) -> str:
    """A TEXT value escaped (RFC 5545 3.3.11); control characters other than tabs dropped."""
    if not _ESCAPED.search(value):
        return value  # most subjects, and every link
    value = _CONTROL.sub("", value.replace("\r\n", "\n"))
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str, limit: int = 75) -> str:
    """A content line folded into pieces of at most 75 octets, then CRLF (RFC 5545 3.1). An
    escape is not split across pieces: some calendar apps misread it."""
    if len(line) <= limit and (line.isascii() or len(line.encode()) <= limit):
        return line + "\r\n"  # most lines
    if line.isascii():
        return _fold_ascii(line, limit)
    pieces: list[str] = []
    piece: list[str] = []
    size = 0
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            carry = [piece.pop()] if piece[-1] == "\\" else []
            pieces.append("".join(piece))
            piece, size, limit = carry, len(carry), 74  # a continuation starts with a space
        piece.append(char)
        size += width
    pieces.append("".join(piece))
    return "\r\n ".join(pieces) + "\r\n"


def _fold_ascii(line: str, limit: int) -> str:
    """`_fold` for a line of one-octet characters: slices rather than a loop over each one."""
    pieces, start = [], 0
    while start < len(line):
        end = start + limit
        if end < len(line) and line[end - 1] == "\\":
            end -= 1
        pieces.append(line[start:end])
        start, limit = end, 74
    return "\r\n ".join(pieces) + "\r\n"


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def plain_text(body_html: str) -> str:
    """An activity's HTML body (sanitised when saved) as plain text, a line per paragraph."""
    if not body_html:
        return ""
    text = html.unescape(_TAGS.sub("", _BREAKS.sub("\n", body_html)))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
