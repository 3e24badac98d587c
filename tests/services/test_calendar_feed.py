"""Calendar feeds: a secret URL per user with their tasks and meetings; meeting invitations."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlmodel import select

from crm_app.auth.tokens import hash_token
from crm_app.models import Activity, AuditEvent, utcnow
from crm_app.services import calendar_feed as feeds
from crm_app.services.errors import Forbidden, NotFound
from tests.factories import make_activity, make_contact, make_user


def soon(days: int = 1, hour: int = 14, minute: int = 30) -> datetime:
    """A moment `days` from today, at a fixed UTC time."""
    today = utcnow().date() + timedelta(days=days)
    return datetime(today.year, today.month, today.day, hour, minute, tzinfo=UTC)


def events_of(ics: bytes) -> dict[str, object]:
    """The feed's events by summary (parsing it back checks it is valid iCalendar)."""
    calendar = Calendar.from_ical(ics)
    return {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}


def feed_of(db, user) -> dict[str, object]:
    return events_of(feeds.feed_for_token(db, feeds.create_feed(db, actor=user)))


def test_only_the_hash_of_the_token_is_kept(db, people):
    token = feeds.create_feed(db, actor=people.bob)
    assert len(token) >= 40
    assert people.bob.calendar_token_hash == hash_token(token)
    assert feeds.has_feed(db, actor=people.bob)
    assert feeds.feed_url(token) == f"http://testserver/api/v1/calendar/{token}.ics"
    actions = db.exec(select(AuditEvent.action).where(AuditEvent.entity_id == people.bob.id))
    assert "calendar_feed_create" in actions.all()


def test_the_feed_names_the_calendar_and_asks_to_be_refreshed(db, people):
    calendar = Calendar.from_ical(feeds.feed_for_token(db, feeds.create_feed(db, actor=people.bob)))
    assert str(calendar["X-WR-CALNAME"]) == "CRM — Bob Rep"
    assert calendar["REFRESH-INTERVAL"].dt == timedelta(hours=1)
    assert calendar["X-PUBLISHED-TTL"] is not None
    assert str(calendar["METHOD"]) == "PUBLISH"


def test_a_meeting_is_an_event_in_utc_with_its_place_and_plain_text_description(db, people):
    contact = make_contact(db, owner=people.bob, first_name="Ada")
    meeting = make_activity(
        db,
        owner=people.bob,
        kind="meeting",
        subject="Demo, part 2; final",
        body="<p>Bring the <b>deck</b> &amp; the contract.</p><p>Room 4</p>",
        starts_at=soon(hour=9),
        ends_at=soon(hour=10, minute=15),
        location="HQ, 2nd floor",
        contact_id=contact.id,
    )
    event = feed_of(db, people.bob)["Demo, part 2; final"]
    assert str(event["UID"]) == f"activity-{meeting.id}@testserver"
    assert event["DTSTART"].dt == soon(hour=9)
    assert event["DTEND"].dt == soon(hour=10, minute=15)
    assert event["DTSTART"].dt.tzinfo is not None and event["DTSTART"].dt.utcoffset() == timedelta(
        0
    )
    assert str(event["LOCATION"]) == "HQ, 2nd floor"
    assert str(event["DESCRIPTION"]) == (
        f"Bring the deck & the contract.\nRoom 4\n\nhttp://testserver/contacts/{contact.id}"
    )
    assert event["DTSTAMP"] is not None and event["LAST-MODIFIED"] is not None


def test_a_meeting_without_an_end_lasts_its_duration_or_half_an_hour(db, people):
    make_activity(db, owner=people.bob, kind="meeting", subject="Call", starts_at=soon(hour=9))
    make_activity(
        db,
        owner=people.bob,
        kind="meeting",
        subject="Long",
        starts_at=soon(hour=9),
        duration_minutes=90,
    )
    events = feed_of(db, people.bob)
    assert events["Call"]["DTEND"].dt - events["Call"]["DTSTART"].dt == timedelta(minutes=30)
    assert events["Long"]["DTEND"].dt - events["Long"]["DTSTART"].dt == timedelta(minutes=90)


def test_a_task_is_a_short_event_at_its_due_time_or_all_day_when_due_at_midnight(db, people):
    people.bob.timezone = "Europe/Berlin"
    day = utcnow().date() + timedelta(days=3)
    midnight = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo("Europe/Berlin"))
    make_activity(db, owner=people.bob, kind="task", subject="Send quote", due_at=soon(hour=13))
    make_activity(db, owner=people.bob, kind="task", subject="Renewal", due_at=midnight)
    events = feed_of(db, people.bob)
    quote = events["Task: Send quote"]
    assert quote["DTSTART"].dt == soon(hour=13)
    assert quote["DTEND"].dt - quote["DTSTART"].dt == timedelta(minutes=15)
    assert str(quote["TRANSP"]) == "TRANSPARENT"
    renewal = events["Task: Renewal"]
    assert (renewal["DTSTART"].dt, renewal["DTEND"].dt) == (day, day + timedelta(days=1))
    assert type(renewal["DTSTART"].dt) is date  # all day


