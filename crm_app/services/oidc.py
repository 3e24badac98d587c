"""Single sign-on with OpenID Connect: who a provider's sign-in is, and the require-SSO switch.

A person is identified by the provider's (issuer, subject), never by e-mail alone: e-mails
change and can be reused. The e-mail is trusted once, to link an invited user's first sign-in,
and only when the provider says it verified it. Anyone else connects their provider account
while signed in, from their profile: the same round trip, bound to their user and session.

A sign-in in progress lives in `oidc_logins` (state stored hashed, nonce, PKCE verifier), used
at most once, and the browser that started it must bring the same state back in a cookie.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, select

from crm_app import routes
from crm_app.auth import oidc as protocol
from crm_app.auth.tokens import hash_token
from crm_app.models import AppSetting, AuthToken, OidcLogin, User, UserIdentity
from crm_app.models.base import MAX_ID, utcnow
from crm_app.services import audit
from crm_app.services.auth import find_user_by_email, start_session
from crm_app.services.errors import DomainError, ErrorCode, NotFound, ValidationFailed
from crm_app.services.permission import require
from crm_app.settings import get_settings

log = logging.getLogger(__name__)

REQUIRE_SSO_KEY = "require_sso"
LOGIN_VALID = timedelta(minutes=10)

# What the sign-in page says for each `?sso_error=` code (a code, so a crafted link cannot
# put words of its own on the page).
MESSAGES = {
    "no_account": "No account for this sign-in; ask an admin for an invitation.",
    "deactivated": "This account has been deactivated.",
    "expired": "This sign-in expired or was already used. Try again.",
    "denied": "The sign-in provider did not sign you in.",
    "invalid": "The sign-in provider's answer could not be verified. Try again or ask an admin.",
    "unavailable": "The sign-in provider cannot be reached right now. Try again later.",
    "not_configured": "Single sign-on is not set up for this workspace.",
    "taken": "That account at the sign-in provider is already connected to another user.",
    "not_signed_in": "You were signed out before the provider answered: sign in and try again.",
}


class SsoRefused(DomainError):
    """A single sign-on that did not sign anyone in; `reason` is a key of MESSAGES."""

    def __init__(self, reason: str) -> None:
        super().__init__(MESSAGES[reason], ErrorCode.UNAUTHENTICATED)
        self.reason = reason


def message_for(reason: str | None) -> str:
    """The sign-in page's text for an `sso_error` code ("" when there is none)."""
    if not reason:
        return ""
    return MESSAGES.get(reason, "Single sign-on failed. Try again.")


def is_configured() -> bool:
    """True when CRM_OIDC_DISCOVERY_URL and CRM_OIDC_CLIENT_ID are set."""
    return get_settings().sso_enabled


def provider_label() -> str:
    """What the workspace calls its sign-in provider (CRM_OIDC_LABEL)."""
    return get_settings().oidc_label


def button_label() -> str:
    """The text of the sign-in page's SSO button."""
    return f"Sign in with {provider_label()}"


def redirect_uri() -> str:
    """The callback URL to register at the provider."""
    return get_settings().base_url + routes.AUTH_OIDC_CALLBACK


def _metadata() -> protocol.ProviderMetadata:
    if not is_configured():
        raise SsoRefused("not_configured")
    try:
        return protocol.provider_metadata(get_settings().oidc_discovery_url)
    except protocol.OidcError as error:
        log.warning("OpenID discovery failed: %s", error.detail)
        raise SsoRefused(error.reason) from error


# -- starting and finishing a sign-in ------------------------------------------------------


@dataclass
class SsoStart:
    """Where to send the browser, and the state it must bring back (kept in a cookie)."""

    url: str
    state: str


