"""What the dashboard and the reports page share: the range picker and filters (pipeline,
owner, team) turned into a `ReportQuery`, and report tables formatted for the page.

The figures themselves and who may see which are `services.report_*`'s."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import reflex as rx
from sqlmodel import Session

from crm_app.models import User
from crm_app.services import pipeline, user
from crm_app.services.report_rows import Table
from crm_app.services.report_scope import Money, ReportQuery
from crm_app.state.base import AppState
from crm_app.state.views import Choice

ANY = "all"
CUSTOM = "custom"
RANGES = [
    Choice("this_month", "This month"),
    Choice("last_month", "Last month"),
    Choice("this_quarter", "This quarter"),
    Choice("last_quarter", "Last quarter"),
    Choice("this_year", "This year"),
    Choice("last_12_months", "Last 12 months"),
    Choice(CUSTOM, "Custom"),
]


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw[:10]) if raw else None
    except ValueError:
        return None


def _number(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and len(raw) < 11 else None


# ---- formatting ------------------------------------------------------------------------------


def money_text(value: Money | None) -> str:
    """ "12,500.00 USD", with other currencies after it ("+ 800.00 EUR"); "—" for nothing."""
    if value is None:
        return "—"
    parts = [] if value.amount is None else [f"{value.amount:,.2f} {value.currency}"]
    parts += [f"{amount:,.2f} {code}" for code, amount in value.others.items()]
    return " + ".join(parts) or "—"


def cell_text(value: Any, kind: str) -> str:
    """One value of a report column as the page shows it."""
    if value is None:
        return "—"
    if kind == "money" and isinstance(value, Money):
        return money_text(value)
    if kind == "ratio":
        return f"{Decimal(value) * 100:.1f}%"
    if kind == "days":
        return f"{value} d"
    if kind == "int":
        return f"{value:,}"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def chart_number(value: Any) -> float:
    """A value a chart can draw (money: its amount in the default currency)."""
    if isinstance(value, Money):
        value = value.amount
    if value is None:
        return 0.0
    return float(value)


@dataclasses.dataclass
class TableView:
    """A report table as the page shows it: headings, and rows of text cells."""

    name: str = ""
    title: str = ""
    columns: list[Choice] = dataclasses.field(default_factory=list)  # key, label
    rows: list[list[str]] = dataclasses.field(default_factory=list)
    footer: list[list[str]] = dataclasses.field(default_factory=list)  # total, team total


def table_view(table: Table) -> TableView:
    """The table's rows, total and team total as text, column by column."""

    def cells(row: Any) -> list[str]:
        return [cell_text(getattr(row, c.key), c.kind) for c in table.columns]

    footer = []
    for label, row in (("Total", table.total), ("Team total", table.team_total)):
        if row is not None:
            line = cells(row)
            line[0] = line[0] if line[0] not in ("—", "") else label
            footer.append(line)
    return TableView(
        name=table.name,
        title=table.title,
        columns=[Choice(c.key, c.label) for c in table.columns],
        rows=[cells(row) for row in table.rows],
        footer=footer,
    )


# ---- the filters -----------------------------------------------------------------------------


class ReportFilters(AppState, mixin=True):
    """The range and filters of a report page; a change reads the page's figures again
    (`_refresh`, each page's own)."""

    range_preset: str = "this_month"
    date_from: str = ""  # custom range, both days included
    date_to: str = ""
    pipeline_id: str = ANY
    owner_id: str = ANY
    team_id: str = ANY
    range_label: str = ""
    pipelines: list[Choice] = []
    owners: list[Choice] = []
    teams: list[Choice] = []

    def _refresh(self) -> Any:
        raise NotImplementedError

    def _load_filters(self, session: Session, actor: User) -> None:
        """The choices of the filters (any user may pick any; the service refuses a filter
        outside what the actor may see)."""
        self.pipelines = [
            Choice(str(p.pipeline.id), p.pipeline.name)
            for p in pipeline.list_pipelines(session, actor=actor)
        ]
        self.owners = [Choice(str(i), name) for i, name in user.colleagues(session)]
        self.teams = [Choice(str(t.id), t.name) for t in user.list_teams(session)]

    def _query(self) -> ReportQuery:
        """The range and filters as the services take them."""
        preset, start, end = self.range_preset, None, None
        if preset == CUSTOM:
            start, last = _day(self.date_from), _day(self.date_to)
            end = last + timedelta(days=1) if last else None
            preset = None if start and end else "this_month"
        return ReportQuery(
            date_from=start,
            date_to=end,
            preset=preset if preset != CUSTOM else None,
            pipeline_id=_number(self.pipeline_id),
            owner_id=_number(self.owner_id),
            team_id=_number(self.team_id),
        )

    def _show_range(self, start: date, end: date) -> None:
        last = end - timedelta(days=1)
        self.range_label = (
            f"{start:%-d %b %Y}" if start == last else f"{start:%-d %b %Y} to {last:%-d %b %Y}"
        )

    @rx.event
    def set_range(self, value: str | list[str]):
        """A preset range, or Custom (then the two dates)."""
        if isinstance(value, str) and value in {c.value for c in RANGES}:
            self.range_preset = str(value)
            if value != CUSTOM or (self.date_from and self.date_to):
                return self._refresh()
        return None

    @rx.event
    def set_dates(self, form: dict):
        """The custom range's first and last day."""
        start, last = _day(str(form.get("from", ""))), _day(str(form.get("to", "")))
        if start is None or last is None or last < start:
            return rx.toast.error("Pick a first day and a last day after it.")
        self.date_from, self.date_to, self.range_preset = (
            start.isoformat(),
            last.isoformat(),
            CUSTOM,
        )
        return self._refresh()

    @rx.event
    def set_pipeline(self, value: str | list[str]):
        """One pipeline, or all."""
        if isinstance(value, str) and (value == ANY or _number(value)):
            self.pipeline_id = value
            return self._refresh()
        return None

    @rx.event
    def set_owner(self, value: str | list[str]):
        """One owner's figures, or everyone's the user may see."""
        if isinstance(value, str) and (value == ANY or _number(value)):
            self.owner_id = value
            return self._refresh()
        return None

    @rx.event
    def set_team(self, value: str | list[str]):
        """One team's figures, or everyone's the user may see."""
        if isinstance(value, str) and (value == ANY or _number(value)):
            self.team_id = value
            return self._refresh()
        return None

    def _reset_filters(self) -> None:
        self.range_preset, self.date_from, self.date_to = "this_month", "", ""
        self.pipeline_id = self.owner_id = self.team_id = ANY
