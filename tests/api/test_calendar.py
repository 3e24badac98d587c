"""Calendar files over HTTP: the private feed URL and a meeting's invitation download."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar

from crm_app.models import utcnow
from crm_app.routes import SESSION_COOKIE
from crm_app.services import auth, calendar_feed
from tests.factories import make_activity


def feed_path(token: str) -> str:
    return calendar_feed.feed_url(token).removeprefix("http://testserver")


def test_the_feed_url_answers_with_a_calendar_without_signing_in(client, db, people):
    make_activity(
        db, owner=people.bob, kind="meeting", subject="Demo", starts_at=utcnow() + timedelta(1)
    )
    token = calendar_feed.create_feed(db, actor=people.bob)
    response = client.get(feed_path(token))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    summaries = [str(e["SUMMARY"]) for e in Calendar.from_ical(response.content).walk("VEVENT")]
    assert summaries == ["Demo"]


def test_a_calendar_app_holding_the_current_etag_gets_304_until_something_changes(
    client, db, people
):
    meeting = make_activity(
        db, owner=people.bob, kind="meeting", subject="Demo", starts_at=utcnow() + timedelta(1)
    )
    path = feed_path(calendar_feed.create_feed(db, actor=people.bob))
    etag = client.get(path).headers["etag"]
    for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        unchanged = client.get(path, headers={"If-None-Match": sent})
        assert unchanged.status_code == 304
        assert unchanged.content == b""
        assert unchanged.headers["etag"] == etag
        assert unchanged.headers["cache-control"] == "no-store"
    meeting.subject = "Demo, moved"
    db.flush()
    changed = client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert b"SUMMARY:Demo\\, moved" in changed.content
    assert changed.headers["etag"] != etag
    meeting.deleted_at = utcnow()
    db.flush()
    emptied = client.get(path, headers={"If-None-Match": changed.headers["etag"]})
    assert emptied.status_code == 200
    assert b"BEGIN:VEVENT" not in emptied.content


def test_an_unknown_or_reset_feed_url_is_404(client, db, people):
    old = calendar_feed.create_feed(db, actor=people.bob)
    calendar_feed.create_feed(db, actor=people.bob)
    for token in (old, "not-a-token"):
        response = client.get(feed_path(token))
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert token not in response.text


def test_a_meeting_invite_downloads_with_an_api_key(client, db, people, key_for):
    meeting = make_activity(
        db, owner=people.bob, kind="meeting", subject="Kick-off", starts_at=utcnow()
    )
    response = client.get(calendar_feed.invite_path(meeting.id), headers=key_for(people.carol))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="meeting-{meeting.id}.ics"'
    )
    [event] = Calendar.from_ical(response.content).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Kick-off"


def test_a_signed_in_browser_downloads_the_invite_with_its_cookie(client, db, people):
    meeting = make_activity(db, owner=people.bob, kind="meeting", starts_at=utcnow())
    client.cookies.set(SESSION_COOKIE, auth.start_session(db, user=people.bob))
    assert client.get(calendar_feed.invite_path(meeting.id)).status_code == 200


def test_an_invite_needs_a_caller_and_a_live_meeting(client, db, people, key_for):
    meeting = make_activity(db, owner=people.bob, kind="meeting", starts_at=utcnow())
    task = make_activity(db, owner=people.bob, kind="task", due_at=utcnow())
    assert client.get(calendar_feed.invite_path(meeting.id)).status_code == 401
    headers = key_for(people.bob)
    for path in (
        f"/api/v1/activities/{task.id}/invite.ics",
        "/api/v1/activities/999999/invite.ics",
    ):
        assert client.get(path, headers=headers).status_code == 404
    assert client.get("/api/v1/activities/0/invite.ics", headers=headers).status_code == 422
