"""Two-factor sign-in with TOTP (authenticator apps) and one-time recovery codes.

The TOTP secret is stored encrypted (AES-GCM, with a key derived from the app's secret key and
the user's id as associated data, so a ciphertext copied onto another user does not decrypt).
A code is accepted in the current 30-second step or one either side, and only in a step later
than the last one accepted, so an overheard code cannot be used again.

Wrong codes count against a per-user limit in the shared rate limiter (`services/rate_limit`):
the attempt is counted up front (the limiter is atomic, so concurrent guesses cannot
overshoot) and the count is undone when the code was right. Functions that check a code
therefore *return* a wrong code's error instead of raising it, so the edge commits the count.
"""

from __future__ import annotations

import base64
import hmac
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

import pyotp
import segno
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, func, update
from sqlmodel import Session, select

from crm_app.auth.passwords import verify_password
from crm_app.auth.tokens import hash_token
from crm_app.models import AppSetting, AuthToken, RecoveryCode, Role, TokenPurpose, User
from crm_app.models.base import utcnow
from crm_app.services import audit, auth, rate_limit
from crm_app.services.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthenticated,
    ValidationFailed,
)
from crm_app.services.permission import require
from crm_app.settings import get_settings

ISSUER = "CRM"
REQUIRED_ROLES_KEY = "require_2fa_roles"
RECOVERY_CODE_COUNT = 10
MAX_WRONG_CODES = 5
WRONG_CODE_WINDOW = timedelta(minutes=15)
RATE_BUCKET = "two_factor"
VALID_WINDOW = 1  # steps either side of now: a phone's clock may be 30 s off
_CIPHER_VERSION = "v1"
_RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # base32: no 0/1 to misread
_TOTP_SHAPE = re.compile(r"^\d{6}$")

WRONG_CODE = "That code is not right. Check that your phone's clock is correct and try again."
WRONG_RECOVERY_CODE = "That recovery code is not right, or it has been used already."
PENDING_EXPIRED = "Your sign-in timed out. Sign in again with your password."


# --- the secret at rest ---------------------------------------------------------------------


def _cipher() -> AESGCM:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"crm_app two-factor secret"
    ).derive(get_settings().resolved_secret_key().encode())
    return AESGCM(key)


def _associated_data(user_id: int) -> bytes:
    return f"users/{user_id}/totp".encode()


def encrypt_secret(secret: str, *, user_id: int) -> str:
    """The stored form of a TOTP secret: "v1:" and base64 of the nonce and ciphertext."""
    nonce = os.urandom(12)
    sealed = _cipher().encrypt(nonce, secret.encode(), _associated_data(user_id))
    return f"{_CIPHER_VERSION}:" + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt_secret(stored: str, *, user_id: int) -> str:
    """The TOTP secret back; fails with InvalidTag when the app's secret key has changed."""
    _, _, body = stored.partition(":")
    raw = base64.urlsafe_b64decode(body)
    return _cipher().decrypt(raw[:12], raw[12:], _associated_data(user_id)).decode()


# --- who must use it ------------------------------------------------------------------------


def is_enabled(user: User) -> bool:
    """True when sign-in asks this user for a code."""
    return user.totp_enabled_at is not None


def required_roles(session: Session) -> list[str]:
    """The roles whose users must turn two-factor on (a workspace setting)."""
    row = session.get(AppSetting, REQUIRED_ROLES_KEY)
    value = row.value if row is not None else None
    return [r for r in value if r in Role.__members__] if isinstance(value, list) else []


def is_required(session: Session, user: User) -> bool:
    """True when the user's role must use two-factor."""
    return str(user.role) in required_roles(session)


def must_enrol(session: Session, user: User) -> bool:
    """True when the user's role requires two-factor and they have not turned it on yet."""
    return not is_enabled(user) and is_required(session, user)


