"""API keys: created for a user (shown once), listed, revoked, and checked on each request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from crm_app.auth.tokens import hash_token, new_token
from crm_app.models import ApiKey, User
from crm_app.models.base import MAX_ID, utcnow
from crm_app.services import audit
from crm_app.services.errors import NotFound, ValidationFailed
from crm_app.services.permission import can, require

KEY_PREFIX = "crm_"
# Record use at most this often, so each API call is not a write.
USED_RESOLUTION = timedelta(seconds=60)


@dataclass
class CreatedKey:
    """A new key: the secret is in `plaintext`, and nowhere else, ever again."""

    key: ApiKey
    plaintext: str


def create_key(session: Session, *, actor: User, name: str) -> CreatedKey:
    """Create a key acting as `actor`."""
    require(session, actor, "api_key", "create")
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed.for_field("name", "Give the key a name, e.g. where it is used.")
    if len(name) > 80:
        raise ValidationFailed.for_field("name", "Use at most 80 characters.")
    plaintext = KEY_PREFIX + new_token(32)
    key = ApiKey(user_id=actor.id, name=name, prefix=plaintext[:12], key_hash=hash_token(plaintext))
    session.add(key)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="key_create",
        entity="api_key",
        entity_id=key.id,
        changes={"name": [None, name]},
    )
    return CreatedKey(key=key, plaintext=plaintext)


@dataclass
class KeyRow:
    """A key as listed: never its secret."""

    id: int
    name: str
    prefix: str
    owner: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def list_keys(session: Session, *, actor: User, include_revoked: bool = True) -> list[KeyRow]:
    """The actor's keys; admins (user management) see everyone's."""
    query = select(ApiKey, User.email).join(User, User.id == ApiKey.user_id)
    if not can(session, actor, "user", "manage"):
        query = query.where(ApiKey.user_id == actor.id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    rows = session.exec(query.order_by(ApiKey.created_at.desc()).limit(500)).all()
    return [
        KeyRow(k.id, k.name, k.prefix, email, k.created_at, k.last_used_at, k.revoked_at)
        for k, email in rows
    ]


def revoke_key(session: Session, *, actor: User, key_id: int) -> ApiKey:
    """Revoke a key: from now on it gets 401. Owners revoke their own; admins any."""
    if not 0 < key_id <= MAX_ID:
        raise NotFound("No such key.")
    key = session.get(ApiKey, key_id, with_for_update=True)
    if key is None or (key.user_id != actor.id and not can(session, actor, "user", "manage")):
        raise NotFound("No such key.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
        audit.record(
            session,
            actor=actor,
            action="key_revoke",
            entity="api_key",
            entity_id=key.id,
            changes={"name": [key.name, key.name]},
        )
    return key


def authenticate_key(session: Session, plaintext: str | None) -> User | None:
    """The active user a live key belongs to, or None."""
    if not plaintext or not plaintext.startswith(KEY_PREFIX):
        return None
    now = utcnow()
    row = session.exec(
        select(ApiKey, User)
        .join(User, User.id == ApiKey.user_id)
        .where(ApiKey.key_hash == hash_token(plaintext), ApiKey.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    key, user = row
    if not user.is_active or (key.expires_at is not None and key.expires_at <= now):
        return None
    if key.last_used_at is None or now - key.last_used_at > USED_RESOLUTION:
        key.last_used_at = now
        session.add(key)
    return user
