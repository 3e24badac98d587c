"""Tags: suggestions from the catalog and from tags in use, and adding or removing one tag.

Records keep their tags as names in a `tags` array; the `tags` table is the catalog offered
when tagging. A tag goes on or off a record through the record's own update service, so
permissions, the version bump and the audit entry are the same as for any other edit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session

from crm_app.models import Account, Contact, Tag, User
from crm_app.models.base import MAX_ID
from crm_app.services import account, audit, contact, normalize
from crm_app.services.errors import NotFound, ValidationFailed
from crm_app.services.permission import require

# entity: (table, permission resource, label, update service, its id keyword)
ENTITIES: dict[str, tuple[Any, str, str, Callable[..., Any], str]] = {
    "contact": (Contact, contact.RESOURCE, contact.LABEL, contact.update_contact, "contact_id"),
    "account": (Account, account.RESOURCE, account.LABEL, account.update_account, "account_id"),
}
# Tags in use are read from the most recently changed records only: scanning every record's
# array on each keystroke would cost tens of milliseconds at 100k contacts, and tags added
# here always get a catalog row anyway (only imports and the API can skip it).
RECENT_RECORDS = 2000


def _clean(name: str) -> str:
    try:
        return normalize.tag(name)
    except ValueError as error:
        raise ValidationFailed.for_field("tag", str(error)) from None


def _like_prefix(prefix: str) -> str:
    escaped = prefix.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"


def _in_use(session: Session, model: Any, pattern: str, limit: int) -> list[str]:
    recent = (
        select(model.tags)
        .where(model.deleted_at.is_(None), model.tags != [])
        .order_by(model.updated_at.desc())
        .limit(RECENT_RECORDS)
        .subquery()
    )
    names = select(func.unnest(recent.c.tags).label("name")).subquery()
    query = (
        select(names.c.name)
        .where(func.lower(names.c.name).like(pattern, escape="\\"))
        .group_by(names.c.name)
        .order_by(func.count().desc(), names.c.name)
        .limit(limit)
    )
    return list(session.execute(query).scalars())


def suggest(
    session: Session, *, actor: User, prefix: str, limit: int = 8, exclude: Iterable[str] = ()
) -> list[str]:
    """Tag names starting with `prefix` (any case): catalog names first, then tags in use."""
    require(session, actor, "contact", "read")
    limit = max(1, min(int(limit), 50))
    pattern = _like_prefix(" ".join(str(prefix).split())[:50])
    catalog = session.execute(
        select(Tag.name)
        .where(Tag.deleted_at.is_(None), func.lower(Tag.name).like(pattern, escape="\\"))
        .order_by(func.lower(Tag.name))
        .limit(limit)
    ).scalars()
    found: dict[str, str] = {t.lower(): "" for t in exclude}
    for name in catalog:
        found.setdefault(name.lower(), name)
    for model in (Contact, Account):
        if sum(1 for v in found.values() if v) >= limit:
            break
        for name in _in_use(session, model, pattern, limit):
            found.setdefault(name.lower(), name)
    return [name for name in found.values() if name][:limit]


def catalog_name(session: Session, name: str) -> str | None:
    """The catalog's spelling of a tag (matched ignoring case), or None when it is new."""
    return session.execute(
        select(Tag.name).where(func.lower(Tag.name) == name.lower(), Tag.deleted_at.is_(None))
    ).scalar_one_or_none()


def remember(session: Session, *, actor: User, names: Iterable[str]) -> None:
    """Give each tag that is not in the catalog yet a catalog row (audited)."""
    for name in names:
        inserted = session.execute(
            insert(Tag)
            .values(name=name, created_by=actor.id)
            .on_conflict_do_nothing()
            .returning(Tag.id)
        ).scalar_one_or_none()
        if inserted is not None:
            audit.record(
                session,
                actor=actor,
                action="create",
                entity="tag",
                entity_id=inserted,
                changes={"name": [None, name]},
            )


def _kind(entity: str) -> tuple[Any, str, str, Callable[..., Any], str]:
    if entity not in ENTITIES:
        raise ValidationFailed.for_field("entity", "Tags go on contacts and companies.")
    return ENTITIES[entity]


def _locked(session: Session, actor: User, entity: str, record_id: int) -> Any:
    """The live record, locked so that two people tagging it at once both keep their tag."""
    model, resource, label, _update, _id_keyword = _kind(entity)
    require(session, actor, resource, "read")
    if not 0 < record_id <= MAX_ID:
        raise NotFound(f"No such {label}.")
    record = session.get(model, record_id, with_for_update=True, populate_existing=True)
    if record is None or record.deleted_at is not None:
        raise NotFound(f"No such {label}.")
    return record


def _save(session: Session, actor: User, entity: str, record: Any, tags: list[str], ip) -> Any:
    _model, resource, _label, update, id_keyword = _kind(entity)
    if tags == list(record.tags or []):
        require(session, actor, resource, "update", record)  # no change, same answer
        return record
    return update(session, actor=actor, data={"tags": tags}, ip=ip, **{id_keyword: record.id})


def add_tag(
    session: Session,
    *,
    actor: User,
    entity: str,
    record_id: int,
    tag: str,
    ip: str | None = None,
) -> Any:
    """Put one tag on a contact or company (kept once whatever its case); a new name joins
    the catalog. Returns the record."""
    name = _clean(tag)
    record = _locked(session, actor, entity, record_id)
    known = catalog_name(session, name)
    name = known or name
    tags = list(record.tags or [])
    if all(t.lower() != name.lower() for t in tags):
        tags.append(name)
    record = _save(session, actor, entity, record, tags, ip)
    if known is None:
        remember(session, actor=actor, names=[name])
    return record


def remove_tag(
    session: Session,
    *,
    actor: User,
    entity: str,
    record_id: int,
    tag: str,
    ip: str | None = None,
) -> Any:
    """Take one tag off a contact or company (matched ignoring case). Returns the record."""
    name = _clean(tag)
    record = _locked(session, actor, entity, record_id)
    kept = [t for t in record.tags or [] if t.lower() != name.lower()]
    return _save(session, actor, entity, record, kept, ip)
