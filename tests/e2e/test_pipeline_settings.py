"""Settings -> Pipelines: an admin sets up a pipeline and its stages, and the board follows."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import sign_in


def test_an_admin_adds_a_pipeline_and_a_stage_that_appears_on_its_board(new_page, app_server):
    page = new_page(width=1600, height=1000)
    sign_in(page, app_server.admin_email)
    expect(page.get_by_role("heading", name="Welcome, Alice Admin")).to_be_visible()
    page.goto("/settings/pipelines")
    expect(page.get_by_role("heading", name="Pipelines")).to_be_visible()

    page.get_by_role("button", name="Add pipeline").click()
    dialog = page.get_by_role("dialog", name="Add pipeline")
    dialog.get_by_label("Name").fill("Partners")
    dialog.get_by_role("button", name="Add pipeline").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("heading", name="Stages of Partners")).to_be_visible()

    page.get_by_role("button", name="Add stage").click()
    dialog = page.get_by_role("dialog", name="Add stage")
    dialog.get_by_label("Name").fill("Pilot")
    dialog.get_by_label("Win probability (%)").fill("150")
    dialog.get_by_role("button", name="Add stage").click()
    expect(dialog.get_by_role("alert")).to_have_text("Enter a whole number from 0 to 100.")
    dialog.get_by_label("Win probability (%)").fill("40")
    dialog.get_by_role("button", name="Add stage").click()
    expect(dialog).to_be_hidden()
    stages = page.get_by_role("table", name="Stages of Partners")
    expect(stages.get_by_role("rowheader")).to_have_text(
        ["Qualification", "Discovery", "Proposal", "Negotiation", "Pilot", "Won", "Lost"]
    )
    stages.get_by_role("button", name="Move Pilot left").click()
    expect(stages.get_by_role("rowheader").nth(3)).to_have_text("Pilot")

    page.goto("/deals")
    page.get_by_label("Pipeline").click()
    page.get_by_role("option", name="Partners").click()
    expect(page).to_have_url(re.compile(r"/deals\?pipeline=\d+$"))
    columns = page.get_by_role("region", name=re.compile(r"^\w+: \d+ deals$"))
    expect(columns).to_have_count(5)  # the open stages, in order
    expect(columns.nth(3)).to_have_accessible_name("Pilot: 0 deals")


def test_reps_get_no_pipeline_settings(new_page, app_server):
    page = new_page()
    sign_in(page, app_server.rep_email)
    expect(page.get_by_role("heading", name="Welcome, Bob Rep")).to_be_visible()
    page.goto("/settings/pipelines")
    expect(page.get_by_text("You don't have access to the pipeline settings.")).to_be_visible()
    tabs = page.get_by_role("navigation", name="Settings")
    expect(tabs.get_by_role("link", name="Pipelines")).to_have_count(0)
