"""Admins invite people and manage them; viewers cannot reach admin settings."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from crm_app.services import auth
from tests.e2e.conftest import sign_in


def test_admin_invites_a_user_who_sets_a_password_and_signs_in(new_page, app_server):
    admin = new_page()
    sign_in(admin, app_server.admin_email)
    expect(admin.get_by_role("heading", name="Welcome, Alice Admin")).to_be_visible()
    admin.goto("/settings/users")
    admin.get_by_role("button", name="Invite user").click()
    dialog = admin.get_by_role("dialog")
    dialog.get_by_label("E-mail").fill("nora@example.com")
    dialog.get_by_label("Name").fill("Nora Newbie")
    dialog.get_by_label("Role").click()
    admin.get_by_role("option", name="Manager").click()
    dialog.get_by_role("button", name="Invite").click()
    link = dialog.get_by_label("Link").input_value()
    assert re.search(r"/invite/[\w-]+$", link)
    dialog.get_by_role("button", name="Done").click()
    expect(admin.get_by_role("row", name=re.compile("Nora Newbie"))).to_contain_text("Invited")

    invitee = new_page()
    invitee.goto(link.replace("http://testserver", app_server.base_url))
    expect(invitee.get_by_text("Hi Nora Newbie")).to_be_visible()
    invitee.get_by_label("New password").fill("nora-long-password")
    invitee.get_by_label("Repeat the password").fill("nora-long-password")
    invitee.get_by_role("button", name="Set password and sign in").click()
    expect(invitee.get_by_role("heading", name="Welcome, Nora Newbie")).to_be_visible()

    admin.reload()
    expect(admin.get_by_role("row", name=re.compile("Nora Newbie"))).to_contain_text("Active")


def test_admin_changes_a_role_and_deactivating_ends_the_users_session(new_page, app_server):
    carol = new_page()
    sign_in(carol, "carol@example.com")
    expect(carol.get_by_role("heading", name="Welcome, Carol Rep")).to_be_visible()

    admin = new_page()
    sign_in(admin, app_server.admin_email)
    expect(admin.get_by_role("heading", name="Welcome, Alice Admin")).to_be_visible()
    admin.goto("/settings/users")
    admin.get_by_role("combobox", name="Role for Carol Rep").click()
    admin.get_by_role("option", name="Manager").click()
    expect(admin.get_by_text("Carol Rep is now manager.")).to_be_visible()

    admin.get_by_role("button", name="Actions for Carol Rep").click()
    admin.get_by_role("menuitem", name="Deactivate…").click()
    admin.get_by_role("alertdialog").get_by_role("button", name="Deactivate").click()
    expect(admin.get_by_role("row", name=re.compile("Carol Rep"))).to_contain_text("Deactivated")

    # Carol's open tab leaves for sign-in on its own within seconds (the session watch; going
    # somewhere at that moment would race its navigation), and so does any page she asks for.
    expect(carol).to_have_url(re.compile(r"/login"), timeout=10_000)
    carol.goto("/settings/api-keys")
    expect(carol).to_have_url(re.compile(r"/login"))
    with app_server.session() as session:
        outcome = auth.sign_in(session, email="carol@example.com", password=app_server.password)
        session.commit()
    assert outcome.error is not None


def test_viewer_cannot_reach_admin_settings(new_page, app_server):
    page = new_page()
    sign_in(page, app_server.viewer_email)
    expect(page.get_by_role("heading", name="Welcome, Vic Viewer")).to_be_visible()
    page.goto("/settings/users")
    expect(page.get_by_text("You don't have access to user management.")).to_be_visible()
    expect(page.get_by_role("table")).to_have_count(0)
    expect(page.get_by_role("button", name="Invite user")).to_have_count(0)
    settings_nav = page.get_by_role("navigation", name="Settings")
    expect(settings_nav.get_by_role("link", name="Users")).to_have_count(0)
    expect(settings_nav.get_by_role("link", name="Audit log")).to_have_count(0)
    page.goto("/settings/audit-log")
    expect(page.get_by_text("You don't have access to the audit log.")).to_be_visible()
    page.goto("/settings/roles")
    expect(page.get_by_role("combobox")).to_have_count(0)
