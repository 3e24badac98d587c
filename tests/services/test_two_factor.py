"""Two-factor sign-in: enrolling an authenticator app, codes at sign-in, recovery codes, the
roles that must use it, and the limit on wrong codes."""

from __future__ import annotations

import re
from datetime import timedelta
from unittest import mock

import pyotp
import pytest
from cryptography.exceptions import InvalidTag
from sqlmodel import select

from crm_app.models import AppSetting, AuditEvent, RecoveryCode
from crm_app.models.base import utcnow
from crm_app.services import auth, invitation, two_factor
from crm_app.services.errors import ErrorCode, Forbidden, ValidationFailed
from tests.factories import PASSWORD


def enrol(db, user) -> tuple[str, list[str]]:
    """Turn two-factor on for `user`; returns the secret and the recovery codes."""
    enrolment = two_factor.begin_enrolment(db, actor=user)
    outcome = two_factor.confirm_enrolment(db, actor=user, code=pyotp.TOTP(enrolment.secret).now())
    assert outcome.error is None, outcome.error
    user.totp_last_step = None  # let the tests use the current code again
    return enrolment.secret, outcome.recovery_codes


def wrong_code(secret: str) -> str:
    """A 6-digit code that is not the right one in any step near now."""
    totp, now = pyotp.TOTP(secret), utcnow()
    near = {totp.at(now + timedelta(seconds=s)) for s in (-60, -30, 0, 30, 60)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in near)


def password_step(db, email="bob@example.com") -> str:
    outcome = auth.sign_in(db, email=email, password=PASSWORD, ip="10.0.0.1")
    assert outcome.error is None and outcome.handoff_code is None
    return outcome.second_factor_token


def test_enrolling_shows_a_qr_code_of_an_otpauth_uri_and_turns_on_after_a_right_code(db, people):
    enrolment = two_factor.begin_enrolment(db, actor=people.bob)
    assert enrolment.uri.startswith("otpauth://totp/CRM:bob%40example.com?secret=")
    assert "issuer=CRM" in enrolment.uri
    assert enrolment.qr_data_uri.startswith("data:image/svg+xml")
    assert not two_factor.is_enabled(people.bob)

    outcome = two_factor.confirm_enrolment(
        db, actor=people.bob, code=pyotp.TOTP(enrolment.secret).now()
    )

    assert outcome.error is None
    assert two_factor.is_enabled(people.bob)
    assert len(outcome.recovery_codes) == 10 and len(set(outcome.recovery_codes)) == 10
    assert all(
        re.fullmatch(r"[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}", c) for c in outcome.recovery_codes
    )
    assert two_factor.recovery_codes_left(db, actor=people.bob) == 10
    events = db.exec(select(AuditEvent.action).where(AuditEvent.entity_id == people.bob.id))
    assert events.all()[-1] == "two_factor_enabled"


def test_a_wrong_code_does_not_turn_it_on(db, people):
    enrolment = two_factor.begin_enrolment(db, actor=people.bob)
    outcome = two_factor.confirm_enrolment(db, actor=people.bob, code=wrong_code(enrolment.secret))

    assert outcome.error.message.startswith("That code is not right.")
    assert outcome.error.errors[0].field == "code"
    assert not two_factor.is_enabled(people.bob) and outcome.recovery_codes == []


def test_the_secret_is_stored_encrypted_and_only_for_its_user(db, people):
    enrolment = two_factor.begin_enrolment(db, actor=people.bob)
    db.flush()
    stored = people.bob.totp_secret
    assert enrolment.secret not in stored and stored.startswith("v1:")
    assert two_factor.decrypt_secret(stored, user_id=people.bob.id) == enrolment.secret
    # copied onto another user, it does not decrypt (the user id is sealed in)
    with pytest.raises(InvalidTag):
        two_factor.decrypt_secret(stored, user_id=people.carol.id)


def test_recovery_codes_are_stored_as_hashes_only(db, people):
    _, codes = enrol(db, people.carol)
    stored = db.exec(
        select(RecoveryCode.code_hash).where(RecoveryCode.user_id == people.carol.id)
    ).all()
    assert len(stored) == 10
    assert not any(code in h or code.replace("-", "") in h for code in codes for h in stored)


def test_with_two_factor_on_the_password_alone_gives_no_session(db, people):
    enrol(db, people.bob)

    outcome = auth.sign_in(db, email="bob@example.com", password=PASSWORD)

    assert outcome.handoff_code is None and outcome.second_factor_token


