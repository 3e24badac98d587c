"""Deals outside the board: create one from the form, work on its page, and the list with its
totals and CSV export."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

from playwright.sync_api import expect
from sqlmodel import select

from crm_app.models import Deal, Stage, User
from tests.e2e.conftest import sign_in
from tests.factories import make_deal

DEAL_URL = re.compile(r"/deals/(\d+)/?$")


def _stored(app_server, deal_id: int) -> tuple[Decimal | None, str]:
    with app_server.session() as session:
        deal = session.get(Deal, deal_id)
        return deal.amount, session.get(Stage, deal.stage_id).name


def test_rep_creates_a_deal_edits_its_amount_in_place_and_moves_it_through_stages(
    new_page, app_server
):
    page = new_page()
    sign_in(page, app_server.rep_email)
    expect(page.get_by_role("heading", name="Welcome, Bob Rep")).to_be_visible()

    page.goto("/deals/new")
    page.get_by_label("Amount").fill("1500.999")
    page.get_by_role("button", name="Create deal").click()
    expect(page.get_by_role("alert").filter(has_text="Enter a name.")).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text="at most 2 decimals")).to_be_visible()
    page.get_by_label("Name").fill("Atlas Rollout")
    page.get_by_label("Amount").fill("1500")
    page.get_by_role("button", name="Create deal").click()
    expect(page).to_have_url(DEAL_URL)
    deal_id = int(DEAL_URL.search(page.url).group(1))
    expect(page.get_by_role("heading", name="Atlas Rollout")).to_be_visible()
    details = page.get_by_role("region", name="Details")
    expect(details.get_by_text("1,500.00 USD")).to_be_visible()

    # The amount, edited in place: Enter saves; the weighted amount and timeline follow.
    page.get_by_role("button", name="Edit Amount").click()
    page.get_by_label("Amount", exact=True).fill("2500")
    page.get_by_label("Amount", exact=True).press("Enter")
    expect(details.get_by_text("2,500.00 USD")).to_be_visible()
    expect(page.get_by_text("Weighted 250.00 USD")).to_be_visible()
    timeline = page.get_by_role("region", name="Timeline")
    expect(timeline.get_by_text("Amount: 1500.00 → 2500.00")).to_be_visible()
    assert _stored(app_server, deal_id) == (Decimal("2500.00"), "Qualification")

    # A move to the next stage shows in the stage history, with the time spent in each.
    stages = page.get_by_role("navigation", name="Stages")
    stages.get_by_role("button", name="Discovery").click()
    history = page.get_by_role("table", name="Stage history")
    expect(history.get_by_role("rowheader")).to_have_text(["Discovery", "Qualification"])
    expect(history.get_by_role("row").nth(1)).to_contain_text("Now")
    expect(stages.get_by_role("button", name="Discovery")).to_have_attribute("aria-current", "step")
    assert _stored(app_server, deal_id)[1] == "Discovery"

    # Won asks first; cancelling keeps the deal where it is.
    stages.get_by_role("button", name="Won").click()
    confirm = page.get_by_role("alertdialog", name="Mark this deal as won?")
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_be_hidden()
    assert _stored(app_server, deal_id)[1] == "Discovery"
    stages.get_by_role("button", name="Won").click()
    confirm.get_by_role("button", name="Mark as won").click()
    expect(history.get_by_role("rowheader")).to_have_text(["Won", "Discovery", "Qualification"])
    expect(page.get_by_text("Won", exact=True).first).to_be_visible()
    assert _stored(app_server, deal_id)[1] == "Won"


def test_the_list_shows_the_totals_of_its_view_and_exports_it_as_csv(new_page, app_server):
    with app_server.session() as session:
        bob = session.exec(select(User).where(User.email == app_server.rep_email)).one()
        make_deal(session, owner=bob, name="Zephyr Alpha", amount="1000")
        make_deal(session, owner=bob, name="Zephyr Beta", amount="3000")
        session.commit()
    page = new_page()
    sign_in(page, app_server.admin_email)
    expect(page.get_by_role("heading", name="Welcome, Alice Admin")).to_be_visible()
    page.goto("/deals/list")
    expect(page.get_by_role("heading", name="All deals")).to_be_visible()

    page.get_by_label("Search deals").fill("zephyr")
    table = page.get_by_role("table", name="Deals")
    expect(table.get_by_role("rowheader")).to_have_count(2)
    totals = page.get_by_role("region", name="Totals")
    expect(totals).to_contain_text("Deals2")
    expect(totals).to_contain_text("4,000.00 USD")
    expect(totals).to_contain_text("400.00 USD")

    page.get_by_role("button", name="Filters", exact=True).click()
    page.get_by_label("Amount from").fill("2000")
    expect(table.get_by_role("rowheader")).to_have_text(["Zephyr Beta"])
    expect(totals).to_contain_text("3,000.00 USD")

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    assert download.value.suggested_filename.startswith("deals-")
    rows = list(csv.reader(io.StringIO(download.value.path().read_bytes().decode("utf-8-sig"))))
    assert rows[0] == [
        "Name",
        "Company",
        "Stage",
        "Amount",
        "Currency",
        "Weighted amount",
        "Expected close",
        "Owner",
    ]
    assert rows[1:] == [
        ["Zephyr Beta", "", "Qualification", "3000.00", "USD", "300.00", "", "Bob Rep"]
    ]
