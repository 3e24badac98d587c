"""An admin imports a small CSV through the mapping step, watches it finish, downloads the
rejected rows, exports the contacts and undoes the import."""

from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import expect
from sqlmodel import select

from crm_app.models import Contact
from tests.e2e.conftest import sign_in

CSV = (
    "Full Name,Email Address,Telefon,Notes\n"
    "Ada Lovelace,ada.e2e@example.com,+1 415 555 0101,first\n"
    "Grace Hopper,grace.e2e@example.com,415 555 0102,\n"
    "Broken Row,not-an-email,,oops\n"
)


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_admin_imports_maps_previews_exports_and_undoes(new_page, app_server, tmp_path):
    source = tmp_path / "people.csv"
    source.write_text(CSV)
    page = new_page()
    sign_in(page, app_server.admin_email)
    expect(page.get_by_role("heading", name="Welcome, Alice Admin")).to_be_visible()
    page.goto("/settings/import")
    expect(page.get_by_role("heading", name="1. Choose a CSV file")).to_be_visible()

    page.locator("input[type=file]").set_input_files(str(source))

    # Mapping: names and e-mails are guessed; "Telefon" is mapped by hand; "Notes" is skipped.
    columns = page.get_by_role("table", name="Columns of the file")
    email_field = columns.get_by_role("combobox", name="Field for column Email Address")
    expect(email_field).to_contain_text("E-mail")
    page.get_by_role("radio", name="Companies").click()  # the same file, read as companies
    expect(page.get_by_role("radio", name="Companies")).to_be_checked()
    expect(email_field).to_contain_text("Don't import")
    page.get_by_role("radio", name="Contacts").click()
    expect(email_field).to_contain_text("E-mail")
    expect(columns.get_by_role("combobox", name="Field for column Full Name")).to_contain_text(
        "Full name"
    )
    expect(columns.get_by_role("combobox", name="Field for column Notes")).to_contain_text(
        "Don't import"
    )
    columns.get_by_role("combobox", name="Field for column Telefon").click()
    page.get_by_role("option", name="Phone", exact=True).click()
    expect(columns.get_by_role("combobox", name="Field for column Telefon")).to_contain_text(
        "Phone"
    )

    # Preview: the broken row's error is shown next to its cell.
    expect(page.get_by_text("Rows with errors: 1.")).to_be_visible()
    preview = page.get_by_role("table", name="First rows of the file")
    expect(preview.get_by_role("row", name=re.compile("Broken Row"))).to_contain_text(
        "Enter a valid e-mail address"
    )

    skip = page.get_by_role("radio", name="Skip them (keep the existing records as they are)")
    skip.click()
    expect(skip).to_be_checked()
    page.get_by_role("button", name="Start import").click()

    # The background job finishes and the counts show.
    expect(page.get_by_label("Import status")).to_have_text("succeeded", timeout=30_000)
    counts = page.get_by_role("group", name="Import counts")
    expect(counts).to_contain_text("Created2")
    expect(counts).to_contain_text("Rejected1")
    with app_server.session() as session:
        emails = session.exec(select(Contact.email, Contact.phone)).all()
    assert ("ada.e2e@example.com", "+14155550101") in emails

    with page.expect_download() as download:
        page.get_by_role("link", name="Download rejected rows").first.click()
    rejected = _csv_rows(download.value.path().read_bytes())
    assert rejected[0] == ["Row", "Full Name", "Email Address", "Telefon", "Notes", "Errors"]
    assert rejected[1][:3] == ["4", "Broken Row", "not-an-email"]

    # Export the view (what the list pages link to) and the whole list from this page.
    response = page.request.get("/exports/contacts.csv?q=ada+e2e&columns=first_name,email,phone")
    assert _csv_rows(response.body()) == [
        ["First name", "E-mail", "Phone"],
        ["Ada", "ada.e2e@example.com", "'+14155550101"],
    ]
    with page.expect_download() as download:
        page.get_by_role("link", name="Export all contacts").click()
    exported = _csv_rows(download.value.path().read_bytes())
    assert {"ada.e2e@example.com", "grace.e2e@example.com"} <= {row[2] for row in exported}

    # Undo the whole import.
    page.get_by_role("button", name="Undo import of people.csv").first.click()
    page.get_by_role("alertdialog").get_by_role("button", name="Undo import").click()
    expect(page.get_by_text("Import undone.")).to_be_visible()
    expect(page.get_by_label("Import status")).to_have_text("undone")
    with app_server.session() as session:
        live = session.exec(
            select(Contact.email).where(
                Contact.deleted_at.is_(None), Contact.email.like("%.e2e@example.com")
            )
        ).all()
    assert live == []


def test_a_viewer_has_no_import_tab_or_page(new_page, app_server):
    page = new_page()
    sign_in(page, app_server.viewer_email)
    expect(page.get_by_role("heading", name=re.compile("^Welcome"))).to_be_visible()
    page.goto("/settings/import")
    expect(page.get_by_text("You don't have access to import and export.")).to_be_visible()
    settings = page.get_by_role("navigation", name="Settings")
    expect(settings.get_by_role("link", name="Import / export")).to_have_count(0)
