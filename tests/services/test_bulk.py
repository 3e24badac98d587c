"""Bulk actions: permissions per row, counts, one audit event per changed row, ids or a view."""

from __future__ import annotations

import pytest
from sqlmodel import select

from crm_app.models import Account, AuditEvent, Contact
from crm_app.services import bulk
from crm_app.services.errors import Forbidden, ValidationFailed
from crm_app.services.listing import ListQuery
from tests.factories import make_account, make_contact


def events_for(db, entity: str, ids: list[int]) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.entity == entity, AuditEvent.entity_id.in_(ids))
    return list(db.exec(query.order_by(AuditEvent.id)).all())


def apply(db, actor, action, value=None, *, ids=None, listq=None, entity="contact"):
    return bulk.bulk_apply(
        db, actor=actor, entity=entity, action=action, value=value, ids=ids, listq=listq
    )


def test_rep_bulk_assigns_only_their_own_contacts(db, people):
    mine = [make_contact(db, owner=people.bob) for _ in range(2)]
    theirs = make_contact(db, owner=people.carol)
    ids = [c.id for c in [*mine, theirs]]
    assert (
        bulk.count_refused(
            db, actor=people.bob, entity="contact", action="assign_owner", ids=ids, listq=None
        )
        == 1
    )
    # Bob may not give records away, so he takes the unowned route: unassign them.
    assert apply(db, people.bob, "assign_owner", "none", ids=ids) == 2
    for c in [*mine, theirs]:
        db.refresh(c)
    assert [c.owner_id for c in mine] == [None, None]
    assert theirs.owner_id == people.carol.id and theirs.version == 1
    assert all(c.version == 2 for c in mine)


def test_rep_cannot_give_records_to_someone_else(db, people):
    c = make_contact(db, owner=people.bob)
    with pytest.raises(Forbidden):
        apply(db, people.bob, "assign_owner", people.carol.id, ids=[c.id])


def test_manager_assigns_within_the_team_and_each_change_is_audited(db, people):
    east = [make_contact(db, owner=people.bob), make_contact(db, owner=people.carol)]
    west = make_contact(db, owner=people.dave)
    ids = [c.id for c in [*east, west]]
    assert apply(db, people.mona, "assign_owner", str(people.carol.id), ids=ids) == 1
    db.refresh(west)
    assert west.owner_id == people.dave.id
    events = events_for(db, "contact", ids)
    assert [(e.entity_id, e.action, e.changes) for e in events] == [
        (east[0].id, "update", {"owner_id": [people.bob.id, people.carol.id]})
    ]
    assert events[0].actor_id == people.mona.id


def test_adding_a_tag_skips_rows_that_have_it_in_any_case(db, people):
    tagged = make_contact(db, owner=people.bob, tags=["VIP"])
    plain = make_contact(db, owner=people.bob, tags=["lead"])
    assert apply(db, people.bob, "add_tag", " vip ", ids=[tagged.id, plain.id]) == 1
    db.refresh(tagged)
    db.refresh(plain)
    assert tagged.tags == ["VIP"] and plain.tags == ["lead", "vip"]
    [event] = events_for(db, "contact", [plain.id])
    assert event.changes == {"tags": [["lead"], ["lead", "vip"]]}


def test_removing_a_tag_removes_every_spelling_and_keeps_the_order(db, people):
    c = make_contact(db, owner=people.bob, tags=["a", "VIP", "b"])
    other = make_contact(db, owner=people.bob, tags=["b"])
    assert apply(db, people.bob, "remove_tag", "vip", ids=[c.id, other.id]) == 1
    db.refresh(c)
    assert c.tags == ["a", "b"]
    assert apply(db, people.bob, "remove_tag", "a", ids=[c.id]) == 1
    assert apply(db, people.bob, "remove_tag", "b", ids=[c.id]) == 1
    db.refresh(c)
    assert c.tags == []


