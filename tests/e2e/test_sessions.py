"""Settings -> Profile -> Sessions, and open tabs leaving on their own within seconds when
their session ends elsewhere: ended from another browser, or the user deactivated."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from tests.e2e.conftest import sign_in
from tests.factories import make_user

# The watcher checks every 2 s; the brief is "within a few seconds".
LEAVES_WITHIN_MS = 10_000


def _person(app_server, name: str, email: str, role: str = "rep") -> None:
    with app_server.session() as session:
        make_user(session, name=name, email=email, role=role)
        session.commit()


def _signed_in(new_page, email: str, name: str):
    page = new_page()
    sign_in(page, email)
    # a cold server on a busy machine can take several seconds over the first sign-in
    expect(page.get_by_role("heading", name=f"Welcome, {name}")).to_be_visible(timeout=20_000)
    return page


def test_ending_another_session_sends_that_tab_to_sign_in_without_a_click(new_page, app_server):
    _person(app_server, "Sid Sessions", "sid@example.com")
    other = _signed_in(new_page, "sid@example.com", "Sid Sessions")
    other.goto("/contacts")
    expect(other.get_by_role("table", name="Contacts")).to_be_visible()
    this = _signed_in(new_page, "sid@example.com", "Sid Sessions")

    this.goto("/settings/profile")
    sessions = this.get_by_role("table", name="Sessions")
    expect(sessions.get_by_role("row")).to_have_count(3)  # the header and two sessions
    current = sessions.get_by_role("row", name=re.compile("This device"))
    expect(current).to_contain_text("Chrome on Linux")
    expect(current.get_by_role("button", name=re.compile("^End session"))).to_have_count(0)

    sessions.get_by_role("button", name=re.compile("^End session")).click()
    this.get_by_role("alertdialog").get_by_role("button", name="End session").click()
    ended_at = time.monotonic()
    expect(this.get_by_text("Session ended.")).to_be_visible()
    expect(sessions.get_by_role("row")).to_have_count(2)

    # The other tab was left alone on the contact list: it goes to sign in by itself.
    expect(other).to_have_url(re.compile(r"/login\?next=%2Fcontacts"), timeout=LEAVES_WITHIN_MS)
    print(f"tab left {time.monotonic() - ended_at:.1f} s after its session was ended")
    expect(other.get_by_role("button", name="Sign in")).to_be_visible()
    # This browser is still signed in.
    this.goto("/contacts")
    expect(this.get_by_role("table", name="Contacts")).to_be_visible()


def test_sign_out_all_other_sessions(new_page, app_server):
    _person(app_server, "Sue Sessions", "sue@example.com")
    others = [_signed_in(new_page, "sue@example.com", "Sue Sessions") for _ in range(2)]
    this = _signed_in(new_page, "sue@example.com", "Sue Sessions")
    this.goto("/settings/profile")
    sessions = this.get_by_role("table", name="Sessions")
    expect(sessions.get_by_role("row")).to_have_count(4)

    this.get_by_role("button", name="Sign out all other sessions").click()
    this.get_by_role("alertdialog").get_by_role("button", name="Sign out others").click()

    expect(this.get_by_text("Signed out of all other sessions.")).to_be_visible()
    expect(sessions.get_by_role("row")).to_have_count(2)
    for page in others:
        expect(page).to_have_url(re.compile(r"/login"), timeout=LEAVES_WITHIN_MS)


def test_a_deactivated_users_open_tab_leaves_by_itself(new_page, app_server):
    _person(app_server, "Dee Parting", "dee@example.com")
    dee = _signed_in(new_page, "dee@example.com", "Dee Parting")
    dee.goto("/deals/list")
    admin = _signed_in(new_page, app_server.admin_email, "Alice Admin")
    admin.goto("/settings/users")
    admin.get_by_placeholder("Search by name or e-mail").fill("Dee Parting")
    expect(admin.get_by_role("row", name=re.compile("Alice Admin"))).to_have_count(0)

    admin.get_by_role("button", name="Actions for Dee Parting").click()
    admin.get_by_role("menuitem", name="Deactivate…").click()
    admin.get_by_role("alertdialog").get_by_role("button", name="Deactivate").click()
    deactivated_at = time.monotonic()
    expect(admin.get_by_role("row", name=re.compile("Dee Parting"))).to_contain_text("Deactivated")

    expect(dee).to_have_url(re.compile(r"/login\?next=%2Fdeals%2Flist"), timeout=LEAVES_WITHIN_MS)
    print(f"tab left {time.monotonic() - deactivated_at:.1f} s after its user was deactivated")
    expect(dee.get_by_role("button", name="Sign in")).to_be_visible()


def test_changing_ones_e_mail_signs_the_other_tabs_out(new_page, app_server):
    _person(app_server, "Eve Mover", "eve@example.com")
    other = _signed_in(new_page, "eve@example.com", "Eve Mover")
    this = _signed_in(new_page, "eve@example.com", "Eve Mover")
    this.goto("/settings/profile")

    this.get_by_label("New e-mail").fill("eve.mover@example.com")
    this.get_by_label("Your password").fill(app_server.password)
    this.get_by_role("button", name="Change e-mail").click()

    expect(this.get_by_text("E-mail changed.")).to_be_visible()
    expect(other).to_have_url(re.compile(r"/login"), timeout=LEAVES_WITHIN_MS)
    this.reload()
    expect(this.get_by_label("New e-mail")).to_have_value("eve.mover@example.com")
