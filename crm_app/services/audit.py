"""The audit log: who did what to which record, with the fields that changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from crm_app.models import AuditEvent, User
from crm_app.services.permission import require


def _plain(value: Any) -> Any:
    """A JSON-safe copy of a field value."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """The fields whose values differ, as {field: [before, after]}."""
    keys = before.keys() | after.keys()
    return {
        k: [_plain(before.get(k)), _plain(after.get(k))]
        for k in sorted(keys)
        if before.get(k) != after.get(k)
    }


ACTOR_LABEL_MAX = 200  # AuditEvent.actor_label's length


def record(
    session: Session,
    *,
    actor: User | None,
    action: str,
    entity: str,
    entity_id: int | None = None,
    changes: dict[str, Any] | None = None,
    ip: str | None = None,
    actor_label: str | None = None,
) -> AuditEvent:
    """Append one event to the audit log, in the caller's transaction."""
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        # the column holds 200 characters; what a visitor typed at sign-in may be longer
        actor_label=(actor_label or (actor.email if actor else "system"))[:ACTOR_LABEL_MAX],
        action=action,
        entity=entity,
        entity_id=entity_id,
        changes=_plain(changes or {}),
        ip=ip,
    )
    session.add(event)
    return event


@dataclass
class AuditRow:
    """One line of the audit log as shown to an admin."""

    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: int | None
    changes: dict[str, Any]
    ip: str | None


@dataclass
class AuditPage:
    """A page of audit rows, newest first, and whether more follow."""

    rows: list[AuditRow]
    next_before_id: int | None


def list_events(
    session: Session,
    *,
    actor: User,
    user_id: int | None = None,
    entity: str | None = None,
    entity_id: int | None = None,
    action: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> AuditPage:
    """Audit events matching the filters, newest first, keyset-paged by id."""
    require(session, actor, "audit", "read")
    limit = max(1, min(limit, 200))
    query = select(AuditEvent, User.email).join(User, User.id == AuditEvent.actor_id, isouter=True)
    if user_id:
        query = query.where(AuditEvent.actor_id == user_id)
    if entity:
        query = query.where(AuditEvent.entity == entity)
    if entity_id:
        query = query.where(AuditEvent.entity_id == entity_id)
    if action:
        query = query.where(AuditEvent.action == action)
    if date_from:
        query = query.where(AuditEvent.at >= _start_of(date_from, actor))
    if date_to:
        query = query.where(AuditEvent.at < _start_of(date_to, actor) + timedelta(days=1))
    if before_id:
        query = query.where(AuditEvent.id < before_id)
    rows = session.exec(query.order_by(AuditEvent.id.desc()).limit(limit + 1)).all()
    page = [
        AuditRow(
            id=e.id,
            at=e.at,
            actor=email or e.actor_label or "system",
            action=e.action,
            entity=e.entity,
            entity_id=e.entity_id,
            changes=e.changes or {},
            ip=e.ip,
        )
        for e, email in rows[:limit]
    ]
    next_id = page[-1].id if len(rows) > limit else None
    return AuditPage(rows=page, next_before_id=next_id)


def filter_choices(session: Session, *, actor: User) -> tuple[list[str], list[str]]:
    """The entity names and the action names that appear in the log, sorted, for the filters."""
    require(session, actor, "audit", "read")
    entities = session.exec(select(AuditEvent.entity).group_by(AuditEvent.entity)).all()
    actions = session.exec(select(AuditEvent.action).group_by(AuditEvent.action)).all()
    return sorted(entities), sorted(actions)


def count_events(session: Session, *, action: str, entity: str | None = None) -> int:
    """How many events of one action are logged (used by tests and the bench)."""
    query = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    if entity:
        query = query.where(AuditEvent.entity == entity)
    return session.exec(query).one()


def _start_of(day: date, actor: User) -> datetime:
    """Midnight of `day` in the actor's time zone, as an aware datetime."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(actor.timezone or "UTC")
    return datetime.combine(day, time.min, tzinfo=tz)
