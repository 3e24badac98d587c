"""Lead sources: the admin-managed pick list behind `Lead.source` ("Website", "Referral", ...).

A lead stores its source's name, not its id, so lists filter and sort by it without a join and
imports can write it as text; renaming a source therefore rewrites the name wherever it is
used (leads, web forms, scoring rules) in the same transaction. A deactivated source can no
longer be picked, but the leads that have it keep it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, select

from crm_app.models import Lead, LeadForm, LeadScoringRule, LeadSource, User
from crm_app.models.base import utcnow
from crm_app.services import audit
from crm_app.services.errors import Conflict, FieldError, NotFound, ValidationFailed
from crm_app.services.permission import require

NAME_LIMIT = 100


def list_sources(
    session: Session, *, actor: User, include_inactive: bool = False
) -> list[LeadSource]:
    """The sources in their admin-chosen order; the inactive ones only when asked (Settings)."""
    require(session, actor, "lead", "read")
    query = select(LeadSource).where(LeadSource.deleted_at.is_(None))
    if not include_inactive:
        query = query.where(LeadSource.is_active)
    return list(session.exec(query.order_by(LeadSource.position, LeadSource.id)).all())


def source_name(session: Session, value: Any, *, keep: str | None = None) -> str | None:
    """The stored name of the active source `value` names (any case), None for blank;
    ValueError otherwise. `keep` is the record's current source, accepted even if inactive
    so saving a lead does not fail because its source was retired."""
    text = " ".join(str(value or "").split())
    if not text:
        return None
    if keep is not None and text.lower() == keep.lower():
        return keep
    found = session.exec(
        select(LeadSource.name).where(
            func.lower(LeadSource.name) == text.lower(),
            LeadSource.is_active,
            LeadSource.deleted_at.is_(None),
        )
    ).first()
    if found is None:
        raise ValueError("Pick one of the lead sources.")
    return found


def _clean_name(session: Session, raw: Any, *, exclude_id: int | None = None) -> str:
    name = " ".join(str(raw or "").split())
    if not name:
        raise ValidationFailed.for_field("name", "Enter the source's name.")
    if len(name) > NAME_LIMIT:
        raise ValidationFailed.for_field("name", f"Use at most {NAME_LIMIT} characters.")
    query = select(LeadSource.id).where(func.lower(LeadSource.name) == name.lower())
    if exclude_id is not None:
        query = query.where(LeadSource.id != exclude_id)
    if session.exec(query).first() is not None:
        message = "A source with this name already exists."
        raise Conflict(message, [FieldError("name", message)])
    return name


def _get(session: Session, source_id: int) -> LeadSource:
    source = session.get(LeadSource, source_id, with_for_update=True)
    if source is None or source.deleted_at is not None:
        raise NotFound("No such lead source.")
    return source


def add_source(session: Session, *, actor: User, name: str) -> LeadSource:
    """A new active source, placed last."""
    require(session, actor, "setting", "manage")
    clean = _clean_name(session, name)
    last = session.exec(select(func.max(LeadSource.position))).one()
    source = LeadSource(name=clean, position=(last or 0) + 1, created_by=actor.id)
    session.add(source)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="lead_source",
        entity_id=source.id,
        changes={"name": [None, clean]},
    )
    return source


def rename_source(session: Session, *, actor: User, source_id: int, name: str) -> LeadSource:
    """Rename a source, and the name on every lead, web form and scoring rule using it."""
    require(session, actor, "setting", "manage")
    source = _get(session, source_id)
    clean = _clean_name(session, name, exclude_id=source.id)
    old = source.name
    if clean == old:
        return source
    session.execute(
        update(Lead)
        .where(Lead.source == old)
        .values(source=clean, updated_at=Lead.updated_at)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(LeadForm)
        .where(LeadForm.source == old)
        .values(source=clean)
        .execution_options(synchronize_session=False)
    )
    _rename_in_rules(session, old, clean)
    _touch(session, actor, source, {"name": clean})
    session.expire_all()  # leads and forms loaded before now carry the old name
    return source


def _rename_in_rules(session: Session, old: str, new: str) -> None:
    """Rules saying "source is <old>" keep matching the same leads after the rename."""
    rules = session.exec(select(LeadScoringRule).where(LeadScoringRule.deleted_at.is_(None)))
    for rule in rules:
        condition = dict(rule.condition or {})
        if condition.get("field") == "source" and str(condition.get("value", "")).lower() == (
            old.lower()
        ):
            rule.condition = {**condition, "value": new}
            session.add(rule)


def set_source_active(session: Session, *, actor: User, source_id: int, active: bool) -> LeadSource:
    """Retire a source (leads keep it, new ones cannot pick it) or bring it back."""
    require(session, actor, "setting", "manage")
    source = _get(session, source_id)
    if source.is_active != active:
        _touch(session, actor, source, {"is_active": active})
    return source


def reorder_sources(session: Session, *, actor: User, ids: list[int]) -> list[LeadSource]:
    """Put the sources in the order of `ids`, which must name each of them exactly once."""
    require(session, actor, "setting", "manage")
    sources = session.exec(
        select(LeadSource).where(LeadSource.deleted_at.is_(None)).with_for_update()
    ).all()
    by_id = {s.id: s for s in sources}
    if sorted(ids) != sorted(by_id):
        raise ValidationFailed.for_field("ids", "List every lead source exactly once.")
    for position, source_id in enumerate(ids):
        if by_id[source_id].position != position:
            by_id[source_id].position = position
            by_id[source_id].updated_at = utcnow()
            session.add(by_id[source_id])
    audit.record(
        session, actor=actor, action="reorder", entity="lead_source", changes={"order": ids}
    )
    session.flush()
    return [by_id[i] for i in ids]


def _touch(session: Session, actor: User, source: LeadSource, changes: dict[str, Any]) -> None:
    diff = audit.diff({k: getattr(source, k) for k in changes}, changes)
    for key, value in changes.items():
        setattr(source, key, value)
    source.version += 1
    source.updated_at = utcnow()
    session.add(source)
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="lead_source",
        entity_id=source.id,
        changes=diff,
    )
    session.flush()
