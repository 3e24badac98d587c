"""Lost reasons: the list admins manage, from which a deal moved to a lost stage must pick.

Deals store the reason's name, so reports group by it without a join; renaming a reason
renames it on the deals that carry it. A reason is deactivated rather than deleted: deals
keep it, but it is no longer offered.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session

from crm_app.models import Deal, LostReason, User
from crm_app.services import audit, crud
from crm_app.services.errors import ValidationFailed
from crm_app.services.permission import require
from crm_app.services.pipeline import check_order, set_order

RESOURCE = "pipeline"  # part of the sales process admins set up with the pipelines
NAME_LIMIT = 100


def list_lost_reasons(
    session: Session, *, actor: User, include_inactive: bool = False
) -> list[LostReason]:
    """The reasons in their order; only the active ones unless asked (for Settings)."""
    require(session, actor, RESOURCE, "read")
    query = select(LostReason).where(LostReason.deleted_at.is_(None))
    if not include_inactive:
        query = query.where(LostReason.is_active)
    return list(session.execute(query.order_by(LostReason.position, LostReason.id)).scalars())


def active_name(session: Session, value: Any) -> str:
    """The stored name of the active reason `value` names (case and spaces aside), or a
    ValueError listing the choices; used when a deal is lost."""
    wanted = " ".join(str(value or "").split()).lower()
    names = session.execute(
        select(LostReason.name)
        .where(LostReason.is_active, LostReason.deleted_at.is_(None))
        .order_by(LostReason.position, LostReason.id)
    ).scalars()
    names = list(names)
    found = next((n for n in names if n.lower() == wanted), None)
    if found is None:
        raise ValueError(f"Pick one of: {', '.join(names)}.")
    return found


def _lock(session: Session) -> None:
    """Serialise changes to the list, so two admins cannot add the same name at once."""
    session.execute(select(func.pg_advisory_xact_lock(func.hashtext("lost_reasons"))))


def _clean_name(session: Session, value: Any, exclude_id: int | None) -> str:
    name = " ".join(str(value or "").split())
    if not name or len(name) > NAME_LIMIT:
        raise ValidationFailed.for_field("name", f"Enter 1 to {NAME_LIMIT} characters.")
    query = select(LostReason).where(func.lower(LostReason.name) == name.lower())
    if exclude_id is not None:
        query = query.where(LostReason.id != exclude_id)
    if session.execute(query).first() is not None:
        raise ValidationFailed.for_field("name", f"“{name}” is already in the list.")
    return name


def _for_change(session: Session, actor: User, reason_id: int) -> LostReason:
    require(session, actor, RESOURCE, "manage")
    _lock(session)
    return crud.get_live(session, LostReason, reason_id, label="lost reason", lock=True)


def add_lost_reason(
    session: Session, *, actor: User, name: str, ip: str | None = None
) -> LostReason:
    """A new active reason, placed last."""
    require(session, actor, RESOURCE, "manage")
    _lock(session)
    clean = _clean_name(session, name, None)
    last = session.execute(select(func.max(LostReason.position))).scalar()
    reason = LostReason(name=clean, position=0 if last is None else last + 1)
    crud.created(session, actor, reason, entity="lost_reason", fields={"name": clean}, ip=ip)
    return reason


def rename_lost_reason(
    session: Session, *, actor: User, reason_id: int, name: str, ip: str | None = None
) -> LostReason:
    """Rename a reason, on the deals that carry it too, in one transaction."""
    reason = _for_change(session, actor, reason_id)
    old, new = reason.name, _clean_name(session, name, reason.id)
    crud.apply_changes(session, actor, reason, {"name": new}, entity="lost_reason", ip=ip)
    if new != old:
        # The deals' own versions stay: no one's edit of them should become stale over this.
        session.execute(
            update(Deal)
            .where(Deal.lost_reason == old)
            .values(lost_reason=new, updated_at=Deal.updated_at),
            execution_options={"synchronize_session": "fetch"},
        )
    return reason


def set_lost_reason_active(
    session: Session, *, actor: User, reason_id: int, active: bool, ip: str | None = None
) -> LostReason:
    """Deactivate a reason (deals keep it, but it is no longer offered) or reactivate it."""
    reason = _for_change(session, actor, reason_id)
    crud.apply_changes(
        session, actor, reason, {"is_active": bool(active)}, entity="lost_reason", ip=ip
    )
    return reason


def reorder_lost_reasons(
    session: Session, *, actor: User, reason_ids: list[int]
) -> list[LostReason]:
    """Put the reasons (active and inactive, each once) in this order, in one statement."""
    require(session, actor, RESOURCE, "manage")
    _lock(session)
    current = list(
        session.execute(select(LostReason.id).where(LostReason.deleted_at.is_(None))).scalars()
    )
    ids = check_order(reason_ids, current, "reason_ids", "lost reason")
    set_order(session, LostReason, ids)
    audit.record(
        session, actor=actor, action="reorder", entity="lost_reason", changes={"order": [None, ids]}
    )
    return list_lost_reasons(session, actor=actor, include_inactive=True)