def begin(session: Session, *, next_path: str | None, connect: User | None = None) -> SsoStart:
    """Record a new sign-in (state, nonce, PKCE verifier) and build the provider's URL. With
    `connect`, a signed-in user's: the answer connects the provider account to them."""
    if connect is not None:
        next_path = routes.profile_sso()
    metadata = _metadata()
    settings = get_settings()
    now = utcnow()
    session.exec(delete(OidcLogin).where(OidcLogin.expires_at < now - LOGIN_VALID))
    state, nonce, verifier = protocol.new_secret(), protocol.new_secret(), protocol.new_secret()
    session.add(
        OidcLogin(
            state_hash=hash_token(state),
            nonce=nonce,
            code_verifier=verifier,
            next_path=routes.safe_next(next_path)[:2000],
            expires_at=now + LOGIN_VALID,
            link_user_id=connect.id if connect is not None else None,
        )
    )
    url = protocol.authorization_url(
        metadata,
        client_id=settings.oidc_client_id,
        redirect_uri=redirect_uri(),
        scope=settings.oidc_scopes,
        state=state,
        nonce=nonce,
        code_verifier=verifier,
    )
    return SsoStart(url=url, state=state)


@dataclass
class SsoOutcome:
    """What a finished sign-in produced: a session token and where to go, or the refusal.

    Refusals are returned, not raised, so the edge commits the audit record and the used
    state."""

    user: User | None = None
    session_token: str | None = None
    next_path: str = routes.DASHBOARD
    error: SsoRefused | None = None
    connecting: bool = False  # it was a signed-in user connecting their provider account


@dataclass
class _PendingLogin:
    nonce: str
    code_verifier: str
    next_path: str
    link_user_id: int | None = None


def _take_login(session: Session, *, state: str, browser_state: str | None) -> _PendingLogin:
    """The sign-in this state belongs to, marked used; refused when the browser's cookie
    does not hold the same state, or it is unknown, used or expired."""
    if not state or not browser_state or not hmac.compare_digest(state, browser_state):
        raise SsoRefused("expired")
    now = utcnow()
    row = session.exec(
        update(OidcLogin)
        .where(
            OidcLogin.state_hash == hash_token(state),
            OidcLogin.used_at.is_(None),
            OidcLogin.expires_at > now,
        )
        .values(used_at=now)
        .returning(
            OidcLogin.nonce, OidcLogin.code_verifier, OidcLogin.next_path, OidcLogin.link_user_id
        )
    ).first()
    if row is None:
        raise SsoRefused("expired")
    return _PendingLogin(*row)


def _verified_claims(login: _PendingLogin, code: str) -> dict[str, Any]:
    metadata = _metadata()
    settings = get_settings()
    try:
        id_token = protocol.exchange_code(
            metadata,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            redirect_uri=redirect_uri(),
            code=code,
            code_verifier=login.code_verifier,
        )
        return protocol.verify_id_token(
            id_token, metadata=metadata, client_id=settings.oidc_client_id, nonce=login.nonce
        )
    except protocol.OidcError as error:
        log.warning("OpenID sign-in refused: %s", error.detail)
        raise SsoRefused(error.reason) from error


def finish(
    session: Session,
    *,
    state: str,
    code: str | None,
    browser_state: str | None,
    provider_error: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    signed_in: User | None = None,
) -> SsoOutcome:
    """Complete a sign-in the provider sent back: check it, find the user, start a session.
    A connection from a profile instead links the provider account to `signed_in`, the user
    of the browser's session, who must be the one who started it."""
    issuer, subject, connecting = None, None, False
    try:
        login = _take_login(session, state=state, browser_state=browser_state)
        connecting = login.link_user_id is not None
        if provider_error or not code:
            raise SsoRefused("denied")
        claims = _verified_claims(login, code)
        issuer, subject = claims["iss"], str(claims["sub"])
        if connecting:
            user = _connect(
                session, user_id=login.link_user_id, signed_in=signed_in, claims=claims, ip=ip
            )
            return SsoOutcome(user=user, next_path=login.next_path, connecting=True)
        user = _user_for(session, claims=claims, ip=ip)
    except SsoRefused as refusal:
        audit.record(
            session,
            actor=None,
            action="sign_in_refused",
            entity="user",
            ip=ip,
            actor_label=f"sso:{subject}"[:320] if subject else "sso",
            changes={"reason": refusal.reason, "method": "sso", "issuer": issuer},
        )
        return SsoOutcome(error=refusal, connecting=connecting)
    token = start_session(session, user=user, ip=ip, user_agent=user_agent)
    audit.record(
        session,
        actor=user,
        action="sign_in",
        entity="user",
        entity_id=user.id,
        ip=ip,
        changes={"method": "sso", "issuer": issuer},
    )
    return SsoOutcome(user=user, session_token=token, next_path=login.next_path)


