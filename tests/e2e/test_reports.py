"""The reports page as an admin uses it: pick a report, sort it by a column, change the range,
and download it as CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, time, timedelta

from playwright.sync_api import expect
from sqlmodel import select

from crm_app.models import User
from crm_app.models.base import utcnow
from tests.e2e.conftest import sign_in
from tests.factories import make_deal_at, stages_of_default_pipeline

# reasons of their own, so other tests' deals in the same database do not get in the way
PRICE, TIMING = "E2E reports: price", "E2E reports: timing"


def _lost_last_month(app_server) -> None:
    """Three deals Bob lost around the 18th of last month: two for PRICE, one for TIMING."""
    day = utcnow().date().replace(day=1) - timedelta(days=10)
    closed = datetime.combine(day, time(12), tzinfo=UTC)
    with app_server.session() as session:
        bob = session.exec(select(User).where(User.email == app_server.rep_email)).one()
        lost = stages_of_default_pipeline(session)["Lost"]
        for reason, amount in ((PRICE, "1000"), (PRICE, "500"), (TIMING, "250")):
            make_deal_at(
                session,
                owner=bob,
                stage=lost,
                created=closed - timedelta(days=30),
                closed=closed,
                amount=amount,
                lost_reason=reason,
            )
        session.commit()


def _reasons(table) -> list[str]:
    cells = table.locator("tbody th").all_inner_texts()
    return [cell for cell in cells if cell in (PRICE, TIMING)]


def test_an_admin_picks_a_report_sorts_it_changes_the_range_and_downloads_it(new_page, app_server):
    _lost_last_month(app_server)
    page = new_page()
    sign_in(page, app_server.admin_email)
    expect(page.get_by_role("heading", name="Welcome, Alice Admin")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    expect(page.get_by_role("tab", name="Won and lost by owner")).to_have_attribute(
        "aria-selected", "true"
    )
    # A range with nothing in it (other tests close deals this month): the page says so, no
    # table of zeros.
    page.get_by_label("Range", exact=True).click()
    page.get_by_role("option", name="Custom").click()
    page.get_by_label("From", exact=True).fill("2001-01-01")
    page.get_by_label("To", exact=True).fill("2001-01-31")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("No deals closed in this range.")).to_be_visible()
    table = page.get_by_role("table")
    expect(table).to_have_count(0)

    # Another report: the address names it, so it can be linked.
    page.get_by_role("tab", name="Lost reasons").click()
    expect(page.get_by_role("heading", name="Lost reasons", level=2)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/reports\?report=lost-reasons$"))
    expect(page.get_by_text("No deals were lost in this range.")).to_be_visible()

    # Last month: the deals lost then.
    page.get_by_label("Range", exact=True).click()
    page.get_by_role("option", name="Last month").click()
    expect(table.get_by_role("rowheader", name=PRICE)).to_be_visible()
    expect(table.get_by_role("row", name=TIMING)).to_contain_text("250.00 USD")

    # A heading sorts: ascending, then descending.
    deals = table.get_by_role("columnheader", name="Deals")
    deals.get_by_role("button").click()
    expect(deals).to_have_attribute("aria-sort", "ascending")
    assert _reasons(table) == [TIMING, PRICE]
    deals.get_by_role("button").click()
    expect(deals).to_have_attribute("aria-sort", "descending")
    assert _reasons(table) == [PRICE, TIMING]

    # The CSV holds the rows shown, in their order.
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    assert download.value.suggested_filename.startswith("lost-reasons-")
    text = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Reason", "Deals", "Amount (USD)", "Share"]
    found = [row for row in rows if row[0] in (PRICE, TIMING)]
    assert [row[:3] for row in found] == [[PRICE, "2", "1500.00"], [TIMING, "1", "250.00"]]
