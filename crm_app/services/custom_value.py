"""Custom field values: `clean_values` is the one validator of them (forms, API, import);
`filter_clause` turns a list filter into SQL; `display_value` formats a stored value for pages
and exports. The definitions live in `crm_app.services.custom_field`."""

from __future__ import annotations

import operator
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, Numeric, case, func, not_
from sqlmodel import Session

from crm_app.models.custom_field import FieldType
from crm_app.services import custom_field
from crm_app.services.custom_field import FIX_FIELDS, FieldLike
from crm_app.services.errors import FieldError, ValidationFailed

TEXT_LIMITS = {FieldType.text: 1000, FieldType.long_text: 20_000, FieldType.url: 2000}
NUMBER_LIMIT = Decimal(10) ** 15  # beyond this a JSON number loses digits as a float
MONEY_LIMIT = Decimal(10) ** 16  # NUMERIC(18, 2), as deal amounts
CENT = Decimal("0.01")
TRUE_WORDS = frozenset({"true", "yes", "y", "1", "on"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "off"})
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
HOST_RE = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")
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
    specs = custom_field.specs(session, custom_field.check_entity(entity))
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