# -- who the sign-in is --------------------------------------------------------------------


def _email_verified(claims: dict[str, Any]) -> bool:
    # Microsoft Entra sends no email_verified; its optional claim xms_edov says the same.
    return claims.get("email_verified") is True or claims.get("xms_edov") is True


def _outstanding_invitation(session: Session, user: User) -> bool:
    """True for an active user with an unused, unexpired invitation who never signed in."""
    if not user.is_active or user.last_login_at is not None:
        return False
    return (
        session.exec(
            select(AuthToken.id).where(
                AuthToken.user_id == user.id,
                AuthToken.purpose == "invite",
                AuthToken.used_at.is_(None),
                AuthToken.expires_at > utcnow(),
            )
        ).first()
        is not None
    )


def _user_for(session: Session, *, claims: dict[str, Any], ip: str | None) -> User:
    """The user behind (issuer, subject); on a first sign-in, the invited user with the
    verified e-mail, linked now (the invitation is used up)."""
    issuer, subject = claims["iss"], str(claims["sub"])
    identity = session.exec(
        select(UserIdentity).where(UserIdentity.issuer == issuer, UserIdentity.subject == subject)
    ).first()
    if identity is not None:
        user = session.get(User, identity.user_id)
        if user is None or not user.is_active:
            raise SsoRefused("deactivated")
        identity.last_used_at = utcnow()
        session.add(identity)
        return user
    email = claims.get("email")
    if not isinstance(email, str) or not email or not _email_verified(claims):
        raise SsoRefused("no_account")
    user = find_user_by_email(session, email)
    if user is not None and not user.is_active:
        raise SsoRefused("deactivated")
    if user is None or not _outstanding_invitation(session, user):
        raise SsoRefused("no_account")
    return _link(session, user=user, issuer=issuer, subject=subject, email=email, ip=ip)


def _link(
    session: Session, *, user: User, issuer: str, subject: str, email: str, ip: str | None
) -> User:
    _add_identity(session, user=user, issuer=issuer, subject=subject, email=email, ip=ip)
    session.exec(
        update(AuthToken)
        .where(
            AuthToken.user_id == user.id, AuthToken.purpose == "invite", AuthToken.used_at.is_(None)
        )
        .values(used_at=utcnow())
    )
    return user


def _connect(
    session: Session,
    *,
    user_id: int,
    signed_in: User | None,
    claims: dict[str, Any],
    ip: str | None,
) -> User:
    """Link the provider account to the signed-in user who asked for it from their profile."""
    if signed_in is None or signed_in.id != user_id or not signed_in.is_active:
        raise SsoRefused("not_signed_in")
    issuer, subject = claims["iss"], str(claims["sub"])
    identity = session.exec(
        select(UserIdentity).where(UserIdentity.issuer == issuer, UserIdentity.subject == subject)
    ).first()
    if identity is not None and identity.user_id != signed_in.id:
        raise SsoRefused("taken")
    if identity is None:
        email = claims.get("email")
        email = email[:320] if isinstance(email, str) and email else None
        _add_identity(session, user=signed_in, issuer=issuer, subject=subject, email=email, ip=ip)
    return signed_in


def _add_identity(
    session: Session, *, user: User, issuer: str, subject: str, email: str | None, ip: str | None
) -> None:
    session.add(
        UserIdentity(
            user_id=user.id, issuer=issuer, subject=subject, email=email, last_used_at=utcnow()
        )
    )
    audit.record(
        session,
        actor=user,
        action="sso_linked",
        entity="user",
        entity_id=user.id,
        ip=ip,
        changes={"issuer": [None, issuer], "subject": [None, subject]},
    )


# -- one's connected provider accounts ------------------------------------------------------


def connected_identities(session: Session, *, actor: User) -> list[UserIdentity]:
    """The provider accounts that sign the actor in, oldest first."""
    return list(
        session.exec(
            select(UserIdentity)
            .where(UserIdentity.user_id == actor.id)
            .order_by(UserIdentity.created_at, UserIdentity.id)
        ).all()
    )


