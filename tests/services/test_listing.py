"""Keyset paging over sort columns with NULLs, in both directions."""

from __future__ import annotations

import pytest

from crm_app.services import contact as contacts
from crm_app.services.errors import ValidationFailed
from crm_app.services.listing import ListQuery
from tests.factories import make_contact


@pytest.mark.parametrize("sort", ["title", "-title", "first_name,-title", "-updated_at", "company"])
def test_walking_every_page_by_cursor_visits_each_row_once_in_order(db, people, sort):
    titles = [None, "CEO", "CTO", None, "CEO", "VP", None, "Buyer", "CEO", None, "VP"]
    made = {
        make_contact(db, owner=people.bob, first_name=f"P{i % 3}", title=t).id
        for i, t in enumerate(titles)
    }
    full = contacts.list_contacts(db, actor=people.alice, listq=ListQuery(sort=sort, limit=200))
    expected = [r.contact.id for r in full.rows if r.contact.id in made]
    seen, cursor = [], None
    while True:
        page = contacts.list_contacts(
            db, actor=people.alice, listq=ListQuery(sort=sort, limit=3, cursor=cursor)
        )
        seen += [r.contact.id for r in page.rows if r.contact.id in made]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == expected
    assert len(seen) == len(made)


def test_offset_pages_agree_with_the_cursor(db, people):
    for i in range(7):
        make_contact(db, owner=people.bob, first_name=f"Q{i}")
    second = contacts.list_contacts(
        db, actor=people.alice, listq=ListQuery(sort="first_name", limit=3, offset=3)
    )
    first = contacts.list_contacts(
        db, actor=people.alice, listq=ListQuery(sort="first_name", limit=3)
    )
    by_cursor = contacts.list_contacts(
        db,
        actor=people.alice,
        listq=ListQuery(sort="first_name", limit=3, cursor=first.next_cursor),
    )
    assert [r.contact.id for r in second.rows] == [r.contact.id for r in by_cursor.rows]


def test_a_forged_cursor_is_a_validation_error(db, people):
    with pytest.raises(ValidationFailed):
        contacts.list_contacts(db, actor=people.alice, listq=ListQuery(cursor="bm9wZQ"))
