"""Signing in and out: credentials, lock-out, server-side sessions and the cookie hand-off.

A browser signs in through a Reflex event (which cannot set an HttpOnly cookie), so a
successful sign-in yields a single-use *hand-off code*, valid for a minute, that the page
posts to `/auth/session`; that route redeems it for a session token in an HttpOnly cookie.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import Session, select

from crm_app.auth.passwords import hash_password, needs_rehash, verify_password
from crm_app.auth.tokens import hash_token, new_token
from crm_app.models import AuthToken, LoginAttempt, TokenPurpose, User, UserSession
from crm_app.models.base import utcnow
from crm_app.services import audit, rate_limit
from crm_app.services.errors import (
    DomainError,
    Locked,
    RateLimited,
    Unauthenticated,
    ValidationFailed,
)
from crm_app.settings import get_settings

log = logging.getLogger(__name__)

HANDOFF_SECONDS = 60
SECOND_FACTOR_SECONDS = 300  # to type the authentication code after the password
# Touch `last_seen_at` at most this often, so every event is not a write.
SEEN_RESOLUTION = timedelta(seconds=60)
SIGN_IN_WINDOW = timedelta(minutes=15)  # of CRM_SIGN_IN_IP_LIMIT and CRM_SIGN_IN_EMAIL_LIMIT


def normalize_email(email: str) -> str:
    """E-mails match case-insensitively and without surrounding spaces."""
    return email.strip().lower()


def find_user_by_email(session: Session, email: str) -> User | None:
    """The user with this e-mail, ignoring case, or None."""
    return session.exec(
        select(User).where(func.lower(User.email) == normalize_email(email))
    ).first()


@dataclass
class SignInOutcome:
    """What a sign-in attempt produced. On failure `error` is set and `handoff_code` is None.
    When the password was right but two-factor is on, `second_factor_token` is set instead of
    `handoff_code`: the edge keeps it server-side and passes it with the code
    (`two_factor.complete_sign_in`).

    Failures are returned rather than raised so the edge commits the attempt record.
    """

    user: User | None = None
    handoff_code: str | None = None
    error: DomainError | None = None
    second_factor_token: str | None = None


def _lock_remaining(session: Session, email: str, now: datetime) -> timedelta | None:
    """How long sign-in for `email` stays refused, or None when it is not locked."""
    settings = get_settings()
    window = timedelta(minutes=settings.lockout_minutes)
    last_success = session.exec(
        select(func.max(LoginAttempt.created_at)).where(
            LoginAttempt.email == email, LoginAttempt.succeeded.is_(True)
        )
    ).one()
    since = now - window
    if last_success and last_success > since:
        since = last_success
    failures = session.exec(
        select(LoginAttempt.created_at)
        .where(
            LoginAttempt.email == email,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.created_at > since,
        )
        .order_by(LoginAttempt.created_at.desc())
        .limit(settings.lockout_attempts)
    ).all()
    if len(failures) < settings.lockout_attempts:
        return None
    return failures[0] + window - now


def _locked_error(remaining: timedelta) -> Locked:
    minutes = max(1, -(-int(remaining.total_seconds()) // 60))
    return Locked(
        f"Too many failed attempts. Sign-in for this account is locked for {minutes} more "
        f"minute{'s' if minutes != 1 else ''}.",
        retry_after_seconds=int(remaining.total_seconds()) + 1,
    )


def _rate_limited(session: Session, *, email: str, ip: str | None) -> RateLimited | None:
    """Attempts per client address and per e-mail, counted before any password is checked
    (on top of the lock-out, which counts only failures): slows down guessing from many
    addresses at one account and from one address at many accounts."""
    settings = get_settings()
    for bucket, key, limit in (
        ("sign_in_ip", ip, settings.sign_in_ip_limit),
        ("sign_in_email", email, settings.sign_in_email_limit),
    ):
        retry = rate_limit.hit(session, bucket=bucket, key=key, limit=limit, window=SIGN_IN_WINDOW)
        if retry is not None:
            return rate_limit.too_many(retry)
    return None


def sign_in(session: Session, *, email: str, password: str, ip: str | None = None) -> SignInOutcome:
    """Check credentials (with lock-out) and return a hand-off code for the session cookie."""
    email = normalize_email(email)
    now = utcnow()
    if not email or not password:
        return SignInOutcome(error=ValidationFailed("Enter your e-mail and password."))
    from crm_app.services import oidc  # imported here: oidc builds on this module

    if oidc.sso_required(session):
        return SignInOutcome(error=ValidationFailed(oidc.sso_required_message()))
    if (limited := _rate_limited(session, email=email, ip=ip)) is not None:
        return SignInOutcome(error=limited)
    remaining = _lock_remaining(session, email, now)
    if remaining is not None and remaining.total_seconds() > 0:
        audit.record(
            session,
            actor=None,
            action="sign_in_refused",
            entity="user",
            ip=ip,
            actor_label=email,
            changes={"reason": "locked"},
        )
        return SignInOutcome(error=_locked_error(remaining))

    user = find_user_by_email(session, email)
    valid = verify_password(user.password_hash if user else None, password)
    if not valid or user is None:
        session.add(
            LoginAttempt(email=email, user_id=user.id if user else None, succeeded=False, ip=ip)
        )
        audit.record(
            session,
            actor=None,
            action="sign_in_failed",
            entity="user",
            entity_id=user.id if user else None,
            ip=ip,
            actor_label=email,
        )
        session.flush()
        remaining = _lock_remaining(session, email, now)
        if remaining is not None:
            return SignInOutcome(error=_locked_error(remaining))
        return SignInOutcome(error=ValidationFailed("Wrong e-mail or password."))
    if not user.is_active:
        return SignInOutcome(error=ValidationFailed("This account has been deactivated."))

    session.add(LoginAttempt(email=email, user_id=user.id, succeeded=True, ip=ip))
    if needs_rehash(user.password_hash or ""):
        user.password_hash = hash_password(password)
    if user.totp_enabled_at is not None:
        token = _issue_token(session, user, TokenPurpose.second_factor, SECOND_FACTOR_SECONDS)
        return SignInOutcome(user=user, second_factor_token=token)
    code = issue_handoff(session, user=user)
    audit.record(session, actor=user, action="sign_in", entity="user", entity_id=user.id, ip=ip)
    return SignInOutcome(user=user, handoff_code=code)


def issue_handoff(session: Session, *, user: User) -> str:
    """A single-use code, valid for a minute, that `redeem_handoff` turns into a session."""
    return _issue_token(session, user, TokenPurpose.login, HANDOFF_SECONDS)


def _issue_token(session: Session, user: User, purpose: TokenPurpose, seconds: int) -> str:
    code = new_token()
    session.add(
        AuthToken(
            purpose=purpose,
            token_hash=hash_token(code),
            user_id=user.id,
            expires_at=utcnow() + timedelta(seconds=seconds),
        )
    )
    return code


def redeem_handoff(
    session: Session, *, code: str, ip: str | None = None, user_agent: str | None = None
) -> tuple[User, str]:
    """Exchange a hand-off code for a new session; returns the user and the session token."""
    now = utcnow()
    # Mark used in the same statement that checks it, so a code works exactly once.
    token_id = session.exec(
        update(AuthToken)
        .where(
            AuthToken.token_hash == hash_token(code),
            AuthToken.purpose == "login",
            AuthToken.used_at.is_(None),
            AuthToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(AuthToken.user_id)
    ).first()
    if token_id is None:
        raise Unauthenticated("This sign-in link has expired. Sign in again.")
    user = session.get(User, token_id[0])
    if user is None or not user.is_active:
        raise Unauthenticated()
    return user, start_session(session, user=user, ip=ip, user_agent=user_agent)


def start_session(
    session: Session, *, user: User, ip: str | None = None, user_agent: str | None = None
) -> str:
    """Create a server-side session for `user` and return its secret token."""
    settings = get_settings()
    token = new_token()
    now = utcnow()
    session.add(
        UserSession(
            token_hash=hash_token(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(days=settings.session_max_days),
            ip=ip,
            user_agent=(user_agent or "")[:400],
        )
    )
    user.last_login_at = now
    session.add(user)
    return token


def authenticate(session: Session, token: str | None) -> User | None:
    """The active user behind a session token, or None if it is unknown, ended or expired."""
    if not token:
        return None
    now = utcnow()
    row = session.exec(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(
            UserSession.token_hash == hash_token(token),
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > now,
            User.is_active.is_(True),
        )
    ).first()
    if row is None:
        return None
    user_session, user = row
    idle = timedelta(hours=get_settings().session_idle_hours)
    if user_session.last_seen_at + idle < now:
        return None
    if now - user_session.last_seen_at > SEEN_RESOLUTION:
        user_session.last_seen_at = now
        session.add(user_session)
    return user


def sign_out(session: Session, *, token: str | None, ip: str | None = None) -> None:
    """End the session behind `token` on the server."""
    if not token:
        return
    user_session = session.exec(
        select(UserSession).where(UserSession.token_hash == hash_token(token))
    ).first()
    if user_session is None or user_session.revoked_at is not None:
        return
    user_session.revoked_at = utcnow()
    session.add(user_session)
    user = session.get(User, user_session.user_id)
    audit.record(
        session, actor=user, action="sign_out", entity="user", entity_id=user_session.user_id, ip=ip
    )


def end_all_sessions(session: Session, *, user_id: int, except_token: str | None = None) -> int:
    """Revoke every open session of a user (deactivation, password change); returns how many."""
    query = (
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    if except_token:
        query = query.where(UserSession.token_hash != hash_token(except_token))
    return session.exec(query).rowcount or 0
