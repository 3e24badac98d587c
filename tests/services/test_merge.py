"""Merging duplicates: chosen values survive, links and history move, the other is trashed."""

from __future__ import annotations

import pytest
from sqlmodel import select

from crm_app.models import Activity, AuditEvent, Contact, Deal
from crm_app.services import contact as contacts
from crm_app.services import merge
from crm_app.services.errors import Forbidden, NotFound, ValidationFailed
from tests.factories import make_account, make_contact, make_deal


def test_merging_contacts_keeps_chosen_values_and_moves_everything(db, people):
    keep = make_contact(
        db,
        owner=people.bob,
        first_name="Ada",
        last_name="L",
        email="ada@a.com",
        title="Engineer",
        tags=["vip"],
    )
    dupe = make_contact(
        db,
        owner=people.bob,
        first_name="Ada",
        last_name="Lovelace",
        email="ada@b.com",
        phone="+14155550100",
        tags=["lead", "vip"],
    )
    deal = make_deal(db, owner=people.bob)
    deal.primary_contact_id = dupe.id
    db.add(Activity(kind="note", subject="Met", contact_id=dupe.id, owner_id=people.bob.id))
    contacts.update_contact(db, actor=people.bob, contact_id=dupe.id, data={"title": "CTO"})
    db.flush()

    survivor = merge.merge(
        db,
        actor=people.bob,
        entity="contact",
        survivor_id=keep.id,
        other_id=dupe.id,
        take_other={"last_name", "phone"},
    )

    assert (survivor.first_name, survivor.last_name) == ("Ada", "Lovelace")
    assert (survivor.email, survivor.phone, survivor.title) == (
        "ada@a.com",
        "+14155550100",
        "Engineer",
    )
    assert survivor.additional_emails == ["ada@b.com"]
    assert survivor.tags == ["vip", "lead"]
    assert db.get(Deal, deal.id).primary_contact_id == keep.id
    assert db.exec(select(Activity.contact_id).where(Activity.subject == "Met")).one() == keep.id
    moved = db.exec(
        select(AuditEvent).where(
            AuditEvent.entity == "contact",
            AuditEvent.entity_id == keep.id,
            AuditEvent.action == "update",
        )
    ).all()
    assert any(e.changes.get("title") == [None, "CTO"] for e in moved)
    assert db.get(Contact, dupe.id).deleted_at is not None
    with pytest.raises(NotFound):
        contacts.get_contact(db, actor=people.bob, contact_id=dupe.id)


def test_merging_companies_moves_their_contacts_and_deals(db, people):
    keep = make_account(db, owner=people.bob, name="Acme", domain="acme.com")
    dupe = make_account(db, owner=people.bob, name="ACME Inc", industry="Rockets")
    person = make_contact(db, owner=people.bob, account_id=dupe.id)
    survivor = merge.merge(
        db,
        actor=people.bob,
        entity="account",
        survivor_id=keep.id,
        other_id=dupe.id,
        take_other={"industry"},
    )
    assert (survivor.name, survivor.industry) == ("Acme", "Rockets")
    assert db.get(Contact, person.id).account_id == keep.id


def test_merge_needs_permission_on_both_records(db, people):
    mine = make_contact(db, owner=people.bob)
    theirs = make_contact(db, owner=people.dave)
    with pytest.raises(Forbidden):
        merge.merge(db, actor=people.bob, entity="contact", survivor_id=mine.id, other_id=theirs.id)
    also_mine = make_contact(db, owner=people.bob)
    with pytest.raises(Forbidden):
        merge.merge(
            db, actor=people.vic, entity="contact", survivor_id=mine.id, other_id=also_mine.id
        )


def test_merge_refuses_the_same_record_and_unknown_fields(db, people):
    a = make_contact(db, owner=people.bob)
    b = make_contact(db, owner=people.bob)
    with pytest.raises(ValidationFailed):
        merge.merge(db, actor=people.bob, entity="contact", survivor_id=a.id, other_id=a.id)
    with pytest.raises(ValidationFailed):
        merge.merge(
            db,
            actor=people.bob,
            entity="contact",
            survivor_id=a.id,
            other_id=b.id,
            take_other={"password_hash"},
        )


def test_compare_lists_both_values(db, people):
    a = make_contact(db, owner=people.bob, first_name="A", custom={"tier": "gold"})
    b = make_contact(db, owner=people.bob, first_name="B")
    rows = {
        r.name: (r.survivor, r.other)
        for r in merge.compare(
            db, actor=people.vic, entity="contact", survivor_id=a.id, other_id=b.id
        )
    }
    assert rows["first_name"] == ("A", "B")
    assert rows["custom.tier"] == ("gold", None)
