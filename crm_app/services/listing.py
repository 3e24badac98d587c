"""Server-side lists: sorting by any shown column, keyset cursors, offsets, counts.

Every list (contacts, companies, later leads and deals) describes its sortable columns as
`SortColumn`s and hands a `ListQuery` to `fetch_page`. Keyset cursors follow PostgreSQL's
default NULL ordering (NULL sorts as the largest value: last ascending, first descending), so
nullable columns page correctly.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, literal, or_, select, true, tuple_
from sqlalchemy.sql import Select

from crm_app.services.errors import ValidationFailed

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class SortColumn:
    """A column a list can sort by: its public name and its SQL expression."""

    name: str
    expr: Any
    nullable: bool = True


@dataclass
class ListQuery:
    """What a caller asked for: search text, filters, sort, and which page."""

    q: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    sort: str = ""  # "name,-updated_at": a leading minus sorts descending
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None  # keyset (API)
    offset: int = 0  # used when there is no cursor (the UI's numbered pages)


@dataclass
class Page:
    """One page of rows and the cursor of the next page (None on the last)."""

    rows: list[Any]
    next_cursor: str | None


def parse_sort(
    spec: str, columns: dict[str, SortColumn], default: str
) -> list[tuple[SortColumn, bool]]:
    """[(column, descending)] from "name,-updated_at"; unknown names are a 422."""
    keys: list[tuple[SortColumn, bool]] = []
    for part in [p.strip() for p in (spec or default).split(",") if p.strip()]:
        descending = part.startswith("-")
        name = part.lstrip("-+")
        if name not in columns:
            choices = ", ".join(sorted(columns))
            raise ValidationFailed.for_field("sort", f"Cannot sort by '{name}'. Use: {choices}.")
        keys.append((columns[name], descending))
    return keys or parse_sort(default, columns, default)


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def encode_cursor(values: Sequence[Any]) -> str:
    """An opaque cursor from the last row's sort values (and id)."""
    raw = json.dumps([_to_json(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    """The values inside a cursor; a 422 when it was not made by `encode_cursor` here."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != size:
        raise ValidationFailed.for_field("cursor", "This cursor is invalid or expired.")
    return values


def _typed(column: SortColumn, value: Any) -> Any:
    """A cursor value (JSON) bound back with the column's own type."""
    if value is None:
        return None
    sql_type = column.expr.type
    try:
        # A TypeDecorator (sqlmodel's UTCDateTime) knows its Python type through its impl.
        python_type = getattr(sql_type, "impl_instance", sql_type).python_type
    except NotImplementedError:
        python_type = str
    try:
        if python_type is datetime:
            value = datetime.fromisoformat(value)
        elif python_type is date:
            value = date.fromisoformat(value)
        elif python_type is Decimal:
            value = Decimal(value)
        elif python_type is int:
            value = int(value)
    except (TypeError, ValueError, ArithmeticError):
        raise ValidationFailed.for_field("cursor", "This cursor is invalid or expired.") from None
    return literal(value, type_=column.expr.type)


def _after(column: SortColumn, value: Any, descending: bool) -> ColumnElement[bool]:
    """Rows strictly after `value` in this column's order (NULL being the largest)."""
    expr = column.expr
    if value is None:
        return expr.is_not(None) if descending else false()
    bound = _typed(column, value)
    if descending:
        return expr < bound
    return or_(expr > bound, expr.is_(None)) if column.nullable else expr > bound


def _equal(column: SortColumn, value: Any) -> ColumnElement[bool]:
    return column.expr.is_(None) if value is None else column.expr == _typed(column, value)


def keyset_clause(keys: list[tuple[SortColumn, bool]], values: list[Any]) -> ColumnElement[bool]:
    """Rows after the cursor row in the order `keys` (the last key is the unique id)."""
    directions = {descending for _, descending in keys}
    if len(directions) == 1 and not any(c.nullable for c, _ in keys):
        # One direction, no NULLs: a row comparison, which a composite index serves directly.
        left = tuple_(*[c.expr for c, _ in keys])
        right = tuple_(*[_typed(c, v) for (c, _), v in zip(keys, values, strict=True)])
        return left < right if directions == {True} else left > right
    clauses = []
    for i, (column, descending) in enumerate(keys):
        equal_before = [_equal(c, v) for (c, _), v in zip(keys[:i], values[:i], strict=True)]
        clauses.append(and_(*equal_before, _after(column, values[i], descending)))
    return or_(*clauses)


def fetch_page(
    session,
    query: Select,
    *,
    keys: list[tuple[SortColumn, bool]],
    id_column: SortColumn,
    listq: ListQuery,
) -> Page:
    """Run `query` sorted by `keys` then id, one page by cursor (or offset), and the next cursor.

    Rows come back as tuples of what `query` selects; the sort values are read back from the
    rows to build the cursor.
    """
    limit = max(1, min(int(listq.limit or DEFAULT_LIMIT), MAX_LIMIT))
    last_desc = keys[-1][1] if keys else False
    full = [*keys, (id_column, last_desc)]
    if listq.cursor:
        values = decode_cursor(listq.cursor, len(full))
        query = query.where(keyset_clause(full, values))
    elif listq.offset:
        query = query.offset(max(0, int(listq.offset)))
    order = [c.expr.desc() if d else c.expr.asc() for c, d in full]
    sort_exprs = [c.expr.label(f"_k{i}") for i, (c, _) in enumerate(full)]
    rows = session.execute(query.add_columns(*sort_exprs).order_by(*order).limit(limit + 1)).all()
    width = len(rows[0]) - len(full) if rows else 0
    page_rows = [tuple(row)[:width] for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor([last._mapping[f"_k{i}"] for i in range(len(full))])
    return Page(rows=page_rows, next_cursor=next_cursor)


def count(session, query: Select) -> int:
    """How many rows `query` matches (without its order and limit)."""
    return session.execute(
        select(func.count()).select_from(query.order_by(None).subquery())
    ).scalar_one()


def always() -> ColumnElement[bool]:
    """A condition every row meets."""
    return true()
