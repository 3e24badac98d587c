"""In-app notifications: what a user was told (a lead assigned to them, ...), read or not.

Each user sees and marks only their own; nothing else needs a permission."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session

from crm_app import routes
from crm_app.models import Notification, User
from crm_app.models.base import MAX_ID, utcnow

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
    if not 0 < notification_id <= MAX_ID:
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


# Records whose owner is told when someone else gives the record to them (activities tell
# their own, with the task's wording: `activity.notify_owner`).
ASSIGNABLE = {
    "contact": ("contact", routes.contact_detail),
    "account": ("company", routes.account_detail),
    "lead": ("lead", routes.lead_detail),
    "deal": ("deal", routes.deal_detail),
}


def _record_name(record: Any) -> str:
    name = getattr(record, "name", None)
    if name:
        return str(name)
    person = " ".join(
        str(part)
        for part in (getattr(record, "first_name", ""), getattr(record, "last_name", ""))
        if part
    )
    return person or str(getattr(record, "email", "") or f"#{record.id}")


def record_assigned(session: Session, *, actor: User, entity: str, record: Any) -> None:
    """Tell the record's owner that the actor gave it to them ("Alex gave you the deal Atlas"),
    unless the actor is the owner or the record is of a kind that tells its own."""
    owner_id = getattr(record, "owner_id", None)
    if entity not in ASSIGNABLE or owner_id is None or owner_id == actor.id:
        return
    noun, page = ASSIGNABLE[entity]
    session.add(
        Notification(
            user_id=owner_id,
            kind="assigned",
            title=f"{actor.name} gave you the {noun} {_record_name(record)}"[:200],
            link=page(record.id),
        )
    )


LIST_PAGES = {
    "contact": routes.CONTACTS,
    "account": routes.ACCOUNTS,
    "lead": routes.LEADS,
    "deal": routes.DEAL_LIST,
}


def records_assigned(
    session: Session, *, actor: User, entity: str, owner_id: int | None, count: int
) -> None:
    """One notice for a bulk change of owner ("Alex gave you 120 contacts"), not one a row."""
    if entity not in ASSIGNABLE or owner_id is None or owner_id == actor.id or count < 1:
        return
    noun = ASSIGNABLE[entity][0]
    what = (
        f"the {noun}"
        if count == 1
        else f"{count} {'companies' if noun == 'company' else noun + 's'}"
    )
    session.add(
        Notification(
            user_id=owner_id,
            kind="assigned",
            title=f"{actor.name} gave you {what}"[:200],
            link=LIST_PAGES[entity],
        )
    )