def test_the_whole_filtered_view_is_changed_not_just_a_page(db, people):
    hot = [make_contact(db, owner=people.bob, tags=["hot"]) for _ in range(3)]
    cold = make_contact(db, owner=people.bob, tags=["cold"])
    carols = make_contact(db, owner=people.carol, tags=["hot"])
    listq = ListQuery(filters={"tag": "hot"}, limit=1, offset=1, sort="email")
    assert (
        bulk.count_refused(
            db, actor=people.bob, entity="contact", action="delete", ids=None, listq=listq
        )
        == 1
    )
    assert apply(db, people.bob, "delete", listq=listq) == 3
    for c in [*hot, cold, carols]:
        db.refresh(c)
    assert all(c.deleted_at is not None for c in hot)
    assert cold.deleted_at is None and carols.deleted_at is None
    assert {e.action for e in events_for(db, "contact", [c.id for c in hot])} == {"delete"}


def test_search_narrows_the_whole_view(db, people):
    ada = make_contact(db, owner=people.bob, first_name="Ada", last_name="Lovelace")
    make_contact(db, owner=people.bob, first_name="Grace", last_name="Hopper")
    assert apply(db, people.alice, "add_tag", "math", listq=ListQuery(q="lovel")) == 1
    db.refresh(ada)
    assert ada.tags == ["math"]


def test_trashed_or_unknown_ids_are_left_alone(db, people):
    c = make_contact(db, owner=people.bob)
    gone = make_contact(db, owner=people.bob)
    apply(db, people.bob, "delete", ids=[gone.id])
    assert apply(db, people.bob, "add_tag", "x", ids=[c.id, gone.id, 10**9, 10**30]) == 1
    assert apply(db, people.bob, "add_tag", "x", ids=[2**40], entity="account") == 0


def test_viewer_is_refused(db, people):
    c = make_contact(db, owner=people.bob)
    with pytest.raises(Forbidden):
        apply(db, people.vic, "add_tag", "x", ids=[c.id])
    with pytest.raises(Forbidden):
        apply(db, people.vic, "delete", listq=ListQuery())


def test_companies_are_supported(db, people):
    mine = make_account(db, owner=people.bob, name="Acme")
    theirs = make_account(db, owner=people.dave, name="Globex")
    assert (
        apply(db, people.bob, "add_tag", "partner", ids=[mine.id, theirs.id], entity="account") == 1
    )
    assert db.get(Account, mine.id).tags == ["partner"]
    assert [e.entity_id for e in events_for(db, "account", [mine.id, theirs.id])] == [mine.id]


@pytest.mark.parametrize(
    ("action", "value", "ids", "field"),
    [
        ("explode", None, [1], "action"),
        ("add_tag", "  ", [1], "value"),
        ("assign_owner", "abc", [1], "value"),
        ("add_tag", "x", [], "ids"),
        ("add_tag", "x", ["one"], "ids"),
        ("add_tag", "x", list(range(1, bulk.MAX_IDS + 2)), "ids"),
        ("add_tag", "x", None, "ids"),
    ],
)
def test_bad_arguments_are_validation_errors(db, people, action, value, ids, field):
    with pytest.raises(ValidationFailed) as caught:
        apply(db, people.alice, action, value, ids=ids)
    assert caught.value.errors[0].field == field


def test_an_unknown_filter_in_the_view_is_refused(db, people):
    with pytest.raises(ValidationFailed):
        apply(db, people.alice, "delete", listq=ListQuery(filters={"colour": "red"}))
    assert db.exec(select(Contact).where(Contact.deleted_at.is_not(None))).first() is None


def test_deals_of_a_filtered_view_are_tagged_and_trashed_in_bulk(db, people):
    from crm_app.models import Deal
    from tests.factories import make_deal

    big = [make_deal(db, owner=people.bob, amount="5000") for _ in range(2)]
    small = make_deal(db, owner=people.bob, amount="10")
    carols = make_deal(db, owner=people.carol, amount="9000")
    view = ListQuery(filters={"amount_min": "1000", "status": "open"})
    assert (
        bulk.count_refused(
            db, actor=people.bob, entity="deal", action="add_tag", ids=None, listq=view
        )
        == 1
    )
    assert apply(db, people.bob, "add_tag", "Q3", listq=view, entity="deal") == 2
    assert apply(db, people.bob, "delete", ids=[d.id for d in big], entity="deal") == 2
    db.expire_all()
    assert [db.get(Deal, d.id).tags for d in big] == [["Q3"], ["Q3"]]
    assert all(db.get(Deal, d.id).deleted_at is not None for d in big)
    assert db.get(Deal, small.id).tags == [] and db.get(Deal, carols.id).tags == []
    assert len(events_for(db, "deal", [d.id for d in big])) == 4
