"""Invitations and password resets: single-use, expiring links that let a user set a password.

Until e-mail sending exists, links are written to the server log and returned to the admin
who asked for them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from crm_app import routes
from crm_app.auth.passwords import hash_password, password_problem
from crm_app.auth.permissions import Role
from crm_app.auth.tokens import hash_token, new_token
from crm_app.models import AuthToken, Team, User
from crm_app.models.base import utcnow
from crm_app.services import audit, rate_limit
from crm_app.services.auth import (
    end_all_sessions,
    find_user_by_email,
    issue_handoff,
    normalize_email,
)
from crm_app.services.errors import Conflict, NotFound, ValidationFailed
from crm_app.services.permission import require
from crm_app.settings import get_settings

log = logging.getLogger("crm_app.mail")

INVITE = "invite"
RESET = "reset"
# The longest a password reset link may work, whatever CRM_RESET_VALID_MINUTES says.
MAX_RESET_MINUTES = 60
# Reset requests per hour from one address, and for one e-mail (each sends a message).
RESET_IP_LIMIT = 20
RESET_EMAIL_LIMIT = 5
HOUR = timedelta(hours=1)


@dataclass
class IssuedLink:
    """A link sent (for now: logged) to a user, and the user it is for."""

    user: User
    url: str


def _invalidate_unused(session: Session, *, user_id: int | None, purpose: str) -> None:
    """Mark a user's unused links for `purpose` used, so only the newest one works."""
    session.exec(
        update(AuthToken)
        .where(
            AuthToken.user_id == user_id,
            AuthToken.purpose == purpose,
            AuthToken.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )


def _issue(session: Session, *, user: User, purpose: str, valid: timedelta, by: User | None) -> str:
    """Create a token for `purpose`, invalidating that user's earlier unused ones."""
    now = utcnow()
    _invalidate_unused(session, user_id=user.id, purpose=purpose)
    token = new_token()
    session.add(
        AuthToken(
            purpose=purpose,
            token_hash=hash_token(token),
            user_id=user.id,
            expires_at=now + valid,
            created_by=by.id if by else None,
        )
    )
    builder = routes.invitation if purpose == INVITE else routes.password_reset
    url = get_settings().base_url + builder(token)
    log.warning("%s link for %s: %s", purpose.capitalize(), user.email, url)
    _mail_link(session, user=user, purpose=purpose, url=url)
    return url


def _mail_link(session: Session, *, user: User, purpose: str, url: str) -> None:
    """E-mail the link (in development mode it waits in Settings -> Outbox)."""
    from crm_app.services import email

    if purpose == INVITE:
        subject, line = "You are invited to the CRM", "Set your password to start:"
    else:
        subject, line = "Reset your CRM password", "Choose a new password (the link works once):"
    text = f"Hello {user.name},\n\n{line} <{url}>\n\nIf you did not expect this, ignore it.\n"
    email.send_system(session, to=user.email, subject=subject, text=text)


def invite_user(
    session: Session,
    *,
    actor: User,
    email: str,
    name: str,
    role: str,
    team_id: int | None = None,
    ip: str | None = None,
) -> IssuedLink:
    """Create an invited user (no password yet) and the link to accept the invitation."""
    require(session, actor, "user", "manage")
    from crm_app.services.user import validate_user_fields

    email, name = validate_user_fields(email=email, name=name, role=role)
    if team_id is not None and session.get(Team, team_id) is None:
        raise ValidationFailed.for_field("team_id", "Pick an existing team.")
    if find_user_by_email(session, email):
        raise Conflict("A user with this e-mail already exists.", [])
    user = User(
        email=email,
        name=name,
        role=Role(role).value,
        team_id=team_id,
        is_active=True,
        created_by=actor.id,
    )
    session.add(user)
    session.flush()
    url = _issue(
        session,
        user=user,
        purpose=INVITE,
        valid=timedelta(days=get_settings().invite_valid_days),
        by=actor,
    )
    audit.record(
        session,
        actor=actor,
        action="invite",
        entity="user",
        entity_id=user.id,
        ip=ip,
        changes={"email": [None, email], "name": [None, name], "role": [None, role]},
    )
    return IssuedLink(user=user, url=url)


def resend_invitation(session: Session, *, actor: User, user_id: int) -> IssuedLink:
    """A fresh invitation link for a user who has not set a password yet."""
    require(session, actor, "user", "manage")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    if user.password_hash:
        raise ValidationFailed("This user has already accepted the invitation.")
    url = _issue(
        session,
        user=user,
        purpose=INVITE,
        valid=timedelta(days=get_settings().invite_valid_days),
        by=actor,
    )
    return IssuedLink(user=user, url=url)


def request_password_reset(session: Session, *, email: str, ip: str | None = None) -> None:
    """Log a reset link for an active user with this e-mail; unknown e-mails get no hint.

    Either way the caller shows the same message, and an unknown e-mail costs the same
    statements (an invalidating update, an audit row), so timing does not tell them apart.
    Raises RateLimited after too many requests from one address or for one e-mail (known
    or not, so the refusal tells nothing either).
    """
    _refuse_while_sso_required(session)
    rate_limit.enforce(session, bucket="reset_ip", key=ip, limit=RESET_IP_LIMIT, window=HOUR)
    rate_limit.enforce(
        session,
        bucket="reset_email",
        key=normalize_email(email),
        limit=RESET_EMAIL_LIMIT,
        window=HOUR,
    )
    user = find_user_by_email(session, email)
    known = user is not None and user.is_active
    if known:
        _issue(session, user=user, purpose=RESET, valid=reset_valid_for(), by=None)
    else:
        _invalidate_unused(session, user_id=None, purpose=RESET)
        log.info("Password reset asked for unknown or inactive e-mail %r", email)
    audit.record(
        session,
        actor=None,
        action="password_reset_requested",
        entity="user",
        entity_id=user.id if known else None,
        ip=ip,
        actor_label=normalize_email(email)[:320],
        changes=None if known else {"reason": "unknown or inactive e-mail"},
    )


def _refuse_while_sso_required(session: Session) -> None:
    """No password is set or reset while the workspace signs in only with single sign-on."""
    from crm_app.services import oidc  # imported here: oidc builds on services.auth

    if oidc.sso_required(session):
        raise ValidationFailed(oidc.sso_required_message())


def reset_valid_for() -> timedelta:
    """How long a reset link works: the setting, but never more than an hour."""
    minutes = get_settings().reset_valid_minutes
    return timedelta(minutes=min(max(minutes, 1), MAX_RESET_MINUTES))


def admin_password_reset(
    session: Session, *, actor: User, user_id: int, ip: str | None = None
) -> IssuedLink:
    """An admin asks for a reset link for someone; their sessions end now."""
    require(session, actor, "user", "manage")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    url = _issue(
        session,
        user=user,
        purpose=RESET,
        valid=reset_valid_for(),
        by=actor,
    )
    end_all_sessions(session, user_id=user.id)
    audit.record(
        session, actor=actor, action="password_reset", entity="user", entity_id=user.id, ip=ip
    )
    return IssuedLink(user=user, url=url)


def peek(session: Session, *, token: str, purpose: str) -> User:
    """The user a still-valid link belongs to (to greet them on the page), without using it."""
    row = _valid_token(session, token=token, purpose=purpose)
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise NotFound(_expired_message(purpose))
    return user


def _valid_token(session: Session, *, token: str, purpose: str) -> AuthToken:
    row = session.exec(
        select(AuthToken).where(
            AuthToken.token_hash == hash_token(token),
            AuthToken.purpose == purpose,
            AuthToken.used_at.is_(None),
            AuthToken.expires_at > utcnow(),
        )
    ).first()
    if row is None:
        raise NotFound(_expired_message(purpose))
    return row


def _expired_message(purpose: str) -> str:
    if purpose == INVITE:
        return "This invitation link is invalid or has expired. Ask your admin for a new one."
    return "This reset link is invalid, used or expired. Ask for a new one."


def set_password_with_token(
    session: Session, *, token: str, purpose: str, password: str, ip: str | None = None
) -> str | None:
    """Use an invitation or reset link to set a password; returns a sign-in hand-off code,
    or None when two-factor is on (a reset link must not skip the authentication code).

    The link works once; every other session of the user ends.
    """
    # An invitee too: a password would sign them in around SSO and use up the invitation
    # their first single sign-on needs.
    _refuse_while_sso_required(session)
    row = session.exec(
        select(AuthToken)
        .where(
            AuthToken.token_hash == hash_token(token),
            AuthToken.purpose == purpose,
            AuthToken.used_at.is_(None),
            AuthToken.expires_at > utcnow(),
        )
        .with_for_update()
    ).first()
    if row is None:
        raise NotFound(_expired_message(purpose))
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise NotFound(_expired_message(purpose))
    problem = password_problem(password, email=user.email, name=user.name)
    if problem:
        raise ValidationFailed.for_field("password", problem)
    row.used_at = utcnow()
    user.password_hash = hash_password(password)
    user.updated_at = utcnow()
    session.add_all([row, user])
    end_all_sessions(session, user_id=user.id)
    action = "invitation_accepted" if purpose == INVITE else "password_changed"
    audit.record(session, actor=user, action=action, entity="user", entity_id=user.id, ip=ip)
    if user.totp_enabled_at is not None:
        return None
    return issue_handoff(session, user=user)