def disconnect(session: Session, *, actor: User, identity_id: int, ip: str | None = None) -> None:
    """Stop one of the actor's provider accounts signing them in; refused for the last one
    while single sign-on is required, or when they have no password: no way in would be left."""
    identity = (
        session.get(UserIdentity, identity_id, with_for_update=True)
        if 0 < identity_id <= MAX_ID
        else None
    )
    if identity is None or identity.user_id != actor.id:
        raise NotFound("That connection no longer exists.")
    if len(connected_identities(session, actor=actor)) <= 1:
        if sso_required(session):
            raise ValidationFailed(
                "This workspace requires single sign-on: keep this account connected, or you "
                "could not sign in again."
            )
        if not actor.password_hash:
            raise ValidationFailed(
                "You have no password: keep this account connected, or you could not sign in "
                "again. Use “Forgot your password?” on the sign-in page to set one first."
            )
    session.delete(identity)
    audit.record(
        session,
        actor=actor,
        action="sso_unlinked",
        entity="user",
        entity_id=actor.id,
        ip=ip,
        changes={"issuer": [identity.issuer, None], "subject": [identity.subject, None]},
    )


# -- require single sign-on ----------------------------------------------------------------


def sso_required(session: Session) -> bool:
    """True when the workspace allows only single sign-on. Only while SSO is configured: an
    unset CRM_OIDC_* is the way back to passwords when the provider is gone."""
    if not is_configured():
        return False
    setting = session.get(AppSetting, REQUIRE_SSO_KEY, populate_existing=True)
    return bool(setting is not None and setting.value is True)


def sso_required_message() -> str:
    """Why a password sign-in or reset is refused while SSO is required."""
    return f"This workspace signs in with single sign-on: use “{button_label()}”."


@dataclass
class SecuritySettings:
    """The Security settings page: is SSO configured, required, and usable by the admin."""

    sso_configured: bool
    sso_label: str
    require_sso: bool
    actor_has_identity: bool
    # Active people with no provider account connected: with SSO required they cannot sign
    # in until they connect one (a few names, and how many in all).
    not_connected: list[str]
    not_connected_count: int


def _has_identity(session: Session, user: User) -> bool:
    return (
        session.exec(select(UserIdentity.id).where(UserIdentity.user_id == user.id)).first()
        is not None
    )


def _not_connected():
    connected = select(UserIdentity.id).where(UserIdentity.user_id == User.id).exists()
    return select(User.name).where(User.is_active, ~connected)


def security_settings(session: Session, *, actor: User) -> SecuritySettings:
    """What the Security settings page shows."""
    require(session, actor, "setting", "manage")
    return SecuritySettings(
        sso_configured=is_configured(),
        sso_label=provider_label(),
        require_sso=sso_required(session),
        actor_has_identity=_has_identity(session, actor),
        not_connected=list(session.exec(_not_connected().order_by(User.name).limit(10)).all()),
        not_connected_count=session.exec(
            select(func.count()).select_from(_not_connected().subquery())
        ).one(),
    )


def set_sso_required(
    session: Session, *, actor: User, required: bool, ip: str | None = None
) -> SecuritySettings:
    """Require single sign-on for everyone (password sign-in and reset refused), or not."""
    require(session, actor, "setting", "manage")
    if required and not is_configured():
        raise ValidationFailed(
            "Single sign-on is not configured: set CRM_OIDC_DISCOVERY_URL and "
            "CRM_OIDC_CLIENT_ID first."
        )
    if required and not _has_identity(session, actor):
        # Otherwise the admin would lock themselves out at their next sign-in.
        raise ValidationFailed(
            "Connect single sign-on to your own account first (Settings → Profile), or you "
            "could not sign in once it is required."
        )
    before = sso_required(session)
    session.execute(
        insert(AppSetting)
        .values(key=REQUIRE_SSO_KEY, value=bool(required), updated_at=utcnow())
        .on_conflict_do_update(
            index_elements=["key"], set_={"value": bool(required), "updated_at": utcnow()}
        )
    )
    if before != bool(required):
        audit.record(
            session,
            actor=actor,
            action="update",
            entity="setting",
            ip=ip,
            changes={REQUIRE_SSO_KEY: [before, bool(required)]},
        )
    return security_settings(session, actor=actor)
