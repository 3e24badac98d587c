"""Two-factor sign-in in the browser: enrol from Settings -> Profile with the secret shown as
text, then sign in with the password and a code from the app, or once with a recovery code;
an admin requires it for a role on Settings -> Security, and that role's people are sent to set
it up before anything else."""

from __future__ import annotations

import re
import time

import pyotp
from playwright.sync_api import expect

from crm_app.models import AppSetting
from tests.e2e.conftest import sign_in
from tests.factories import make_user
from tests.services.test_two_factor import wrong_code


def sign_out(page) -> None:
    page.get_by_role("button", name="User menu").click()
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login/?$"))


def password_then(page, email: str) -> None:
    """Sign in with the password: the page then asks for the code."""
    sign_in(page, email)
    expect(page.get_by_label("Authentication code")).to_be_visible()
    expect(page.get_by_role("heading", name="Welcome")).to_have_count(0)


def test_enrol_then_sign_in_with_a_code_and_once_with_a_recovery_code(new_page, app_server):
    with app_server.session() as session:
        make_user(session, name="Tess Totp", email="tess@example.com")
        session.commit()
    page = new_page()
    sign_in(page, "tess@example.com")
    expect(page.get_by_role("heading", name="Welcome, Tess Totp")).to_be_visible()

    page.goto("/settings/profile")
    page.get_by_role("button", name="Set up two-factor authentication").click()
    expect(
        page.get_by_role("img", name="QR code to add CRM to your authenticator app")
    ).to_be_visible()
    secret = page.get_by_label("Secret key").input_value()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    page.get_by_label("Code from your app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()
    codes = page.get_by_role("list", name="Recovery codes").get_by_role("listitem")
    expect(codes).to_have_count(10)
    recovery = [c.strip() for c in codes.all_inner_texts()]
    expect(page.get_by_role("link", name="Download codes")).to_have_attribute(
        "href", re.compile(r"^data:text/plain")
    )
    page.get_by_role("button", name="I have saved them").click()
    expect(page.get_by_text(re.compile(r"Recovery codes left: ?10"))).to_be_visible()
    expect(codes).to_have_count(0)

    sign_out(page)
    password_then(page, "tess@example.com")
    page.reload()  # a reload keeps the pending code step: the password is not asked again
    expect(page.get_by_label("Authentication code")).to_be_visible()
    page.get_by_label("Authentication code").fill(wrong_code(secret))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not right.")
    # the code of the next 30 s: the one used to confirm cannot be used again
    page.get_by_label("Authentication code").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Welcome, Tess Totp")).to_be_visible()

    sign_out(page)
    password_then(page, "tess@example.com")
    page.get_by_role("button", name="Use a recovery code").click()
    page.get_by_label("Recovery code").fill(recovery[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Welcome, Tess Totp")).to_be_visible()

    sign_out(page)
    password_then(page, "tess@example.com")
    page.get_by_role("button", name="Use a recovery code").click()
    page.get_by_label("Recovery code").fill(recovery[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_have_text(
        "That recovery code is not right, or it has been used already."
    )
    expect(page).to_have_url(re.compile(r"/login"))


def test_a_role_that_requires_two_factor_is_sent_to_set_it_up_first(new_page, app_server):
    admin = new_page()
    sign_in(admin, app_server.admin_email)
    expect(admin.get_by_role("heading", name="Welcome, Alice Admin")).to_be_visible()
    admin.goto("/settings/security")
    admin.get_by_role("checkbox", name="Manager").click()
    admin.get_by_role("button", name="Save", exact=True).click()
    expect(admin.get_by_text("Saved. Those roles must now use two-factor.")).to_be_visible()
    with app_server.session() as session:
        assert session.get(AppSetting, "require_2fa_roles").value == ["manager"]
    try:
        page = new_page()
        sign_in(page, "mona@example.com")
        expect(page).to_have_url(re.compile(r"/settings/profile/?$"))
        expect(page.get_by_role("alert")).to_have_text(
            "Your role requires two-factor authentication: set it up to continue."
        )
        page.goto("/deals")
        expect(page).to_have_url(re.compile(r"/settings/profile/?$"))

        page.get_by_role("button", name="Set up two-factor authentication").click()
        secret = page.get_by_label("Secret key").input_value()
        page.get_by_label("Code from your app").fill(pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Confirm").click()
        page.get_by_role("button", name="I have saved them").click()
        expect(page.get_by_text("so it cannot be turned off")).to_be_visible()
        expect(page.get_by_role("button", name="Turn off two-factor")).to_have_count(0)

        page.goto("/")
        expect(page.get_by_role("heading", name="Welcome, Mona Manager")).to_be_visible()
    finally:
        with app_server.session() as session:
            session.delete(session.get(AppSetting, "require_2fa_roles"))
            session.commit()
