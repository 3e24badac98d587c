"""The contact list: search, sort, filter, choose columns, save a view, act on many rows."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlmodel import select

from crm_app.models import Account, Contact, User
from tests.e2e.conftest import sign_in


def _add_contacts(app_server) -> None:
    """Bob's Quill and Thane and Carol's Wren carry the tag e2e-list; Bob's Ysolde does not."""
    with app_server.session() as session:
        bob = session.exec(select(User).where(User.email == app_server.rep_email)).one()
        carol = session.exec(select(User).where(User.email == "carol@example.com")).one()
        company = Account(name="Zephyr Works", owner_id=bob.id, created_by=bob.id)
        session.add(company)
        session.flush()
        for first, last, owner, tags in [
            ("Quill", "Zephyrine", bob, ["e2e-list"]),
            ("Ysolde", "Zephyrson", bob, []),
            ("Thane", "Zephyrfield", bob, ["e2e-list"]),
            ("Wren", "Zephyrova", carol, ["e2e-list"]),
        ]:
            session.add(
                Contact(
                    first_name=first,
                    last_name=last,
                    email=f"{first.lower()}@zephyr.example",
                    account_id=company.id,
                    owner_id=owner.id,
                    created_by=owner.id,
                    tags=tags,
                )
            )
        session.commit()


def _names(table) -> list[str]:
    return table.get_by_role("rowheader").all_inner_texts()


def test_rep_searches_sorts_filters_saves_a_view_and_tags_in_bulk(new_page, app_server):
    _add_contacts(app_server)
    page = new_page()
    sign_in(page, app_server.rep_email)
    expect(page.get_by_role("heading", name="Welcome, Bob Rep")).to_be_visible()
    page.goto("/contacts")
    table = page.get_by_role("table", name="Contacts")
    expect(table).to_be_visible()

    page.get_by_label("Search contacts").fill("zephyr")
    expect(table.get_by_role("rowheader")).to_have_count(4)
    expect(page.get_by_text("1\N{EN DASH}4 of 4")).to_be_visible()

    name_header = table.get_by_role("columnheader", name="Name")
    name_header.get_by_role("button").click()
    expect(name_header).to_have_attribute("aria-sort", "ascending")
    expect(table.get_by_role("rowheader").first).to_have_text("Thane Zephyrfield")
    assert _names(table) == [
        "Thane Zephyrfield",
        "Quill Zephyrine",
        "Wren Zephyrova",
        "Ysolde Zephyrson",
    ]
    name_header.get_by_role("button").click()
    expect(name_header).to_have_attribute("aria-sort", "descending")
    expect(table.get_by_role("rowheader").first).to_have_text("Ysolde Zephyrson")

    page.get_by_role("button", name="Filters", exact=True).click()
    page.get_by_label("Tag", exact=True).fill("e2e-list")
    expect(table.get_by_role("rowheader")).to_have_count(3)
    page.get_by_label("Search contacts").fill("")
    expect(page.get_by_text("1\N{EN DASH}3 of 3")).to_be_visible()

    page.get_by_role("button", name="Columns").click()
    chooser = page.get_by_role("dialog", name="Columns")
    chooser.get_by_role("checkbox", name="Tags").click()
    expect(chooser.get_by_role("checkbox", name="Tags")).to_be_checked()
    chooser.get_by_role("checkbox", name="Phone").click()
    expect(chooser.get_by_role("checkbox", name="Phone")).not_to_be_checked()
    # The chooser's rows re-render in place as columns change: wait for the row to settle.
    move_left = chooser.get_by_role("button", name="Move Tags left")
    expect(move_left).to_be_enabled()
    move_left.click()
    page.keyboard.press("Escape")
    shown = ["", "Name", "E-mail", "Company", "Owner", "Stage", "Tags", "Updated"]
    expect(table.get_by_role("columnheader")).to_have_text(shown)

    page.get_by_role("button", name="Views").click()
    page.get_by_role("menuitem", name="Save as new view…").click()
    dialog = page.get_by_role("dialog", name="Save view")
    dialog.get_by_label("Name").fill("Zephyr tagged")
    dialog.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/contacts\?view=\d+$"))
    expect(page.get_by_role("heading", name="Zephyr tagged")).to_be_visible()

    page.goto("/contacts")
    expect(page.get_by_role("heading", name="All contacts")).to_be_visible()
    sidebar = page.get_by_role("navigation", name="Main")
    sidebar.get_by_role("link", name="Zephyr tagged").click()
    expect(page.get_by_role("heading", name="Zephyr tagged")).to_be_visible()
    table = page.get_by_role("table", name="Contacts")
    expect(table.get_by_role("rowheader")).to_have_count(3)
    expect(table.get_by_role("columnheader", name="Tags")).to_be_visible()
    expect(table.get_by_role("columnheader", name="Name")).to_have_attribute(
        "aria-sort", "descending"
    )

    table.get_by_role("checkbox", name="Select Quill Zephyrine").click()
    table.get_by_role("checkbox", name="Select Thane Zephyrfield").click()
    bulk = page.get_by_role("region", name="Bulk actions")
    expect(bulk).to_contain_text("2 contacts selected")
    bulk.get_by_role("button", name="Add tag").click()
    page.get_by_role("dialog", name="Add tag").get_by_label("Tag").fill("vip-e2e")
    page.get_by_role("button", name="Add to selected").click()
    expect(page.get_by_text("Updated 2 contacts.")).to_be_visible()
    quill = table.get_by_role("row", name=re.compile("Quill Zephyrine"))
    expect(quill).to_contain_text("e2e-list, vip-e2e")

    # Carol's contact is in the view too: Bob may read it but not change it.
    table.get_by_role("checkbox", name="Select all on this page").click()
    bulk.get_by_role("button", name="Remove tag").click()
    page.get_by_role("dialog", name="Remove tag").get_by_label("Tag").fill("e2e-list")
    page.get_by_role("button", name="Remove from selected").click()
    expect(
        page.get_by_text("Updated 2 contacts. 1 skipped: you may not change them.")
    ).to_be_visible()
    with app_server.session() as session:
        tags = dict(
            session.exec(
                select(Contact.first_name, Contact.tags).where(Contact.last_name.like("Zephyr%"))
            ).all()
        )
    assert tags == {"Quill": ["vip-e2e"], "Thane": ["vip-e2e"], "Wren": ["e2e-list"], "Ysolde": []}


def test_viewer_lists_companies_without_bulk_actions(new_page, app_server):
    with app_server.session() as session:
        alice = session.exec(select(User).where(User.email == app_server.admin_email)).one()
        session.add(Account(name="Quokka Holdings", owner_id=alice.id, created_by=alice.id))
        session.commit()
    page = new_page()
    sign_in(page, app_server.viewer_email)
    expect(page.get_by_role("heading", name="Welcome, Vic Viewer")).to_be_visible()
    page.goto("/accounts")
    table = page.get_by_role("table", name="Companies")
    page.get_by_label("Search companies").fill("quokka")
    expect(table.get_by_role("rowheader")).to_have_count(1)
    expect(table.get_by_role("link", name="Quokka Holdings")).to_have_attribute(
        "href", re.compile(r"/accounts/\d+$")
    )
    expect(table.get_by_role("checkbox")).to_have_count(0)
    expect(page.get_by_role("link", name="New company")).to_be_visible()
