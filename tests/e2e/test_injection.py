"""Hostile text stored in records shows as text, never runs (issue 8, item 10): on the list
and record pages, in the timeline and in global search; and sort or filter parameters
outside the allow-list are refused by the API."""

from __future__ import annotations

import httpx
from playwright.sync_api import expect
from sqlmodel import select

from crm_app.models import User
from crm_app.services import api_key
from tests.e2e.conftest import sign_in
from tests.factories import make_account, make_contact, make_deal

SCRIPT = "<img src=x onerror=alert(1)>"
TEMPLATE = "{{7*7}}"
LINK = "javascript:alert(2)"


def _hostile_records(app_server) -> tuple[int, int, int, dict[str, str]]:
    with app_server.session() as session:
        bob = session.exec(select(User).where(User.email == app_server.rep_email)).one()
        company = make_account(session, owner=bob, name=f"Evil {SCRIPT} Corp", website=LINK)
        person = make_contact(
            session,
            owner=bob,
            first_name=SCRIPT,
            last_name=TEMPLATE,
            title="'; DROP TABLE contacts; --",
            account_id=company.id,
        )
        deal = make_deal(session, owner=bob, name=f"Deal {TEMPLATE} {SCRIPT}")
        key = api_key.create_key(session, actor=bob, name="injection test")
        session.commit()
        return person.id, company.id, deal.id, {"Authorization": f"Bearer {key.plaintext}"}


def test_hostile_text_is_shown_as_text_and_never_runs(new_page, app_server):
    contact_id, account_id, deal_id, headers = _hostile_records(app_server)
    page = new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, app_server.rep_email)
    expect(page.get_by_role("heading", name="Welcome, Bob Rep")).to_be_visible()

    page.goto(f"/contacts/{contact_id}")
    expect(page.get_by_role("heading", name=f"{SCRIPT} {TEMPLATE}")).to_be_visible()
    expect(page.get_by_text("'; DROP TABLE contacts; --").first).to_be_visible()
    assert page.locator("img[src='x']").count() == 0

    page.goto(f"/accounts/{account_id}")
    expect(page.get_by_role("heading", name=f"Evil {SCRIPT} Corp")).to_be_visible()
    # a javascript: website shows as text, never as a link
    expect(page.get_by_text(LINK)).to_be_visible()
    assert page.locator("a[href^='javascript:']").count() == 0

    page.goto(f"/deals/{deal_id}")
    expect(page.get_by_role("heading", name=f"Deal {TEMPLATE} {SCRIPT}")).to_be_visible()
    expect(page.get_by_text("Deal 49")).to_have_count(0)

    page.goto("/contacts?q=drop")
    expect(page.get_by_role("table", name="Contacts")).to_contain_text(SCRIPT)

    page.get_by_role("searchbox", name="Search", exact=True).fill("Evil")
    results = page.get_by_role("listbox", name="Search results")
    expect(results.get_by_role("option", name=f"Evil {SCRIPT} Corp")).to_be_visible()

    page.wait_for_timeout(500)  # any handler that would fire has fired
    assert dialogs == []
    assert page.locator("img[src='x']").count() == 0

    # sort and filter parameters outside the allow-list are refused, not run
    for params in (
        {"sort": "first_name;DROP TABLE contacts"},
        {"sort": "(select 1)"},
        {"owner_id": "1 OR 1=1"},
        {"lifecycle_stage": "lead' OR '1'='1"},
    ):
        response = httpx.get(
            f"{app_server.base_url}/api/v1/contacts", params=params, headers=headers
        )
        assert response.status_code in (400, 422), (params, response.status_code)
        assert response.headers["content-type"] == "application/problem+json"