def test_the_feed_holds_ones_own_tasks_and_the_meetings_one_owns_or_attends(db, people):
    make_activity(db, owner=people.bob, kind="task", subject="Mine", due_at=soon())
    make_activity(db, owner=people.carol, kind="task", subject="Carols", due_at=soon())
    make_activity(db, owner=people.carol, kind="meeting", subject="Hers", starts_at=soon())
    make_activity(
        db,
        owner=people.carol,
        kind="meeting",
        subject="Invited",
        starts_at=soon(),
        attendee_user_ids=[people.dave.id, people.bob.id],
    )
    make_activity(db, owner=people.bob, kind="call", subject="A call", due_at=soon())
    assert set(feed_of(db, people.bob)) == {"Task: Mine", "Invited"}


def test_a_meeting_one_owns_and_attends_is_listed_once_and_an_ownerless_one_attended_too(
    db, people
):
    make_activity(
        db,
        owner=people.bob,
        kind="meeting",
        subject="Own",
        starts_at=soon(),
        attendee_user_ids=[people.bob.id, people.carol.id],
    )
    orphan = make_activity(
        db,
        owner=people.carol,
        kind="meeting",
        subject="Orphan",
        starts_at=soon(),
        attendee_user_ids=[people.bob.id],
    )
    orphan.owner_id = None  # its owner's account was deleted
    db.flush()
    ics = feeds.feed_for_token(db, feeds.create_feed(db, actor=people.bob))
    assert ics.count(b"SUMMARY:Own\r\n") == 1
    assert set(events_of(ics)) == {"Own", "Orphan"}


def test_a_meeting_loaded_with_a_due_time_only_starts_then_and_a_bad_end_is_ignored(db, people):
    make_activity(db, owner=people.bob, kind="meeting", subject="Imported", due_at=soon(hour=8))
    make_activity(
        db,
        owner=people.bob,
        kind="meeting",
        subject="Backwards",
        starts_at=soon(hour=9),
        ends_at=soon(hour=8),
        duration_minutes=45,
    )
    events = feed_of(db, people.bob)
    imported, backwards = events["Imported"], events["Backwards"]
    assert imported["DTSTART"].dt == soon(hour=8)
    assert imported["DTEND"].dt - imported["DTSTART"].dt == timedelta(minutes=30)
    assert backwards["DTEND"].dt - backwards["DTSTART"].dt == timedelta(minutes=45)


def test_the_window_is_around_the_moment_asked_for(db, people):
    make_activity(db, owner=people.bob, kind="task", subject="Now", due_at=soon())
    make_activity(db, owner=people.bob, kind="meeting", subject="Later", starts_at=soon(days=400))
    token = feeds.create_feed(db, actor=people.bob)
    assert set(events_of(feeds.feed_for_token(db, token))) == {"Task: Now"}
    in_a_year = utcnow() + timedelta(days=365)
    assert set(events_of(feeds.feed_for_token(db, token, now=in_a_year))) == {"Later"}


def test_deleted_done_undated_and_far_off_activities_are_left_out(db, people):
    make_activity(db, owner=people.bob, kind="task", subject="Kept", due_at=soon(days=-80))
    make_activity(
        db, owner=people.bob, kind="task", subject="Gone", due_at=soon(), deleted_at=utcnow()
    )
    make_activity(
        db, owner=people.bob, kind="task", subject="Done", due_at=soon(), done_at=utcnow()
    )
    make_activity(db, owner=people.bob, kind="task", subject="Someday")
    make_activity(db, owner=people.bob, kind="task", subject="Old", due_at=soon(days=-100))
    make_activity(db, owner=people.bob, kind="meeting", subject="Far", starts_at=soon(days=400))
    make_activity(
        db,
        owner=people.bob,
        kind="meeting",
        subject="Cancelled",
        starts_at=soon(),
        deleted_at=utcnow(),
    )
    assert set(feed_of(db, people.bob)) == {"Task: Kept"}


def test_resetting_the_url_stops_the_old_one(db, people):
    old = feeds.create_feed(db, actor=people.bob)
    new = feeds.create_feed(db, actor=people.bob)
    assert new != old
    with pytest.raises(NotFound):
        feeds.feed_for_token(db, old)
    assert feeds.feed_for_token(db, new).startswith(b"BEGIN:VCALENDAR")


