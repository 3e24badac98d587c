"""Two-factor in the app's handlers: the code step of the sign-in page, the redirect to set it
up when a role requires it, the profile section and the admin's required roles."""

from __future__ import annotations

from contextlib import contextmanager

import pyotp
import pytest

from crm_app import routes
from crm_app.models import AppSetting
from crm_app.services import two_factor
from crm_app.state import auth as auth_state
from crm_app.state.auth import LoginState
from crm_app.state.dashboard import DashboardState
from crm_app.state.profile import ProfileState
from crm_app.state.two_factor import TwoFactorPolicyState, TwoFactorState
from tests.factories import PASSWORD
from tests.services.test_two_factor import enrol, wrong_code
from tests.state.test_record_pages import state_of


@pytest.fixture
def login(db, monkeypatch):
    """The sign-in page's state, its transactions inside the test's."""

    @contextmanager
    def in_test_transaction():
        yield db

    monkeypatch.setattr(auth_state, "session_scope", in_test_transaction)
    return state_of(LoginState, db, None, "/login?next=/deals")


def test_the_password_then_asks_for_the_code_and_only_a_right_code_signs_in(db, people, login):
    secret, _ = enrol(db, people.bob)

    assert login.submit({"email": "bob@example.com", "password": PASSWORD}) is None
    assert login.awaiting_code and login.error == ""
    # the pending sign-in stays on the server: a backend var, never sent to the browser
    token = login._second_factor_token
    assert token and token not in str(login.dict()) and "awaiting_code" in str(login.dict())

    assert login.submit_code({"code": wrong_code(secret)}) is None
    assert login.error.startswith("That code is not right.") and login.awaiting_code

    handoff = login.submit_code({"code": pyotp.TOTP(secret).now()})
    assert "/auth/session" in str(handoff) and "/deals" in str(handoff)
    assert login._second_factor_token == ""


def test_a_recovery_code_can_be_used_instead(db, people, login):
    _, codes = enrol(db, people.bob)
    login.submit({"email": "bob@example.com", "password": PASSWORD})
    login.toggle_recovery()
    assert login.use_recovery

    assert "/auth/session" in str(login.submit_code({"code": codes[0]}))


def test_without_a_pending_sign_in_a_code_sends_back_to_the_password(db, people, login):
    secret, _ = enrol(db, people.bob)
    login.awaiting_code = True  # as a hand-crafted event would claim

    assert login.submit_code({"code": pyotp.TOTP(secret).now()}) is None
    assert not login.awaiting_code
    assert login.error == "Your sign-in timed out. Sign in again with your password."


def test_a_user_without_two_factor_signs_in_with_the_password_alone(db, people, login):
    assert "/auth/session" in str(login.submit({"email": "bob@example.com", "password": PASSWORD}))
    assert not login.awaiting_code


def test_a_required_role_is_sent_to_set_it_up_from_every_page_but_the_profile(db, people):
    db.add(AppSetting(key=two_factor.REQUIRED_ROLES_KEY, value=["rep"]))
    db.flush()

    dashboard = state_of(DashboardState, db, people.bob, routes.DASHBOARD)
    assert routes.SETTINGS_PROFILE in str(dashboard.load())
    assert not dashboard.checked

    profile = state_of(ProfileState, db, people.bob, routes.SETTINGS_PROFILE)
    assert profile.load() is None and profile.checked
    section = state_of(TwoFactorState, db, people.bob, routes.SETTINGS_PROFILE)
    section.load()
    assert section.required and not section.enabled

    # a manager's role is not required: the dashboard opens
    managers = state_of(DashboardState, db, people.mona, routes.DASHBOARD)
    assert routes.SETTINGS_PROFILE not in str(managers.load())


def test_the_profile_section_enrols_shows_codes_once_and_turns_off(db, people):
    section = state_of(TwoFactorState, db, people.carol, routes.SETTINGS_PROFILE)
    section.load()
    section.start()
    assert section.enrolling and section.qr_data_uri.startswith("data:image/svg+xml")

    section.confirm({"code": wrong_code(section.secret)})
    assert section.code_error.startswith("That code is not right.") and not section.enabled

    section.confirm({"code": pyotp.TOTP(section.secret).now()})
    assert section.enabled and section.secret == "" and len(section.recovery_codes) == 10
    assert section.codes_download.startswith("data:text/plain")
    section.hide_codes()
    assert section.recovery_codes == [] and section.codes_left == 10

    section.turn_off({"proof": "wrong-password-1"})
    assert section.proof_error == "That password or code is not right." and section.enabled
    section.turn_off({"proof": PASSWORD})
    assert not section.enabled and people.carol.totp_secret is None


def test_only_an_admin_sets_the_required_roles(db, people):
    admin = state_of(TwoFactorPolicyState, db, people.alice, "/settings/security")
    admin.load()
    admin.toggle("manager", True)
    admin.toggle("rep", True)
    admin.toggle("rep", False)
    admin.toggle("owner", True)
    admin.save()
    assert two_factor.required_roles(db) == ["manager"]

    manager = state_of(TwoFactorPolicyState, db, people.mona, "/settings/security")
    manager.load()
    assert not manager.is_admin
    manager.policy_roles = ["rep"]  # as a hand-crafted event would send
    assert "Only an admin" in str(manager.save())
    assert two_factor.required_roles(db) == ["manager"]


def test_the_users_page_offers_a_two_factor_reset_only_for_those_who_use_it(db, people):
    from crm_app.state.user import UserAdminState

    enrol(db, people.bob)
    page = state_of(UserAdminState, db, people.alice, "/settings/users")
    page.load()
    flags = {row["email"]: row["two_factor"] for row in page.rows}
    assert flags["bob@example.com"] == "yes" and flags["carol@example.com"] == ""

    page.ask("reset_2fa", str(people.bob.id))
    assert page.confirm_kind == "reset_2fa" and page.confirm_name == people.bob.name
    page.confirm()

    assert not two_factor.is_enabled(people.bob)
    assert {r["email"]: r["two_factor"] for r in page.rows}["bob@example.com"] == ""
