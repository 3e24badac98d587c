"""Managing users: roles, deactivation, profile, own password."""

from __future__ import annotations

import pytest

from crm_app.services import auth
from crm_app.services import user as users
from crm_app.services.errors import Conflict, Forbidden, ValidationFailed
from tests.factories import PASSWORD


def test_admin_changes_a_role_and_it_is_audited(db, people):
    from crm_app.services.audit import list_events

    users.change_role(db, actor=people.alice, user_id=people.bob.id, role="manager")
    assert people.bob.role == "manager"
    event = list_events(db, actor=people.alice, action="role_change").rows[0]
    assert event.changes == {"role": ["rep", "manager"]}
    assert event.actor == "alice@example.com"


def test_non_admins_cannot_change_roles(db, people):
    with pytest.raises(Forbidden):
        users.change_role(db, actor=people.mona, user_id=people.bob.id, role="admin")


def test_the_last_admin_cannot_be_demoted_or_deactivated(db, people):
    with pytest.raises(Forbidden):
        users.change_role(db, actor=people.alice, user_id=people.alice.id, role="rep")
    other = users.create_user(
        db,
        email="admin2@example.com",
        name="Second Admin",
        role="admin",
        password="a-good-long-password",
    )
    with pytest.raises(Forbidden):
        users.set_active(db, actor=people.alice, user_id=people.alice.id, active=False)
    users.set_active(db, actor=people.alice, user_id=other.id, active=False)
    with pytest.raises(Forbidden):
        users.change_role(db, actor=people.alice, user_id=people.alice.id, role="rep")


def test_reactivated_user_can_sign_in_again(db, people):
    users.set_active(db, actor=people.alice, user_id=people.bob.id, active=False)
    assert auth.sign_in(db, email="bob@example.com", password=PASSWORD).error is not None
    users.set_active(db, actor=people.alice, user_id=people.bob.id, active=True)
    assert auth.sign_in(db, email="bob@example.com", password=PASSWORD).error is None


def test_emails_are_unique_ignoring_case(db, people):
    with pytest.raises(Conflict):
        users.create_user(
            db, email="ALICE@example.com", name="A", role="rep", password="a-good-long-password"
        )


def test_list_users_pages_and_searches(db, people):
    rows, total = users.list_users(db, actor=people.alice, q="rep", limit=2)
    assert total == 3
    assert [r.name for r in rows] == ["Bob Rep", "Carol Rep"]


def test_change_own_password_keeps_this_session_and_ends_the_others(db, people):
    def session_for():
        outcome = auth.sign_in(db, email="bob@example.com", password=PASSWORD)
        return auth.redeem_handoff(db, code=outcome.handoff_code)[1]

    this, other = session_for(), session_for()
    users.change_password(
        db, actor=people.bob, current=PASSWORD, new="brand-new-password", keep_token=this
    )
    assert auth.authenticate(db, this).id == people.bob.id
    assert auth.authenticate(db, other) is None


def test_change_password_needs_the_current_one(db, people):
    with pytest.raises(ValidationFailed) as caught:
        users.change_password(
            db, actor=people.bob, current="wrong", new="brand-new-password", keep_token=None
        )
    assert caught.value.errors[0].field == "current_password"


def test_profile_rejects_an_unknown_time_zone(db, people):
    with pytest.raises(ValidationFailed):
        users.update_profile(db, actor=people.bob, name="Bob", timezone="Mars/Olympus")
    users.update_profile(db, actor=people.bob, name="Robert Rep", timezone="Europe/Paris")
    assert (people.bob.name, people.bob.timezone) == ("Robert Rep", "Europe/Paris")


def test_create_user_refuses_short_common_or_personal_passwords(db, people):
    for bad in ("short-pw", "qwertyuiop", "Dana.Newcomer", "dana@example.com"):
        with pytest.raises(ValidationFailed) as caught:
            users.create_user(
                db, email="dana@example.com", name="Dana Newcomer", role="rep", password=bad
            )
        assert caught.value.errors[0].field == "password"


def test_change_password_refuses_a_common_password_next_to_the_new_field(db, people):
    with pytest.raises(ValidationFailed) as caught:
        users.change_password(
            db, actor=people.bob, current=PASSWORD, new="Password123", keep_token=None
        )
    assert caught.value.errors[0].field == "new_password"
    assert "too common" in caught.value.errors[0].message
    assert auth.sign_in(db, email="bob@example.com", password=PASSWORD).error is None
