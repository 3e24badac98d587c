"""Single sign-on in the browser, through the local OpenID provider the e2e server knows."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlmodel import select

from crm_app.models import AppSetting, User, UserIdentity
from crm_app.services import invitation, oidc
from tests.e2e.conftest import sign_in
from tests.factories import make_user
from tests.oidc_provider import ProviderUser


def test_an_invited_person_signs_in_with_sso_and_lands_on_the_dashboard(
    new_page, app_server, sso_provider
):
    with app_server.session() as session:
        alice = session.exec(select(User).where(User.email == app_server.admin_email)).one()
        invitation.invite_user(
            session, actor=alice, email="ivy.sso@example.com", name="Ivy Invited", role="rep"
        )
        session.commit()
    sso_provider.user = ProviderUser(sub="ivy-e2e", email="ivy.sso@example.com")
    try:
        page = new_page()
        page.goto("/login")
        page.get_by_role("link", name="Sign in with Local SSO").click()
        expect(page.get_by_role("heading", name="Welcome, Ivy Invited")).to_be_visible()
        expect(page).to_have_url(re.compile(r"/$"))
        # Once linked, the provider's subject alone signs Ivy in, whatever her e-mail there.
        sso_provider.user = ProviderUser(sub="ivy-e2e", email="ivy@new-domain.example")
        again = new_page()
        again.goto("/login?next=/deals")
        again.get_by_role("link", name="Sign in with Local SSO").click()
        expect(again).to_have_url(re.compile(r"/deals/?$"))
    finally:
        sso_provider.reset()


def test_a_stranger_is_told_to_ask_for_an_invitation(new_page, app_server, sso_provider):
    sso_provider.user = ProviderUser(sub="stranger-e2e", email="stranger@example.com")
    try:
        page = new_page()
        page.goto("/login")
        page.get_by_role("link", name="Sign in with Local SSO").click()
        expect(page).to_have_url(re.compile(r"/login"))
        expect(page.get_by_role("alert")).to_have_text(
            "No account for this sign-in; ask an admin for an invitation."
        )
    finally:
        sso_provider.reset()


def test_an_admin_requires_sso_and_the_password_form_goes_away(new_page, app_server, sso_provider):
    with app_server.session() as session:
        alice = session.exec(select(User).where(User.email == app_server.admin_email)).one()
        session.add(UserIdentity(user_id=alice.id, issuer=sso_provider.issuer, subject="alice"))
        session.commit()
    sso_provider.user = ProviderUser(sub="alice", email="alice@example.com")
    page = new_page()
    try:
        page.goto("/login")
        page.get_by_role("link", name="Sign in with Local SSO").click()
        expect(page.get_by_role("heading", name="Welcome, Alice Admin")).to_be_visible()
        page.goto("/settings/security")
        # Everyone else signs in with a password so far: the page says who would be shut out.
        expect(page.get_by_role("status", name="People without single sign-on")).to_contain_text(
            re.compile(r"\d+ active (person has|people have) not connected single sign-on: \w")
        )
        switch = page.get_by_role("switch", name="Require single sign-on for everyone")
        expect(switch).not_to_be_checked()
        switch.click()
        expect(switch).to_be_checked()

        visitor = new_page()
        visitor.goto("/login")
        expect(visitor.get_by_text("This workspace signs in with single sign-on.")).to_be_visible()
        expect(visitor.get_by_label("Password")).to_be_hidden()
        expect(visitor.get_by_role("link", name="Sign in with Local SSO")).to_be_visible()

        switch.click()
        expect(switch).not_to_be_checked()
    finally:
        sso_provider.reset()
        # Password sign-in must keep working for every other browser test.
        with app_server.session() as session:
            setting = session.get(AppSetting, oidc.REQUIRE_SSO_KEY)
            if setting is not None:
                session.delete(setting)
            session.commit()


def test_a_password_user_connects_sso_on_their_profile_then_signs_in_with_it(
    new_page, app_server, sso_provider
):
    with app_server.session() as session:
        make_user(session, name="Paula Password", email="paula@example.com")
        session.commit()
    # Her account at the provider has another e-mail: the connection is what links them.
    sso_provider.user = ProviderUser(sub="paula-e2e", email="paula.p@corp.example")
    try:
        page = new_page()
        sign_in(page, "paula@example.com")
        expect(page.get_by_role("heading", name="Welcome, Paula Password")).to_be_visible()
        page.goto("/settings/profile")
        page.get_by_role("link", name="Connect Local SSO").click()
        expect(page).to_have_url(re.compile(r"/settings/profile\?sso=connected$"))
        expect(page.get_by_role("status").filter(has_text="Connected.")).to_be_visible()
        accounts = page.get_by_role("table", name="Connected accounts")
        expect(accounts.get_by_role("row").filter(has_text="paula.p@corp.example")).to_have_count(1)

        other = new_page()
        other.goto("/login")
        other.get_by_role("link", name="Sign in with Local SSO").click()
        expect(other.get_by_role("heading", name="Welcome, Paula Password")).to_be_visible()

        page.get_by_role("button", name="Disconnect paula.p@corp.example").click()
        page.get_by_role("alertdialog").get_by_role("button", name="Disconnect").click()
        expect(page.get_by_role("link", name="Connect Local SSO")).to_be_visible()
        with app_server.session() as session:
            paula = session.exec(select(User).where(User.email == "paula@example.com")).one()
            assert (
                session.exec(select(UserIdentity).where(UserIdentity.user_id == paula.id)).all()
                == []
            )
    finally:
        sso_provider.reset()
