"""Invitations and password resets: single-use, expiring links."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from crm_app.models import AuditEvent, AuthToken
from crm_app.models.base import utcnow
from crm_app.services import auth, invitation
from crm_app.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from crm_app.settings import get_settings
from tests.factories import PASSWORD


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def test_admin_invites_a_user_who_sets_a_password_and_signs_in(db, people):
    link = invitation.invite_user(
        db,
        actor=people.alice,
        email="New.Person@Example.com",
        name="New Person",
        role="rep",
        team_id=people.east.id,
    )
    assert link.url.startswith("http://testserver/invite/")
    assert link.user.email == "new.person@example.com"
    assert link.user.password_hash is None
    assert invitation.peek(db, token=token_of(link.url), purpose="invite").id == link.user.id

    code = invitation.set_password_with_token(
        db, token=token_of(link.url), purpose="invite", password="a-good-long-password"
    )
    user, session_token = auth.redeem_handoff(db, code=code)
    assert user.id == link.user.id
    assert auth.authenticate(db, session_token).id == link.user.id
    signed_in = auth.sign_in(db, email="new.person@example.com", password="a-good-long-password")
    assert signed_in.error is None


def test_invitation_link_works_once(db, people):
    link = invitation.invite_user(
        db, actor=people.alice, email="x@example.com", name="X", role="viewer"
    )
    invitation.set_password_with_token(
        db, token=token_of(link.url), purpose="invite", password="a-good-long-password"
    )
    with pytest.raises(NotFound):
        invitation.set_password_with_token(
            db, token=token_of(link.url), purpose="invite", password="another-long-password"
        )


def test_only_user_managers_invite(db, people):
    with pytest.raises(Forbidden):
        invitation.invite_user(db, actor=people.mona, email="x@example.com", name="X", role="rep")


def test_inviting_an_existing_email_is_a_conflict(db, people):
    with pytest.raises(Conflict):
        invitation.invite_user(
            db, actor=people.alice, email="BOB@example.com", name="B", role="rep"
        )


def test_invitation_rejects_bad_fields_with_a_message_per_field(db, people):
    with pytest.raises(ValidationFailed) as caught:
        invitation.invite_user(db, actor=people.alice, email="not-an-email", name=" ", role="boss")
    assert {e.field for e in caught.value.errors} == {"email", "name", "role"}


def test_short_or_common_passwords_are_refused(db, people):
    link = invitation.invite_user(
        db, actor=people.alice, email="y@example.com", name="Y", role="rep"
    )
    for bad in ("short", "password123"):
        with pytest.raises(ValidationFailed):
            invitation.set_password_with_token(
                db, token=token_of(link.url), purpose="invite", password=bad
            )


def test_forgotten_password_link_sets_a_new_password_and_ends_other_sessions(db, people, caplog):
    outcome = auth.sign_in(db, email="bob@example.com", password=PASSWORD)
    _, old_session = auth.redeem_handoff(db, code=outcome.handoff_code)
    with caplog.at_level("WARNING", logger="crm_app.mail"):
        invitation.request_password_reset(db, email="bob@example.com")
    url = next(r.args[2] for r in caplog.records if r.args and r.args[0] == "Reset")
    invitation.set_password_with_token(
        db, token=token_of(url), purpose="reset", password="my-new-long-password"
    )
    assert auth.authenticate(db, old_session) is None
    assert auth.sign_in(db, email="bob@example.com", password="my-new-long-password").error is None
    assert auth.sign_in(db, email="bob@example.com", password=PASSWORD).error is not None


def test_reset_link_expires(db, people, caplog):
    with caplog.at_level("WARNING", logger="crm_app.mail"):
        invitation.request_password_reset(db, email="bob@example.com")
    url = next(r.args[2] for r in caplog.records if r.args and r.args[0] == "Reset")
    row = db.exec(select(AuthToken).where(AuthToken.purpose == "reset")).one()
    assert row.expires_at <= utcnow() + timedelta(hours=1)
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.flush()
    with pytest.raises(NotFound):
        invitation.set_password_with_token(
            db, token=token_of(url), purpose="reset", password="my-new-long-password"
        )


def test_reset_for_an_unknown_email_creates_nothing(db, people):
    invitation.request_password_reset(db, email="ghost@example.com")
    assert db.exec(select(AuthToken).where(AuthToken.purpose == "reset")).all() == []


def test_a_new_reset_link_invalidates_the_previous_one(db, people):
    first = invitation.admin_password_reset(db, actor=people.alice, user_id=people.bob.id)
    invitation.admin_password_reset(db, actor=people.alice, user_id=people.bob.id)
    with pytest.raises(NotFound):
        invitation.peek(db, token=token_of(first.url), purpose="reset")


def test_admin_reset_ends_the_users_sessions(db, people):
    outcome = auth.sign_in(db, email="bob@example.com", password=PASSWORD)
    _, token = auth.redeem_handoff(db, code=outcome.handoff_code)
    invitation.admin_password_reset(db, actor=people.alice, user_id=people.bob.id)
    assert auth.authenticate(db, token) is None


def reset_url_from_log(caplog) -> str:
    return next(r.args[2] for r in caplog.records if r.args and r.args[0] == "Reset")


def test_reset_links_point_to_the_configured_base_url(db, people, caplog, monkeypatch):
    # The service is never handed the request, so a forged Host header cannot reach the link.
    monkeypatch.setenv("CRM_BASE_URL", "https://crm.example.org/")
    get_settings.cache_clear()
    try:
        with caplog.at_level("WARNING", logger="crm_app.mail"):
            invitation.request_password_reset(db, email="bob@example.com")
        link = invitation.admin_password_reset(db, actor=people.alice, user_id=people.carol.id)
    finally:
        monkeypatch.delenv("CRM_BASE_URL")
        get_settings.cache_clear()
    assert reset_url_from_log(caplog).startswith("https://crm.example.org/reset-password/")
    assert link.url.startswith("https://crm.example.org/reset-password/")


def test_reset_link_works_once(db, people, caplog):
    with caplog.at_level("WARNING", logger="crm_app.mail"):
        invitation.request_password_reset(db, email="bob@example.com")
    token = token_of(reset_url_from_log(caplog))
    invitation.set_password_with_token(
        db, token=token, purpose="reset", password="my-new-long-password"
    )
    with pytest.raises(NotFound):
        invitation.set_password_with_token(
            db, token=token, purpose="reset", password="yet-another-password"
        )
    assert auth.sign_in(db, email="bob@example.com", password="my-new-long-password").error is None


def test_reset_links_never_last_more_than_an_hour_whatever_the_setting(db, people, monkeypatch):
    monkeypatch.setenv("CRM_RESET_VALID_MINUTES", "600")
    get_settings.cache_clear()
    try:
        invitation.request_password_reset(db, email="bob@example.com")
    finally:
        monkeypatch.delenv("CRM_RESET_VALID_MINUTES")
        get_settings.cache_clear()
    row = db.exec(select(AuthToken).where(AuthToken.purpose == "reset")).one()
    assert row.expires_at <= utcnow() + timedelta(minutes=60)


def test_using_a_reset_link_ends_every_session_of_the_user(db, people, caplog):
    sessions = []
    for _ in range(2):
        outcome = auth.sign_in(db, email="bob@example.com", password=PASSWORD)
        sessions.append(auth.redeem_handoff(db, code=outcome.handoff_code)[1])
    with caplog.at_level("WARNING", logger="crm_app.mail"):
        invitation.request_password_reset(db, email="bob@example.com")
    invitation.set_password_with_token(
        db, token=token_of(reset_url_from_log(caplog)), purpose="reset", password="my-new-long-pw"
    )
    assert [auth.authenticate(db, token) for token in sessions] == [None, None]


def test_an_unknown_email_gets_the_same_answer_and_is_audited_too(db, people):
    assert invitation.request_password_reset(db, email="ghost@example.com") is None
    assert invitation.request_password_reset(db, email="bob@example.com") is None
    events = db.exec(
        select(AuditEvent).where(AuditEvent.action == "password_reset_requested")
    ).all()
    assert sorted(e.actor_label for e in events) == ["bob@example.com", "ghost@example.com"]


def test_a_link_refuses_the_users_own_email_as_password_and_stays_usable(db, people, caplog):
    with caplog.at_level("WARNING", logger="crm_app.mail"):
        invitation.request_password_reset(db, email="bob@example.com")
    token = token_of(reset_url_from_log(caplog))
    with pytest.raises(ValidationFailed) as caught:
        invitation.set_password_with_token(
            db, token=token, purpose="reset", password="Bob@Example.com"
        )
    assert caught.value.errors[0].field == "password"
    assert "e-mail" in caught.value.errors[0].message
    invitation.set_password_with_token(
        db, token=token, purpose="reset", password="my-new-long-password"
    )
