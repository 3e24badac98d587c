"""Custom fields: admins define them per entity (Settings -> Custom fields); records keep their
values in the `custom` JSONB column under each field's key.

This module holds the definitions; `crm_app.services.custom_value` validates, filters and
formats the values.

Deleting a field is a soft delete: stored values stay in the records, so restoring the field
brings them back, and its key stays reserved. Removing a select option that live records use
is refused, with the count, so no record is left holding a value its field no longer offers.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import func, text
from sqlmodel import Session, SQLModel, select

from crm_app.models import Account, Contact, CustomFieldDefinition, Deal, Lead, User
from crm_app.models.base import utcnow
from crm_app.models.custom_field import FieldType
from crm_app.services import audit
from crm_app.services.errors import FieldError, NotFound, StaleVersion, ValidationFailed
from crm_app.services.permission import require

MODELS: dict[str, type[SQLModel]] = {
    "contact": Contact,
    "account": Account,
    "lead": Lead,
    "deal": Deal,
}
ENTITY_LABELS = {"contact": "Contacts", "account": "Companies", "lead": "Leads", "deal": "Deals"}
RECORD_NOUNS = {
    "contact": ("contact", "contacts"),
    "account": ("company", "companies"),
    "lead": ("lead", "leads"),
    "deal": ("deal", "deals"),
}
TYPE_LABELS = {
    FieldType.text: "Text",
    FieldType.long_text: "Long text",
    FieldType.number: "Number",
    FieldType.money: "Money",
    FieldType.date: "Date",
    FieldType.select: "Select",
    FieldType.multi_select: "Multi-select",
    FieldType.checkbox: "Checkbox",
    FieldType.url: "URL",
}
CHOICE_TYPES = frozenset({FieldType.select, FieldType.multi_select})
LABEL_MAX = 100
KEY_MAX = 64
OPTION_MAX = 100
OPTIONS_MAX = 200
_CACHE_KEY = "crm_custom_fields"
FIX_FIELDS = "Please correct the highlighted fields."


class FieldLike(Protocol):
    """What validation and display need of a definition (a row or its cached snapshot)."""

    key: str
    label: str
    field_type: str
    options: Any
    required: bool


@dataclass(frozen=True)
class _Spec:
    """A live definition as read once per session for `clean_values`."""

    key: str
    label: str
    field_type: str
    options: tuple[str, ...]
    required: bool


# ---- reading definitions -------------------------------------------------------------------


def check_entity(entity: str) -> str:
    """The entity name, or ValidationFailed for an unknown one."""
    if entity not in MODELS:
        raise ValidationFailed.for_field("entity", "Pick contacts, companies, leads or deals.")
    return entity


def list_fields(session: Session, *, entity: str) -> list[CustomFieldDefinition]:
    """The entity's live fields in display order (anyone signed in may read them)."""
    query = select(CustomFieldDefinition).where(
        CustomFieldDefinition.entity == check_entity(entity),
        CustomFieldDefinition.deleted_at.is_(None),
    )
    order = (CustomFieldDefinition.position, CustomFieldDefinition.id)
    return list(session.exec(query.order_by(*order)).all())


def list_all(session: Session) -> dict[str, list[CustomFieldDefinition]]:
    """Every entity's live fields in display order, keyed by entity (all four present)."""
    found: dict[str, list[CustomFieldDefinition]] = {entity: [] for entity in MODELS}
    query = select(CustomFieldDefinition).where(CustomFieldDefinition.deleted_at.is_(None))
    order = (CustomFieldDefinition.position, CustomFieldDefinition.id)
    for definition in session.exec(query.order_by(*order)).all():
        found.setdefault(definition.entity, []).append(definition)
    return found


def list_deleted(session: Session, *, entity: str) -> list[CustomFieldDefinition]:
    """The entity's deleted fields, newest first, for restoring."""
    query = select(CustomFieldDefinition).where(
        CustomFieldDefinition.entity == check_entity(entity),
        CustomFieldDefinition.deleted_at.is_not(None),
    )
    return list(session.exec(query.order_by(CustomFieldDefinition.deleted_at.desc())).all())


