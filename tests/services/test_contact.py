"""Contacts: normalisation, duplicates, permissions, versions, the trash, the list."""

from __future__ import annotations

import pytest

from crm_app.services import contact as contacts
from crm_app.services.errors import (
    DuplicateFound,
    Forbidden,
    NotFound,
    StaleVersion,
    ValidationFailed,
)
from crm_app.services.listing import ListQuery
from tests.factories import make_account, make_contact


def new(db, actor, **data):
    return contacts.create_contact(db, actor=actor, data=data)


def test_create_normalises_email_and_phone_and_is_owned_by_its_creator(db, people):
    c = new(
        db,
        people.bob,
        first_name=" Ada ",
        last_name="Lovelace",
        email=" Ada@Example.COM ",
        phone="(415) 555-0100",
    )
    assert (c.first_name, c.email, c.phone) == ("Ada", "ada@example.com", "+14155550100")
    assert c.owner_id == people.bob.id and c.created_by == people.bob.id and c.version == 1


def test_bad_fields_are_reported_together(db, people):
    with pytest.raises(ValidationFailed) as caught:
        new(db, people.bob, email="not-an-email", phone="12", lifecycle_stage="vip")
    fields = {e.field: e.message for e in caught.value.errors}
    assert set(fields) >= {"email", "phone", "lifecycle_stage", "first_name"}
    assert "valid e-mail" in fields["email"]


def test_unknown_or_protected_fields_are_refused(db, people):
    with pytest.raises(ValidationFailed) as caught:
        new(db, people.bob, first_name="A", id=5, deleted_at="2020-01-01", created_by=1)
    assert {e.field for e in caught.value.errors} == {"id", "deleted_at", "created_by"}


def test_duplicate_email_or_phone_is_found_before_saving(db, people):
    first = new(db, people.bob, first_name="Ada", email="ada@example.com", phone="+14155550100")
    with pytest.raises(DuplicateFound) as caught:
        new(db, people.carol, first_name="Other", email="ADA@example.com")
    assert [m.id for m in caught.value.matches] == [first.id]
    assert caught.value.errors[0].field == "email"
    with pytest.raises(DuplicateFound):
        new(db, people.carol, first_name="Other", phone="415 555 0100")
    again = contacts.create_contact(
        db,
        actor=people.carol,
        data={"first_name": "Twin", "email": "ada@example.com"},
        allow_duplicate=True,
    )
    assert again.id != first.id


def test_trashed_contacts_are_not_duplicates(db, people):
    first = new(db, people.bob, first_name="Ada", email="ada@example.com")
    contacts.delete_contact(db, actor=people.bob, contact_id=first.id)
    assert new(db, people.bob, first_name="Ada", email="ada@example.com").id != first.id


def test_rep_cannot_give_a_record_to_someone_else_but_a_manager_can_within_the_team(db, people):
    with pytest.raises(Forbidden):
        new(db, people.bob, first_name="A", owner_id=people.carol.id)
    c = new(db, people.mona, first_name="A", owner_id=people.carol.id)
    assert c.owner_id == people.carol.id
    with pytest.raises(Forbidden):
        new(db, people.mona, first_name="B", owner_id=people.dave.id)


def test_viewer_cannot_create(db, people):
    with pytest.raises(Forbidden):
        new(db, people.vic, first_name="A")


def test_rep_edits_own_contacts_only(db, people):
    own = make_contact(db, owner=people.bob)
    other = make_contact(db, owner=people.dave)
    contacts.update_contact(db, actor=people.bob, contact_id=own.id, data={"title": "CTO"})
    assert own.title == "CTO" and own.version == 2
    with pytest.raises(Forbidden):
        contacts.update_contact(db, actor=people.bob, contact_id=other.id, data={"title": "X"})


def test_stale_version_is_refused(db, people):
    c = make_contact(db, owner=people.bob)
    contacts.update_contact(db, actor=people.bob, contact_id=c.id, data={"title": "A"}, version=1)
    with pytest.raises(StaleVersion):
        contacts.update_contact(
            db, actor=people.bob, contact_id=c.id, data={"title": "B"}, version=1
        )


def test_update_is_audited_with_before_and_after(db, people):
    from crm_app.services.audit import list_events

    c = make_contact(db, owner=people.bob, title="Engineer")
    contacts.update_contact(db, actor=people.bob, contact_id=c.id, data={"title": "CTO"})
    event = list_events(db, actor=people.alice, entity="contact", entity_id=c.id).rows[0]
    assert event.action == "update" and event.changes == {"title": ["Engineer", "CTO"]}


def test_deleted_contact_is_hidden_and_restorable_by_someone_who_may_edit_it(db, people):
    c = make_contact(db, owner=people.bob, first_name="Gone")
    contacts.delete_contact(db, actor=people.bob, contact_id=c.id)
    with pytest.raises(NotFound):
        contacts.get_contact(db, actor=people.bob, contact_id=c.id)
    page = contacts.list_contacts(db, actor=people.alice, listq=ListQuery(q="gone"))
    assert page.rows == []
    with pytest.raises(Forbidden):
        contacts.restore_contact(db, actor=people.dave, contact_id=c.id)
    contacts.restore_contact(db, actor=people.bob, contact_id=c.id)
    assert contacts.get_contact(db, actor=people.bob, contact_id=c.id).deleted_at is None


