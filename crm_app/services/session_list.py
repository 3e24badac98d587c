"""A user's own browser sessions: which are open (device, address, signed in, last seen), and
ending one or all the others.

Only the user's own sessions are listed and ended here; an admin ends someone's sessions by
deactivating them or sending a reset link (services/user.py, services/invitation.py). An open
tab whose session ends, here or anywhere else, leaves within seconds: see
state/session_watch.py, which asks `live_token_hashes`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from crm_app.auth.tokens import hash_token
from crm_app.models import User, UserSession
from crm_app.models.base import MAX_ID, utcnow
from crm_app.services import audit
from crm_app.services.auth import end_all_sessions
from crm_app.services.errors import NotFound, ValidationFailed
from crm_app.settings import get_settings

# The most sessions the page lists; older ones beyond it are still ended by "sign out others".
LIST_LIMIT = 50

# (pattern, name) pairs, first match wins: Edge and Opera also say "Chrome", Chrome also says
# "Safari", so the more specific come first.
_BROWSERS = (
    (r"Edg(?:e|A|iOS)?/", "Edge"),
    (r"OPR/|Opera", "Opera"),
    (r"SamsungBrowser/", "Samsung Internet"),
    (r"Firefox/|FxiOS/", "Firefox"),
    (r"Chrome/|CriOS/|Chromium/", "Chrome"),
    (r"Safari/", "Safari"),
    (r"curl/", "curl"),
    (r"python-requests|httpx|aiohttp", "Script"),
)
_SYSTEMS = (
    (r"iPhone|iPad|iPod", "iOS"),
    (r"Android", "Android"),
    (r"CrOS", "ChromeOS"),
    (r"Windows", "Windows"),
    (r"Mac OS X|Macintosh", "macOS"),
    (r"Linux|X11", "Linux"),
)


def describe_device(user_agent: str | None) -> str:
    """A readable device from a User-Agent header: "Chrome on Linux", "Safari on iOS"."""
    agent = user_agent or ""
    browser = next((name for pattern, name in _BROWSERS if re.search(pattern, agent)), None)
    system = next((name for pattern, name in _SYSTEMS if re.search(pattern, agent)), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown device"


@dataclass(frozen=True)
class OpenSession:
    """One signed-in browser of the user, as the sessions page shows it."""

    id: int
    device: str
    ip: str | None
    created_at: datetime
    last_seen_at: datetime
    is_current: bool


def _live(user_id: int, now: datetime):
    """The conditions that make a session of `user_id` still usable (as auth.authenticate)."""
    idle = timedelta(hours=get_settings().session_idle_hours)
    return (
        UserSession.user_id == user_id,
        UserSession.revoked_at.is_(None),
        UserSession.expires_at > now,
        UserSession.last_seen_at > now - idle,
    )


def list_sessions(session: Session, *, actor: User, current_token: str | None) -> list[OpenSession]:
    """The actor's open sessions, this browser's first, then the most recently seen."""
    current_hash = hash_token(current_token) if current_token else ""
    rows = session.exec(
        select(UserSession)
        .where(*_live(actor.id, utcnow()))
        .order_by((UserSession.token_hash == current_hash).desc(), UserSession.last_seen_at.desc())
        .limit(LIST_LIMIT)
    ).all()
    return [
        OpenSession(
            id=row.id,
            device=describe_device(row.user_agent),
            ip=row.ip,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            is_current=row.token_hash == current_hash,
        )
        for row in rows
    ]


def end_session(
    session: Session,
    *,
    actor: User,
    session_id: int,
    current_token: str | None,
    ip: str | None = None,
) -> None:
    """End one of the actor's other sessions (this browser's is ended by signing out)."""
    current_hash = hash_token(current_token) if current_token else ""
    if not 0 < session_id <= MAX_ID:
        raise NotFound("This session has already ended.")
    target = session.exec(
        select(UserSession).where(UserSession.id == session_id, *_live(actor.id, utcnow()))
    ).first()
    if target is None:
        raise NotFound("This session has already ended.")
    if target.token_hash == current_hash:
        raise ValidationFailed("This is the session you are using: sign out instead.")
    session.exec(
        update(UserSession)
        .where(UserSession.id == target.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    audit.record(
        session,
        actor=actor,
        action="session_ended",
        entity="user",
        entity_id=actor.id,
        ip=ip,
        changes={"device": [describe_device(target.user_agent), None], "ip": [target.ip, None]},
    )


def end_other_sessions(
    session: Session, *, actor: User, current_token: str | None, ip: str | None = None
) -> int:
    """End every session of the actor but this browser's; returns how many ended."""
    if not current_token:
        raise ValidationFailed("Sign in again to manage your sessions.")
    ended = end_all_sessions(session, user_id=actor.id, except_token=current_token)
    if ended:
        audit.record(
            session,
            actor=actor,
            action="sessions_ended",
            entity="user",
            entity_id=actor.id,
            ip=ip,
            changes={"sessions": [ended, 0]},
        )
    return ended


def live_token_hashes(session: Session, token_hashes: set[str]) -> set[str]:
    """Of these session token hashes, the ones still usable: not ended, not expired, not idle
    too long, and their user active. One query, whatever the number (the open-tab watcher
    asks this every few seconds for every connected tab)."""
    if not token_hashes:
        return set()
    now = utcnow()
    idle = timedelta(hours=get_settings().session_idle_hours)
    rows = session.exec(
        select(UserSession.token_hash)
        .join(User, User.id == UserSession.user_id)
        .where(
            UserSession.token_hash.in_(sorted(token_hashes)),
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > now,
            UserSession.last_seen_at > now - idle,
            User.is_active.is_(True),
        )
    ).all()
    return set(rows)