def test_the_code_after_the_password_signs_in(db, people):
    secret, _ = enrol(db, people.bob)
    token = password_step(db)

    outcome = two_factor.complete_sign_in(db, token=token, code=pyotp.TOTP(secret).now())

    assert outcome.error is None
    _, session_token = auth.redeem_handoff(db, code=outcome.handoff_code)
    assert auth.authenticate(db, session_token).id == people.bob.id


def test_a_code_is_accepted_once_a_replay_is_refused(db, people):
    secret, _ = enrol(db, people.bob)
    code = pyotp.TOTP(secret).now()
    assert two_factor.complete_sign_in(db, token=password_step(db), code=code).error is None

    replay = two_factor.complete_sign_in(db, token=password_step(db), code=code)

    assert replay.handoff_code is None
    assert replay.error.message.startswith("That code is not right.")


def test_the_pending_sign_in_works_once_and_expires_after_five_minutes(db, people):
    secret, _ = enrol(db, people.bob)
    token = password_step(db)
    assert two_factor.complete_sign_in(db, token=token, code=pyotp.TOTP(secret).now()).handoff_code

    again = two_factor.complete_sign_in(
        db, token=token, code=pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30))
    )
    assert again.error.code is ErrorCode.UNAUTHENTICATED

    late = password_step(db)
    in_six_minutes = utcnow() + timedelta(minutes=6)
    with mock.patch("crm_app.services.two_factor.utcnow", return_value=in_six_minutes):
        outcome = two_factor.complete_sign_in(db, token=late, code=pyotp.TOTP(secret).now())
    assert outcome.error.message == "Your sign-in timed out. Sign in again with your password."


def test_a_recovery_code_signs_in_once(db, people):
    _, codes = enrol(db, people.bob)

    first = two_factor.complete_sign_in(db, token=password_step(db), code=codes[3].upper())
    second = two_factor.complete_sign_in(db, token=password_step(db), code=codes[3])

    assert first.error is None and first.handoff_code
    assert second.handoff_code is None
    assert second.error.message == "That recovery code is not right, or it has been used already."
    assert two_factor.recovery_codes_left(db, actor=people.bob) == 9


def test_regenerated_recovery_codes_replace_the_old_ones(db, people):
    _, old = enrol(db, people.bob)

    new = two_factor.regenerate_recovery_codes(db, actor=people.bob)

    assert len(new) == 10 and not set(new) & set(old)
    refused = two_factor.complete_sign_in(db, token=password_step(db), code=old[0])
    assert refused.handoff_code is None
    assert two_factor.complete_sign_in(db, token=password_step(db), code=new[0]).handoff_code


def test_five_wrong_codes_refuse_even_the_right_one_with_a_wait(db, people):
    secret, _ = enrol(db, people.bob)
    token = password_step(db)
    for _ in range(5):
        outcome = two_factor.complete_sign_in(db, token=token, code=wrong_code(secret))
        assert outcome.error.code is ErrorCode.VALIDATION

    refused = two_factor.complete_sign_in(db, token=token, code=pyotp.TOTP(secret).now())

    assert refused.handoff_code is None
    assert refused.error.code is ErrorCode.RATE_LIMITED
    assert re.fullmatch(r"Too many codes tried; try again in \d+ minutes\.", refused.error.message)
    assert refused.error.retry_after_seconds > 60


def test_right_codes_do_not_count_towards_the_limit(db, people):
    secret, _ = enrol(db, people.bob)
    for i in range(6):
        people.bob.totp_last_step = None
        outcome = two_factor.complete_sign_in(
            db, token=password_step(db), code=pyotp.TOTP(secret).now()
        )
        assert outcome.error is None, i


def test_the_limit_is_per_user(db, people):
    bob_secret, _ = enrol(db, people.bob)
    carol_secret, _ = enrol(db, people.carol)
    token = password_step(db)
    for _ in range(6):
        two_factor.complete_sign_in(db, token=token, code=wrong_code(bob_secret))

    carol = two_factor.complete_sign_in(
        db, token=password_step(db, "carol@example.com"), code=pyotp.TOTP(carol_secret).now()
    )

    assert carol.error is None


def test_turning_off_needs_the_password_or_a_code(db, people):
    secret, _ = enrol(db, people.bob)

    wrong = two_factor.turn_off(db, actor=people.bob, proof="not-my-password")
    assert wrong.errors[0].field == "proof" and two_factor.is_enabled(people.bob)

    assert two_factor.turn_off(db, actor=people.bob, proof=PASSWORD) is None
    assert not two_factor.is_enabled(people.bob) and people.bob.totp_secret is None
    assert two_factor.recovery_codes_left(db, actor=people.bob) == 0
    outcome = auth.sign_in(db, email="bob@example.com", password=PASSWORD)
    assert outcome.handoff_code is not None

    secret, _ = enrol(db, people.bob)
    assert two_factor.turn_off(db, actor=people.bob, proof=pyotp.TOTP(secret).now()) is None


