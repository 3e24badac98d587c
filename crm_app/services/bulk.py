"""Bulk actions on many contacts, companies or leads at once: assign an owner, add or remove a
tag, move to the trash.

The rows are either explicit ids or everything a list's search and filters match. Each
action is one SQL statement: a CTE picks the target rows the actor may change (locking them),
a second CTE updates them, and the statement's INSERT writes one audit event per changed row,
so 100,000 rows cost one round trip and run in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, String, cast, exists, func, insert, literal, select
from sqlalchemy import update as sql_update
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by, array_agg
from sqlalchemy.sql import Select
from sqlmodel import Session

from crm_app.models import Account, AuditEvent, Contact, Deal, Lead, User
from crm_app.services import account as account_service
from crm_app.services import contact as contact_service
from crm_app.services import crud, deal_list, normalize, notification
from crm_app.services import lead as lead_service
from crm_app.services import tag as tag_service
from crm_app.services.errors import ValidationFailed
from crm_app.services.listing import ListQuery
from crm_app.services.permission import owner_clause, require

MAX_IDS = 1000
# entity: (table, its service, the largest id its key column can hold)
ENTITIES: dict[str, tuple[Any, Any, int]] = {
    "contact": (Contact, contact_service, 2**63 - 1),  # BIGINT
    "account": (Account, account_service, 2**31 - 1),  # INTEGER
    "deal": (Deal, deal_list, 2**31 - 1),  # INTEGER
    "lead": (Lead, lead_service, 2**31 - 1),  # INTEGER
}
# The permission each action needs on every row it touches.
ACTIONS = {
    "assign_owner": "update",
    "add_tag": "update",
    "remove_tag": "update",
    "delete": "delete",
}


def _entity(entity: str) -> tuple[Any, Any]:
    if entity not in ENTITIES:
        raise ValidationFailed.for_field("entity", "Pick contacts, companies or leads.")
    model, service, _largest = ENTITIES[entity]
    return model, service


def _permission(action: str) -> str:
    if action not in ACTIONS:
        raise ValidationFailed.for_field("action", f"Pick one of: {', '.join(ACTIONS)}.")
    return ACTIONS[action]


def _clean_ids(ids: Sequence[Any], largest: int) -> list[int]:
    """Distinct ids; those no row can have (out of the column's range) are dropped."""
    try:
        cleaned = list(dict.fromkeys(int(i) for i in ids))
    except (TypeError, ValueError):
        raise ValidationFailed.for_field("ids", "Ids must be whole numbers.") from None
    if not cleaned:
        raise ValidationFailed.for_field("ids", "Select at least one record.")
    if len(cleaned) > MAX_IDS:
        raise ValidationFailed.for_field(
            "ids", f"Select at most {MAX_IDS:,} records, or act on the whole filtered list."
        )
    return [i for i in cleaned if 0 < i <= largest]


def _target_ids(
    session: Session,
    actor: User,
    entity: str,
    ids: Sequence[Any] | None,
    listq: ListQuery | None,
) -> Select:
    """SELECT of the ids of the live rows the actor can read: the given ids, or the view."""
    model, service = _entity(entity)
    if ids is not None:
        require(session, actor, service.RESOURCE, "read")
        return select(model.id).where(
            model.id.in_(_clean_ids(ids, ENTITIES[entity][2])),
            model.deleted_at.is_(None),
            owner_clause(session, actor, service.RESOURCE, "read", model.owner_id),
        )
    if listq is None:
        raise ValidationFailed.for_field("ids", "Select records or a filtered list.")
    # The list's own query (module-private in the concept service) is reused so "the whole
    # filtered view" means exactly what the list shows, permissions included.
    view = ListQuery(q=listq.q, filters=dict(listq.filters))
    return service.list_query(session, actor, view).with_only_columns(model.id)


def _has_tag(model: Any, tag: str) -> ColumnElement[bool]:
    """Whether the row holds `tag`, ignoring case (as `normalize.tags` deduplicates)."""
    held = func.unnest(model.tags).table_valued("value").render_derived("held")
    return exists(select(1).select_from(held).where(func.lower(held.c.value) == tag.lower()))


def _without_tag(model: Any, tag: str) -> Any:
    """The row's tags, in order, minus every spelling of `tag`."""
    held = func.unnest(model.tags).table_valued("value", with_ordinality="n").render_derived("held")
    kept = array_agg(aggregate_order_by(held.c.value, held.c.n))
    return (
        select(func.coalesce(kept, cast(literal([], ARRAY(String)), ARRAY(String))))
        .select_from(held)
        .where(func.lower(held.c.value) != tag.lower())
        .scalar_subquery()
    )


def _canonical_tag(session: Session, raw: Any) -> str:
    """The tag as stored: normalised, spelt as in the tag catalog when it is there."""
    try:
        name = normalize.tag(str(raw or ""))
    except ValueError as error:
        raise ValidationFailed.for_field("value", str(error)) from None
    return tag_service.catalog_name(session, name) or name


def _owner_id(session: Session, actor: User, resource: str, raw: Any) -> int | None:
    if raw in (None, "", "none"):
        return None
    try:
        owner_id = int(raw)
    except (TypeError, ValueError):
        raise ValidationFailed.for_field("value", "Pick an owner.") from None
    crud.check_owner(session, actor, resource, owner_id)
    return owner_id


def _clean_value(session: Session, actor: User, resource: str, action: str, value: Any) -> Any:
    """The action's argument, checked: an owner the actor may give records to, or a tag."""
    if action == "assign_owner":
        return _owner_id(session, actor, resource, value)
    if action in ("add_tag", "remove_tag"):
        return _canonical_tag(session, value)
    return None


def _change(
    model: Any, action: str, value: Any
) -> tuple[ColumnElement[bool] | None, dict[str, Any], str | None]:
    """(which rows need the change, the SET values, the audited field or None)."""
    if action == "assign_owner":
        new = literal(value, type_=model.owner_id.type)
        return model.owner_id.is_distinct_from(new), {"owner_id": new}, "owner_id"
    if action == "add_tag":
        added = func.array_append(model.tags, cast(literal(value), String))
        return ~_has_tag(model, value), {"tags": added}, "tags"
    if action == "remove_tag":
        return _has_tag(model, value), {"tags": _without_tag(model, value)}, "tags"
    return None, {"deleted_at": func.now()}, None


def _audited_update(
    model: Any,
    conditions: list[ColumnElement[bool]],
    sets: dict[str, Any],
    field: str | None,
    *,
    actor: User,
    entity: str,
    action: str,
    ip: str | None,
) -> Any:
    """WITH target (rows to change, locked), changed (UPDATE ... RETURNING)
    INSERT INTO audit_events one event per changed row."""
    # RETURNING sees the updated row, so the value before comes from the target CTE.
    audited = getattr(model, field) if field else literal(None)
    target = (
        select(model.id, audited.label("before"))
        .where(*conditions)
        .with_for_update(of=model)
        .cte("target")
    )
    changed = (
        sql_update(model)
        .where(model.id == target.c.id)
        .values(**sets, version=model.version + 1, updated_at=func.now())
        .returning(model.id, target.c.before, audited.label("after"))
        .cte("changed")
    )
    changes: Any = cast(literal("{}"), JSONB)
    if field:
        pair = func.jsonb_build_array(
            func.to_jsonb(changed.c.before), func.to_jsonb(changed.c.after)
        )
        changes = func.jsonb_build_object(field, pair)
    events = select(
        literal(actor.id),
        literal(actor.email),
        func.now(),
        literal(entity),
        changed.c.id,
        literal("delete" if action == "delete" else "update"),
        changes,
        literal(ip, type_=String),
    ).select_from(changed)
    return (
        insert(AuditEvent)
        .from_select(
            ["actor_id", "actor_label", "at", "entity", "entity_id", "action", "changes", "ip"],
            events,
        )
        .returning(AuditEvent.entity_id, AuditEvent.changes)
    )


def bulk_apply(
    session: Session,
    *,
    actor: User,
    entity: str,
    action: str,
    value: str | int | None,
    ids: list[int] | None,
    listq: ListQuery | None,
    ip: str | None = None,
) -> int:
    """Apply `action` to the rows the actor may change among `ids` (or the rows `listq`
    matches, ignoring its sort and page); returns how many rows changed.

    Rows the actor may read but not change are skipped (see `count_refused`), as are rows
    that already are as asked (already tagged, already with that owner).
    """
    model, service = _entity(entity)
    permission = _permission(action)
    require(session, actor, service.RESOURCE, permission)
    value = _clean_value(session, actor, service.RESOURCE, action, value)
    needed, sets, field = _change(model, action, value)
    conditions = [
        model.id.in_(_target_ids(session, actor, entity, ids, listq).scalar_subquery()),
        owner_clause(session, actor, service.RESOURCE, permission, model.owner_id),
    ]
    if needed is not None:
        conditions.append(needed)
    statement = _audited_update(
        model, conditions, sets, field, actor=actor, entity=entity, action=action, ip=ip
    )
    audited = session.execute(statement).all()
    changed = len(audited)
    # The rows changed behind the ORM's back: reload any already loaded in this session.
    session.expire_all()
    for record_id, changes in audited:  # webhooks and workflow rules hear of each record
        if action == "delete":
            crud.emit(session, actor, entity, "deleted", record_id)
        else:
            crud.emit(session, actor, entity, "updated", record_id, changes)
    if action == "add_tag" and changed:
        tag_service.remember(session, actor=actor, names=[value])  # new names join the catalog
    if field == "owner_id" and changed:
        notification.records_assigned(
            session, actor=actor, entity=entity, owner_id=value, count=changed
        )
    return changed


def count_refused(
    session: Session,
    *,
    actor: User,
    entity: str,
    action: str,
    ids: list[int] | None,
    listq: ListQuery | None,
) -> int:
    """How many of the rows `bulk_apply` would target the actor may not change."""
    model, service = _entity(entity)
    allowed = owner_clause(session, actor, service.RESOURCE, _permission(action), model.owner_id)
    targets = _target_ids(session, actor, entity, ids, listq).subquery()
    query = (
        select(func.count(), func.count().filter(allowed))
        .select_from(model)
        .where(model.id.in_(select(targets.c.id)))
    )
    total, permitted = session.execute(query).one()
    return total - permitted
