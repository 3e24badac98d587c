"""Logging activities from a record page: the composer's handlers, as a browser would call
them (form data as strings, keys as typed)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from crm_app import routes
from crm_app.models import Activity, Lead, Notification
from crm_app.services.permission import set_scope
from crm_app.state.contact import ContactPageState
from crm_app.state.deal import DealPageState
from crm_app.state.lead import LeadPageState
from tests.factories import make_contact, make_deal, make_lead, make_scoring_rule
from tests.state.test_record_pages import state_of


def opened(cls, db, actor, url):
    page = state_of(cls, db, actor, url)
    with page._actor_session() as (session, user):
        page._show_user(session, user)
        page._open(session, user)
    return page


def activities(db) -> list[Activity]:
    return list(db.exec(select(Activity).order_by(Activity.id)).all())


def test_a_call_logged_on_a_contact_is_saved_done_and_tops_the_timeline(db, people):
    ada = make_contact(db, owner=people.bob, first_name="Ada")
    page = opened(ContactPageState, db, people.bob, routes.contact_detail(ada.id))
    assert page.can_log and page.compose_kind == "note"
    page.pick_kind("call")
    page.log_activity(
        {"subject": "Pricing", "outcome": "Connected", "duration_minutes": "12", "body": "**Yes**"}
    )
    (call,) = activities(db)
    assert (call.kind, call.contact_id, call.owner_id) == ("call", ada.id, people.bob.id)
    assert (call.outcome, call.duration_minutes) == ("Connected", 12)
    assert call.body == "<p><strong>Yes</strong></p>" and call.done_at is not None
    assert page.timeline[0].title == "Call: Pricing" and page.timeline[0].lines[0] == (
        "Outcome: Connected"
    )
    assert page.compose_errors == {} and page.compose_key == 1


def test_a_note_keeps_formatting_and_never_raw_html(db, people):
    ada = make_contact(db, owner=people.bob)
    page = opened(ContactPageState, db, people.bob, routes.contact_detail(ada.id))
    page.log_activity({"subject": "", "body": "*met* <img src=x onerror=alert(1)>"})
    (note,) = activities(db)
    # the tag the user typed shows as text: escaped, never an element
    assert note.body == "<p><em>met</em> &lt;img src=x onerror=alert(1)&gt;</p>"


def test_an_empty_note_and_a_task_without_subject_are_refused_next_to_the_field(db, people):
    ada = make_contact(db, owner=people.bob)
    page = opened(ContactPageState, db, people.bob, routes.contact_detail(ada.id))
    page.log_activity({"subject": " ", "body": ""})
    assert page.compose_errors == {"body": "Write something first."}
    page.hotkey("t")
    page.log_activity({"subject": "", "due_at": "not a time", "reminder": "15"})
    assert page.compose_errors["subject"] == "Give the task a subject."
    assert page.compose_errors["due_at"] == "Enter a date and time."
    assert activities(db) == []


def test_a_task_for_a_colleague_is_due_in_my_zone_reminds_and_tells_them(db, people):
    people.bob.timezone = "America/New_York"
    ada = make_contact(db, owner=people.bob)
    page = opened(ContactPageState, db, people.mona, routes.contact_detail(ada.id))
    assert {c.label for c in page.assignees} >= {"Bob Rep", "Carol Rep"}
    page.hotkey("T")
    assert page.compose_kind == "task"
    page.log_activity(
        {
            "subject": "Send the quote",
            "due_at": "2026-12-01T09:30",
            "reminder": "60",
            "owner_id": str(people.bob.id),
            "priority": "high",
        }
    )
    (task,) = activities(db)
    # Mona's zone is UTC (the default): 09:30 there
    assert task.due_at == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert task.reminder_at == datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    assert (task.owner_id, task.priority, task.done_at) == (people.bob.id, "high", None)
    told = db.exec(select(Notification).where(Notification.user_id == people.bob.id)).all()
    assert len(told) == 1 and "Send the quote" in told[0].title


def test_a_meeting_on_a_deal_invites_the_contacts_and_colleagues_picked(db, people):
    people.bob.timezone = "Europe/Paris"
    ada = make_contact(db, owner=people.bob, first_name="Ada", last_name="Byron")
    deal = make_deal(db, owner=people.bob, name="Engines")
    page = opened(DealPageState, db, people.bob, routes.deal_detail(deal.id))
    page.pick_kind("meeting")
    page.search_attendees("byro")
    assert [c.label for c in page.attendee_options] == ["Ada Byron"]
    page.add_attendee(str(ada.id))
    page.log_activity({"subject": "Demo", "starts_at": "2026-12-01T10:00"})
    assert page.compose_errors == {}
    page.pick_kind("meeting")
    page.add_attendee(str(ada.id))  # no longer offered: nothing happens
    (meeting,) = activities(db)
    assert meeting.deal_id == deal.id and meeting.attendee_contact_ids == [ada.id]
    assert meeting.starts_at == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # 10:00 in Paris
    assert page.attendees == []


def test_a_meeting_needs_a_start(db, people):
    deal = make_deal(db, owner=people.bob)
    page = opened(DealPageState, db, people.bob, routes.deal_detail(deal.id))
    page.pick_kind("meeting")
    page.log_activity({"subject": "Demo", "starts_at": ""})
    assert page.compose_errors == {"starts_at": "A meeting needs a start."}


def test_an_activity_on_a_lead_rescores_it(db, people):
    make_scoring_rule(
        db, condition={"kind": "activity_count", "days": 30, "at_least": 1}, points=25
    )
    lead = make_lead(db, owner=people.bob)
    page = opened(LeadPageState, db, people.bob, routes.lead_detail(lead.id))
    page.pick_kind("call")
    page.log_activity({"subject": "Intro"})
    db.refresh(lead)
    assert db.get(Lead, lead.id).score == 25


def test_a_viewer_gets_no_composer_and_cannot_log_by_calling_the_handler(db, people):
    ada = make_contact(db, owner=people.bob)
    page = opened(ContactPageState, db, people.vic, routes.contact_detail(ada.id))
    assert not page.can_log
    page.log_activity({"subject": "Sneaky", "body": "x"})
    assert activities(db) == []


def test_logging_rechecks_that_the_record_can_still_be_read(db, people):
    theirs = make_contact(db, owner=people.dave)
    page = opened(ContactPageState, db, people.bob, routes.contact_detail(theirs.id))
    assert page.can_log
    # an admin takes contacts away from reps while the page is open
    set_scope(db, actor=people.alice, role="rep", resource="contact", action="read", scope="none")
    page.log_activity({"subject": "Sneaky", "body": "x"})
    assert activities(db) == []


def test_a_meeting_in_the_timeline_offers_its_invitation(db, people):
    deal = make_deal(db, owner=people.bob)
    page = opened(DealPageState, db, people.bob, routes.deal_detail(deal.id))
    page.pick_kind("meeting")
    page.log_activity({"subject": "Demo", "starts_at": "2026-12-01T10:00"})
    (meeting,) = activities(db)
    assert page.timeline[0].invite == f"/api/v1/activities/{meeting.id}/invite.ics"
    page.pick_kind("call")
    page.log_activity({"subject": "Follow-up"})
    assert page.timeline[0].invite == ""