def specs(session: Session, entity: str) -> dict[str, _Spec]:
    """The live fields by key, read once per session (bulk imports validate many rows)."""
    cache = session.info.setdefault(_CACHE_KEY, {})
    if entity not in cache:
        cache[entity] = {
            d.key: _Spec(d.key, d.label, d.field_type, tuple(d.options or ()), d.required)
            for d in list_fields(session, entity=entity)
        }
    return cache[entity]


def _forget(session: Session) -> None:
    session.info.pop(_CACHE_KEY, None)


def _get_locked(session: Session, field_id: int, *, deleted: bool = False) -> CustomFieldDefinition:
    """The field, after taking its entity's lock (always before any row lock: no deadlocks)."""
    found = session.get(CustomFieldDefinition, field_id)
    if found is not None:
        _lock(session, found.entity)
        found = session.get(
            CustomFieldDefinition, field_id, with_for_update=True, populate_existing=True
        )
    if found is None or (found.deleted_at is not None) != deleted:
        raise NotFound("No such deleted field." if deleted else "No such custom field.")
    return found


# ---- defining fields -----------------------------------------------------------------------


def reserved_keys(entity: str) -> frozenset[str]:
    """Names a key may not take: the table's columns, and `owner` for `owner_id` and the like
    (edges often show a foreign key under that name), plus `name`."""
    columns = set(MODELS[check_entity(entity)].__table__.columns.keys())
    return frozenset(columns | {c.removesuffix("_id") for c in columns} | {"name"})


def slugify(label: str) -> str:
    """Lowercase ASCII letters, digits and underscores, starting with a letter."""
    folded = unicodedata.normalize("NFKD", label.casefold())  # "Straße" -> "strasse"
    slug = re.sub(r"[^a-z0-9]+", "_", folded.encode("ascii", "ignore").decode().lower())
    slug = slug.strip("_")
    if not slug:
        slug = "field"
    elif slug[0].isdigit():
        slug = f"field_{slug}"
    return slug[: KEY_MAX - 4].rstrip("_")  # room for a _NNN suffix


def _unique_key(session: Session, entity: str, label: str) -> str:
    # Deleted fields keep their keys (their values are still stored), so they count as taken.
    taken = set(
        session.exec(
            select(CustomFieldDefinition.key).where(CustomFieldDefinition.entity == entity)
        ).all()
    ) | reserved_keys(entity)
    base = key = slugify(label)
    n = 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    return key


def _lock(session: Session, entity: str) -> None:
    """Serialise definition changes per entity, so two admins cannot take the same key,
    label or position at once."""
    session.connection().execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": f"custom_field:{entity}"}
    )


def _check_label(
    session: Session, entity: str, label: Any, errors: list[FieldError], *, own_id: int | None
) -> str:
    label = " ".join(str(label or "").split())
    if not label:
        errors.append(FieldError("label", "Enter a label."))
    elif len(label) > LABEL_MAX:
        errors.append(FieldError("label", f"Use at most {LABEL_MAX} characters."))
    elif any(
        d.label.casefold() == label.casefold() and d.id != own_id
        for d in list_fields(session, entity=entity)
    ):
        errors.append(FieldError("label", f"{ENTITY_LABELS[entity]} already have this field."))
    return label


def _check_type(field_type: Any, errors: list[FieldError]) -> FieldType | None:
    try:
        return FieldType(str(field_type))
    except ValueError:
        errors.append(FieldError("field_type", "Pick a type."))
        return None


def _check_options(kind: FieldType | None, options: Any, errors: list[FieldError]) -> list[str]:
    """Trimmed options of a select type (blank lines skipped); other types have none."""
    if kind not in CHOICE_TYPES:
        return []
    cleaned = [" ".join(str(o).split()) for o in (options or [])]
    cleaned = [o for o in cleaned if o]
    seen: set[str] = set()
    problem = ""
    for option in cleaned:
        if option.casefold() in seen:
            problem = f"“{option}” is listed twice."
        elif len(option) > OPTION_MAX:
            problem = f"Keep each option to {OPTION_MAX} characters."
        elif kind is FieldType.multi_select and "," in option:
            # exports and imports separate a multi-select's choices with commas
            problem = f"“{option}”: options of a multi-select cannot contain commas."
        seen.add(option.casefold())
    if not cleaned:
        problem = "Enter at least one option, one per line."
    elif len(cleaned) > OPTIONS_MAX:
        problem = f"Use at most {OPTIONS_MAX} options."
    if problem:
        errors.append(FieldError("options", problem))
    return cleaned


