"""Signing in and out, lock-out, sessions and their expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher, extract_parameters
from sqlmodel import select

from crm_app.auth import passwords
from crm_app.models import AuditEvent, UserSession
from crm_app.models.base import utcnow
from crm_app.services import auth
from crm_app.services.errors import ErrorCode, Unauthenticated
from tests.factories import PASSWORD


def sign_in_and_open(db, email: str, password: str = PASSWORD) -> str:
    outcome = auth.sign_in(db, email=email, password=password, ip="10.0.0.1")
    assert outcome.error is None, outcome.error
    _, token = auth.redeem_handoff(
        db, code=outcome.handoff_code, ip="10.0.0.1", user_agent="pytest"
    )
    return token


def test_right_password_signs_in_and_the_session_identifies_the_user(db, people):
    token = sign_in_and_open(db, "Bob@Example.com ")
    assert auth.authenticate(db, token).id == people.bob.id


def test_wrong_password_is_refused_with_a_message(db, people):
    outcome = auth.sign_in(db, email="bob@example.com", password="not-the-password")
    assert outcome.handoff_code is None
    assert outcome.error.message == "Wrong e-mail or password."


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(db, people):
    outcome = auth.sign_in(db, email="nobody@example.com", password="whatever-password")
    assert outcome.error.message == "Wrong e-mail or password."


def test_fifth_failure_locks_the_account_for_fifteen_minutes(db, people):
    for _ in range(4):
        outcome = auth.sign_in(db, email="bob@example.com", password="nope-nope-nope")
        assert outcome.error.code is ErrorCode.VALIDATION
    outcome = auth.sign_in(db, email="bob@example.com", password="nope-nope-nope")
    assert outcome.error.code is ErrorCode.LOCKED
    assert "locked for 15 more minutes" in outcome.error.message
    # Even the right password is refused while locked.
    outcome = auth.sign_in(db, email="bob@example.com", password=PASSWORD)
    assert outcome.error.code is ErrorCode.LOCKED
    assert outcome.handoff_code is None


def test_lock_applies_to_one_account_only(db, people):
    for _ in range(5):
        auth.sign_in(db, email="bob@example.com", password="nope-nope-nope")
    assert auth.sign_in(db, email="carol@example.com", password=PASSWORD).error is None


def test_lock_ends_after_fifteen_minutes(db, people):
    from crm_app.models import LoginAttempt

    for _ in range(5):
        auth.sign_in(db, email="bob@example.com", password="nope-nope-nope")
    for attempt in db.exec(select(LoginAttempt)).all():
        attempt.created_at -= timedelta(minutes=16)
        db.add(attempt)
    db.flush()
    assert auth.sign_in(db, email="bob@example.com", password=PASSWORD).error is None


def test_deactivated_user_cannot_sign_in(db, people):
    people.bob.is_active = False
    db.flush()
    outcome = auth.sign_in(db, email="bob@example.com", password=PASSWORD)
    assert outcome.error is not None and outcome.handoff_code is None


def test_handoff_code_works_once(db, people):
    outcome = auth.sign_in(db, email="bob@example.com", password=PASSWORD)
    auth.redeem_handoff(db, code=outcome.handoff_code)
    with pytest.raises(Unauthenticated):
        auth.redeem_handoff(db, code=outcome.handoff_code)


def test_expired_handoff_code_is_refused(db, people):
    from crm_app.models import AuthToken

    outcome = auth.sign_in(db, email="bob@example.com", password=PASSWORD)
    token = db.exec(select(AuthToken).where(AuthToken.purpose == "login")).one()
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.flush()
    with pytest.raises(Unauthenticated):
        auth.redeem_handoff(db, code=outcome.handoff_code)


def test_sign_out_ends_the_session_on_the_server(db, people):
    token = sign_in_and_open(db, "bob@example.com")
    auth.sign_out(db, token=token)
    assert auth.authenticate(db, token) is None


def test_session_expires_after_twelve_idle_hours(db, people):
    token = sign_in_and_open(db, "bob@example.com")
    row = db.exec(select(UserSession)).one()
    row.last_seen_at = utcnow() - timedelta(hours=12, minutes=1)
    db.flush()
    assert auth.authenticate(db, token) is None


def test_session_expires_after_thirty_days_however_active(db, people):
    token = sign_in_and_open(db, "bob@example.com")
    row = db.exec(select(UserSession)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    row.last_seen_at = utcnow()
    db.flush()
    assert auth.authenticate(db, token) is None


def test_deactivating_a_user_ends_their_sessions_at_once(db, people):
    from crm_app.services import user as users

    token = sign_in_and_open(db, "bob@example.com")
    users.set_active(db, actor=people.alice, user_id=people.bob.id, active=False)
    assert auth.authenticate(db, token) is None


def test_sign_ins_and_failures_are_audited(db, people):
    sign_in_and_open(db, "bob@example.com")
    auth.sign_in(db, email="bob@example.com", password="nope-nope-nope")
    actions = [e.action for e in db.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]
    assert actions[-2:] == ["sign_in", "sign_in_failed"]


def test_only_a_hash_of_the_session_token_is_stored(db, people):
    token = sign_in_and_open(db, "bob@example.com")
    row = db.exec(select(UserSession)).one()
    assert token not in row.token_hash


def test_sign_in_upgrades_a_hash_made_with_weaker_argon2_parameters(db, people):
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    people.bob.password_hash = weak
    db.flush()
    sign_in_and_open(db, "bob@example.com")
    db.refresh(people.bob)
    stored = people.bob.password_hash
    assert stored != weak
    params = extract_parameters(stored)
    assert (params.memory_cost, params.time_cost, params.parallelism) == (
        passwords.ARGON2_MEMORY_KIB,
        passwords.ARGON2_TIME_COST,
        passwords.ARGON2_PARALLELISM,
    )
    sign_in_and_open(db, "bob@example.com")


def test_sign_in_leaves_a_current_hash_alone(db, people):
    before = people.bob.password_hash
    sign_in_and_open(db, "bob@example.com")
    db.refresh(people.bob)
    assert people.bob.password_hash == before
