"""Signing in and out in the browser."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlmodel import select

from crm_app.models import UserSession
from tests.e2e.conftest import sign_in


def test_sign_in_shows_the_app_and_sign_out_ends_the_session(new_page, app_server):
    page = new_page()
    sign_in(page, app_server.admin_email)
    expect(page.get_by_role("heading", name="Welcome, Alice Admin")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_role("searchbox", name="Search")).to_be_visible()

    page.get_by_role("button", name="User menu").click()
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login/?$"))
    with app_server.session() as session:
        latest = session.exec(select(UserSession).order_by(UserSession.id.desc())).first()
        assert latest.revoked_at is not None
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_anonymous_visitor_is_sent_to_sign_in_and_back_after(new_page, app_server):
    page = new_page()
    page.goto("/settings/api-keys")
    expect(page).to_have_url(re.compile(r"/login/?\?next=(%2F|/)settings(%2F|/)api-keys/?$"))
    page.get_by_label("E-mail").fill(app_server.rep_email)
    page.get_by_label("Password").fill(app_server.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/settings/api-keys/?$"))
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()


def test_wrong_password_says_so_next_to_the_form(new_page, app_server):
    page = new_page()
    sign_in(page, app_server.rep_email, "not-the-right-one")
    expect(page.get_by_role("alert")).to_have_text("Wrong e-mail or password.")
    expect(page).to_have_url(re.compile(r"/login"))


def test_five_failures_lock_the_account_with_a_message(new_page, app_server):
    from tests.factories import make_user

    with app_server.session() as session:
        make_user(session, name="Lou Locked", email="lou@example.com")
        session.commit()
    page = new_page()
    page.goto("/login")
    for _ in range(5):
        page.get_by_label("E-mail").fill("lou@example.com")
        page.get_by_label("Password").fill("wrong-password-again")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("locked for 15 more minutes")
    page.get_by_label("Password").fill(app_server.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("locked")
    expect(page).to_have_url(re.compile(r"/login"))


def test_the_shell_works_at_phone_width(new_page, app_server):
    page = new_page(width=390, height=844)
    sign_in(page, app_server.rep_email)
    expect(page.get_by_role("heading", name="Welcome, Bob Rep")).to_be_visible()
    page.get_by_role("button", name="Open menu").click()
    page.get_by_role("dialog").get_by_role("link", name="Settings").click()
    expect(page).to_have_url(re.compile(r"/settings/profile/?$"))
