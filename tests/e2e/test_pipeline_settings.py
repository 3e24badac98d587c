"""Settings -> Pipelines: an admin sets up a pipeline and its stages, and the board follows."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import sign_in


def _open_stages(page):
    columns = page.get_by_role("region", name=re.compile(r"^\w+: \d+ deals?$"))
    expect(columns.first).to_be_visible()
    return columns


def test_an_admin_adds_a_stage_that_appears_on_the_board_then_deletes_it(new_page, app_server):
    page = new_page(width=1600, height=1000)
    sign_in(page, app_server.admin_email)
    expect(page.get_by_role("heading", name="Welcome, Alice Admin")).to_be_visible()
    page.goto("/settings/pipelines")
    expect(page.get_by_role("heading", name="Stages of Sales")).to_be_visible()

    page.get_by_role("button", name="Add stage").click()
    dialog = page.get_by_role("dialog", name="Add stage")
    dialog.get_by_label("Name").fill("Pilot")
    dialog.get_by_label("Win probability (%)").fill("150")
    dialog.get_by_role("button", name="Add stage").click()
    expect(dialog.get_by_role("alert")).to_have_text("Enter a whole number from 0 to 100.")
    dialog.get_by_label("Win probability (%)").fill("40")
    dialog.get_by_role("button", name="Add stage").click()
    expect(dialog).to_be_hidden()
    stages = page.get_by_role("table", name="Stages of Sales")
    expect(stages.get_by_role("rowheader")).to_have_text(
        ["Qualification", "Discovery", "Proposal", "Negotiation", "Pilot", "Won", "Lost"]
    )
    stages.get_by_role("button", name="Move Pilot left").click()
    expect(stages.get_by_role("rowheader").nth(3)).to_have_text("Pilot")

    # The board shows the new column in its place.
    page.goto("/deals")
    columns = _open_stages(page)
    expect(columns).to_have_count(5)
    expect(columns.nth(3)).to_have_accessible_name("Pilot: 0 deals")

    # Deleting it (it holds no deals) takes it off the board again.
    page.goto("/settings/pipelines")
    stages.get_by_role("button", name="Delete Pilot").click()
    confirm = page.get_by_role("dialog", name="Delete Pilot?")
    confirm.get_by_role("button", name="Delete").click()
    expect(confirm).to_be_hidden()
    expect(stages.get_by_role("rowheader", name="Pilot")).to_have_count(0)
    page.goto("/deals")
    expect(_open_stages(page)).to_have_count(4)


def test_reps_get_no_pipeline_settings(new_page, app_server):
    page = new_page()
    sign_in(page, app_server.rep_email)
    expect(page.get_by_role("heading", name="Welcome, Bob Rep")).to_be_visible()
    page.goto("/settings/pipelines")
    expect(page.get_by_text("You don't have access to the pipeline settings.")).to_be_visible()
    tabs = page.get_by_role("navigation", name="Settings")
    expect(tabs.get_by_role("link", name="Pipelines")).to_have_count(0)
