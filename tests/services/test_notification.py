"""Notifications: each user sees, counts and marks only their own."""

from __future__ import annotations

from crm_app.models import Notification
from crm_app.services import notification


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
