"""The trash: deleted contacts and companies, restorable for 30 days, then purged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import delete, func, literal, select, union_all
from sqlmodel import Session

from crm_app.models import Account, Contact, User
from crm_app.models.base import utcnow
from crm_app.services import account as accounts
from crm_app.services import contact as contacts
from crm_app.services.crud import TRASH_DAYS
from crm_app.services.errors import ValidationFailed
from crm_app.services.permission import can

KINDS = {"contact": "Contact", "account": "Company"}


@dataclass
class TrashItem:
    """A deleted record: what it is, its name, when it was deleted, and who may restore it."""

    entity: str
    id: int
    label: str
    deleted_at: datetime
    can_restore: bool


def _sources(session: Session, actor: User, entity: str | None, since: datetime):
    parts = []
    if entity in (None, "contact") and can(session, actor, "contact", "read"):
        name = func.trim(Contact.first_name + " " + Contact.last_name)
        label = func.coalesce(func.nullif(name, ""), Contact.email, "Contact")
        parts.append(
            select(
                literal("contact").label("entity"),
                Contact.id,
                label.label("label"),
                Contact.deleted_at,
                Contact.owner_id,
            ).where(Contact.deleted_at > since)
        )
    if entity in (None, "account") and can(session, actor, "account", "read"):
        parts.append(
            select(
                literal("account").label("entity"),
                Account.id,
                Account.name.label("label"),
                Account.deleted_at,
                Account.owner_id,
            ).where(Account.deleted_at > since)
        )
    return parts


def list_trash(
    session: Session, *, actor: User, entity: str | None = None, offset: int = 0, limit: int = 50
) -> tuple[list[TrashItem], int]:
    """Records deleted in the last 30 days that the actor may see, newest first, and the total."""
    if entity is not None and entity not in KINDS:
        raise ValidationFailed.for_field("entity", "Pick contacts or companies.")
    parts = _sources(session, actor, entity, utcnow() - timedelta(days=TRASH_DAYS))
    if not parts:
        return [], 0
    union = union_all(*parts).subquery()
    total = session.execute(select(func.count()).select_from(union)).scalar_one()
    rows = session.execute(
        select(union)
        .order_by(union.c.deleted_at.desc(), union.c.id.desc())
        .offset(max(0, offset))
        .limit(max(1, min(limit, 200)))
    ).all()
    items = []
    for row in rows:
        owned = SimpleNamespace(owner_id=row.owner_id, created_by=None)
        items.append(
            TrashItem(
                row.entity,
                row.id,
                row.label,
                row.deleted_at,
                can(session, actor, row.entity, "update", owned),
            )
        )
    return items, total


def restore(session: Session, *, actor: User, entity: str, record_id: int, ip: str | None = None):
    """Restore one record from the trash (permission checked by its service)."""
    if entity == "contact":
        return contacts.restore_contact(session, actor=actor, contact_id=record_id, ip=ip)
    if entity == "account":
        return accounts.restore_account(session, actor=actor, account_id=record_id, ip=ip)
    raise ValidationFailed.for_field("entity", "Pick contacts or companies.")


def purge_expired(session: Session) -> int:
    """Delete for good what has been in the trash longer than 30 days; returns how many."""
    cutoff = utcnow() - timedelta(days=TRASH_DAYS)
    purged = 0
    for model in (Contact, Account):
        purged += session.exec(delete(model).where(model.deleted_at < cutoff)).rowcount or 0
    return purged