def test_a_contact_links_only_to_an_existing_company(db, people):
    acme = make_account(db, owner=people.bob, name="Acme")
    c = new(db, people.bob, first_name="A", account_id=acme.id)
    assert c.account_id == acme.id
    with pytest.raises(ValidationFailed):
        new(db, people.bob, first_name="B", account_id=10**9)


def test_list_filters_sorts_and_searches_in_sql(db, people):
    acme = make_account(db, owner=people.bob, name="Acme")
    a = new(
        db,
        people.bob,
        first_name="Ann",
        last_name="Smith",
        account_id=acme.id,
        lifecycle_stage="customer",
        tags=["vip"],
    )
    b = new(db, people.bob, first_name="Ben", last_name="Smithers")
    c = new(db, people.dave, first_name="Cy", last_name="Jones", tags=["vip"])
    ids = lambda page: [r.contact.id for r in page.rows if r.contact.id in {a.id, b.id, c.id}]  # noqa: E731
    q = lambda **kw: contacts.list_contacts(db, actor=people.vic, listq=ListQuery(**kw))  # noqa: E731
    assert ids(q(q="smi", sort="first_name")) == [a.id, b.id]
    assert ids(q(filters={"tag": "vip"}, sort="-first_name")) == [c.id, a.id]
    assert ids(q(filters={"owner_id": str(people.dave.id)})) == [c.id]
    assert ids(q(filters={"lifecycle_stage": "customer"})) == [a.id]
    assert ids(q(filters={"account_id": str(acme.id)})) == [a.id]
    row = next(r for r in q(sort="company").rows if r.contact.id == a.id)
    assert (row.company, row.owner) == ("Acme", "Bob Rep")


def test_company_and_owner_names_follow_renames_moves_and_deletes(db, people):
    from crm_app.services import account as accounts
    from crm_app.services import user as users

    acme = make_account(db, owner=people.bob, name="Acme")
    globex = make_account(db, owner=people.bob, name="Globex")
    ann = new(db, people.bob, first_name="Ann", last_name="Lee", account_id=acme.id)
    q = lambda text, **kw: [  # noqa: E731
        r.contact.id
        for r in contacts.list_contacts(db, actor=people.vic, listq=ListQuery(q=text, **kw)).rows
    ]
    assert (ann.company_name, ann.owner_name) == ("Acme", "Bob Rep")
    assert q("acm") == [ann.id]

    accounts.update_account(
        db, actor=people.bob, account_id=acme.id, version=acme.version, data={"name": "Initech"}
    )
    assert q("initech") == [ann.id] and q("acme") == []
    contacts.update_contact(
        db, actor=people.bob, contact_id=ann.id, version=ann.version, data={"account_id": globex.id}
    )
    db.refresh(ann)
    assert ann.company_name == "Globex" and q("globex ann") == [ann.id]
    users.update_profile(db, actor=people.bob, name="Robert Rep", timezone="UTC")
    db.refresh(ann)
    db.refresh(acme)
    assert ann.owner_name == "Robert Rep" and acme.owner_name == "Robert Rep"
    db.delete(globex)  # the trash's purge: the contact stays, without its company
    db.flush()
    db.refresh(ann)
    assert ann.account_id is None and ann.company_name is None and q("globex") == []


def test_sorting_by_company_or_owner_reads_their_names(db, people):
    zed = make_account(db, owner=people.bob, name="Zed Corp")
    abc = make_account(db, owner=people.bob, name="Abc Inc")
    z = new(db, people.bob, first_name="Zoe", account_id=zed.id)
    a = new(db, people.bob, first_name="Al", account_id=abc.id)
    d = new(db, people.dave, first_name="Di")
    none = new(db, people.bob, first_name="No company")
    ours = {z.id, a.id, d.id, none.id}

    def order(sort):
        page = contacts.list_contacts(db, actor=people.vic, listq=ListQuery(sort=sort, limit=500))
        return [r.contact.id for r in page.rows if r.contact.id in ours]

    assert order("company")[:2] == [a.id, z.id]
    assert order("-company")[-2:] == [z.id, a.id]
    owners = order("owner")
    assert owners.index(z.id) < owners.index(d.id)  # "Bob Rep" before "Dave Rep"


def test_bad_sort_or_filter_is_a_validation_error(db, people):
    with pytest.raises(ValidationFailed):
        contacts.list_contacts(db, actor=people.bob, listq=ListQuery(sort="password"))
    with pytest.raises(ValidationFailed) as caught:
        contacts.list_contacts(
            db,
            actor=people.bob,
            listq=ListQuery(filters={"nope": "1", "created_from": "yesterday"}),
        )
    assert {e.field for e in caught.value.errors} == {"nope", "created_from"}


def test_phones_are_stored_in_e164_and_shown_as_people_read_them():
    from crm_app.services import normalize

    assert normalize.phone("(415) 555-0100") == "+14155550100"
    assert normalize.phone_display("+14155550100") == "+1 415-555-0100"
    assert normalize.phone_display("+442071838750") == "+44 20 7183 8750"
    assert normalize.phone_display(None) == ""