def _check_required(kind: FieldType | None, required: Any, errors: list[FieldError]) -> bool:
    if required and kind is FieldType.checkbox:
        errors.append(
            FieldError("required", "A checkbox is always ticked or not, so it cannot be required.")
        )
    return bool(required)


def create_field(
    session: Session,
    *,
    actor: User,
    entity: str,
    label: str,
    field_type: str,
    options: list[str] | None = None,
    required: bool = False,
) -> CustomFieldDefinition:
    """Define a field, placed last. Its key is a slug of the label, unique for the entity, never
    a built-in column's name, and never changes afterwards."""
    require(session, actor, "setting", "manage")
    entity = check_entity(entity)
    _lock(session, entity)
    errors: list[FieldError] = []
    label = _check_label(session, entity, label, errors, own_id=None)
    kind = _check_type(field_type, errors)
    cleaned = _check_options(kind, options, errors)
    required = _check_required(kind, required, errors)
    if errors or kind is None:
        raise ValidationFailed(FIX_FIELDS, errors)
    last = session.exec(
        select(func.max(CustomFieldDefinition.position)).where(
            CustomFieldDefinition.entity == entity, CustomFieldDefinition.deleted_at.is_(None)
        )
    ).one()
    definition = CustomFieldDefinition(
        entity=entity,
        key=_unique_key(session, entity, label),
        label=label,
        field_type=kind,
        options=cleaned,
        required=required,
        position=(last + 1) if last is not None else 0,
        created_by=actor.id,
    )
    session.add(definition)
    session.flush()
    _forget(session)
    fields = ("entity", "key", "label", "field_type", "options", "required")
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="custom_field",
        entity_id=definition.id,
        changes={f: [None, getattr(definition, f)] for f in fields},
    )
    return definition


def _touch(definition: CustomFieldDefinition) -> None:
    definition.version += 1
    definition.updated_at = utcnow()


def count_using(session: Session, definition: FieldLike, entity: str, option: str) -> int:
    """How many live records of `entity` hold `option` in a select or multi-select field."""
    model: Any = MODELS[entity]
    wanted = [option] if definition.field_type == FieldType.multi_select else option
    query = select(func.count()).where(
        model.deleted_at.is_(None), model.custom.contains({definition.key: wanted})
    )
    return session.exec(query).one()


def _refuse_removing_used_options(
    session: Session, definition: CustomFieldDefinition, kept: list[str]
) -> None:
    singular, plural = RECORD_NOUNS[definition.entity]
    problems = []
    for option in (o for o in definition.options or [] if o not in kept):
        used = count_using(session, definition, definition.entity, option)
        if used:
            problems.append(f"“{option}” is used by {used} {singular if used == 1 else plural}")
    if problems:
        message = f"{'; '.join(problems)}. Change their {definition.label} first."
        raise ValidationFailed(message, [FieldError("options", message)])


def update_field(
    session: Session,
    *,
    actor: User,
    field_id: int,
    label: str | None = None,
    options: list[str] | None = None,
    required: bool | None = None,
    position: int | None = None,
    version: int | None = None,
) -> CustomFieldDefinition:
    """Change a field's label, options, required flag or position (None leaves one alone).

    The key and the type never change: every record stores its value under the key, in the
    form the type validated (a number is not a date, one choice is not a list of them), so
    changing either would orphan or corrupt what is stored. Define a new field instead.
    Removing an option that live records hold is refused with how many hold it (records in the
    trash keep theirs and must pick again at their next edit). Making a field required holds
    from each record's next full save; partial edits only refuse clearing it.
    """
    require(session, actor, "setting", "manage")
    definition = _get_locked(session, field_id)
    if version is not None and int(version) != definition.version:
        raise StaleVersion()
    kind = FieldType(definition.field_type)
    errors: list[FieldError] = []
    after: dict[str, Any] = {}
    if label is not None:
        after["label"] = _check_label(
            session, definition.entity, label, errors, own_id=definition.id
        )
    if options is not None and kind in CHOICE_TYPES:
        after["options"] = _check_options(kind, options, errors)
    if required is not None:
        after["required"] = _check_required(kind, required, errors)
    if position is not None:
        if not 0 <= int(position) <= 10_000:
            errors.append(FieldError("position", "Use a position from 0 to 10000."))
        after["position"] = int(position)
    if errors:
        raise ValidationFailed(FIX_FIELDS, errors)
    if "options" in after:
        _refuse_removing_used_options(session, definition, after["options"])
    changes = audit.diff({k: getattr(definition, k) for k in after}, after)
    if not changes:
        return definition
    for name, value in after.items():
        setattr(definition, name, value)
    _touch(definition)
    session.add(definition)
    _forget(session)
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="custom_field",
        entity_id=definition.id,
        changes=changes,
    )
    return definition