def test_a_role_that_requires_two_factor_cannot_turn_it_off(db, people):
    enrol(db, people.bob)
    two_factor.set_required_roles(db, actor=people.alice, roles=["rep", "manager"])

    with pytest.raises(Forbidden, match="Your role requires two-factor"):
        two_factor.turn_off(db, actor=people.bob, proof=PASSWORD)
    assert two_factor.is_enabled(people.bob)


def test_required_roles_are_set_by_admins_only_and_audited(db, people):
    with pytest.raises(Forbidden):
        two_factor.set_required_roles(db, actor=people.mona, roles=["rep"])
    with pytest.raises(ValidationFailed, match="Unknown role: owner"):
        two_factor.set_required_roles(db, actor=people.alice, roles=["owner"])

    chosen = two_factor.set_required_roles(db, actor=people.alice, roles=["rep", "admin", "rep"])

    assert chosen == ["admin", "rep"]
    assert db.get(AppSetting, "require_2fa_roles").value == ["admin", "rep"]
    event = db.exec(select(AuditEvent).where(AuditEvent.entity == "setting")).one()
    assert event.actor_id == people.alice.id
    assert event.changes == {"require_2fa_roles": [[], ["admin", "rep"]]}
    assert two_factor.must_enrol(db, people.bob) and not two_factor.must_enrol(db, people.mona)
    enrol(db, people.bob)
    assert not two_factor.must_enrol(db, people.bob)


def test_sign_in_with_a_code_is_audited_and_wrong_codes_too(db, people):
    secret, codes = enrol(db, people.bob)
    token = password_step(db)
    two_factor.complete_sign_in(db, token=token, code=wrong_code(secret), ip="10.0.0.1")
    two_factor.complete_sign_in(db, token=token, code=codes[0], ip="10.0.0.1")

    actions = db.exec(
        select(AuditEvent.action, AuditEvent.changes)
        .where(AuditEvent.entity_id == people.bob.id)
        .order_by(AuditEvent.id)
    ).all()

    assert actions[-2:] == [
        ("two_factor_failed", {}),
        ("sign_in", {"second_factor": "recovery_code"}),
    ]


def test_a_password_reset_link_does_not_skip_the_code(db, people):
    secret, _ = enrol(db, people.bob)
    link = invitation.admin_password_reset(db, actor=people.alice, user_id=people.bob.id)

    handoff = invitation.set_password_with_token(
        db, token=link.url.rsplit("/", 1)[1], purpose="reset", password="a-new-long-password"
    )

    assert handoff is None
    outcome = auth.sign_in(db, email="bob@example.com", password="a-new-long-password")
    assert outcome.handoff_code is None and outcome.second_factor_token
    assert two_factor.complete_sign_in(
        db, token=outcome.second_factor_token, code=pyotp.TOTP(secret).now()
    ).handoff_code


def test_an_admin_resets_two_factor_for_someone_who_lost_their_phone(db, people):
    enrol(db, people.bob)
    token = auth.start_session(db, user=people.bob)

    two_factor.reset_for_user(db, actor=people.alice, user_id=people.bob.id, ip="10.0.0.9")

    assert not two_factor.is_enabled(people.bob) and people.bob.totp_secret is None
    assert db.exec(select(RecoveryCode).where(RecoveryCode.user_id == people.bob.id)).all() == []
    assert auth.authenticate(db, token) is None  # their sessions ended
    # the next sign-in needs only the password again
    outcome = auth.sign_in(db, email="bob@example.com", password=PASSWORD, ip="10.0.0.1")
    assert outcome.handoff_code is not None
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "two_factor_reset")).one()
    assert (event.actor_id, event.entity_id) == (people.alice.id, people.bob.id)


def test_only_user_managers_reset_two_factor_and_not_their_own(db, people):
    enrol(db, people.bob)
    enrol(db, people.alice)
    with pytest.raises(Forbidden):
        two_factor.reset_for_user(db, actor=people.carol, user_id=people.bob.id)
    with pytest.raises(ValidationFailed, match="your own"):
        two_factor.reset_for_user(db, actor=people.alice, user_id=people.alice.id)
    assert two_factor.is_enabled(people.bob) and two_factor.is_enabled(people.alice)


def test_the_server_command_resets_two_factor_for_the_last_admin(db, people):
    enrol(db, people.alice)
    two_factor.reset_for_user(db, actor=None, user_id=people.alice.id)
    assert not two_factor.is_enabled(people.alice)
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "two_factor_reset")).one()
    assert event.actor_label == "crm user reset-2fa"
