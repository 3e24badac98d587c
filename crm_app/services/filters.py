"""List filters shared by every record list: owner, tag, date ranges, custom fields, search.

A filter arrives as a string pair (name, value) from a query string or the UI; each concept
adds its own names (e.g. `lifecycle_stage`) through `extra`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, literal
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlmodel import Session

from crm_app.models import User
from crm_app.services import custom_field, custom_value
from crm_app.services.errors import FieldError, ValidationFailed
from crm_app.services.search import prefix_query

FilterBuilder = Callable[[str], ColumnElement[bool]]


MAX_ID = 2**31 - 1  # user and company ids are INTEGER columns


def _int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 0 < number <= MAX_ID:
        raise ValueError(f"'{value}' is not an id.")
    return number


def _day_start(value: str, actor: User) -> datetime:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValueError("Use a date like 2026-01-31.") from None
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(actor.timezone or "UTC"))


def search_clause(model: Any, text: str) -> ColumnElement[bool] | None:
    """Prefix full-text search over the model's generated `search_vector`."""
    tsquery = prefix_query(text)
    if tsquery is None:
        return None
    return model.search_vector.op("@@")(
        func.to_tsquery(literal("simple", type_=REGCONFIG), tsquery)
    )


def build(
    session: Session,
    actor: User,
    model: Any,
    *,
    entity: str,
    filters: dict[str, str],
    extra: dict[str, FilterBuilder] | None = None,
) -> list[ColumnElement[bool]]:
    """SQL conditions for `filters`; every bad name or value is reported at once (422)."""
    builders: dict[str, FilterBuilder] = {
        "owner_id": lambda v: (
            model.owner_id.is_(None)
            if v == "none"
            else model.owner_id == (actor.id if v == "me" else _int("owner_id", v))
        ),
        "tag": lambda v: model.tags.contains([v]),
        "created_from": lambda v: model.created_at >= _day_start(v, actor),
        "created_to": lambda v: model.created_at < _day_start(v, actor) + timedelta(days=1),
        "updated_from": lambda v: model.updated_at >= _day_start(v, actor),
        "updated_to": lambda v: model.updated_at < _day_start(v, actor) + timedelta(days=1),
        **(extra or {}),
    }
    definitions = None
    clauses: list[ColumnElement[bool]] = []
    errors: list[FieldError] = []
    for name, raw in filters.items():
        value = str(raw).strip()
        if value == "":
            continue
        try:
            if name.startswith("custom."):
                if definitions is None:
                    definitions = {
                        d.key: d for d in custom_field.list_fields(session, entity=entity)
                    }
                key, _, op = name.removeprefix("custom.").partition("__")
                if key not in definitions:
                    raise ValueError(f"No custom field '{key}'.")
                clauses.append(
                    custom_value.filter_clause(model, definitions[key], op or "eq", value)
                )
            elif name in builders:
                clauses.append(builders[name](value))
            else:
                raise ValueError(
                    f"Unknown filter. Use: {', '.join(sorted(builders))}, custom.<key>."
                )
        except ValidationFailed as error:
            errors += [FieldError(name, e.message) for e in error.errors] or [
                FieldError(name, error.message)
            ]
        except ValueError as error:
            errors.append(FieldError(name, str(error)))
    if errors:
        raise ValidationFailed("Some filters are invalid.", errors)
    return clauses
