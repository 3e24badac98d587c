"""Reading activities: "My work" across time zones, the calendar, and the API's list."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event as sa_event

from crm_app.services import activity_list
from crm_app.services.errors import ValidationFailed
from crm_app.services.listing import ListQuery
from tests.factories import make_activity, make_contact, make_deal, make_lead
from tests.services.test_activity import errors_of, new, task, utc

# ---- my work ----------------------------------------------------------------------------------

NOW = utc(2026, 11, 25, 20)  # 09:00 on the 26th in Auckland (UTC+13), noon on the 25th in LA


@pytest.fixture
def week(db, people):
    """Bob's tasks around NOW, by subject, plus work that is not his open tasks."""
    made = {
        "D": task(db, people.bob, "D", due_at=utc(2026, 11, 24, 12)),
        "A": task(db, people.bob, "A", due_at=utc(2026, 11, 25, 10, 30)),
        "C": task(db, people.bob, "C", due_at=utc(2026, 11, 26, 7, 30)),
        "B": task(db, people.bob, "B", due_at=utc(2026, 11, 26, 10, 30)),
        "E": task(db, people.bob, "E"),
        "F": task(db, people.bob, "F", done_at=utc(2026, 11, 20, 9)),
        "G": task(db, people.bob, "G", done_at=utc(2026, 11, 22, 9)),
    }
    new(db, people.bob, kind="call", subject="logged call")
    task(db, people.carol, "Carol's", due_at=utc(2026, 11, 25, 10, 30))
    return made


def subjects(bucket) -> list[str]:
    return [row.subject for row in bucket.rows]


def test_my_work_splits_open_tasks_by_the_day_in_auckland(db, people, week):
    people.bob.timezone = "Pacific/Auckland"
    work = activity_list.my_work(db, actor=people.bob, now=NOW)
    assert work.day == date(2026, 11, 26)
    # A is due at 23:30 on the 25th there: yesterday. B at 23:30 on the 26th: today.
    assert subjects(work.overdue) == ["D", "A"]
    assert subjects(work.today) == ["C", "B"]
    assert subjects(work.upcoming) == ["E"]
    assert subjects(work.done) == ["G", "F"]
    assert [b.total for b in (work.overdue, work.today, work.upcoming, work.done)] == [2, 2, 1, 2]


def test_my_work_splits_the_same_tasks_otherwise_in_los_angeles(db, people, week):
    people.bob.timezone = "America/Los_Angeles"
    work = activity_list.my_work(db, actor=people.bob, now=NOW)
    assert work.day == date(2026, 11, 25)
    # C is due at 23:30 on the 25th there: still today. B at 02:30 on the 26th: tomorrow.
    assert subjects(work.overdue) == ["D"]
    assert subjects(work.today) == ["A", "C"]
    assert subjects(work.upcoming) == ["B", "E"]


def test_a_manager_sees_a_reps_work_in_the_managers_own_time_zone(db, people, week):
    people.mona.timezone = "America/Los_Angeles"
    people.bob.timezone = "Pacific/Auckland"
    work = activity_list.my_work(db, actor=people.mona, owner_id=people.bob.id, now=NOW)
    assert subjects(work.today) == ["A", "C"]


def test_my_work_keeps_limit_rows_per_part_with_the_total(db, people, week):
    people.bob.timezone = "Pacific/Auckland"
    work = activity_list.my_work(db, actor=people.bob, now=NOW, limit=1)
    assert [len(b.rows) for b in (work.overdue, work.done)] == [1, 1]
    assert (work.overdue.total, work.done.total) == (2, 2)


def test_my_work_rows_name_the_owner_and_the_most_specific_related_record(db, people):
    deal = make_deal(db, owner=people.bob, name="Acme renewal")
    lead = make_lead(db, owner=people.bob, first_name="Ada", last_name="Lovelace")
    contact = make_contact(db, owner=people.bob, first_name="", last_name="", email="x@acme.com")
    task(db, people.bob, "deal", deal_id=deal.id, contact_id=contact.id)
    task(db, people.bob, "lead", lead_id=lead.id)
    task(db, people.bob, "contact", contact_id=contact.id)
    work = activity_list.my_work(db, actor=people.bob, now=NOW)
    rows = {row.subject: row for row in work.upcoming.rows}
    assert {s: (r.related_kind, r.related_name, r.link) for s, r in rows.items()} == {
        "deal": ("deal", "Acme renewal", f"/deals/{deal.id}"),
        "lead": ("lead", "Ada Lovelace", f"/leads/{lead.id}"),
        "contact": ("contact", "x@acme.com", f"/contacts/{contact.id}"),
    }
    assert rows["deal"].owner == "Bob Rep" and rows["deal"].priority == "normal"
    only_deals = activity_list.my_work(db, actor=people.bob, now=NOW, related="deal")
    assert subjects(only_deals.upcoming) == ["deal"]


def test_my_work_reads_a_fixed_number_of_statements_however_many_rows(db, people, engine):
    def statements() -> int:
        seen: list[int] = []

        def count(*_args):
            seen.append(1)

        db.flush()  # what the set-up left pending is not my_work's to write
        sa_event.listen(engine, "before_cursor_execute", count)
        try:
            activity_list.my_work(db, actor=people.bob, now=NOW)
        finally:
            sa_event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    task(db, people.bob, due_at=NOW, deal_id=make_deal(db, owner=people.bob).id)
    few = statements()
    for _ in range(30):
        contact = make_contact(db, owner=people.bob)
        task(db, people.bob, due_at=NOW - timedelta(days=3), contact_id=contact.id)
    # the permission table, the open and done totals, one query per part
    assert statements() == few <= 7


