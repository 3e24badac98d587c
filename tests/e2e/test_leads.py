"""Leads in the browser: create one, find it in the list, edit it in place, convert it with a
deal and land on the deal's page."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlmodel import select

from crm_app.models import Deal, Lead
from tests.e2e.conftest import sign_in

LEAD_URL = re.compile(r"/leads/(\d+)/?$")
DEAL_URL = re.compile(r"/deals/(\d+)/?$")


def test_rep_creates_edits_and_converts_a_lead_into_a_deal(new_page, app_server):
    page = new_page()
    sign_in(page, app_server.rep_email)
    expect(page.get_by_role("heading", name="Welcome, Bob Rep")).to_be_visible()

    page.goto("/leads/new")
    page.get_by_label("First name").fill("Hedy")
    page.get_by_label("Last name").fill("Lamarr")
    page.get_by_label("E-mail").fill("Hedy@Spread-Spectrum.example")
    page.get_by_label("Company", exact=True).fill("Spread Spectrum")
    page.get_by_role("button", name="Create lead").click()
    expect(page).to_have_url(LEAD_URL)
    lead_id = int(LEAD_URL.search(page.url).group(1))
    expect(page.get_by_role("heading", name="Hedy Lamarr")).to_be_visible()
    expect(page.get_by_role("link", name="hedy@spread-spectrum.example")).to_be_visible()

    # Edited in place: Enter saves, and the change shows in the timeline.
    page.get_by_role("button", name="Edit Title").click()
    page.get_by_label("Title", exact=True).fill("Inventor")
    page.get_by_label("Title", exact=True).press("Enter")
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    details = page.get_by_role("region", name="Details")
    expect(details.get_by_text("Inventor")).to_be_visible()
    timeline = page.get_by_role("region", name="Timeline")
    expect(timeline.get_by_text("Title: — → Inventor")).to_be_visible()

    # The list finds it.
    page.goto("/leads")
    page.get_by_label("Search leads").fill("Lamarr")
    table = page.get_by_role("table", name="Leads")
    expect(table.get_by_role("rowheader")).to_have_count(1)
    table.get_by_role("link", name="Hedy Lamarr").click()
    expect(page.get_by_role("heading", name="Hedy Lamarr")).to_be_visible()

    # Convert with a deal: the new deal's page opens.
    page.get_by_role("button", name="Convert").click()
    dialog = page.get_by_role("dialog", name="Convert Hedy Lamarr")
    expect(dialog.get_by_text("Create a new company Spread Spectrum")).to_be_visible()
    dialog.get_by_role("checkbox", name="Create a deal").click()
    dialog.get_by_label("Deal name").fill("Frequency hopping licence")
    dialog.get_by_label("Amount").fill("25000")
    dialog.get_by_role("button", name="Convert lead").click()
    expect(page).to_have_url(DEAL_URL)
    expect(page.get_by_role("heading", name="Frequency hopping licence")).to_be_visible()

    with app_server.session() as session:
        lead = session.get(Lead, lead_id)
        deal = session.exec(select(Deal).where(Deal.id == lead.converted_deal_id)).one()
        assert lead.status == "converted"
        assert (deal.name, str(deal.amount)) == ("Frequency hopping licence", "25000.00")
        assert int(DEAL_URL.search(page.url).group(1)) == deal.id

    # The converted lead links to what it became and offers no Convert any more.
    page.goto(f"/leads/{lead_id}")
    converted = page.get_by_role("region", name="Converted")
    expect(converted.get_by_role("link", name="Frequency hopping licence")).to_be_visible()
    expect(converted.get_by_role("link", name="Spread Spectrum")).to_be_visible()
    expect(page.get_by_role("button", name="Convert")).to_have_count(0)


def test_admin_manages_sources_scoring_rules_and_the_assignment_team(new_page, app_server):
    page = new_page()
    sign_in(page, app_server.admin_email)
    expect(page.get_by_role("heading", name="Welcome, Alice Admin")).to_be_visible()
    page.goto("/settings/leads")

    page.get_by_label("New source").fill("Trade fair")
    page.get_by_role("button", name="Add source").click()
    sources = page.get_by_role("table", name="Lead sources").get_by_role("rowheader")
    expect(sources.last).to_have_text("Trade fair")
    page.get_by_role("button", name="Move Trade fair up").click()
    expect(sources.last).not_to_have_text("Trade fair")
    page.get_by_role("button", name="Rename Trade fair").click()
    page.get_by_label("New name of Trade fair").fill("Trade show")
    page.get_by_label("New name of Trade fair").press("Enter")
    page.get_by_role("button", name="Deactivate Trade show").click()
    expect(page.get_by_role("button", name="Activate Trade show")).to_be_visible()

    page.get_by_role("button", name="Add rule").click()
    dialog = page.get_by_role("dialog", name="Add a scoring rule")
    dialog.get_by_label("Name").fill("Busy leads")
    dialog.get_by_label("Condition").click()
    page.get_by_role("option", name="Activities in the last days").click()
    dialog.get_by_label("In the last (days)").fill("7")
    dialog.get_by_label("At least (activities)").fill("2")
    dialog.get_by_label("Points").fill("500")
    dialog.get_by_role("button", name="Save rule").click()
    expect(dialog.get_by_role("alert")).to_contain_text("-100 to 100")
    dialog.get_by_label("Points").fill("15")
    dialog.get_by_role("button", name="Save rule").click()
    rules = page.get_by_role("table", name="Scoring rules")
    expect(
        rules.get_by_role("cell", name="At least 2 activities in the last 7 days")
    ).to_be_visible()

    page.get_by_label("Assignment team").click()
    page.get_by_role("option", name="East").click()
    expect(page.get_by_text("Assignment saved.")).to_be_visible()
    page.reload()
    expect(page.get_by_label("Assignment team")).to_have_text("East")