def set_required_roles(
    session: Session, *, actor: User, roles: list[str], ip: str | None = None
) -> list[str]:
    """Admins only: choose the roles that must use two-factor; returns them, sorted."""
    if actor.role != Role.admin or not actor.is_active:
        raise Forbidden("Only an admin can choose who must use two-factor authentication.")
    unknown = [r for r in roles if r not in Role.__members__]
    if unknown:
        raise ValidationFailed.for_field("roles", f"Unknown role: {', '.join(unknown)}.")
    chosen = sorted(set(roles), key=list(Role.__members__).index)
    before = required_roles(session)
    row = session.get(AppSetting, REQUIRED_ROLES_KEY) or AppSetting(key=REQUIRED_ROLES_KEY)
    row.value = chosen
    session.add(row)
    if before != chosen:
        audit.record(
            session,
            actor=actor,
            action="update",
            entity="setting",
            changes={REQUIRED_ROLES_KEY: [before, chosen]},
            ip=ip,
        )
    return chosen


# --- enrolment ------------------------------------------------------------------------------


@dataclass
class Enrolment:
    """What the enrolment screen shows: the secret as text and as an otpauth:// QR code."""

    secret: str
    uri: str
    qr_data_uri: str  # an SVG image


@dataclass
class CodeOutcome:
    """The result of checking a code: `error` when refused (wrong code, too many tries),
    else whatever the operation produced (the new recovery codes, shown once)."""

    error: DomainError | None = None
    recovery_codes: list[str] = field(default_factory=list)


def begin_enrolment(session: Session, *, actor: User) -> Enrolment:
    """A new secret for the actor to add to their authenticator app (replacing an
    unconfirmed one); two-factor is on only once a code from the app is confirmed."""
    if is_enabled(actor):
        raise Conflict("Two-factor authentication is already on.")
    secret = pyotp.random_base32()
    actor.totp_secret = encrypt_secret(secret, user_id=actor.id)
    actor.totp_last_step = None
    session.add(actor)
    uri = pyotp.TOTP(secret).provisioning_uri(name=actor.email, issuer_name=ISSUER)
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=2)
    return Enrolment(secret=secret, uri=uri, qr_data_uri=qr)


def confirm_enrolment(
    session: Session, *, actor: User, code: str, ip: str | None = None
) -> CodeOutcome:
    """Turn two-factor on with a code from the app; the outcome carries the recovery codes."""
    if is_enabled(actor):
        raise Conflict("Two-factor authentication is already on.")
    if not actor.totp_secret:
        raise ValidationFailed("Start setting up two-factor authentication first.")
    error = _check(session, actor, code, allow_recovery=False)
    if error is not None:
        return CodeOutcome(error=error)
    actor.totp_enabled_at = utcnow()
    session.add(actor)
    codes = _replace_recovery_codes(session, actor)
    audit.record(
        session, actor=actor, action="two_factor_enabled", entity="user", entity_id=actor.id, ip=ip
    )
    return CodeOutcome(recovery_codes=codes)


def regenerate_recovery_codes(session: Session, *, actor: User, ip: str | None = None) -> list[str]:
    """Ten new recovery codes, shown once; the earlier ones stop working."""
    if not is_enabled(actor):
        raise ValidationFailed("Turn on two-factor authentication first.")
    codes = _replace_recovery_codes(session, actor)
    audit.record(
        session,
        actor=actor,
        action="recovery_codes_regenerated",
        entity="user",
        entity_id=actor.id,
        ip=ip,
    )
    return codes


def recovery_codes_left(session: Session, *, actor: User) -> int:
    """How many of the actor's recovery codes are still unused."""
    return session.exec(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == actor.id, RecoveryCode.used_at.is_(None))
    ).one()


