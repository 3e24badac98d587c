"""In-app notifications: what a user was told (a lead assigned to them, ...), read or not.

Each user sees and marks only their own; nothing else needs a permission."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlmodel import Session

from crm_app.models import Notification, User
from crm_app.models.base import utcnow

SHOWN = 20  # the newest ones the bell lists


def unread_count(session: Session, *, actor: User) -> int:
    """How many of the actor's notifications are unread (the bell's badge)."""
    return session.execute(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == actor.id, Notification.read_at.is_(None))
    ).scalar_one()


def list_notifications(session: Session, *, actor: User, limit: int = SHOWN) -> list[Notification]:
    """The actor's newest notifications, unread or not."""
    return list(
        session.execute(
            select(Notification)
            .where(Notification.user_id == actor.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(max(1, min(int(limit), 100)))
        ).scalars()
    )


def mark_read(session: Session, *, actor: User, notification_id: int | None = None) -> str | None:
    """Mark one of the actor's notifications read (all of them when no id is given); returns
    the link of the one marked, if any. Someone else's id changes nothing."""
    mine = [Notification.user_id == actor.id, Notification.read_at.is_(None)]
    if notification_id is None:
        session.execute(update(Notification).where(*mine).values(read_at=utcnow()))
        return None
    link = session.execute(
        select(Notification.link).where(
            Notification.id == notification_id, Notification.user_id == actor.id
        )
    ).scalar_one_or_none()
    session.execute(
        update(Notification)
        .where(Notification.id == notification_id, *mine)
        .values(read_at=utcnow())
    )
    return link
