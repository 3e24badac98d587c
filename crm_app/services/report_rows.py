"""What every chart and report table returns, and what callers do with it: a `Table` of
columns and rows (plain dataclasses), sorted by the columns it allows, folded from SQL groups
by currency, pivoted for a chart, and written as CSV safe to open in a spreadsheet.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy import func, tuple_

from crm_app.models import Deal
from crm_app.services.errors import ValidationFailed
from crm_app.services.exporter import escape_cell
from crm_app.services.report_scope import Money, Period

R = TypeVar("R")


@dataclass(frozen=True)
class Column:
    """A column of a table: the row attribute, its heading and what sort of value it holds
    (text, int, money, ratio 0..1, days, date)."""

    key: str
    label: str
    kind: str = "text"
    sortable: bool = True


@dataclass
class Table(Generic[R]):
    """Rows and their columns; `total` adds the rows up (None where they do not add up) and
    `team_total` is a rep's team's sum, in the tables broken down by person."""

    name: str
    title: str
    columns: tuple[Column, ...]
    rows: list[R]
    period: Period
    currency: str
    total: R | None = None
    team_total: R | None = None
    sort: str = ""

    def csv(self) -> str:
        """The table as CSV (see `to_csv`)."""
        return to_csv(self)


@dataclass(frozen=True)
class ReportSpec:
    """A named report or chart: the function that makes it and the dataclass of its rows."""

    run: Callable[..., Table]
    row: type


# --- sorting ------------------------------------------------------------------------------------


def _sort_value(value: Any) -> Any:
    if isinstance(value, Money):
        return value.amount
    if isinstance(value, str):
        return value.casefold()
    return value


def sort_rows(rows: list[R], spec: str, columns: Iterable[Column], default: str) -> list[R]:
    """Rows sorted by "col,-col" (a minus: descending), only by sortable columns, empty
    values last either way; an unknown column is a ValidationFailed on `sort`."""
    allowed = {c.key for c in columns if c.sortable}
    keys = []
    for part in [p.strip() for p in (spec or default).split(",") if p.strip()]:
        name = part.lstrip("+-")
        if name not in allowed:
            choices = ", ".join(sorted(allowed))
            raise ValidationFailed.for_field("sort", f"Cannot sort by '{name}'. Use: {choices}.")
        keys.append((name, part.startswith("-")))
    ordered = list(rows)
    for name, descending in reversed(keys):
        present = [r for r in ordered if _sort_value(getattr(r, name)) is not None]
        missing = [r for r in ordered if _sort_value(getattr(r, name)) is None]
        present.sort(key=lambda r, n=name: _sort_value(getattr(r, n)), reverse=descending)
        ordered = present + missing
    return ordered


# --- folding GROUP BY rows by currency -----------------------------------------------------------


def by_currency(*keys: Any, total: bool = False) -> Any:
    """GROUP BY GROUPING SETS: each key with and without the deal's currency (and, with
    `total`, the same without the keys), so SQL sums money per currency and counts over all."""
    sets = [tuple_(*keys, Deal.currency), tuple_(*keys)]
    if total and keys:
        sets += [tuple_(Deal.currency), tuple_()]
    return func.grouping_sets(*sets)


ALL_CURRENCIES = func.grouping(Deal.currency).label("all_currencies")


@dataclass
class Group:
    """One key's rows of a `by_currency` query: the row over every currency and the rows of
    each currency."""

    overall: Any = None
    currencies: list[Any] = field(default_factory=list)

    def money(self, column: str, currency: str, empty: Any = Decimal(0)) -> Money:
        """A money column as Money (`empty` when the default currency has none)."""
        pairs = [(r.currency, getattr(r, column)) for r in self.currencies]
        return Money.of(currency, pairs, empty=empty)

    def count(self, column: str) -> int:
        """A count column of the overall row (0 when the key had no rows)."""
        return getattr(self.overall, column, None) or 0


def groups(rows: Iterable[Any], key: Callable[[Any], Hashable]) -> dict[Hashable, Group]:
    """Rows of a `by_currency` query (selecting ALL_CURRENCIES and Deal.currency) by key, in
    the order keys first appear."""
    found: dict[Hashable, Group] = {}
    for row in rows:
        group = found.setdefault(key(row), Group())
        if row.all_currencies:
            group.overall = row
        else:
            group.currencies.append(row)
    return found


# --- pivots and CSV -----------------------------------------------------------------------------


def pivot(rows: Iterable[Any], index: str, columns: str, values: str) -> list[dict[str, Any]]:
    """Long rows as wide ones, for a stacked chart: one dict per `index` value with a key per
    `columns` value holding `values` (0 where absent), e.g. a week and each rep's count."""
    import pandas as pd

    frame = pd.DataFrame([{k: getattr(r, k) for k in (index, columns, values)} for r in rows])
    if frame.empty:
        return []
    wide = frame.pivot_table(index=index, columns=columns, values=values, aggfunc="sum")
    wide = wide.fillna(0).astype(int).reset_index()
    return [
        {str(k): v.item() if hasattr(v, "item") else v for k, v in rec.items()}
        for rec in wide.to_dict("records")
    ]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str):
        return escape_cell(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value) if isinstance(value, Decimal) else value


def _currencies(table: Table, key: str) -> list[str]:
    found: set[str] = set()
    for row in [*table.rows, table.total, table.team_total]:
        if row is not None:
            found |= set(getattr(row, key).others)
    return [table.currency, *sorted(found - {table.currency})]


def to_csv(table: Table) -> str:
    """The rows, then the total and the team total, as CSV: a money column becomes one
    column per currency ("Won amount (USD)"); text that a spreadsheet would run as a formula
    is escaped; a BOM first, for spreadsheet apps."""
    import pandas as pd

    headings: list[tuple[str, str, str | None]] = []
    for column in table.columns:
        if column.kind == "money":
            for code in _currencies(table, column.key):
                headings.append((f"{column.label} ({code})", column.key, code))
        else:
            headings.append((column.label, column.key, None))
    records = []
    for row in [*table.rows, table.total, table.team_total]:
        if row is None:
            continue
        record = {}
        for heading, key, code in headings:
            value = getattr(row, key)
            record[heading] = _cell(value.get(code) if code else value)
        records.append(record)
    frame = pd.DataFrame(records, columns=[h for h, _, _ in headings])
    buffer = io.StringIO()
    buffer.write("\ufeff")
    frame.to_csv(buffer, index=False, lineterminator="\r\n")
    return buffer.getvalue()
