"""Notifications: each user sees, counts and marks only their own."""

from __future__ import annotations

from sqlmodel import select

from crm_app import routes
from crm_app.models import Notification, User
from crm_app.services import bulk, contact, deal, lead, lead_assignment, notification
from tests.factories import make_contact


def _tell(db, user, title: str, link: str | None = None) -> Notification:
    item = Notification(user_id=user.id, kind="assigned", title=title, link=link)
    db.add(item)
    db.flush()
    return item


def test_unread_count_and_list_are_the_users_own_newest_first(db, people):
    first = _tell(db, people.bob, "Lead A assigned")
    second = _tell(db, people.bob, "Lead B assigned")
    _tell(db, people.carol, "Not Bob's")
    assert notification.unread_count(db, actor=people.bob) == 2
    listed = notification.list_notifications(db, actor=people.bob)
    assert [n.id for n in listed] == [second.id, first.id]


def test_opening_one_marks_it_read_and_gives_its_link(db, people):
    item = _tell(db, people.bob, "Lead A assigned", "/leads/7")
    _tell(db, people.bob, "Lead B assigned")
    assert notification.mark_read(db, actor=people.bob, notification_id=item.id) == "/leads/7"
    assert notification.unread_count(db, actor=people.bob) == 1
    notification.mark_read(db, actor=people.bob)
    assert notification.unread_count(db, actor=people.bob) == 0


def test_someone_elses_notification_is_left_alone(db, people):
    carols = _tell(db, people.carol, "For Carol", "/leads/9")
    assert notification.mark_read(db, actor=people.bob, notification_id=carols.id) is None
    assert notification.unread_count(db, actor=people.carol) == 1


# ---- telling people what was given to them -------------------------------------------------


def _titles(db, user) -> list[str]:
    rows = db.exec(select(Notification).where(Notification.user_id == user.id)).all()
    return [(n.title, n.link) for n in rows]


def test_a_record_given_to_someone_else_tells_them_and_links_to_it(db, people):
    ada = make_contact(db, owner=people.mona, first_name="Ada", last_name="Byron")
    contact.update_contact(
        db, actor=people.mona, contact_id=ada.id, data={"owner_id": people.bob.id}
    )
    assert _titles(db, people.bob) == [
        ("Mona Manager gave you the contact Ada Byron", routes.contact_detail(ada.id))
    ]
    # taking it back yourself tells no one
    contact.update_contact(
        db, actor=people.bob, contact_id=ada.id, data={"owner_id": people.bob.id}
    )
    assert len(_titles(db, people.bob)) == 1


def test_a_deal_created_for_a_rep_tells_them_but_ones_own_does_not(db, people):
    atlas = deal.create_deal(
        db, actor=people.mona, data={"name": "Atlas", "owner_id": people.bob.id}
    )
    deal.create_deal(db, actor=people.bob, data={"name": "Mine"})
    assert _titles(db, people.bob) == [
        ("Mona Manager gave you the deal Atlas", routes.deal_detail(atlas.id))
    ]


def test_a_bulk_change_of_owner_is_one_notice(db, people):
    rows = [make_contact(db, owner=people.mona) for _ in range(3)]
    changed = bulk.bulk_apply(
        db,
        actor=people.mona,
        entity="contact",
        action="assign_owner",
        value=people.bob.id,
        ids=[c.id for c in rows],
        listq=None,
    )
    assert changed == 3
    assert _titles(db, people.bob) == [("Mona Manager gave you 3 contacts", routes.CONTACTS)]


def test_a_round_robin_lead_tells_its_rep_once(db, people):
    lead_assignment.set_assignment_team(db, actor=people.alice, team_id=people.east.id)
    made = lead.create_lead(db, actor=people.alice, data={"first_name": "Rob", "owner_id": None})
    rep = db.get(User, made.owner_id)
    assert len(_titles(db, rep)) == 1
