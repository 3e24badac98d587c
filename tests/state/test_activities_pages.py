"""`/activities` (My work) and `/activities/calendar`, driven through their handlers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from crm_app import routes
from crm_app.models import Activity
from crm_app.models.base import utcnow
from crm_app.state.activity_calendar import CalendarState, grid_days
from crm_app.state.my_work import MyWorkState
from tests.factories import make_activity, make_contact
from tests.state.test_record_pages import state_of


def opened(cls, db, actor, url):
    page = state_of(cls, db, actor, url)
    with page._actor_session() as (session, user):
        page._show_user(session, user)
        page._open(session, user)
    return page


def task(db, owner, subject, due, **fields):
    return make_activity(db, owner=owner, kind="task", subject=subject, due_at=due, **fields)


def test_my_work_splits_open_tasks_by_day_and_ticks_them_off(db, people):
    now = utcnow()
    ada = make_contact(db, owner=people.bob, first_name="Ada", last_name="Byron")
    late = task(db, people.bob, "Late", now - timedelta(days=3), contact_id=ada.id)
    task(db, people.bob, "Later", now + timedelta(days=3), priority="high")
    task(db, people.carol, "Not mine", now - timedelta(days=3))
    page = opened(MyWorkState, db, people.bob, routes.ACTIVITIES)
    assert [v.title for v in page.overdue] == ["Late"]
    assert page.overdue[0].related == "Ada Byron"
    assert page.overdue[0].href == routes.contact_detail(ada.id)
    assert [(v.title, v.priority) for v in page.upcoming] == [("Later", "High")]
    assert page.totals == {"overdue": 1, "today": 0, "upcoming": 1, "done": 0}
    page.tick(late.id, True)
    assert db.get(Activity, late.id).done_at is not None
    assert page.overdue == [] and [v.title for v in page.done] == ["Late"]
    page.tick(late.id, False)
    assert [v.title for v in page.overdue] == ["Late"]


def test_rescheduling_keeps_the_time_of_day_in_my_zone(db, people):
    people.bob.timezone = "America/Los_Angeles"
    due = datetime(2026, 12, 1, 17, 30, tzinfo=UTC)  # 09:30 in Los Angeles
    moved = task(db, people.bob, "Call back", due)
    page = opened(MyWorkState, db, people.bob, routes.ACTIVITIES)
    page.move_to(moved.id, "2026-12-04")
    assert db.get(Activity, moved.id).due_at == datetime(2026, 12, 4, 17, 30, tzinfo=UTC)
    page.move_to(moved.id, "not a day")
    assert db.get(Activity, moved.id).due_at == datetime(2026, 12, 4, 17, 30, tzinfo=UTC)


def test_filters_show_meetings_and_another_owner_within_what_may_be_read(db, people):
    now = utcnow()
    make_activity(
        db, owner=people.carol, kind="meeting", subject="Demo", starts_at=now + timedelta(days=2)
    )
    page = opened(MyWorkState, db, people.mona, routes.ACTIVITIES)
    page.set_owner(str(people.carol.id))
    assert page.upcoming == []  # tasks only
    page.set_kinds("meeting")
    assert [v.title for v in page.upcoming] == ["Demo"]
    page.set_kinds("everything")  # not an option: ignored
    assert page.kinds == "meeting"


def test_someone_elses_task_cannot_be_ticked_by_calling_the_handler(db, people):
    theirs = task(db, people.dave, "Dave's", utcnow())
    page = opened(MyWorkState, db, people.bob, routes.ACTIVITIES)
    page.tick(theirs.id, True)
    assert db.get(Activity, theirs.id).done_at is None


def test_a_month_grid_is_whole_weeks_from_monday():
    days = grid_days(date(2026, 12, 15), "month")
    assert days[0] == date(2026, 11, 30) and days[-1] == date(2027, 1, 3)
    assert len(days) == 35
    week = grid_days(date(2026, 12, 17), "week")
    assert week[0] == date(2026, 12, 14) and len(week) == 7


def test_the_calendar_places_items_and_moves_one_to_another_day(db, people):
    anchor = utcnow().date().replace(day=10)
    at = datetime.combine(anchor, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
    item = task(db, people.bob, "Send quote", at)
    page = opened(CalendarState, db, people.bob, routes.ACTIVITY_CALENDAR)
    cell = next(d for d in page.days if d["date"] == anchor.isoformat())
    assert [(i["title"], i["time"], i["movable"]) for i in cell["items"]] == [
        ("Send quote", "09:00", True)
    ]
    target = anchor + timedelta(days=5)
    page.move(str(item.id), target.isoformat())
    assert db.get(Activity, item.id).due_at == at + timedelta(days=5)
    moved_to = next(d for d in page.days if d["date"] == target.isoformat())
    assert [i["title"] for i in moved_to["items"]] == ["Send quote"]


def test_a_refused_calendar_move_puts_the_item_back(db, people):
    anchor = utcnow().date().replace(day=10)
    at = datetime.combine(anchor, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
    theirs = task(db, people.dave, "Dave's", at)
    page = opened(CalendarState, db, people.bob, routes.ACTIVITY_CALENDAR)
    page.set_owner(str(people.dave.id))
    version = page.version
    page.move(str(theirs.id), (anchor + timedelta(days=1)).isoformat())
    assert page.version == version + 1
    assert db.get(Activity, theirs.id).due_at == at


def test_the_calendar_steps_by_month_and_week(db, people):
    page = opened(CalendarState, db, people.bob, routes.ACTIVITY_CALENDAR)
    page.anchor = "2026-01-15"
    page.step(-1)
    assert page.anchor == "2025-12-01" and page.title == "December 2025"
    page.set_view("week")
    page.step(1)
    assert page.anchor == "2025-12-08" and page.title == "Week of 8 December 2025"
    assert len(page.days) == 7
