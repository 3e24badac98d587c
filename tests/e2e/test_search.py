"""The global search box in the top bar."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlmodel import select

from crm_app.models import User
from tests.e2e.conftest import sign_in
from tests.factories import make_account, make_contact


def test_search_finds_a_contact_and_opens_it(new_page, app_server):
    with app_server.session() as session:
        bob = session.exec(select(User).where(User.email == app_server.rep_email)).one()
        acme = make_account(session, owner=bob, name="Zylophone Industries", domain="zylo.example")
        make_contact(
            session,
            owner=bob,
            first_name="Quintus",
            last_name="Zylo",
            email="quintus@zylo.example",
            account_id=acme.id,
        )
        session.commit()
    page = new_page()
    sign_in(page, app_server.viewer_email)
    expect(page.get_by_role("heading", name="Welcome, Vic Viewer")).to_be_visible()
    page.get_by_role("searchbox", name="Search").fill("zylo")
    results = page.get_by_role("listbox", name="Search results")
    expect(results.get_by_role("option")).to_have_count(2)
    results.get_by_role("option", name=re.compile("Quintus Zylo")).click()
    expect(page).to_have_url(re.compile(r"/contacts/\d+/?$"))
    expect(page.get_by_role("heading", name="Quintus Zylo")).to_be_visible()
    expect(page.get_by_text("Zylophone Industries")).to_be_visible()
    expect(results).to_have_count(0)
