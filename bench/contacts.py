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


# Both Chromium scenarios time inside the page (performance.now()): from the start of the
# navigation, or from the click event, to the frame that paints the new first row. Timing
# from Playwright's side would add its own round trips to the browser (about 30-60 ms for a
# click, which checks the target is visible, stable and enabled first) to what a user sees.

_FIRST_ROW_SHOWN = """
window.__firstRowShown = new Promise((resolve) => {
    const shown = () => {
        const cell = document.querySelector('table tbody th');
        if (!cell || !cell.innerText.trim()) return false;
        requestAnimationFrame(() => resolve(performance.now()));
        return true;
    };
    if (shown()) return;
    const observer = new MutationObserver(() => { if (shown()) observer.disconnect(); });
    observer.observe(document, { subtree: true, childList: true, characterData: true });
});
"""

_NEXT_ROWS_SHOWN = """() => {
    const table = document.querySelector('table');
    const before = table.querySelector('tbody th').innerText;
    window.__rowsChanged = new Promise((resolve) => {
        let clickedAt = null;
        document.addEventListener('click', (e) => { clickedAt = e.timeStamp; },
                                  { capture: true, once: true });
        const observer = new MutationObserver(() => {
            const cell = table.querySelector('tbody th');
            if (clickedAt === null || !cell || cell.innerText === before) return;
            observer.disconnect();
            requestAnimationFrame(() => resolve(performance.now() - clickedAt));
        });
        observer.observe(table, { subtree: true, childList: true, characterData: true });
    });
}"""


def contacts_page_first_rows(ctx) -> Measure:
    """Chromium: opening /contacts (signed in) until the frame that shows the first row,
    timed from the start of the navigation."""
    context = _signed_in_context(ctx)

    def measure() -> float:
        page = context.new_page()
        try:
            page.add_init_script(_FIRST_ROW_SHOWN)
            page.goto(f"{ctx.base_url}/contacts", wait_until="commit")
            # Await the page's own promise first: Playwright's role locators poll the page and
            # would slow the very main thread being timed.
            shown = page.evaluate("() => window.__firstRowShown")
            _first_row_name(page)
            return shown / 1000
        finally:
            page.close()

    return measure


def contacts_sort_change(ctx) -> Measure:
    """Chromium: from the click on a column header of /contacts to the frame that shows the
    re-sorted first row."""
    context = _signed_in_context(ctx)
    page = context.new_page()
    ctx.stack.callback(page.close)
    page.goto(f"{ctx.base_url}/contacts")
    _first_row_name(page)
    table = page.get_by_role("table", name="Contacts")
    header = table.get_by_role("columnheader", name="Name").get_by_role("button")

    def measure() -> float:
        page.evaluate(_NEXT_ROWS_SHOWN)
        header.click()
        return page.evaluate("() => window.__rowsChanged") / 1000

    return measure
