"""An admin defines a custom field in Settings, edits it and deletes it."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlmodel import select

from crm_app.models import User
from crm_app.services import custom_field
from tests.e2e.conftest import sign_in


def test_admin_adds_edits_and_deletes_a_select_field(new_page, app_server):
    page = new_page()
    sign_in(page, app_server.admin_email)
    expect(page.get_by_role("heading", name="Welcome, Alice Admin")).to_be_visible()
    page.goto("/settings/custom-fields")
    expect(page.get_by_role("tab", name="Contacts")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_text("Contacts have no custom fields yet.")).to_be_visible()

    page.get_by_role("button", name="Add field").click()
    dialog = page.get_by_role("dialog", name="Add a field to Contacts")
    dialog.get_by_label("Label").fill("Tier")
    dialog.get_by_label("Type").click()
    page.get_by_role("option", name="Select", exact=True).click()
    dialog.get_by_label("Options").fill("Gold\nSilver\n")
    dialog.get_by_role("button", name="Add").click()
    expect(dialog).to_be_hidden()

    table = page.get_by_role("table", name="Custom fields of Contacts")
    row = table.get_by_role("row", name=re.compile("Tier"))
    expect(row).to_contain_text("tier")
    expect(row).to_contain_text("Select")
    expect(row).to_contain_text("Gold, Silver")

    page.get_by_role("button", name="Edit Tier").click()
    dialog = page.get_by_role("dialog", name="Edit Tier")
    expect(dialog.get_by_label("Options")).to_have_value("Gold\nSilver")
    dialog.get_by_label("Label").fill("Customer tier")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    row = table.get_by_role("row", name=re.compile("Customer tier"))
    expect(row).to_contain_text("tier")  # the key stays

    page.get_by_role("button", name="Delete Customer tier").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete field").click()
    expect(page.get_by_text("Contacts have no custom fields yet.")).to_be_visible()
    deleted = page.get_by_role("table", name="Deleted fields of Contacts")
    expect(deleted.get_by_role("button", name="Restore Customer tier")).to_be_visible()

    # Companies are a separate list.
    page.get_by_role("tab", name="Companies").click()
    expect(page.get_by_text("Companies have no custom fields yet.")).to_be_visible()


def test_a_rep_sees_the_fields_but_cannot_change_them(new_page, app_server):
    with app_server.session() as session:
        alice = session.exec(select(User).where(User.email == app_server.admin_email)).one()
        custom_field.create_field(
            session, actor=alice, entity="deal", label="Competitor", field_type="text"
        )
        session.commit()

    page = new_page()
    sign_in(page, app_server.rep_email)
    expect(page.get_by_role("heading", name="Welcome, Bob Rep")).to_be_visible()
    page.goto("/settings/custom-fields")
    expect(page.get_by_text("Only admins can add or change custom fields.")).to_be_visible()
    page.get_by_role("tab", name="Deals").click()
    table = page.get_by_role("table", name="Custom fields of Deals")
    expect(table.get_by_role("row", name=re.compile("Competitor"))).to_contain_text("Text")
    expect(page.get_by_role("button", name="Add field")).to_have_count(0)
    expect(page.get_by_role("button", name="Edit Competitor")).to_have_count(0)