def turn_off(
    session: Session, *, actor: User, proof: str, ip: str | None = None
) -> DomainError | None:
    """Turn two-factor off, given the actor's password or a current code; returns the error
    when the proof is wrong (counted as a wrong code). Refused when the role requires it."""
    if not is_enabled(actor):
        raise ValidationFailed("Two-factor authentication is already off.")
    if is_required(session, actor):
        raise Forbidden("Your role requires two-factor authentication, so it stays on.")
    if _TOTP_SHAPE.match(proof.strip()):
        error = _check(session, actor, proof, allow_recovery=False)
    else:  # a password, as typed: spaces around it are part of it
        right = verify_password(actor.password_hash, proof[:200])
        error = _limited(session, actor, right=right)
    if isinstance(error, RateLimited):
        return error
    if error is not None:
        return ValidationFailed.for_field("proof", "That password or code is not right.")
    actor.totp_secret = actor.totp_enabled_at = actor.totp_last_step = None
    session.add(actor)
    session.exec(delete(RecoveryCode).where(RecoveryCode.user_id == actor.id))
    audit.record(
        session, actor=actor, action="two_factor_disabled", entity="user", entity_id=actor.id, ip=ip
    )
    return None


def reset_for_user(
    session: Session, *, actor: User | None, user_id: int, ip: str | None = None
) -> User:
    """An admin turns two-factor off for someone who lost their phone and recovery codes; the
    user's sessions end, and they enrol again at their next sign-in if their role requires it.

    `actor=None` is the `crm user reset-2fa` command run on the server (the break-glass for the
    last admin)."""
    if actor is not None:
        require(session, actor, "user", "manage")
    user = session.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound("No such user.")
    if actor is not None and user.id == actor.id:
        raise ValidationFailed("Turn off your own two-factor authentication in your profile.")
    if not is_enabled(user) and user.totp_secret is None:
        raise ValidationFailed(f"{user.name} does not use two-factor authentication.")
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
    session.add(user)
    session.exec(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    auth.end_all_sessions(session, user_id=user.id)
    audit.record(
        session,
        actor=actor,
        action="two_factor_reset",
        entity="user",
        entity_id=user.id,
        ip=ip,
        actor_label=None if actor is not None else "crm user reset-2fa",
    )
    return user


# --- the second step of sign-in -------------------------------------------------------------


def complete_sign_in(
    session: Session, *, token: str, code: str, ip: str | None = None
) -> auth.SignInOutcome:
    """Check the code (or a recovery code) for a sign-in whose password was right; a right
    one uses up the pending token and yields the hand-off code for the session cookie."""
    code = code.strip()
    row = session.exec(
        select(AuthToken)
        .where(
            AuthToken.token_hash == hash_token(token),
            AuthToken.purpose == TokenPurpose.second_factor,
            AuthToken.used_at.is_(None),
            AuthToken.expires_at > utcnow(),
        )
        .with_for_update()
    ).first()
    user = session.get(User, row.user_id) if row is not None else None
    if row is None or user is None or not user.is_active or not is_enabled(user):
        return auth.SignInOutcome(error=Unauthenticated(PENDING_EXPIRED))
    error = _check(session, user, code, allow_recovery=True)
    if error is not None:
        audit.record(
            session,
            actor=None,
            action="two_factor_failed",
            entity="user",
            entity_id=user.id,
            ip=ip,
            actor_label=user.email,
        )
        return auth.SignInOutcome(error=error)
    row.used_at = utcnow()
    session.add(row)
    handoff = auth.issue_handoff(session, user=user)
    audit.record(
        session,
        actor=user,
        action="sign_in",
        entity="user",
        entity_id=user.id,
        ip=ip,
        changes={"second_factor": "recovery_code" if not _TOTP_SHAPE.match(code) else "totp"},
    )
    return auth.SignInOutcome(user=user, handoff_code=handoff)


# --- checking codes -------------------------------------------------------------------------


def _check(session: Session, user: User, code: str, *, allow_recovery: bool) -> DomainError | None:
    """Accept a TOTP code (or, when allowed, an unused recovery code) and record that it was
    used; the error when it is wrong or too many wrong codes were tried."""
    code = code.strip()
    if not code:
        return ValidationFailed.for_field("code", "Enter the 6-digit code from your app.")
    if _TOTP_SHAPE.match(code):
        step = _matching_step(user, code)
        error = _limited(session, user, right=step is not None)
        if error is None and not _use_step(session, user, step):
            error = _wrong()  # a concurrent sign-in used this step first
        return error
    recovery_id = _unused_recovery_code(session, user, code) if allow_recovery else None
    wrong = WRONG_RECOVERY_CODE if allow_recovery else WRONG_CODE
    error = _limited(session, user, right=recovery_id is not None, wrong=wrong)
    if error is None and not _use_recovery_code(session, recovery_id):
        error = _wrong(wrong)  # a concurrent sign-in used this code first
    return error


def _limited(
    session: Session, user: User, *, right: bool, wrong: str = WRONG_CODE
) -> DomainError | None:
    """Count a wrong code, refusing once too many were tried; a right one is refused too
    while the limit lasts (else guessing would go on), but not counted."""
    with session.begin_nested() as attempt:
        refused = rate_limit.hit(
            session,
            bucket=RATE_BUCKET,
            key=f"user:{user.id}",
            limit=MAX_WRONG_CODES,
            window=WRONG_CODE_WINDOW,
        )
        if refused is not None or right:
            attempt.rollback()  # the limiter cannot peek: undo the count of a right code
    if refused is not None:
        return _too_many(refused.seconds)
    return None if right else _wrong(wrong)


def _wrong(message: str = WRONG_CODE) -> ValidationFailed:
    return ValidationFailed.for_field("code", message)


def _too_many(seconds: int) -> RateLimited:
    minutes = max(1, -(-seconds // 60))
    return RateLimited(
        f"Too many codes tried; try again in {minutes} minute{'s' if minutes != 1 else ''}.",
        seconds,
    )


def _matching_step(user: User, code: str) -> int | None:
    """The time step, near now and after the last one used, whose code this is."""
    if not user.totp_secret:
        return None
    try:
        totp = pyotp.TOTP(decrypt_secret(user.totp_secret, user_id=user.id))
    except (InvalidTag, ValueError):
        return None
    now_step = totp.timecode(utcnow())
    for step in range(now_step - VALID_WINDOW, now_step + VALID_WINDOW + 1):
        fresh = user.totp_last_step is None or step > user.totp_last_step
        if fresh and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _use_step(session: Session, user: User, step: int | None) -> bool:
    """Record `step` as used, unless a concurrent sign-in used it (or a later one) first."""
    if step is None:
        return False
    used = session.exec(
        update(User)
        .where(User.id == user.id)
        .where((User.totp_last_step.is_(None)) | (User.totp_last_step < step))
        .values(totp_last_step=step)
        .returning(User.id)
    ).first()
    if used is not None:
        user.totp_last_step = step
    return used is not None


def _normalize_recovery(code: str) -> str:
    return re.sub(r"[^a-z0-9]", "", code.lower())


def _unused_recovery_code(session: Session, user: User, code: str) -> int | None:
    digest = hash_token(_normalize_recovery(code))
    return session.exec(
        select(RecoveryCode.id).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == digest,
            RecoveryCode.used_at.is_(None),
        )
    ).first()


def _use_recovery_code(session: Session, code_id: int | None) -> bool:
    """Mark the code used in the statement that checks it is unused: it works exactly once."""
    if code_id is None:
        return False
    used = session.exec(
        update(RecoveryCode)
        .where(RecoveryCode.id == code_id, RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
        .returning(RecoveryCode.id)
    ).first()
    return used is not None


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(12))
    return "-".join(raw[i : i + 4] for i in range(0, 12, 4))


def _replace_recovery_codes(session: Session, user: User) -> list[str]:
    session.exec(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all(
        RecoveryCode(user_id=user.id, code_hash=hash_token(_normalize_recovery(c))) for c in codes
    )
    session.flush()
    return codes
