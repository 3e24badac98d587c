"""Reminders reach the bell without a reload; the calendar feed is set up on the profile page."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect
from sqlmodel import select, update

from crm_app.models import Activity, Notification, User, utcnow
from crm_app.services.reminder import fire_due_reminders
from tests.e2e.conftest import sign_in

DAVE = "dave@example.com"


def test_a_reminder_coming_due_shows_on_the_bell_without_a_reload(new_page, app_server):
    with app_server.session() as session:  # earlier tests may have told Dave things
        dave = session.exec(select(User).where(User.email == DAVE)).one()
        session.execute(
            update(Notification).where(Notification.user_id == dave.id).values(read_at=utcnow())
        )
        session.commit()
    page = new_page()
    sign_in(page, DAVE)
    # the first sign-in on a cold server can take several seconds on a busy machine
    expect(page.get_by_role("heading", name="Welcome, Dave Rep")).to_be_visible(timeout=20_000)
    expect(page.get_by_role("button", name="Notifications", exact=True)).to_be_visible()
    page.evaluate("window.notReloaded = true")
    with app_server.session() as session:
        dave = session.exec(select(User).where(User.email == DAVE)).one()
        session.add(
            Activity(
                kind="task",
                subject="Call Ada",
                owner_id=dave.id,
                created_by=dave.id,
                due_at=utcnow() + timedelta(minutes=30),
                reminder_at=utcnow() - timedelta(seconds=1),
            )
        )
        session.commit()
        fire_due_reminders(session)  # the server's worker may have been first: either way once
        session.commit()
    bell = page.get_by_role("button", name="Notifications, 1 unread")
    expect(bell).to_be_visible(timeout=30_000)
    assert page.evaluate("window.notReloaded") is True
    bell.click()
    expect(page.get_by_role("button", name=re.compile(r"Reminder: Call Ada — due"))).to_be_visible()


def test_the_calendar_feed_url_is_shown_once_reset_and_turned_off(new_page, app_server):
    page = new_page()
    sign_in(page, DAVE)
    expect(page.get_by_role("heading", name="Welcome, Dave Rep")).to_be_visible()
    page.goto("/settings/profile")
    page.get_by_role("button", name="Create feed URL").click()
    first = page.get_by_label("Link").input_value()
    assert re.fullmatch(r"http://.+/api/v1/calendar/[\w-]+\.ics", first)
    response = page.request.get(first)
    assert response.status == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.text().startswith("BEGIN:VCALENDAR")

    page.get_by_role("button", name="Reset URL").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Reset URL").click()
    expect(page.get_by_label("Link")).not_to_have_value(first)
    assert page.request.get(first).status == 404
    second = page.get_by_label("Link").input_value()
    assert page.request.get(second).status == 200

    page.reload()
    expect(page.get_by_text("Your feed is on.")).to_be_visible()
    expect(page.get_by_label("Link")).to_have_count(0)  # shown only once
    page.get_by_role("button", name="Turn off").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Turn off").click()
    expect(page.get_by_role("button", name="Create feed URL")).to_be_visible()
    assert page.request.get(second).status == 404