def delete_field(
    session: Session, *, actor: User, field_id: int, version: int | None = None
) -> CustomFieldDefinition:
    """Soft-delete a field: it leaves forms, lists, filters and the API, but records keep their
    values (and the key stays taken), so `restore_field` brings everything back."""
    require(session, actor, "setting", "manage")
    definition = _get_locked(session, field_id)
    if version is not None and int(version) != definition.version:
        raise StaleVersion()
    definition.deleted_at = utcnow()
    _touch(definition)
    session.add(definition)
    _forget(session)
    audit.record(
        session,
        actor=actor,
        action="delete",
        entity="custom_field",
        entity_id=definition.id,
        changes={"label": [definition.label, None]},
    )
    return definition


def restore_field(session: Session, *, actor: User, field_id: int) -> CustomFieldDefinition:
    """Bring a deleted field back, placed last, with the values records still hold."""
    require(session, actor, "setting", "manage")
    definition = _get_locked(session, field_id, deleted=True)
    errors: list[FieldError] = []
    _check_label(session, definition.entity, definition.label, errors, own_id=definition.id)
    if errors:
        message = f"Another field is now called {definition.label}; rename it first."
        raise ValidationFailed(message, [FieldError("label", message)])
    live = list_fields(session, entity=definition.entity)
    definition.deleted_at = None
    definition.position = max((d.position for d in live), default=-1) + 1
    _touch(definition)
    session.add(definition)
    _forget(session)
    audit.record(
        session,
        actor=actor,
        action="restore",
        entity="custom_field",
        entity_id=definition.id,
        changes={"label": [None, definition.label]},
    )
    return definition


def reorder(
    session: Session, *, actor: User, entity: str, field_ids: list[int]
) -> list[CustomFieldDefinition]:
    """Put the entity's live fields in this order; `field_ids` must name each exactly once."""
    require(session, actor, "setting", "manage")
    entity = check_entity(entity)
    _lock(session, entity)
    fields = {d.id: d for d in list_fields(session, entity=entity)}
    if sorted(field_ids) != sorted(fields):
        raise ValidationFailed.for_field(
            "field_ids", "The fields changed meanwhile. Reload the page and try again."
        )
    before = [d.key for d in fields.values()]
    ordered = [fields[i] for i in field_ids]
    for position, definition in enumerate(ordered):
        if definition.position != position:
            definition.position = position
            _touch(definition)
            session.add(definition)
    _forget(session)
    after = [d.key for d in ordered]
    if after != before:
        audit.record(
            session,
            actor=actor,
            action="reorder",
            entity="custom_field",
            changes={entity: [before, after]},
        )
    return ordered


def move_field(
    session: Session, *, actor: User, field_id: int, offset: int
) -> list[CustomFieldDefinition]:
    """Move a field `offset` places up (negative) or down among its entity's fields."""
    require(session, actor, "setting", "manage")
    definition = _get_locked(session, field_id)
    ids = [d.id for d in list_fields(session, entity=definition.entity)]
    index = ids.index(definition.id)
    target = max(0, min(len(ids) - 1, index + int(offset)))
    ids.insert(target, ids.pop(index))
    return reorder(session, actor=actor, entity=definition.entity, field_ids=ids)
