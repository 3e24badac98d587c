"""Creating companies and contacts from their forms, and working on a contact's page."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import sign_in

CONTACT_URL = re.compile(r"/contacts/(\d+)/?$")


def test_rep_creates_a_company_and_a_contact_then_edits_and_tags_them(new_page, app_server):
    page = new_page()
    sign_in(page, app_server.rep_email)
    expect(page.get_by_role("heading", name="Welcome, Bob Rep")).to_be_visible()

    page.goto("/accounts/new")
    page.get_by_label("Name").fill("Babbage Engines")
    page.get_by_label("Domain").fill("https://www.Babbage.example/about")
    page.get_by_role("button", name="Create company").click()
    expect(page).to_have_url(re.compile(r"/accounts/\d+/?$"))
    expect(page.get_by_role("heading", name="Babbage Engines")).to_be_visible()
    expect(page.get_by_role("link", name="babbage.example")).to_be_visible()

    # "Add contact" on the company's page starts the form in this company.
    page.get_by_role("link", name="Add contact").click()
    expect(page).to_have_url(re.compile(r"/contacts/new\?account=\d+"))
    expect(page.get_by_role("button", name="Remove company")).to_be_visible()
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_label("E-mail").fill("ada@@babbage")
    page.get_by_label("Phone").fill("(415) 555-0100")
    page.get_by_role("button", name="Create contact").click()
    expect(page.get_by_role("alert").filter(has_text="valid e-mail")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/contacts/new"))

    page.get_by_label("E-mail").fill("Ada@Babbage.Example")
    page.get_by_role("button", name="Create contact").click()
    expect(page).to_have_url(CONTACT_URL)
    ada_url = page.url
    expect(page.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    expect(page.get_by_role("link", name="ada@babbage.example")).to_be_visible()
    expect(page.get_by_role("link", name="+1 415-555-0100")).to_be_visible()
    expect(page.get_by_role("link", name="Babbage Engines")).to_be_visible()

    # Edit in place: Enter saves, Escape cancels.
    page.get_by_role("button", name="Edit Title").click()
    page.get_by_label("Title", exact=True).fill("Engineer")
    page.get_by_label("Title", exact=True).press("Enter")
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    page.get_by_role("button", name="Edit Title").click()
    page.get_by_label("Title", exact=True).fill("CTO")
    page.get_by_label("Title", exact=True).press("Enter")
    timeline = page.get_by_role("region", name="Timeline")
    expect(timeline.get_by_text("Title: Engineer → CTO")).to_be_visible()
    page.get_by_role("button", name="Edit Title").click()
    page.get_by_label("Title", exact=True).fill("Chief")
    page.get_by_label("Title", exact=True).press("Escape")
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    expect(page.get_by_text("Chief")).to_have_count(0)

    # Tags: add one by typing, then remove it.
    page.get_by_label("Add a tag").fill("Analytical")
    page.get_by_label("Add a tag").press("Enter")
    tags = page.get_by_role("list", name="Tags")
    expect(tags.get_by_role("listitem").filter(has_text="Analytical")).to_be_visible()
    expect(timeline.get_by_text("Tags: added Analytical")).to_be_visible()
    page.get_by_role("button", name="Remove tag Analytical").click()
    expect(page.get_by_role("button", name="Remove tag Analytical")).to_have_count(0)
    expect(timeline.get_by_text("Tags: removed Analytical")).to_be_visible()

    # A second contact with the same e-mail is caught before saving.
    page.goto("/contacts/new")
    page.get_by_label("First name").fill("Augusta")
    page.get_by_label("E-mail").fill("ADA@babbage.example")
    page.get_by_role("button", name="Create contact").click()
    warning = page.get_by_role("alert").filter(has_text="already exists")
    expect(warning).to_be_visible()
    open_ada = warning.get_by_role("link", name="Open Ada Lovelace")
    assert ada_url.endswith(open_ada.get_attribute("href"))
    warning.get_by_role("button", name="Save anyway").click()
    expect(page.get_by_role("heading", name="Augusta")).to_be_visible()
    assert CONTACT_URL.search(page.url) and page.url != ada_url


def test_a_viewer_reads_a_contact_without_edit_controls(new_page, app_server):
    rep = new_page()
    sign_in(rep, app_server.rep_email)
    expect(rep.get_by_role("heading", name="Welcome, Bob Rep")).to_be_visible()
    rep.goto("/contacts/new")
    rep.get_by_label("First name").fill("Charles")
    rep.get_by_label("Last name").fill("Babbage")
    rep.get_by_role("button", name="Create contact").click()
    expect(rep).to_have_url(CONTACT_URL)
    url = rep.url

    viewer = new_page()
    sign_in(viewer, app_server.viewer_email)
    expect(viewer.get_by_role("heading", name="Welcome, Vic Viewer")).to_be_visible()
    viewer.goto(url)
    expect(viewer.get_by_role("heading", name="Charles Babbage")).to_be_visible()
    details = viewer.get_by_role("region", name="Details")
    expect(details.get_by_text("Charles")).to_be_visible()
    expect(viewer.get_by_role("button", name=re.compile("^Edit "))).to_have_count(0)
    expect(viewer.get_by_label("Add a tag")).to_have_count(0)
    expect(viewer.get_by_role("button", name="Delete")).to_have_count(0)
    viewer.goto("/contacts/new")
    expect(viewer.get_by_text("You don't have access to creating contacts.")).to_be_visible()

    # The owner deletes it: after a confirmation it goes to the trash and they to the list.
    rep.get_by_role("button", name="Delete").click()
    rep.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    expect(rep).to_have_url(re.compile(r"/contacts/?$"))
    expect(rep.get_by_text("Charles Babbage was moved to the trash.")).to_be_visible()
