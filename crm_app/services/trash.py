"""The trash: deleted contacts, companies, leads and deals, restorable for 30 days, then purged.

Each kind of record is one row of `KINDS_OF_RECORDS`; listing, restoring and purging read the
table, so a new kind needs one row here and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import delete, func, literal, select, union_all
from sqlmodel import Session

from crm_app.models import Account, Contact, Deal, Lead, User
from crm_app.models.base import utcnow
from crm_app.services import account as accounts
from crm_app.services import contact as contacts
from crm_app.services import deal as deals
from crm_app.services import lead as leads
from crm_app.services.crud import TRASH_DAYS
from crm_app.services.errors import ValidationFailed
from crm_app.services.permission import can


def _person_label(model: Any, *fallbacks: Any) -> Any:
    """A person's name, else their e-mail, else the fallbacks in turn."""
    name = func.trim(model.first_name + " " + model.last_name)
    return func.coalesce(func.nullif(name, ""), model.email, *fallbacks)


@dataclass(frozen=True)
class KindOfRecord:
    """How the trash lists, names and restores one kind of record."""

    label: str  # as the trash shows it
    model: Any
    name: Callable[[], Any]  # the SQL expression naming a record
    restore: Callable[..., Any]  # (session, actor=, record_id=, ip=) -> the record


KINDS_OF_RECORDS: dict[str, KindOfRecord] = {
    "contact": KindOfRecord(
        "Contact",
        Contact,
        lambda: _person_label(Contact, "Contact"),
        lambda s, *, actor, record_id, ip: contacts.restore_contact(
            s, actor=actor, contact_id=record_id, ip=ip
        ),
    ),
    "account": KindOfRecord(
        "Company",
        Account,
        lambda: Account.name,
        lambda s, *, actor, record_id, ip: accounts.restore_account(
            s, actor=actor, account_id=record_id, ip=ip
        ),
    ),
    "lead": KindOfRecord(
        "Lead",
        Lead,
        lambda: _person_label(Lead, Lead.company_name, "Lead"),
        lambda s, *, actor, record_id, ip: leads.restore_lead(
            s, actor=actor, lead_id=record_id, ip=ip
        ),
    ),
    "deal": KindOfRecord(
        "Deal",
        Deal,
        lambda: Deal.name,
        lambda s, *, actor, record_id, ip: deals.restore_deal(
            s, actor=actor, deal_id=record_id, ip=ip
        ),
    ),
}
KINDS = {entity: kind.label for entity, kind in KINDS_OF_RECORDS.items()}


@dataclass
class TrashItem:
    """A deleted record: what it is, its name, when it was deleted, and who may restore it."""

    entity: str
    id: int
    label: str
    deleted_at: datetime
    can_restore: bool


def _kind(entity: str) -> KindOfRecord:
    if entity not in KINDS_OF_RECORDS:
        raise ValidationFailed.for_field("entity", "Pick contacts, companies, leads or deals.")
    return KINDS_OF_RECORDS[entity]


def _sources(session: Session, actor: User, entity: str | None, since: datetime) -> list[Any]:
    """A SELECT per kind the actor may read: its records deleted since `since`."""
    parts = []
    for name, kind in KINDS_OF_RECORDS.items():
        if entity not in (None, name) or not can(session, actor, name, "read"):
            continue
        model = kind.model
        parts.append(
            select(
                literal(name).label("entity"),
                model.id,
                kind.name().label("label"),
                model.deleted_at,
                model.owner_id,
            ).where(model.deleted_at > since)
        )
    return parts


def list_trash(
    session: Session, *, actor: User, entity: str | None = None, offset: int = 0, limit: int = 50
) -> tuple[list[TrashItem], int]:
    """Records deleted in the last 30 days that the actor may see, newest first, and the total."""
    if entity is not None:
        _kind(entity)
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
    return _kind(entity).restore(session, actor=actor, record_id=record_id, ip=ip)


def purge_expired(session: Session) -> int:
    """Delete for good what has been in the trash longer than 30 days; returns how many.
    Links to a purged record (a deal's company, a converted lead's deal) become empty."""
    cutoff = utcnow() - timedelta(days=TRASH_DAYS)
    purged = 0
    for kind in KINDS_OF_RECORDS.values():
        model = kind.model
        purged += session.exec(delete(model).where(model.deleted_at < cutoff)).rowcount or 0
    return purged
