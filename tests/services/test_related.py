"""What a record's page lists around it: deals, contacts, activities, and possible owners."""

from __future__ import annotations

from datetime import timedelta

from crm_app.models import Activity, DealContact, utcnow
from crm_app.services import related
from tests.factories import make_account, make_contact, make_deal


def test_a_contacts_deals_are_those_they_lead_or_take_part_in(db, people):
    ada = make_contact(db, owner=people.bob)
    led = make_deal(db, owner=people.bob, name="Led")
    led.primary_contact_id = ada.id
    joined = make_deal(db, owner=people.dave, name="Joined")
    db.add(DealContact(deal_id=joined.id, contact_id=ada.id, role="champion"))
    make_deal(db, owner=people.bob, name="Unrelated")
    gone = make_deal(db, owner=people.bob, name="Gone")
    gone.primary_contact_id, gone.deleted_at = ada.id, utcnow()
    db.flush()
    found = related.contact_deals(db, actor=people.vic, contact_id=ada.id)
    assert sorted(d.name for d in found.rows) == ["Joined", "Led"] and found.total == 2
    assert found.rows[0].stage and found.rows[0].currency == "USD"


def test_lists_come_a_page_at_a_time_with_the_total(db, people):
    acme = make_account(db, owner=people.bob)
    for n in range(13):
        make_contact(db, owner=people.bob, last_name=f"L{n:02}", account_id=acme.id)
    first = related.account_contacts(db, actor=people.bob, account_id=acme.id)
    rest = related.account_contacts(db, actor=people.bob, account_id=acme.id, offset=10)
    assert (len(first.rows), first.total, len(rest.rows), rest.total) == (10, 13, 3, 13)
    names = [c.name for c in first.rows + rest.rows]
    assert names == sorted(names) and len(set(names)) == 13


def test_open_activities_come_first_soonest_due_then_the_done_latest_first(db, people):
    ada = make_contact(db, owner=people.bob)
    now = utcnow()

    def add(subject, **times):
        db.add(
            Activity(
                kind="task", subject=subject, owner_id=people.bob.id, contact_id=ada.id, **times
            )
        )

    add("done long ago", done_at=now - timedelta(days=9))
    add("due later", due_at=now + timedelta(days=5))
    add("done lately", done_at=now - timedelta(days=1))
    add("due soon", due_at=now + timedelta(days=1))
    add("no date")
    db.flush()
    found = related.activities(db, actor=people.bob, entity="contact", record_id=ada.id)
    assert [a.subject for a in found.rows] == [
        "due soon",
        "due later",
        "no date",
        "done lately",
        "done long ago",
    ]


def test_owners_offered_follow_what_the_actor_may_give_away(db, people):
    def names(actor):
        return {name for _id, name in related.owner_choices(db, actor=actor, resource="contact")}

    assert names(people.bob) == {"Bob Rep"}
    assert names(people.mona) == {"Bob Rep", "Carol Rep", "Mona Manager"}
    assert {"Alice Admin", "Dave Rep", "Vic Viewer"} <= names(people.alice)
    assert names(people.vic) == set()