def test_my_work_can_include_meetings_by_their_start(db, people):
    new(db, people.bob, kind="meeting", subject="Demo", starts_at=utc(2026, 11, 25, 22))
    task(db, people.bob, "Prep", due_at=utc(2026, 11, 25, 21))
    work = activity_list.my_work(db, actor=people.bob, kinds=["task", "meeting"], now=NOW)
    assert subjects(work.today) == ["Prep", "Demo"]
    assert subjects(activity_list.my_work(db, actor=people.bob, now=NOW).today) == ["Prep"]


# ---- the calendar -----------------------------------------------------------------------------


def test_the_calendar_places_tasks_and_meetings_on_local_days_with_those_attended(db, people):
    people.bob.timezone = "Pacific/Auckland"
    task(db, people.bob, "Early", due_at=utc(2026, 10, 31, 12))  # 1 Nov, 01:00 NZDT
    task(db, people.bob, "Late", due_at=utc(2026, 11, 30, 11, 30))  # 1 Dec, 00:30: outside
    task(db, people.bob, "Done", due_at=utc(2026, 11, 10, 1), done_at=utc(2026, 11, 10, 2))
    new(db, people.bob, kind="meeting", subject="Own", starts_at=utc(2026, 11, 15, 23))
    new(
        db,
        people.mona,
        kind="meeting",
        subject="Mona's",
        starts_at=utc(2026, 11, 20, 0),
        attendee_user_ids=[people.bob.id],
    )
    new(db, people.mona, kind="meeting", subject="Not invited", starts_at=utc(2026, 11, 20, 1))
    task(db, people.carol, "Carol's", due_at=utc(2026, 11, 10, 1))
    items = activity_list.calendar(
        db, actor=people.bob, start=date(2026, 11, 1), end=date(2026, 12, 1)
    )
    assert [(i.subject, i.day, i.at.hour, i.attending) for i in items] == [
        ("Early", date(2026, 11, 1), 1, False),
        ("Done", date(2026, 11, 10), 14, False),
        ("Own", date(2026, 11, 16), 12, False),
        ("Mona's", date(2026, 11, 20), 13, True),
    ]
    assert items[1].done_at is not None


def test_the_calendar_refuses_an_empty_or_too_long_range(db, people):
    with pytest.raises(ValidationFailed):
        activity_list.calendar(db, actor=people.bob, start=date(2026, 11, 2), end=date(2026, 11, 1))
    with pytest.raises(ValidationFailed):
        activity_list.calendar(db, actor=people.bob, start=date(2026, 1, 1), end=date(2026, 12, 1))


# ---- the list ---------------------------------------------------------------------------------


def ids(page) -> list[int]:
    return [a.id for a in page.rows]


def test_the_list_filters_by_kind_owner_record_due_range_and_done(db, people):
    lead = make_lead(db, owner=people.bob)
    early = task(db, people.bob, due_at=utc(2030, 1, 1, 9), lead_id=lead.id)
    late = task(db, people.bob, due_at=utc(2030, 2, 1, 9))
    call = new(db, people.bob, kind="call", subject="Intro", lead_id=lead.id)
    carols = task(db, people.carol, due_at=utc(2030, 1, 1, 9))

    def listed(**filters) -> set[int]:
        listq = ListQuery(filters={k: str(v) for k, v in filters.items()})
        return set(ids(activity_list.list_activities(db, actor=people.bob, listq=listq)))

    everyone = {early.id, late.id, call.id, carols.id}
    assert listed() >= everyone
    assert listed(kind="call,task") & everyone == everyone
    assert listed(kind="call") & everyone == {call.id}
    assert listed(owner_id="me") & everyone == {early.id, late.id, call.id}
    assert listed(lead_id=lead.id) == {early.id, call.id}
    assert listed(due_from="2030-01-01T00:00:00+00:00", due_to="2030-01-02T00:00:00Z") == {
        early.id,
        carols.id,
    }
    assert listed(done="true") & everyone == {call.id}
    assert listed(done="false", owner_id=people.carol.id) == {carols.id}


def test_bad_filters_and_sorts_are_reported_by_name(db, people):
    listq = ListQuery(filters={"kind": "visit", "due_from": "2030-01-01", "colour": "red"})
    with pytest.raises(ValidationFailed) as caught:
        activity_list.list_activities(db, actor=people.bob, listq=listq)
    assert set(errors_of(caught)) == {"kind", "due_from", "colour"}
    with pytest.raises(ValidationFailed):
        activity_list.list_activities(db, actor=people.bob, listq=ListQuery(sort="body"))


def test_keyset_pages_by_due_time_visit_every_activity_once(db, people):
    made = {task(db, people.bob, due_at=utc(2030, 1, 1 + i % 3, 9)).id for i in range(7)}
    made.add(task(db, people.bob).id)  # no due time: last
    seen, cursor = [], None
    while True:
        listq = ListQuery(filters={"owner_id": "me"}, sort="due_at", limit=3, cursor=cursor)
        page = activity_list.list_activities(db, actor=people.bob, listq=listq)
        seen += ids(page)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) and set(seen) == made
    assert seen[-1] == max(made)


def test_the_list_sorts_by_priority_high_first(db, people):
    low = task(db, people.bob, priority="low")
    high = task(db, people.bob, priority="high")
    normal = task(db, people.bob)
    listq = ListQuery(filters={"owner_id": "me"}, sort="-priority")
    assert ids(activity_list.list_activities(db, actor=people.bob, listq=listq)) == [
        high.id,
        normal.id,
        low.id,
    ]


def test_factory_activities_show_in_the_list(db, people):
    made = make_activity(db, owner=people.bob, kind="note", subject="Imported")
    listq = ListQuery(filters={"kind": "note", "owner_id": "me"})
    assert ids(activity_list.list_activities(db, actor=people.bob, listq=listq)) == [made.id]
