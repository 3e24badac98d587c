"""Scenarios for contacts and companies (issue 3): the REST list, keyset paging, search."""

from __future__ import annotations

import httpx

from bench.harness import Measure, timed


def _client(ctx) -> httpx.Client:
    client = ctx.stack.enter_context(httpx.Client(base_url=ctx.base_url, timeout=60))
    client.headers["Authorization"] = f"Bearer {ctx.api_key}"
    return client


def _get(client: httpx.Client, path: str, **params) -> dict:
    response = client.get(path, params=params)
    if response.status_code != 200:
        raise AssertionError(f"{path} answered {response.status_code}: {response.text[:200]}")
    return response.json()


def contacts_first_page(ctx) -> Measure:
    """GET /api/v1/contacts: the first page of 50."""
    client = _client(ctx)
    return timed(lambda: _get(client, "/api/v1/contacts", limit=50))


def contacts_page_1000(ctx) -> Measure:
    """The 1,000th page of 50 by cursor (keyset, not OFFSET); the walk there is not timed."""
    client = _client(ctx)
    cursor = None
    for _ in range(999):
        cursor = _get(
            client, "/api/v1/contacts", limit=50, **({"cursor": cursor} if cursor else {})
        )["next_cursor"]
        if cursor is None:
            raise AssertionError("fewer than 1,000 pages of contacts: is the 100k data set there?")
    return timed(lambda: _get(client, "/api/v1/contacts", limit=50, cursor=cursor))


def contacts_search(ctx) -> Measure:
    """GET /api/v1/contacts?q=smi: prefix full-text search."""
    client = _client(ctx)
    return timed(lambda: _get(client, "/api/v1/contacts", q="smi", limit=50))


def contact_detail_server_side(ctx) -> Measure:
    """A contact's page data in-process: the contact, its company, deals, activities and the
    first timeline page, as the page's on_load fetches them (one transaction, rolled back)."""
    from sqlalchemy import func
    from sqlmodel import Session, select

    from crm_app.db import get_engine
    from crm_app.models import Account, Activity, Contact, User
    from crm_app.services import contact as contacts
    from crm_app.services import related, timeline

    engine = get_engine()
    with Session(engine) as session:
        actor = session.exec(select(User).where(User.email == ctx.email)).one()
        # A contact with a company and some history, found once.
        contact_id = session.exec(
            select(Activity.contact_id)
            .join(Contact, Contact.id == Activity.contact_id)
            .where(Contact.account_id.is_not(None), Contact.deleted_at.is_(None))
            .group_by(Activity.contact_id)
            .order_by(func.count().desc())
            .limit(1)
        ).one()

    def once() -> None:
        with Session(engine, expire_on_commit=False) as session:
            contact = contacts.get_contact(session, actor=actor, contact_id=contact_id)
            session.get(Account, contact.account_id)
            related.contact_deals(session, actor=actor, contact_id=contact_id)
            related.activities(session, actor=actor, entity="contact", record_id=contact_id)
            timeline.timeline(session, actor=actor, entity="contact", record_id=contact_id)
            session.rollback()

    return timed(once)


def _signed_in_context(ctx):
    from bench import browser as chromium

    context = chromium.new_context(ctx.browser(), ctx.base_url)
    ctx.stack.callback(context.close)
    page = context.new_page()
    chromium.fill_sign_in(page, ctx.email, ctx.password)
    chromium.submit_sign_in(page, ctx.base_url)
    page.close()
    return context


def _first_row_name(page) -> str:
    table = page.get_by_role("table", name="Contacts")
    first = table.get_by_role("rowheader").first
    first.wait_for(state="visible")
    return first.inner_text()


def contacts_page_first_rows(ctx) -> Measure:
    """Chromium: opening /contacts (signed in) until the first row of the table shows."""
    import time

    context = _signed_in_context(ctx)

    def measure() -> float:
        page = context.new_page()
        try:
            started = time.perf_counter()
            page.goto(f"{ctx.base_url}/contacts")
            _first_row_name(page)
            return time.perf_counter() - started
        finally:
            page.close()

    return measure


def contacts_sort_change(ctx) -> Measure:
    """Chromium: clicking a column header on /contacts until the first row changes."""
    import time

    context = _signed_in_context(ctx)
    page = context.new_page()
    ctx.stack.callback(page.close)
    page.goto(f"{ctx.base_url}/contacts")
    _first_row_name(page)
    table = page.get_by_role("table", name="Contacts")
    header = table.get_by_role("columnheader", name="Name").get_by_role("button")

    def measure() -> float:
        before = _first_row_name(page)
        started = time.perf_counter()
        header.click()
        page.wait_for_function(
            """(before) => {
                const cell = document.querySelector('table tbody th');
                return cell && cell.innerText !== before;
            }""",
            arg=before,
        )
        return time.perf_counter() - started

    return measure
