"""Activities: what each kind carries, the sanitised body, references and permissions,
reminders, lead rescoring, assignment notifications, "My work" across time zones, rescheduling
across daylight-saving changes, the calendar and the list."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from crm_app.models import Notification, Permission, utcnow
from crm_app.services import activity as activities
from crm_app.services import activity_list
from crm_app.services.audit import list_events
from crm_app.services.errors import Forbidden, NotFound, StaleVersion, ValidationFailed
from crm_app.services.listing import ListQuery
from tests.factories import (
    make_activity,
    make_contact,
    make_deal,
    make_lead,
    make_scoring_rule,
    make_user,
)


def new(db, actor, **data):
    return activities.create_activity(db, actor=actor, data=data)


def task(db, actor, subject="Call back", **data):
    return new(db, actor, kind="task", subject=subject, **data)


def change(db, actor, activity, **data):
    return activities.update_activity(db, actor=actor, activity_id=activity.id, data=data)


def errors_of(caught) -> dict[str, str]:
    return {e.field: e.message for e in caught.value.errors}


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def narrow_reading(db, role: str, resource: str, scope: str) -> None:
    """Set a read scope the settings screen does not offer (reads are `all` or `none` there)."""
    row = db.exec(
        select(Permission).where(
            Permission.role == role, Permission.resource == resource, Permission.action == "read"
        )
    ).one()
    row.scope = scope
    db.add(row)
    db.flush()
    db.info.pop("crm_permissions", None)


def notifications_of(db, user) -> list[Notification]:
    return list(db.exec(select(Notification).where(Notification.user_id == user.id)).all())


# ---- what each kind carries -------------------------------------------------------------------


def test_a_logged_call_is_done_now_owned_by_its_creator_and_audited(db, people):
    before = utcnow()
    call = new(db, people.bob, kind="call", subject=" Intro   call ", outcome="Interested")
    assert call.done_at is not None and before <= call.done_at <= utcnow()
    assert (call.subject, call.owner_id, call.created_by) == (
        "Intro call",
        people.bob.id,
        people.bob.id,
    )
    event = list_events(db, actor=people.alice, entity="activity", entity_id=call.id).rows[0]
    assert event.action == "create" and event.changes["outcome"] == [None, "Interested"]


@pytest.mark.parametrize("kind", ["call", "email", "note"])
def test_things_that_happened_keep_the_done_time_given(db, people, kind):
    logged = new(db, people.bob, kind=kind, subject="Earlier", done_at=utc(2026, 1, 5, 9))
    assert logged.done_at == utc(2026, 1, 5, 9)


def test_a_task_stays_open_with_its_due_time_priority_and_reminder(db, people):
    todo = task(
        db, people.bob, due_at=utc(2030, 1, 2, 9), priority="high", reminder_at=utc(2030, 1, 2, 8)
    )
    assert todo.done_at is None
    assert (todo.due_at, todo.priority, todo.reminder_at) == (
        utc(2030, 1, 2, 9),
        "high",
        utc(2030, 1, 2, 8),
    )


def test_each_field_belongs_to_its_kinds_and_every_error_is_named(db, people):
    with pytest.raises(ValidationFailed) as caught:
        new(
            db,
            people.bob,
            kind="note",
            subject="Lunch",
            due_at=utc(2030, 1, 1, 9),
            outcome="Busy",
            location="Cafe",
            priority="high",
            attendee_user_ids=[people.carol.id],
        )
    assert errors_of(caught) == {
        "due_at": "Only tasks have a due time.",
        "outcome": "Only calls have an outcome.",
        "location": "Only meetings have a location.",
        "priority": "Only tasks have a priority.",
        "attendee_user_ids": "Only meetings have attendees.",
    }


def test_a_meeting_needs_a_start_and_cannot_end_before_it(db, people):
    with pytest.raises(ValidationFailed) as caught:
        new(db, people.bob, kind="meeting", subject="Demo")
    assert errors_of(caught) == {"starts_at": "A meeting needs a start time."}
    with pytest.raises(ValidationFailed) as caught:
        new(
            db,
            people.bob,
            kind="meeting",
            subject="Demo",
            starts_at=utc(2030, 1, 1, 10),
            ends_at=utc(2030, 1, 1, 9),
        )
    assert set(errors_of(caught)) == {"ends_at"}
    meeting = new(
        db,
        people.bob,
        kind="meeting",
        subject="Demo",
        starts_at=datetime.fromisoformat("2030-01-01T10:00:00+01:00"),
        location="Room 4",
    )
    assert meeting.starts_at == utc(2030, 1, 1, 9) and meeting.done_at is None
    with pytest.raises(ValidationFailed) as caught:
        change(db, people.bob, meeting, ends_at=utc(2030, 1, 1, 8))
    assert errors_of(caught) == {"ends_at": "A meeting cannot end before it starts."}


def test_times_without_a_zone_a_missing_kind_and_unknown_fields_are_refused(db, people):
    with pytest.raises(ValidationFailed) as caught:
        new(db, people.bob, subject="X", due_at="2030-01-01T09:00:00", id=5, reminder_sent_at=None)
    assert set(errors_of(caught)) == {"kind", "due_at", "id", "reminder_sent_at"}


def test_tasks_need_a_subject_and_notes_a_subject_or_some_text(db, people):
    with pytest.raises(ValidationFailed) as caught:
        new(db, people.bob, kind="task", body="<p>details</p>")
    assert errors_of(caught) == {"subject": "Enter a subject."}
    with pytest.raises(ValidationFailed):
        new(db, people.bob, kind="note", subject="  ")
    assert new(db, people.bob, kind="note", body="<p>Met at the fair</p>").subject == ""


def test_changing_the_kind_applies_the_new_kinds_rules(db, people):
    todo = task(db, people.bob, due_at=utc(2030, 1, 2, 9))
    with pytest.raises(ValidationFailed) as caught:
        change(db, people.bob, todo, kind="call")
    assert set(errors_of(caught)) == {"due_at"}
    call = change(db, people.bob, todo, kind="call", due_at=None)
    assert call.kind == "call" and call.done_at is not None  # a call happened


def test_an_edit_is_held_to_what_it_breaks_not_to_what_was_stored_before(db, people):
    # bulk-loaded rows (the scale seed, imports) may carry what their kind would not allow now
    call = make_activity(db, owner=people.bob, kind="call", due_at=utc(2030, 1, 1, 9))
    assert change(db, people.bob, call, subject="Follow-up").subject == "Follow-up"
    with pytest.raises(ValidationFailed) as caught:
        change(db, people.bob, call, location="Cafe")
    assert set(errors_of(caught)) == {"location"}


# ---- the body ---------------------------------------------------------------------------------


def test_the_body_is_sanitised_on_every_save_keeping_basic_formatting(db, people):
    note = new(
        db,
        people.bob,
        kind="note",
        subject="Minutes",
        body=(
            '<h3 onclick="steal()">Agenda</h3><script>alert(1)</script>'
            '<p style="color:red">We <b>agreed</b> <em>terms</em><img src=x onerror="alert(2)">'
            '</p><ul><li>one</li></ul><a href="https://acme.example/deck">deck</a>'
        ),
    )
    assert note.body == (
        "<h3>Agenda</h3><p>We <b>agreed</b> <em>terms</em></p><ul><li>one</li></ul>"
        '<a href="https://acme.example/deck" rel="noopener">deck</a>'
    )
    change(
        db,
        people.bob,
        note,
        body=(
            '<a href="javascript:alert(1)">x</a><a href="/settings/users">y</a>'
            '<a href="mailto:ada@example.com">z</a><iframe src="https://evil.example"></iframe>'
        ),
    )
    assert note.body == (
        '<a rel="noopener">x</a><a rel="noopener">y</a>'
        '<a href="mailto:ada@example.com" rel="noopener">z</a>'
    )


# ---- related records and permissions ----------------------------------------------------------


def test_related_records_must_exist_and_be_live(db, people):
    gone = make_contact(db, owner=people.bob)
    gone.deleted_at = utcnow()
    with pytest.raises(ValidationFailed) as caught:
        task(db, people.bob, contact_id=gone.id, deal_id=999_999, lead_id=2**40)
    assert errors_of(caught) == {
        "contact_id": "Pick an existing contact.",
        "deal_id": "Pick an existing deal.",
        "lead_id": "Pick an existing lead.",
    }


def test_a_rep_cannot_attach_an_activity_to_a_record_they_cannot_read(db, people):
    narrow_reading(db, "rep", "contact", "own")
    daves = make_contact(db, owner=people.dave)
    with pytest.raises(Forbidden):
        task(db, people.bob, contact_id=daves.id)
    with pytest.raises(Forbidden):
        new(
            db,
            people.bob,
            kind="meeting",
            subject="Demo",
            starts_at=utc(2030, 1, 1, 9),
            attendee_contact_ids=[daves.id],
        )
    bobs = make_contact(db, owner=people.bob)
    assert task(db, people.bob, contact_id=bobs.id).contact_id == bobs.id


def test_meeting_attendees_are_live_contacts_and_active_users_each_listed_once(db, people):
    ada = make_contact(db, owner=people.bob)
    gone = make_user(db, active=False)
    with pytest.raises(ValidationFailed) as caught:
        new(
            db,
            people.bob,
            kind="meeting",
            subject="Demo",
            starts_at=utc(2030, 1, 1, 9),
            attendee_contact_ids=[ada.id, 999_999],
            attendee_user_ids=[people.carol.id, gone.id],
        )
    assert set(errors_of(caught)) == {"attendee_contact_ids", "attendee_user_ids"}
    meeting = new(
        db,
        people.bob,
        kind="meeting",
        subject="Demo",
        starts_at=utc(2030, 1, 1, 9),
        attendee_contact_ids=[ada.id, ada.id],
        attendee_user_ids=[people.carol.id],
    )
    assert (meeting.attendee_contact_ids, meeting.attendee_user_ids) == (
        [ada.id],
        [people.carol.id],
    )


def test_a_rep_edits_only_own_activities_and_a_manager_those_of_the_team(db, people):
    carols = task(db, people.carol)
    with pytest.raises(Forbidden):
        change(db, people.bob, carols, subject="Mine now")
    with pytest.raises(Forbidden):
        activities.delete_activity(db, actor=people.bob, activity_id=carols.id)
    assert change(db, people.mona, carols, subject="Call back today").subject == "Call back today"


def test_a_rep_cannot_read_another_reps_activity_when_reading_is_narrowed_to_own(db, people):
    carols = task(db, people.carol)
    assert activities.get_activity(db, actor=people.bob, activity_id=carols.id) == carols
    narrow_reading(db, "rep", "activity", "own")
    with pytest.raises(Forbidden):
        activities.get_activity(db, actor=people.bob, activity_id=carols.id)
    page = activity_list.list_activities(db, actor=people.bob, listq=ListQuery())
    assert carols not in page.rows
    with pytest.raises(Forbidden):
        activity_list.my_work(db, actor=people.bob, owner_id=people.carol.id)


def test_a_viewer_cannot_create_and_unknown_ids_are_not_found(db, people):
    with pytest.raises(Forbidden):
        task(db, people.vic)
    with pytest.raises(NotFound):
        activities.get_activity(db, actor=people.bob, activity_id=999_999)


def test_giving_an_activity_to_someone_else_is_checked_like_other_records(db, people):
    with pytest.raises(Forbidden):
        task(db, people.bob, owner_id=people.carol.id)
    with pytest.raises(Forbidden):
        task(db, people.mona, owner_id=people.dave.id)  # another team
    assert task(db, people.mona, owner_id=people.bob.id).owner_id == people.bob.id


# ---- notifications ----------------------------------------------------------------------------


def test_the_owner_is_told_when_someone_else_assigns_them_an_activity(db, people):
    deal = make_deal(db, owner=people.bob, name="Acme renewal")
    task(db, people.mona, owner_id=people.bob.id, deal_id=deal.id)
    [told] = notifications_of(db, people.bob)
    assert (told.kind, told.title, told.link) == (
        "assigned",
        "Mona Manager assigned you a task: Call back",
        f"/deals/{deal.id}",
    )
    task(db, people.carol, subject="My own")  # nobody to tell
    assert notifications_of(db, people.carol) == []


def test_reassigning_tells_the_new_owner_and_links_to_activities_when_about_nothing(db, people):
    email = new(db, people.mona, kind="email", subject="Pricing sent")
    assert notifications_of(db, people.carol) == []
    change(db, people.mona, email, owner_id=people.carol.id)
    [told] = notifications_of(db, people.carol)
    assert told.title == "Mona Manager assigned you an e-mail: Pricing sent"
    assert told.link == "/activities"
    change(db, people.mona, email, subject="Pricing sent (v2)")  # same owner: nothing new
    assert len(notifications_of(db, people.carol)) == 1


# ---- reminders --------------------------------------------------------------------------------


def test_a_reminder_needs_a_due_time_or_start_at_or_after_the_reminder(db, people):
    with pytest.raises(ValidationFailed) as caught:
        task(db, people.bob, reminder_at=utc(2030, 1, 1, 8))
    assert errors_of(caught) == {"reminder_at": "A reminder needs a due time."}
    with pytest.raises(ValidationFailed) as caught:
        task(db, people.bob, due_at=utc(2030, 1, 1, 8), reminder_at=utc(2030, 1, 1, 9))
    assert errors_of(caught) == {"reminder_at": "Remind at or before the due time."}
    with pytest.raises(ValidationFailed) as caught:
        new(db, people.bob, kind="call", subject="X", reminder_at=utc(2030, 1, 1, 8))
    assert errors_of(caught) == {"reminder_at": "Only tasks and meetings have reminders."}


def test_setting_the_reminder_again_arms_it_again(db, people):
    todo = task(db, people.bob, due_at=utc(2030, 1, 2, 9), reminder_at=utc(2030, 1, 2, 8))
    todo.reminder_sent_at = utc(2030, 1, 2, 8)  # as the worker does once it told Bob
    change(db, people.bob, todo, reminder_at=utc(2030, 1, 2, 8))  # unchanged: still sent
    assert todo.reminder_sent_at == utc(2030, 1, 2, 8)
    change(db, people.bob, todo, reminder_at=utc(2030, 1, 2, 8, 30))
    assert todo.reminder_sent_at is None


def test_moving_the_due_time_moves_the_reminder_and_removing_it_removes_the_reminder(db, people):
    todo = task(db, people.bob, due_at=utc(2030, 1, 2, 9), reminder_at=utc(2030, 1, 2, 8))
    todo.reminder_sent_at = utc(2030, 1, 2, 8)
    change(db, people.bob, todo, due_at=utc(2030, 1, 3, 15))
    assert (todo.reminder_at, todo.reminder_sent_at) == (utc(2030, 1, 3, 14), None)
    change(db, people.bob, todo, due_at=None)
    assert (todo.due_at, todo.reminder_at) == (None, None)


# ---- versions, trash, lead scores -------------------------------------------------------------


def test_a_stale_version_is_refused(db, people):
    todo = task(db, people.bob)
    activities.update_activity(
        db, actor=people.bob, activity_id=todo.id, data={"subject": "A"}, version=1
    )
    with pytest.raises(StaleVersion):
        activities.update_activity(
            db, actor=people.bob, activity_id=todo.id, data={"subject": "B"}, version=1
        )


def test_a_deleted_activity_is_hidden_and_restorable(db, people):
    todo = task(db, people.bob)
    activities.delete_activity(db, actor=people.bob, activity_id=todo.id)
    with pytest.raises(NotFound):
        activities.get_activity(db, actor=people.bob, activity_id=todo.id)
    activities.restore_activity(db, actor=people.bob, activity_id=todo.id)
    assert activities.get_activity(db, actor=people.bob, activity_id=todo.id).deleted_at is None


def test_an_activity_about_a_lead_rescores_it_when_written_moved_deleted_or_restored(db, people):
    make_scoring_rule(
        db, condition={"kind": "activity_count", "days": 30, "at_least": 1}, points=15
    )
    first, second = make_lead(db, owner=people.bob), make_lead(db, owner=people.bob)
    call = new(db, people.bob, kind="call", subject="Intro", lead_id=first.id)
    assert (first.score, second.score) == (15, 0)
    change(db, people.bob, call, lead_id=second.id)
    assert (first.score, second.score) == (0, 15)
    activities.delete_activity(db, actor=people.bob, activity_id=call.id)
    assert second.score == 0
    activities.restore_activity(db, actor=people.bob, activity_id=call.id)
    assert second.score == 15


# ---- completing and rescheduling --------------------------------------------------------------


def test_completing_a_task_sets_its_done_time_and_reopening_clears_it(db, people):
    todo = task(db, people.bob)
    done = activities.complete_task(db, actor=people.bob, activity_id=todo.id)
    when = done.done_at
    assert when is not None
    activities.complete_task(db, actor=people.bob, activity_id=todo.id)  # again: kept
    assert todo.done_at == when
    activities.complete_task(db, actor=people.bob, activity_id=todo.id, done=False)
    assert todo.done_at is None
    note = new(db, people.bob, kind="note", subject="FYI")
    with pytest.raises(ValidationFailed):
        activities.complete_task(db, actor=people.bob, activity_id=note.id, done=False)


def test_rescheduling_a_task_keeps_its_local_time_across_the_spring_change(db, people):
    people.bob.timezone = "America/New_York"  # clocks go forward on Sunday 10 March 2030
    todo = task(db, people.bob, due_at=utc(2030, 3, 8, 14), reminder_at=utc(2030, 3, 8, 13, 30))
    todo.reminder_sent_at = utc(2030, 3, 8, 13, 30)
    activities.reschedule(db, actor=people.bob, activity_id=todo.id, day=date(2030, 3, 12))
    # 09:00 EST (UTC-5) becomes 09:00 EDT (UTC-4); the reminder stays half an hour before
    assert todo.due_at == utc(2030, 3, 12, 13)
    assert (todo.reminder_at, todo.reminder_sent_at) == (utc(2030, 3, 12, 12, 30), None)


def test_rescheduling_a_meeting_moves_its_end_too_across_the_autumn_change(db, people):
    people.bob.timezone = "Europe/Berlin"  # clocks go back on Sunday 27 October 2030
    meeting = new(
        db,
        people.bob,
        kind="meeting",
        subject="Review",
        starts_at=utc(2030, 10, 25, 8),  # 10:00 CEST
        ends_at=utc(2030, 10, 25, 9),
    )
    activities.reschedule(db, actor=people.bob, activity_id=meeting.id, day=date(2030, 10, 29))
    assert (meeting.starts_at, meeting.ends_at) == (utc(2030, 10, 29, 9), utc(2030, 10, 29, 10))


def test_a_reminder_rescheduled_into_the_past_is_not_sent_again(db, people):
    todo = task(db, people.bob, due_at=utc(2026, 1, 5, 10), reminder_at=utc(2026, 1, 5, 9))
    todo.reminder_sent_at = utc(2026, 1, 5, 9)
    activities.reschedule(db, actor=people.bob, activity_id=todo.id, day=date(2026, 1, 7))
    assert (todo.reminder_at, todo.reminder_sent_at) == (utc(2026, 1, 7, 9), utc(2026, 1, 5, 9))


def test_only_tasks_with_a_due_time_and_meetings_are_rescheduled(db, people):
    note = new(db, people.bob, kind="note", subject="FYI")
    undated = task(db, people.bob)
    for activity in (note, undated):
        with pytest.raises(ValidationFailed):
            activities.reschedule(db, actor=people.bob, activity_id=activity.id, day=date.today())
