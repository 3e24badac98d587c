"""The suppression list: addresses that mass mail and automated e-mail skip, and the signed
one-click unsubscribe links that add to it (RFC 8058).

An unsubscribe token is the address, the campaign and the day it was issued, signed with an
HMAC of the app's secret key: no table of tokens, nothing to guess, and a link stops working
after `VALID_DAYS`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, select

from crm_app.models import Suppression, User
from crm_app.models.base import utcnow
from crm_app.services import audit
from crm_app.services.errors import NotFound, ValidationFailed
from crm_app.services.permission import require
from crm_app.settings import get_settings

VALID_DAYS = 365
PAGE_SIZE = 50
_EXPIRED = "This unsubscribe link is invalid or has expired."


@dataclass(frozen=True)
class Unsubscribe:
    """What a valid token stands for."""

    email: str
    campaign_id: int | None


def _key() -> bytes:
    secret = get_settings().resolved_secret_key().encode()
    return hmac.new(secret, b"crm-unsubscribe-v1", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_token(email: str, campaign_id: int | None, *, now: datetime | None = None) -> str:
    """A signed token that unsubscribes `email` (from the campaign's sender: everyone)."""
    day = int((now or utcnow()).timestamp() // 86400)
    payload = _b64(json.dumps([email.lower(), campaign_id, day], separators=(",", ":")).encode())
    signature = _b64(hmac.new(_key(), payload.encode(), hashlib.sha256).digest()[:20])
    return f"{payload}.{signature}"


def read_token(token: str, *, now: datetime | None = None) -> Unsubscribe:
    """What a token stands for, or NotFound when it is forged, mangled or expired."""
    payload, _, signature = (token or "").strip().partition(".")
    expected = _b64(hmac.new(_key(), payload.encode(), hashlib.sha256).digest()[:20])
    if not payload or not hmac.compare_digest(signature.encode(), expected.encode()):
        raise NotFound(_EXPIRED)
    try:
        email, campaign_id, day = json.loads(_unb64(payload))
    except (ValueError, binascii.Error, TypeError):
        raise NotFound(_EXPIRED) from None
    today = int((now or utcnow()).timestamp() // 86400)
    if not isinstance(day, int) or not 0 <= today - day <= VALID_DAYS:
        raise NotFound(_EXPIRED)
    return Unsubscribe(email=str(email), campaign_id=campaign_id)


def unsubscribe_url(token: str) -> str:
    """The public page (GET: confirm; POST: one click) of a token."""
    from crm_app import routes

    return get_settings().base_url + routes.unsubscribe(token)


def unsubscribe(session: Session, *, token: str, ip: str | None = None) -> str:
    """Add the token's address to the suppression list (again is fine); returns the address."""
    found = read_token(token)
    added = _add(session, email=found.email, reason="unsubscribed", campaign_id=found.campaign_id)
    if added:
        audit.record(
            session,
            actor=None,
            action="unsubscribe",
            entity="email_suppression",
            actor_label=found.email[:320],
            ip=ip,
        )
    return found.email


def _add(
    session: Session,
    *,
    email: str,
    reason: str,
    campaign_id: int | None = None,
    by: int | None = None,
) -> bool:
    statement = (
        insert(Suppression)
        .values(email=email.lower(), reason=reason, campaign_id=campaign_id, created_by=by)
        .on_conflict_do_nothing(index_elements=["email"])
        .returning(Suppression.id)
    )
    return session.execute(statement).first() is not None


def is_suppressed(session: Session, email: str) -> bool:
    """Whether mass mail and automated e-mail must skip this address."""
    found = session.exec(select(Suppression.id).where(Suppression.email == email.lower()))
    return found.first() is not None


def suppressed_clause(email_column):
    """SQL: the address in `email_column` is on the suppression list."""
    return select(Suppression.id).where(Suppression.email == func.lower(email_column)).exists()


def list_suppressions(
    session: Session, *, actor: User, q: str = "", offset: int = 0
) -> tuple[list[Suppression], int]:
    """A page of the list, newest first, and how many match (admins)."""
    require(session, actor, "setting", "manage")
    query = select(Suppression)
    if q.strip():
        query = query.where(Suppression.email.contains(q.strip().lower()[:320]))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(Suppression.created_at.desc(), Suppression.id.desc())
        .offset(max(0, offset))
        .limit(PAGE_SIZE)
    )
    return list(rows), total


def add_suppression(session: Session, *, actor: User, email: str, ip: str | None = None) -> None:
    """An admin stops mass mail to an address."""
    require(session, actor, "setting", "manage")
    address = email.strip().lower()
    if "@" not in address or len(address) > 320 or " " in address:
        raise ValidationFailed.for_field("email", "Enter an e-mail address.")
    if _add(session, email=address, reason="added by an admin", by=actor.id):
        audit.record(
            session,
            actor=actor,
            action="create",
            entity="email_suppression",
            changes={"email": [None, address]},
            ip=ip,
        )


def remove_suppression(
    session: Session, *, actor: User, suppression_id: int, ip: str | None = None
) -> None:
    """An admin lets mass mail reach an address again."""
    require(session, actor, "setting", "manage")
    row = session.get(Suppression, suppression_id) if 0 < suppression_id < 2**31 else None
    if row is None:
        raise NotFound("No such address on the suppression list.")
    session.delete(row)
    audit.record(
        session,
        actor=actor,
        action="delete",
        entity="email_suppression",
        entity_id=row.id,
        changes={"email": [row.email, None]},
        ip=ip,
    )
