"""A record's timeline: audit events and activities merged newest first, paged by cursor."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event as sa_event
from sqlmodel import select

from crm_app.models import Activity, CustomFieldDefinition, utcnow
from crm_app.services import account as accounts
from crm_app.services import contact as contacts
from crm_app.services import timeline
from crm_app.services.errors import NotFound, ValidationFailed
from tests.factories import make_account, make_contact


def add_activity(db, *, owner, minutes_ago: int, **fields) -> Activity:
    activity = Activity(
        owner_id=owner.id,
        created_by=owner.id,
        created_at=utcnow() - timedelta(minutes=minutes_ago),
        **fields,
    )
    db.add(activity)
    db.flush()
    return activity


def titles(page) -> list[str]:
    return [item.title for item in page.items]


def test_changes_read_as_field_before_and_after(db, people):
    acme = make_account(db, owner=people.bob, name="Acme")
    c = contacts.create_contact(
        db, actor=people.bob, data={"first_name": "Ada", "title": "Engineer"}
    )
    contacts.update_contact(
        db,
        actor=people.bob,
        contact_id=c.id,
        data={"title": "CTO", "account_id": acme.id, "owner_id": people.bob.id},
    )
    contacts.update_contact(db, actor=people.bob, contact_id=c.id, data={"tags": ["vip", "emea"]})
    page = timeline.timeline(db, actor=people.vic, entity="contact", record_id=c.id)
    assert titles(page) == ["Updated", "Updated", "Created"]
    tags, change, created = page.items
    assert tags.lines == ["Tags: added vip, emea"]
    assert change.lines == ["Title: Engineer → CTO", "Company: — → Acme"]
    assert change.actor == "Bob Rep"
    assert "First name: Ada" in created.lines and "Title: Engineer" in created.lines
    assert "Owner: Bob Rep" in created.lines


def test_activities_and_events_merge_newest_first(db, people):
    c = make_contact(db, owner=people.bob)
    add_activity(
        db, owner=people.carol, minutes_ago=30, kind="call", subject="Intro", contact_id=c.id
    )
    add_activity(
        db,
        owner=people.bob,
        minutes_ago=10,
        kind="task",
        subject="Send deck",
        contact_id=c.id,
        due_at=utcnow() + timedelta(days=1),
    )
    add_activity(db, owner=people.bob, minutes_ago=5, kind="note", subject="Elsewhere")  # unlinked
    contacts.update_contact(db, actor=people.bob, contact_id=c.id, data={"title": "CTO"})
    page = timeline.timeline(db, actor=people.bob, entity="contact", record_id=c.id)
    assert titles(page) == ["Updated", "Task: Send deck", "Call: Intro"]
    task, call = page.items[1], page.items[2]
    assert (task.source, task.action, task.when_label, task.actor) == (
        "activity",
        "task",
        "Due",
        "Bob Rep",
    )
    assert call.actor == "Carol Rep" and page.next_before is None


def test_pages_follow_on_without_gaps_or_repeats(db, people):
    c = make_contact(db, owner=people.bob)
    for minute in range(7):
        add_activity(db, owner=people.bob, minutes_ago=60 - minute, kind="note", contact_id=c.id)
    for n in range(6):
        contacts.update_contact(db, actor=people.bob, contact_id=c.id, data={"title": f"T{n}"})
    seen, before = [], None
    while True:
        page = timeline.timeline(
            db, actor=people.bob, entity="contact", record_id=c.id, before=before, limit=4
        )
        seen += [(item.source, item.id) for item in page.items]
        before = page.next_before
        if before is None:
            break
    assert len(seen) == 13 and len(set(seen)) == 13
    one_page = timeline.timeline(db, actor=people.bob, entity="contact", record_id=c.id, limit=50)
    assert [(i.source, i.id) for i in one_page.items] == seen


def test_a_page_costs_a_fixed_number_of_queries(db, people, engine):
    c = make_contact(db, owner=people.bob)
    for n in range(10):
        add_activity(db, owner=people.bob, minutes_ago=n, kind="call", contact_id=c.id)
        owner = people.carol if n % 2 else people.bob
        contacts.update_contact(
            db, actor=people.alice, contact_id=c.id, data={"title": f"T{n}", "owner_id": owner.id}
        )
    db.expunge_all()
    statements = []

    def count(*_args):
        statements.append(1)

    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        timeline.timeline(db, actor=people.bob, entity="contact", record_id=c.id, limit=20)
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    # the record and the permission table, events, activities, owner names
    assert len(statements) <= 6


def test_custom_fields_tags_and_trash_read_clearly(db, people):
    db.add(
        CustomFieldDefinition(
            entity="account", key="budget", label="Budget", field_type="money", position=0
        )
    )
    db.flush()
    acme = accounts.create_account(db, actor=people.bob, data={"name": "Acme"})
    accounts.update_account(
        db, actor=people.bob, account_id=acme.id, data={"custom": {"budget": "1200"}}
    )
    accounts.update_account(
        db, actor=people.bob, account_id=acme.id, data={"tags": ["a", "b"], "size": "11-50"}
    )
    accounts.update_account(db, actor=people.bob, account_id=acme.id, data={"tags": ["b", "c"]})
    accounts.delete_account(db, actor=people.bob, account_id=acme.id)
    accounts.restore_account(db, actor=people.bob, account_id=acme.id)
    page = timeline.timeline(db, actor=people.bob, entity="account", record_id=acme.id)
    assert titles(page)[:2] == ["Restored from the trash", "Moved to the trash"]
    lines = [line for item in page.items for line in item.lines]
    assert "Tags: added c; removed a" in lines
    assert "Budget: — → 1200.00" in lines
    assert "Size: — → 11-50" in lines


def test_a_merge_names_the_record_merged_in(db, people):
    from crm_app.services import merge

    keep = make_contact(db, owner=people.bob)
    other = make_contact(db, owner=people.bob)
    merge.merge(db, actor=people.bob, entity="contact", survivor_id=keep.id, other_id=other.id)
    page = timeline.timeline(db, actor=people.bob, entity="contact", record_id=keep.id)
    assert page.items[0].title == "Merged"
    assert page.items[0].lines == [f"Merged in record #{other.id}, which went to the trash"]


def test_the_record_must_be_readable_and_the_cursor_genuine(db, people):
    c = make_contact(db, owner=people.bob)
    with pytest.raises(ValidationFailed):
        timeline.timeline(db, actor=people.bob, entity="contact", record_id=c.id, before="junk")
    with pytest.raises(ValidationFailed):
        timeline.timeline(db, actor=people.bob, entity="user", record_id=c.id)
    contacts.delete_contact(db, actor=people.bob, contact_id=c.id)
    with pytest.raises(NotFound):
        timeline.timeline(db, actor=people.bob, entity="contact", record_id=c.id)


def test_a_deal_move_reads_as_stage_names_without_its_place_in_the_column(db, people):
    from crm_app.models import Stage
    from crm_app.services import deal as deals
    from tests.factories import make_deal

    deal = make_deal(db, owner=people.bob, name="Orion")
    discovery = db.exec(select(Stage).where(Stage.name == "Discovery")).one()
    deals.move_deal(db, actor=people.bob, deal_id=deal.id, stage_id=discovery.id)
    page = timeline.timeline(db, actor=people.bob, entity="deal", record_id=deal.id)
    assert page.items[0].lines == ["Stage: Qualification → Discovery"]


def test_an_activitys_text_shows_formatted_and_sanitised_and_a_long_one_as_its_start(db, people):
    ada = make_contact(db, owner=people.bob)
    for body in (
        "<p><strong>Budget</strong> approved</p><script>alert(1)</script>",
        "<p>" + "word " * 1000 + "</p>",
    ):
        db.add(Activity(kind="note", body=body, contact_id=ada.id, owner_id=people.bob.id))
        db.flush()
    long, short = timeline.timeline(db, actor=people.bob, entity="contact", record_id=ada.id).items
    assert short.html == "<p><strong>Budget</strong> approved</p>" and short.lines == []
    assert long.html == "" and long.lines == ["word " * 31 + "word…"]
