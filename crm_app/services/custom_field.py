"""Custom fields: admins define them per entity (Settings -> Custom fields); records keep their
values in the `custom` JSONB column under each field's key.

`clean_values` is the one validator of those values (forms, API, import); `filter_clause` turns
a list filter into SQL; `display_value` formats a stored value for pages and exports.

Deleting a field is a soft delete: stored values stay in the records, so restoring the field
brings them back, and its key stays reserved. Removing a select option that live records use
is refused, with the count, so no record is left holding a value its field no longer offers.
"""

from __future__ import annotations

import operator
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, Numeric, case, func, not_, text
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
TEXT_LIMITS = {FieldType.text: 1000, FieldType.long_text: 20_000, FieldType.url: 2000}
# The list filters each type offers; `filter_clause` documents what each does.
FILTER_OPS: dict[FieldType, tuple[str, ...]] = {
    FieldType.text: ("contains", "eq"),
    FieldType.long_text: ("contains", "eq"),
    FieldType.url: ("contains", "eq"),
    FieldType.number: ("eq", "gt", "lt", "gte", "lte"),
    FieldType.money: ("eq", "gt", "lt", "gte", "lte"),
    FieldType.date: ("eq", "gt", "lt", "gte", "lte"),
    FieldType.select: ("eq",),
    FieldType.multi_select: ("has", "eq"),
    FieldType.checkbox: ("is", "eq"),
}
LABEL_MAX = 100
KEY_MAX = 64
OPTION_MAX = 100
OPTIONS_MAX = 200
NUMBER_LIMIT = Decimal(10) ** 15  # beyond this a JSON number loses digits as a float
MONEY_LIMIT = Decimal(10) ** 16  # NUMERIC(18, 2), as deal amounts
CENT = Decimal("0.01")
TRUE_WORDS = frozenset({"true", "yes", "y", "1", "on"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "off"})
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
HOST_RE = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")
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


def _entity(entity: str) -> str:
    if entity not in MODELS:
        raise ValidationFailed.for_field("entity", "Pick contacts, companies, leads or deals.")
    return entity


def list_fields(session: Session, *, entity: str) -> list[CustomFieldDefinition]:
    """The entity's live fields in display order (anyone signed in may read them)."""
    query = select(CustomFieldDefinition).where(
        CustomFieldDefinition.entity == _entity(entity),
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
        CustomFieldDefinition.entity == _entity(entity),
        CustomFieldDefinition.deleted_at.is_not(None),
    )
    return list(session.exec(query.order_by(CustomFieldDefinition.deleted_at.desc())).all())


def _specs(session: Session, entity: str) -> dict[str, _Spec]:
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
    columns = set(MODELS[_entity(entity)].__table__.columns.keys())
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
    entity = _entity(entity)
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
    entity = _entity(entity)
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


# ---- values --------------------------------------------------------------------------------


def _is_empty(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip()) or raw == []


def _decimal(raw: Any, message: str) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal | str):
        raise ValueError(message)
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise ValueError(message) from None
    if not value.is_finite():
        raise ValueError(message)
    return value


def _parse_text(definition: FieldLike, raw: Any) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
        raise ValueError("Enter text.")
    value = str(raw).strip()
    limit = TEXT_LIMITS[FieldType(definition.field_type)]
    if len(value) > limit:
        raise ValueError(f"Use at most {limit:,} characters.")
    return value


def _parse_number(definition: FieldLike, raw: Any) -> int | float:
    value = _decimal(raw, "Enter a number, like 42 or 3.5.")
    if abs(value) >= NUMBER_LIMIT:
        raise ValueError("Enter a number below a million billion.")
    return int(value) if value == value.to_integral_value() else float(value)


def _parse_money(definition: FieldLike, raw: Any) -> str:
    value = _decimal(raw, "Enter an amount, like 1250 or 1250.50.")
    if abs(value) >= MONEY_LIMIT:
        raise ValueError("Enter a smaller amount.")
    if value != value.quantize(CENT):
        raise ValueError("Use at most 2 decimal places.")
    return str(value.quantize(CENT) if value else Decimal("0.00"))  # never "-0.00"


def _parse_date(definition: FieldLike, raw: Any) -> str:
    if isinstance(raw, datetime):
        raw = raw.date()
    if isinstance(raw, date):
        return raw.isoformat()
    message = "Enter a date as YYYY-MM-DD, like 2026-03-31."
    if not isinstance(raw, str) or not DATE_RE.fullmatch(raw.strip()):
        raise ValueError(message)
    try:
        return date.fromisoformat(raw.strip()).isoformat()
    except ValueError:
        raise ValueError(message) from None


