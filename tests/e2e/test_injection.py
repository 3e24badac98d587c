"""Hostile text stored in records shows as text, never runs (issue 8, item 10): in every
free-text column of contacts, companies, leads, deals and activities, a custom field and a
note's HTML, on the list and record pages, the board, the timeline and global search; and
sort or filter parameters outside the allow-list are refused by the API."""

from __future__ import annotations

from decimal import Decimal
from enum import Enum
from typing import get_args

import httpx
from playwright.sync_api import expect
from sqlalchemy import ARRAY, String
from sqlmodel import AutoString, select

from crm_app.models import Account, Activity, Contact, Deal, Lead, Stage, User
from crm_app.models.base import utcnow
from crm_app.services import api_key, custom_field
from tests.e2e.conftest import sign_in
from tests.factories import make_account, make_contact, make_deal, make_user

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


# A script that says so when it runs, kept short enough for most columns once cut to length.
PWN = '<img src=x onerror="window.__pwned=1">'
TEXT = f"{PWN}{TEMPLATE}"
BODY = (
    "<p>Call notes</p>"
    '<img src=x onerror="window.__pwned=2">'
    "<script>window.__pwned=3</script>"
    '<a href="javascript:window.__pwned=4">details</a>'
)
# Columns that hold a code the app looks up, not free text.
CODED = {"currency"}


def _text_columns(model) -> dict[str, int | None]:
    """Every free-text column of a table, name -> its length limit (None: unlimited, -1: an
    array of strings): strings that are not an enumeration's code, and arrays of them."""
    found: dict[str, int | None] = {}
    for name, column in model.__table__.columns.items():
        annotation = model.model_fields[name].annotation if name in model.model_fields else None
        coded = any(
            isinstance(a, type) and issubclass(a, Enum) for a in (annotation, *get_args(annotation))
        )
        if name in CODED or coded or column.computed is not None:
            continue
        if isinstance(column.type, ARRAY) and isinstance(column.type.item_type, String):
            found[name] = -1
        elif isinstance(column.type, String | AutoString):
            found[name] = getattr(column.type, "length", None)
    return found


def _hostile(model, **fields):
    values = {}
    for name, length in _text_columns(model).items():
        values[name] = [TEXT] if length == -1 else TEXT[:length] if length else TEXT
    return model(**{**values, **fields})


def test_every_text_field_of_every_kind_of_record_shows_as_text(new_page, app_server):
    """Hostile text in every free-text column (set directly, as a bulk load could), a custom
    field and a note's HTML: no page runs it, nor links to `javascript:`."""
    with app_server.session() as session:
        alice = session.exec(select(User).where(User.email == app_server.admin_email)).one()
        ivan = make_user(session, name="Ivan Injection", email="ivan@example.com")
        note = custom_field.create_field(
            session, actor=alice, entity="contact", label="Hostile note", field_type="text"
        )
        stage = session.exec(select(Stage).order_by(Stage.id)).first()
        account = _hostile(Account, owner_id=ivan.id, website=LINK, domain=LINK)
        session.add(account)
        session.flush()
        contact = _hostile(
            Contact, owner_id=ivan.id, account_id=account.id, custom={note.key: TEXT}
        )
        lead = _hostile(Lead, owner_id=ivan.id)
        deal = _hostile(
            Deal,
            owner_id=ivan.id,
            pipeline_id=stage.pipeline_id,
            stage_id=stage.id,
            account_id=account.id,
            amount=Decimal("10"),
            currency="USD",
        )
        session.add_all([contact, lead, deal])
        session.flush()
        call = _hostile(
            Activity,
            kind="call",
            owner_id=ivan.id,
            deal_id=deal.id,
            contact_id=contact.id,
            body=BODY,
            done_at=utcnow(),
            created_by=ivan.id,
        )
        task = _hostile(
            Activity,
            kind="task",
            owner_id=ivan.id,
            deal_id=deal.id,
            due_at=utcnow(),
            created_by=ivan.id,
        )
        session.add_all([call, task])
        session.commit()
        made = [call, task, deal, lead, contact, account, note]
    try:
        page = new_page(width=1400, height=1000)
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        sign_in(page, "ivan@example.com")
        expect(page.get_by_role("heading", name="Welcome, Ivan Injection")).to_be_visible(
            timeout=20_000
        )
        for path in (
            f"/contacts/{contact.id}",
            f"/accounts/{account.id}",
            f"/leads/{lead.id}",
            f"/deals/{deal.id}",
            "/contacts",
            "/accounts",
            "/leads",
            "/deals/list",
            "/deals",
            "/activities",
        ):
            page.goto(path)
            expect(page.get_by_text("onerror=").first).to_be_visible()
            expect(page.get_by_text(TEMPLATE).first).to_be_visible()  # not evaluated to 49
            if path == f"/deals/{deal.id}":
                expect(page.get_by_text("Call notes")).to_be_visible()  # the note, cleaned
            page.wait_for_timeout(300)  # an image's onerror fires once its load fails
            assert page.evaluate("window.__pwned") is None, path
            assert page.locator("[onerror]").count() == 0, path
            assert page.locator("a[href^='javascript:' i]").count() == 0, path
        assert dialogs == []
    finally:
        with app_server.session() as session:
            for record in made:
                session.delete(session.merge(record))
            session.commit()
