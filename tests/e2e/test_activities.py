"""Activities as a rep works with them: log a call on a contact, add a task from the keyboard,
tick it off in My work, and move a meeting to another day in the calendar."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect
from sqlmodel import select

from crm_app.models import Activity, Contact, User
from crm_app.models.base import utcnow
from tests.e2e.conftest import sign_in
from tests.factories import make_activity, make_contact


def _bob(session) -> User:
    return session.exec(select(User).where(User.email == "bob@example.com")).one()


def _contact(app_server, **fields) -> Contact:
    with app_server.session() as session:
        contact = make_contact(session, owner=_bob(session), **fields)
        session.commit()
        return contact


def _activities(app_server, **where) -> list[Activity]:
    with app_server.session() as session:
        query = select(Activity).filter_by(**where).order_by(Activity.id)
        return list(session.exec(query).all())


def test_a_rep_logs_a_call_then_adds_a_task_from_the_keyboard_and_ticks_it_off(
    new_page, app_server
):
    ada = _contact(app_server, first_name="Ada", last_name="Keyboard")
    page = new_page()
    sign_in(page, app_server.rep_email)
    expect(page.get_by_role("heading", name="Welcome, Bob Rep")).to_be_visible()
    page.goto(f"/contacts/{ada.id}")
    composer = page.get_by_role("region", name="Log activity")
    timeline = page.get_by_role("region", name="Timeline")

    # A call with its outcome: it tops the timeline at once.
    composer.get_by_role("radio", name="Call").click()
    composer.get_by_label("Subject").fill("Renewal terms")
    composer.get_by_label("Outcome").click()
    page.get_by_role("option", name="Left voicemail").click()
    composer.get_by_label("Duration (minutes)").fill("4")
    composer.get_by_role("button", name="Log call").click()
    expect(timeline.get_by_text("Call: Renewal terms")).to_be_visible()
    expect(timeline.get_by_text("Outcome: Left voicemail")).to_be_visible()
    (call,) = _activities(app_server, contact_id=ada.id)
    assert (call.kind, call.outcome, call.duration_minutes) == ("call", "Left voicemail", 4)

    # A meeting offers its invitation for any calendar app.
    composer.get_by_role("radio", name="Meeting").click()
    composer.get_by_label("Subject").fill("Kick-off")
    composer.get_by_label("Starts").fill("2026-12-03T10:00")
    composer.get_by_role("button", name="Add meeting").click()
    expect(timeline.get_by_text("Meeting: Kick-off")).to_be_visible()
    with page.expect_download() as download:
        timeline.get_by_role("link", name="Invitation (.ics)").click()
    invitation = download.value.path().read_text(encoding="utf-8")
    assert "BEGIN:VEVENT" in invitation and "SUMMARY:Kick-off" in invitation

    # T (outside a text field) switches to a task and puts the cursor in its subject;
    # Ctrl+Enter saves it.
    page.get_by_role("heading", name="Timeline").click()
    page.keyboard.press("t")
    expect(composer.get_by_role("radio", name="Task")).to_be_checked()
    expect(composer.get_by_label("Subject")).to_be_focused()
    page.keyboard.type("Send the contract")
    due = (utcnow() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    composer.get_by_label("Due").fill(due)
    composer.get_by_label("Due").press("Control+Enter")
    expect(timeline.get_by_text("Task: Send the contract")).to_be_visible()
    expect(composer.get_by_label("Subject")).to_have_value("")

    # A task with a reminder at its due time, due this minute: the job engine reminds Bob
    # within seconds, and the bell shows it without a reload.
    page.keyboard.press("Escape")
    page.get_by_role("heading", name="Timeline").click()
    page.keyboard.press("t")
    expect(composer.get_by_label("Subject")).to_be_focused()
    page.keyboard.type("Ring Ada back")
    composer.get_by_label("Due").fill(utcnow().strftime("%Y-%m-%dT%H:%M"))
    composer.get_by_label("Reminder").click()
    page.get_by_role("option", name="At the time").click()
    composer.get_by_role("button", name="Add task").click()
    expect(timeline.get_by_text("Task: Ring Ada back")).to_be_visible()
    bell = page.get_by_role("button", name=re.compile(r"^Notifications, \d+ unread$"))
    expect(bell).to_be_visible(timeout=45_000)
    bell.click()
    reminder = page.get_by_role("button", name=re.compile(r"Reminder: Ring Ada back — due"))
    expect(reminder).to_be_visible()
    page.keyboard.press("Escape")

    # My work lists it; ticking it moves it to Done.
    page.get_by_role("link", name="Activities").first.click()
    expect(page).to_have_url(app_server.base_url + "/activities")
    done = page.get_by_role("region", name="Done")
    page.get_by_role("checkbox", name="Done: Send the contract").check()
    expect(done.get_by_role("link", name="Send the contract")).to_be_visible()
    (contract,) = _activities(app_server, contact_id=ada.id, subject="Send the contract")
    assert contract.done_at is not None


def test_a_meeting_dragged_to_another_day_keeps_its_time(new_page, app_server):
    today = utcnow().date()
    day = today.replace(day=min(today.day, 20))  # the next day is in the same month
    starts = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=15)
    with app_server.session() as session:
        meeting = make_activity(
            session,
            owner=_bob(session),
            kind="meeting",
            subject="Board demo",
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
        )
        session.commit()
    page = new_page()
    sign_in(page, app_server.rep_email)
    expect(page.get_by_role("heading", name="Welcome, Bob Rep")).to_be_visible()
    page.goto("/activities/calendar")
    target = day + timedelta(days=1)
    source_cell = page.locator(f'li[data-date="{day.isoformat()}"]')
    target_cell = page.locator(f'li[data-date="{target.isoformat()}"]')
    item = source_cell.get_by_role("link", name="Board demo")
    expect(item).to_be_visible()
    item.drag_to(target_cell)
    expect(target_cell.get_by_role("link", name="Board demo")).to_be_visible()

    def stored():
        (moved,) = _activities(app_server, id=meeting.id)
        return moved.starts_at, moved.ends_at

    expect(target_cell.get_by_role("link", name="Board demo")).to_be_visible()
    page.reload()
    expect(target_cell.get_by_role("link", name="Board demo")).to_be_visible()
    assert stored() == (starts + timedelta(days=1), starts + timedelta(days=1, hours=1))

    # and back from the keyboard: Alt+Left moves it a day earlier
    target_cell.get_by_role("link", name="Board demo").focus()
    page.keyboard.press("Alt+ArrowLeft")
    expect(source_cell.get_by_role("link", name="Board demo")).to_be_visible()
    page.reload()
    expect(source_cell.get_by_role("link", name="Board demo")).to_be_visible()
    assert stored() == (starts, starts + timedelta(hours=1))