def test_turning_the_feed_off_makes_its_url_unknown(db, people):
    token = feeds.create_feed(db, actor=people.bob)
    feeds.revoke_feed(db, actor=people.bob)
    assert not feeds.has_feed(db, actor=people.bob)
    with pytest.raises(NotFound):
        feeds.feed_for_token(db, token)
    feeds.revoke_feed(db, actor=people.bob)  # already off: nothing happens


def test_an_unknown_token_or_an_inactive_users_feed_is_not_found(db, people):
    token = feeds.create_feed(db, actor=people.dave)
    for bad in ("", "nope", "x" * 5000):
        with pytest.raises(NotFound):
            feeds.feed_for_token(db, bad)
    people.dave.is_active = False
    db.flush()
    with pytest.raises(NotFound):
        feeds.feed_for_token(db, token)


def test_long_and_unusual_text_is_escaped_and_folded(db, people):
    subject = "Ünïcödé, \\ backslash; " + "long " * 40
    make_activity(db, owner=people.bob, kind="task", subject=subject.strip(), due_at=soon())
    ics = feeds.feed_for_token(db, feeds.create_feed(db, actor=people.bob))
    assert all(len(line) <= 75 for line in ics.split(b"\r\n"))
    assert f"Task: {subject.strip()}" in events_of(ics)


def test_a_feed_of_thousands_of_items_is_quick(db, people):
    now = utcnow()
    db.add_all(
        Activity(
            owner_id=people.bob.id,
            kind="task" if i % 2 else "meeting",
            subject=f"Item {i}",
            body="<p>Call back about the <b>renewal</b>.</p>",
            due_at=now + timedelta(hours=i),
            starts_at=now + timedelta(hours=i),
            location="Room 1" if i % 2 else None,
        )
        for i in range(3000)
    )
    db.flush()
    token = feeds.create_feed(db, actor=people.bob)
    feeds.feed_for_token(db, token)  # warm
    best = min(_timed(lambda: feeds.feed_for_token(db, token)) for _ in range(3))
    assert len(events_of(feeds.feed_for_token(db, token))) == 3000
    assert best < 0.25  # ~35 ms here; the margin is for a loaded test machine


def _timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


# ---- invitations ------------------------------------------------------------------------------


def test_a_meeting_invite_names_its_organiser_and_invites_its_attendees(db, people):
    ada = make_contact(
        db, owner=people.bob, first_name="Ada", last_name="Lovelace", email="ada@example.com"
    )
    no_mail = make_contact(db, owner=people.bob, first_name="Nomail")
    meeting = make_activity(
        db,
        owner=people.bob,
        kind="meeting",
        subject="Kick-off",
        starts_at=soon(),
        attendee_contact_ids=[ada.id, no_mail.id],
        attendee_user_ids=[people.carol.id],
    )
    calendar = Calendar.from_ical(
        feeds.meeting_invite(db, actor=people.vic, activity_id=meeting.id)
    )
    assert str(calendar["METHOD"]) == "REQUEST"
    [event] = calendar.walk("VEVENT")
    assert str(event["ORGANIZER"]) == "mailto:bob@example.com"
    assert event["ORGANIZER"].params["CN"] == "Bob Rep"
    attendees = {str(a): a.params["CN"] for a in event["ATTENDEE"]}
    assert attendees == {
        "mailto:ada@example.com": "Ada Lovelace",
        "mailto:carol@example.com": "Carol Rep",
    }
    assert event["DTSTART"].dt == soon()
    assert str(event["UID"]) == f"activity-{meeting.id}@testserver"


def test_a_meeting_without_attendees_is_published_not_requested(db, people):
    meeting = make_activity(db, owner=people.bob, kind="meeting", subject="Solo", starts_at=soon())
    calendar = Calendar.from_ical(
        feeds.meeting_invite(db, actor=people.bob, activity_id=meeting.id)
    )
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert "ATTENDEE" not in calendar.walk("VEVENT")[0]


def test_only_a_live_meeting_has_an_invite(db, people):
    task = make_activity(db, owner=people.bob, kind="task", subject="Task", due_at=soon())
    gone = make_activity(
        db, owner=people.bob, kind="meeting", starts_at=soon(), deleted_at=utcnow()
    )
    for activity_id in (task.id, gone.id, 10**9):
        with pytest.raises(NotFound):
            feeds.meeting_invite(db, actor=people.bob, activity_id=activity_id)


def test_someone_who_may_not_read_activities_gets_no_invite_and_no_feed(db, people):
    from crm_app.services import permission

    meeting = make_activity(db, owner=people.bob, kind="meeting", starts_at=soon())
    nobody = make_user(db, role="viewer")
    permission.set_scope(
        db, actor=people.alice, role="viewer", resource="activity", action="read", scope="none"
    )
    with pytest.raises(Forbidden):
        feeds.meeting_invite(db, actor=nobody, activity_id=meeting.id)
    with pytest.raises(Forbidden):
        feeds.create_feed(db, actor=nobody)
