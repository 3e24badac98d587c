"""The one permission check, `require`, and the editable role x resource x action matrix."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import ColumnElement, false, or_, true
from sqlmodel import Session, select

from crm_app.auth.permissions import (
    Role,
    Scope,
    all_pairs,
    allowed_scopes,
    default_matrix,
)
from crm_app.models import Permission, User
from crm_app.models.base import utcnow
from crm_app.services.errors import Forbidden, ValidationFailed

_CACHE_KEY = "crm_permissions"


class Owned(Protocol):
    """A record with an owner (contacts, deals, ...)."""

    owner_id: int | None
    created_by: int | None


def _matrix(session: Session) -> dict[tuple[str, str, str], Scope]:
    """The permission table, read once per transaction (cached in `session.info`)."""
    cached = session.info.get(_CACHE_KEY)
    if cached is None:
        rows = session.exec(select(Permission)).all()
        cached = {(p.role, p.resource, p.action): Scope(p.scope) for p in rows}
        session.info[_CACHE_KEY] = cached
    return cached


def scope_for(session: Session, actor: User, resource: str, action: str) -> Scope:
    """The scope the actor's role grants for `action` on `resource`."""
    if not actor.is_active:
        return Scope.NONE
    if actor.role == Role.admin:
        return Scope.ALL  # the admin row is fixed so no one can lock the workspace out
    return _matrix(session).get((actor.role, resource, action), Scope.NONE)


def _owner_team(session: Session, owner_id: int | None) -> int | None:
    if owner_id is None:
        return None
    return session.exec(select(User.team_id).where(User.id == owner_id)).first()


def _record_allowed(session: Session, actor: User, scope: Scope, record: Any) -> bool:
    owner_id = getattr(record, "owner_id", None)
    if owner_id is None:
        owner_id = getattr(record, "created_by", None)
    if scope is Scope.ALL:
        return True
    if scope is Scope.OWN:
        return owner_id == actor.id
    if scope is Scope.TEAM:
        return owner_id == actor.id or (
            actor.team_id is not None and _owner_team(session, owner_id) == actor.team_id
        )
    return False


def require(
    session: Session, actor: User, resource: str, action: str, record: Any | None = None
) -> Scope:
    """Raise Forbidden unless the actor may do `action` on `resource` (and on `record`).

    Without a record, any scope other than `none` passes: list queries narrow themselves
    with `owner_clause`.
    """
    scope = scope_for(session, actor, resource, action)
    if scope is Scope.NONE:
        raise Forbidden()
    if record is not None and not _record_allowed(session, actor, scope, record):
        raise Forbidden()
    return scope


def can(
    session: Session, actor: User, resource: str, action: str, record: Any | None = None
) -> bool:
    """Whether `require` would pass."""
    try:
        require(session, actor, resource, action, record)
    except Forbidden:
        return False
    return True


def owner_clause(
    session: Session, actor: User, resource: str, action: str, owner_column: Any
) -> ColumnElement[bool]:
    """A SQL condition selecting the records the actor may `action` (for lists and bulk edits)."""
    scope = scope_for(session, actor, resource, action)
    if scope is Scope.ALL:
        return true()
    if scope is Scope.OWN:
        return owner_column == actor.id
    if scope is Scope.TEAM and actor.team_id is not None:
        team = select(User.id).where(User.team_id == actor.team_id)
        return or_(owner_column == actor.id, owner_column.in_(team))
    if scope is Scope.TEAM:
        return owner_column == actor.id
    return false()


def seed_defaults(session: Session) -> int:
    """Insert the default scope for every missing cell of the matrix; returns how many."""
    existing = {(p.role, p.resource, p.action) for p in session.exec(select(Permission)).all()}
    added = 0
    for (role, resource, action), scope in default_matrix().items():
        if (role, resource, action) not in existing:
            session.add(Permission(role=role, resource=resource, action=action, scope=scope))
            added += 1
    session.info.pop(_CACHE_KEY, None)
    return added


def get_matrix(session: Session, *, actor: User) -> dict[tuple[str, str, str], Scope]:
    """The whole matrix, for Settings -> Roles; every signed-in user may read it."""
    matrix = dict(_matrix(session))
    for resource, action in all_pairs():
        matrix[(Role.admin.value, resource, action)] = Scope.ALL
    return matrix


def set_scope(
    session: Session, *, actor: User, role: str, resource: str, action: str, scope: str
) -> Permission:
    """Change one cell of the matrix (admins only; the admin row is fixed)."""
    from crm_app.services import audit

    require(session, actor, "setting", "manage")
    if role not in {r.value for r in Role} or role == Role.admin:
        raise ValidationFailed.for_field("role", "The admin role always has every permission.")
    if (resource, action) not in all_pairs():
        raise ValidationFailed.for_field("resource", f"Unknown permission {resource}.{action}.")
    if scope not in allowed_scopes(resource, action):
        raise ValidationFailed.for_field("scope", f"'{scope}' does not apply to {action}.")
    row = session.exec(
        select(Permission).where(
            Permission.role == role, Permission.resource == resource, Permission.action == action
        )
    ).first()
    before = row.scope if row else Scope.NONE.value
    if row is None:
        row = Permission(role=role, resource=resource, action=action, scope=scope)
    row.scope = scope
    row.updated_at = utcnow()
    row.updated_by = actor.id
    session.add(row)
    session.info.pop(_CACHE_KEY, None)
    audit.record(
        session,
        actor=actor,
        action="permission_change",
        entity="permission",
        changes={f"{role}.{resource}.{action}": [before, scope]},
    )
    return row
