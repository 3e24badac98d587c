"""Merging two duplicate contacts in the browser."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlmodel import select

from crm_app.models import Contact, User
from tests.e2e.conftest import sign_in
from tests.factories import make_contact


def test_merge_two_duplicates_choosing_values(new_page, app_server):
    with app_server.session() as session:
        bob = session.exec(select(User).where(User.email == app_server.rep_email)).one()
        keep = make_contact(
            session,
            owner=bob,
            first_name="Marta",
            last_name="Dup",
            email="marta@dup.example",
            title=None,
        )
        other = make_contact(
            session,
            owner=bob,
            first_name="Martha",
            last_name="Duplicate",
            email="martha@dup.example",
            title="Buyer",
        )
        session.commit()
        keep_id, other_id = keep.id, other.id
    page = new_page()
    sign_in(page, app_server.rep_email)
    expect(page.get_by_role("heading", name="Welcome, Bob Rep")).to_be_visible()
    # Pick the two in the list, then "Merge the two".
    page.goto("/contacts")
    page.get_by_label("Search contacts").fill("dup.example")
    table = page.get_by_role("table", name="Contacts")
    expect(table.get_by_role("rowheader")).to_have_count(2)
    page.get_by_role("checkbox", name="Select Marta Dup").click()
    page.get_by_role("checkbox", name="Select Martha Duplicate").click()
    page.get_by_role("button", name="Merge the two").click()
    expect(page).to_have_url(re.compile(r"/contacts/merge\?a=\d+&b=\d+"))
    if f"a={other_id}" in page.url:
        page.get_by_role("button", name="Keep the other record instead").click()
    table = page.get_by_role("table", name="Fields to merge")
    expect(table.get_by_role("row", name=re.compile("Last name"))).to_be_visible()
    take = table.get_by_role("radio", name="Last name: take Duplicate")
    take.click()
    expect(take).to_be_checked()
    page.get_by_role("button", name="Merge", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/contacts/{keep_id}/?$"))
    expect(page.get_by_role("heading", name="Marta Duplicate")).to_be_visible()
    with app_server.session() as session:
        merged = session.get(Contact, keep_id)
        assert (merged.last_name, merged.title) == ("Duplicate", "Buyer")
        assert "martha@dup.example" in merged.additional_emails
        assert session.get(Contact, other_id).deleted_at is not None
