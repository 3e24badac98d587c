"""What every business record shares: look up or raise, optimistic versions, audited changes,
the trash. Concept services (contact, account, ...) build on these."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, or_, select
from sqlmodel import Session, SQLModel

from crm_app.models import User
from crm_app.models.base import MAX_ID, utcnow
from crm_app.services import audit, events, notification
from crm_app.services.errors import Forbidden, Match, NotFound, StaleVersion, ValidationFailed
from crm_app.services.permission import require

T = TypeVar("T", bound=SQLModel)

TRASH_DAYS = 30
# Records whose creation, change and trashing are domain events (webhooks, workflow rules).
EVENT_ENTITIES = frozenset({"contact", "account", "lead", "deal", "activity"})


def emit(
    session: Session,
    actor: User | None,
    entity: str,
    action: str,
    record_id: int,
    changes: dict[str, list[Any]] | None = None,
) -> None:
    """Tell the domain-event listeners that `action` happened to a record (after it was
    flushed, on the caller's transaction); other kinds of records (stages, forms) are quiet."""
    if entity in EVENT_ENTITIES:
        events.emit(
            session,
            events.DomainEvent(
                type=f"{entity}.{action}",
                entity=entity,
                record_id=record_id,
                actor_id=actor.id if actor is not None else None,
                changes=changes or {},
            ),
        )


def get_live(
    session: Session, model: type[T], record_id: int, *, label: str, lock: bool = False
) -> T:
    """The record with this id that is not in the trash, or NotFound."""
    if not 0 < record_id <= MAX_ID:
        raise NotFound(f"No such {label}.")
    record = session.get(model, record_id, with_for_update=lock)
    if record is None or getattr(record, "deleted_at", None) is not None:
        raise NotFound(f"No such {label}.")
    return record


def for_read(
    session: Session, actor: User, model: type[T], record_id: int, *, resource: str, label: str
) -> T:
    """Look the record up for reading, or raise NotFound / Forbidden."""
    require(session, actor, resource, "read")
    return get_live(session, model, record_id, label=label)


def for_change(
    session: Session,
    actor: User,
    model: type[T],
    record_id: int,
    *,
    resource: str,
    label: str,
    action: str = "update",
) -> T:
    """Lock the record for a change the actor must be allowed to make on it."""
    require(session, actor, resource, "read")
    record = get_live(session, model, record_id, label=label, lock=True)
    require(session, actor, resource, action, record)
    return record


def check_version(record: Any, expected: int | None) -> None:
    """StaleVersion when the caller edited an older version of the record."""
    if expected is not None and int(expected) != record.version:
        raise StaleVersion()


def check_owner(session: Session, actor: User, resource: str, owner_id: int | None) -> None:
    """Refuse giving a record to someone whose records the actor could not edit."""
    if owner_id is None:
        return
    owner = session.get(User, owner_id) if 0 < owner_id < 2**31 else None
    if owner is None or not owner.is_active:
        raise ValidationFailed.for_field("owner_id", "Pick an active user as the owner.")
    try:
        require(
            session, actor, resource, "update", SimpleNamespace(owner_id=owner_id, created_by=None)
        )
    except Forbidden:
        raise Forbidden("You may not give records to this owner.") from None


def apply_changes(
    session: Session,
    actor: User,
    record: Any,
    changes: dict[str, Any],
    *,
    entity: str,
    ip: str | None = None,
) -> dict[str, list[Any]]:
    """Set the changed fields, bump the version, and audit the difference; returns the diff."""
    before = {k: getattr(record, k) for k in changes}
    diff = audit.diff(before, changes)
    if not diff:
        return {}
    for key, value in changes.items():
        setattr(record, key, value)
    record.version += 1
    record.updated_at = utcnow()
    session.add(record)
    audit.record(
        session,
        actor=actor,
        action="update",
        entity=entity,
        entity_id=record.id,
        changes=diff,
        ip=ip,
    )
    session.flush()  # the caller then reads what the database derives (names, search vector)
    if "owner_id" in diff:
        notification.record_assigned(session, actor=actor, entity=entity, record=record)
    emit(session, actor, entity, "updated", record.id, diff)
    return diff


def created(
    session: Session,
    actor: User,
    record: Any,
    *,
    entity: str,
    fields: dict[str, Any],
    ip: str | None = None,
    notify_owner: bool = True,
    derive: Callable[[Session, Any], Any] | None = None,
) -> None:
    """Flush a new record and audit its creation with the fields set; an owner other than the
    actor is told (unless the caller tells them itself: `notify_owner=False`). `derive` fills
    in what the database computes from the stored row (a lead's score) before the "created"
    event takes its snapshot of the record."""
    record.created_by = actor.id
    session.add(record)
    session.flush()
    if derive is not None:
        derive(session, record)
    shown = {k: v for k, v in fields.items() if v not in (None, "", [], {})}
    audit.record(
        session,
        actor=actor,
        action="create",
        entity=entity,
        entity_id=record.id,
        changes={k: [None, v] for k, v in shown.items()},
        ip=ip,
    )
    if notify_owner:
        notification.record_assigned(session, actor=actor, entity=entity, record=record)
    emit(session, actor, entity, "created", record.id, audit.diff({}, shown))


def trash(
    session: Session, actor: User, record: Any, *, entity: str, ip: str | None = None
) -> None:
    """Move a record to the trash (restorable for TRASH_DAYS days)."""
    record.deleted_at = utcnow()
    record.version += 1
    session.add(record)
    audit.record(session, actor=actor, action="delete", entity=entity, entity_id=record.id, ip=ip)
    session.flush()
    emit(session, actor, entity, "deleted", record.id)


def restore(
    session: Session,
    actor: User,
    model: type[T],
    record_id: int,
    *,
    resource: str,
    label: str,
    ip: str | None = None,
) -> T:
    """Bring a record back from the trash, if it went there less than TRASH_DAYS days ago."""
    require(session, actor, resource, "read")
    record = session.get(model, record_id, with_for_update=True)
    if record is None or record.deleted_at is None:
        raise NotFound(f"No such {label} in the trash.")
    if record.deleted_at < utcnow() - timedelta(days=TRASH_DAYS):
        raise NotFound(f"This {label} was deleted more than {TRASH_DAYS} days ago.")
    require(session, actor, resource, "update", record)
    record.deleted_at = None
    record.version += 1
    record.updated_at = utcnow()
    session.add(record)
    audit.record(
        session, actor=actor, action="restore", entity=resource, entity_id=record.id, ip=ip
    )
    return record


def same_email_or_phone(
    session: Session,
    model: Any,
    *,
    email: str | None,
    phone: str | None,
    exclude_id: int | None,
    name: Callable[[Any], str],
    where: tuple[ColumnElement[bool], ...] = (),
) -> list[Match]:
    """Up to five live people (contacts, leads) with the same normalised e-mail or phone,
    oldest first, narrowed by `where`."""
    conditions = []
    if email:
        conditions.append(func.lower(model.email) == email)
    if phone:
        conditions.append(model.phone == phone)
    if not conditions:
        return []
    query = select(model).where(or_(*conditions), model.deleted_at.is_(None), *where)
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)
    found = session.execute(query.order_by(model.id).limit(5)).scalars().all()
    return [Match(r.id, name(r), r.email or r.phone or "") for r in found]