def _choices(options: Any) -> str:
    shown = [str(o) for o in options or []]
    return ", ".join(shown[:12]) + (", …" if len(shown) > 12 else "")


def _option(definition: FieldLike, raw: Any) -> str | None:
    """The option `raw` names (case aside), or None."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
        return None
    wanted = " ".join(str(raw).split()).casefold()
    return next((o for o in definition.options or [] if o.casefold() == wanted), None)


def _parse_select(definition: FieldLike, raw: Any) -> str:
    found = _option(definition, raw)
    if found is None:
        raise ValueError(f"Pick one of: {_choices(definition.options)}.")
    return found


def _parse_multi_select(definition: FieldLike, raw: Any) -> list[str]:
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple | set | frozenset):
        raise ValueError(f"Pick any of: {_choices(definition.options)}.")
    picked: set[str] = set()
    bad: list[str] = []
    for item in items:
        if _is_empty(item):
            continue
        found = _option(definition, item)
        if found is None:
            bad.append(str(item).strip())
        else:
            picked.add(found)
    if bad:
        names = ", ".join(f"“{b}”" for b in bad[:5])
        raise ValueError(f"{names}: not an option. Pick any of: {_choices(definition.options)}.")
    # stored in the field's option order, so equal choices compare equal
    return [o for o in definition.options if o in picked]


def _parse_checkbox(definition: FieldLike, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower() if isinstance(raw, str | int) else ""
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError("Use yes or no.")


def _parse_url(definition: FieldLike, raw: Any) -> str:
    message = "Enter a web address, like https://example.com."
    if not isinstance(raw, str):
        raise ValueError(message)
    value = raw.strip()
    if "://" not in value:
        value = "https://" + value  # people type "acme.com"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValueError(message) from None
    host = parts.hostname or ""
    if (
        parts.scheme.lower() not in ("http", "https")
        or "@" in parts.netloc
        or not HOST_RE.fullmatch(host)
        or ("." not in host and host != "localhost")
        or any(c.isspace() for c in value)
    ):
        raise ValueError(message)
    if len(value) > TEXT_LIMITS[FieldType.url]:
        raise ValueError(f"Use at most {TEXT_LIMITS[FieldType.url]:,} characters.")
    return value


_PARSERS = {
    FieldType.text: _parse_text,
    FieldType.long_text: _parse_text,
    FieldType.number: _parse_number,
    FieldType.money: _parse_money,
    FieldType.date: _parse_date,
    FieldType.select: _parse_select,
    FieldType.multi_select: _parse_multi_select,
    FieldType.checkbox: _parse_checkbox,
    FieldType.url: _parse_url,
}


def parse_value(definition: FieldLike, raw: Any) -> Any:
    """The JSON-safe stored form of one value, None for empty; ValueError with a message."""
    if _is_empty(raw):
        return None
    value = _PARSERS[FieldType(definition.field_type)](definition, raw)
    return None if value in ("", []) else value


def clean_values(
    session: Session, *, entity: str, values: dict[str, Any], partial: bool
) -> dict[str, Any]:
    """Validate custom values for a record of `entity`; every bad field is reported at once.

    `values` maps field keys to what a form, the API or an import sent (strings are parsed).
    Unknown or deleted keys are errors on `custom.<key>`, like bad values. Empty ("", None, [])
    means no value. With `partial=False` (create, full save) the result is the complete
    `custom` to store: only non-empty values, and required fields must be present. With
    `partial=True` (PATCH) the result holds each key of `values`, a cleared one as None: merge
    it with `merge_values`; missing required fields are allowed but clearing one is refused.
    """
    if not isinstance(values, dict):
        raise ValidationFailed.for_field("custom", "Custom fields must be an object.")
    specs = _specs(session, _entity(entity))
    cleaned: dict[str, Any] = {}
    errors: list[FieldError] = []
    for key, raw in values.items():
        spec = specs.get(key) if isinstance(key, str) else None
        if spec is None:
            errors.append(FieldError(f"custom.{key}", f"There is no custom field “{key}”."))
            continue
        try:
            value = parse_value(spec, raw)
        except ValueError as error:
            errors.append(FieldError(f"custom.{key}", str(error)))
            continue
        if value is None and spec.required:
            errors.append(FieldError(f"custom.{key}", f"{spec.label} is required."))
        elif value is not None or partial:
            cleaned[key] = value
    if not partial:
        errors += [
            FieldError(f"custom.{s.key}", f"{s.label} is required.")
            for s in specs.values()
            if s.required and s.key not in values
        ]
    if errors:
        raise ValidationFailed(FIX_FIELDS, errors)
    return cleaned


def merge_values(current: dict[str, Any] | None, cleaned: dict[str, Any]) -> dict[str, Any]:
    """A new `custom` dict: `current` with a partial `clean_values` result applied."""
    merged = {**(current or {}), **cleaned}
    return {k: v for k, v in merged.items() if v is not None}


def display_value(definition: FieldLike, raw: Any) -> str:
    """A stored value as pages and exports show it ("" when unset)."""
    if _is_empty(raw):
        return ""
    kind = FieldType(definition.field_type)
    try:
        if kind is FieldType.money:
            return f"{Decimal(str(raw)):.2f}"
        if kind is FieldType.number:
            return format(Decimal(str(raw)).normalize(), "f")
        if kind is FieldType.checkbox:
            return "Yes" if raw is True else "No"
        if kind is FieldType.multi_select and isinstance(raw, list):
            return ", ".join(str(v) for v in raw)
    except (InvalidOperation, ValueError):
        pass  # a value written around the validator: show it as it is
    return str(raw)


# ---- filters -------------------------------------------------------------------------------


def _filter_value(definition: FieldLike, value: str) -> Any:
    try:
        parsed = parse_value(definition, value)
    except ValueError as error:
        raise ValidationFailed.for_field(f"custom.{definition.key}", str(error)) from None
    if parsed is None:
        raise ValidationFailed.for_field(f"custom.{definition.key}", "Enter a value to filter by.")
    return parsed


def _filter_text(definition: FieldLike, value: str) -> str:
    needle = " ".join(str(value).split())
    if not needle or len(needle) > 200:
        raise ValidationFailed.for_field(
            f"custom.{definition.key}", "Enter 1 to 200 characters to look for."
        )
    return needle


_COMPARE = {"gt": operator.gt, "lt": operator.lt, "gte": operator.ge, "lte": operator.le}


def filter_clause(model: Any, definition: FieldLike, op: str, value: str) -> ColumnElement[bool]:
    """A condition on `model.custom` for a list filter on one field; ValidationFailed (field
    `custom.<key>`) for an op the type does not offer (see FILTER_OPS) or a bad value.

    - text, long text, URL: `contains` (case-insensitive substring), `eq` (case-insensitive).
    - number, money, date: `eq`, `gt`, `lt`, `gte`, `lte`, the value parsed as for storing.
    - select: `eq` one option. Multi-select: `has` (or `eq`): holds every option listed,
      comma-separated. Checkbox: `is` (or `eq`) yes/no; unset counts as no.

    Equality tests use JSONB containment (`custom @> {"key": value}`), which the GIN
    jsonb_path_ops index on `custom` serves; the others read `custom->>'key'`.
    """
    kind = FieldType(definition.field_type)
    if op not in FILTER_OPS[kind]:
        allowed = ", ".join(FILTER_OPS[kind])
        raise ValidationFailed.for_field(
            f"custom.{definition.key}", f"Filter {definition.label} with: {allowed}."
        )
    key, column = definition.key, model.custom
    as_text = column[key].astext
    if kind in TEXT_LIMITS:
        needle = _filter_text(definition, value)
        if op == "eq":
            return func.lower(as_text) == needle.lower()
        escaped = re.sub(r"([\\%_])", r"\\\1", needle)
        return as_text.ilike(f"%{escaped}%", escape="\\")
    parsed = _filter_value(definition, value)
    if kind is FieldType.multi_select:
        return column.contains({key: parsed})
    if kind is FieldType.checkbox:
        ticked = column.contains({key: True})
        return ticked if parsed else not_(ticked)
    if op == "eq":
        return column.contains({key: parsed})
    if kind is FieldType.number:
        # only JSON numbers are cast, so a stray value cannot make the query fail
        operand: Any = case(
            (func.jsonb_typeof(column[key]) == "number", as_text.cast(Numeric)), else_=None
        )
        bound: Any = Decimal(str(parsed))
    elif kind is FieldType.money:
        operand = case(
            (as_text.regexp_match(r"^-?[0-9]+(\.[0-9]+)?$"), as_text.cast(Numeric)), else_=None
        )
        bound = Decimal(parsed)
    else:
        # dates are stored as YYYY-MM-DD, whose text order is date order; no cast can fail
        operand, bound = as_text, parsed
    return _COMPARE[op](operand, bound)
