"""`/reports`: one report table at a time (`?report=<name>`), for the range and filters of the
bar above it, sorted by a column, exported as CSV. The figures, their sorts and who may see
which are `services.report_table`'s; the page keeps only the table it shows."""

from __future__ import annotations

import dataclasses
import json
from typing import Any
from urllib.parse import urlencode

import reflex as rx
from sqlmodel import Session

from crm_app import routes
from crm_app.models import User
from crm_app.services.errors import DomainError
from crm_app.services.permission import can
from crm_app.services.report_rows import Table
from crm_app.services.report_scope import RESOURCE
from crm_app.services.report_table import TABLES
from crm_app.state.base import AppState, error_event
from crm_app.state.report_filter import ReportFilters, TableView, table_view


@dataclasses.dataclass(frozen=True)
class ReportTab:
    """One report of the page: its name (as in `TABLES` and the URL), its tab, and what the
    page says when nothing happened in the range."""

    name: str
    label: str
    empty: str


REPORTS = [
    ReportTab("won-lost-by-owner", "Won and lost by owner", "No deals closed in this range."),
    ReportTab("lost-reasons", "Lost reasons", "No deals were lost in this range."),
    ReportTab("stage-conversion", "Stage conversion", "No deals entered a stage in this range."),
    ReportTab("time-in-stage", "Time in stage", "No deals left a stage in this range."),
    ReportTab("forecast", "Forecast", "No open deals are expected to close in this range."),
    ReportTab("rep-activity", "Rep activity", "No activities were done in this range."),
]
EMPTY = {tab.name: tab.empty for tab in REPORTS}
FIRST = REPORTS[0].name
NUMERIC = {"int", "money", "ratio", "days"}
ARIA_SORT = {"": "ascending", "-": "descending"}


@dataclasses.dataclass
class HeaderView:
    """A column heading: whether it sorts the table, and how the table is sorted by it now
    (its aria-sort: ascending, descending, or none)."""

    key: str
    label: str
    sortable: bool
    sort: str = "none"
    numeric: bool = False


def headers(table: Table) -> list[HeaderView]:
    """The table's headings; the first column of its sort is marked as sorted."""
    first = table.sort.split(",")[0].strip()
    key, way = first.lstrip("+-"), "-" if first.startswith("-") else ""
    return [
        HeaderView(
            c.key,
            c.label,
            c.sortable,
            ARIA_SORT[way] if c.key == key else "none",
            c.kind in NUMERIC,
        )
        for c in table.columns
    ]


def empty_message(table: Table) -> str:
    """What to say instead of the table when nothing happened in the range, else "". The
    tables list every person, stage or month the actor sees, with zeros: a table is empty
    when none of its counts (a rep's team total included) is above zero."""
    lines = [*table.rows, *([table.team_total] if table.team_total is not None else [])]
    counts = [c.key for c in table.columns if c.kind == "int"]
    if any(getattr(line, key) for line in lines for key in counts):
        return ""
    return EMPTY.get(table.name, "Nothing to show in this range.")


def next_sort(current: str, key: str) -> str:
    """The sort after a click on a column's heading: ascending first, descending when the
    table is already sorted ascending by it."""
    return f"-{key}" if current.split(",")[0].strip() in (key, f"+{key}") else key


def _address(name: str) -> str:
    return f"{routes.REPORTS}?{urlencode({'report': name})}"


class ReportState(ReportFilters, AppState):
    """The report shown, its sort, and the range and filters it is for."""

    can_report: bool = False
    denied: bool = False  # the user may not read reports (known once the page loaded)
    report: str = FIRST
    sort: str = ""  # "" for the report's own order
    table_sort: str = ""  # the sort the table came in: its own order or `sort`
    title: str = ""
    view: TableView = TableView()
    columns: list[HeaderView] = []
    empty: str = ""
    problem: str = ""  # why no table is shown: the refusal

    @rx.event
    def load(self):
        """on_load: the report in `?report=` (the first one otherwise) for this month."""
        self._reset_filters()
        self.sort = ""
        return self._load_page(self._open)

    def _open(self, session: Session, actor: User) -> None:
        wanted = self.router.url.query_parameters.get("report", "")
        self.report = wanted if wanted in TABLES else FIRST
        self.can_report = can(session, actor, RESOURCE, "read")
        self.denied = not self.can_report
        if self.can_report:
            self._load_filters(session, actor)
            self._show(session, actor)

    def _refresh(self) -> Any:
        return self._act_then(None, self._show)

    def _run(self, session: Session, actor: User) -> Table:
        spec = TABLES[self.report]
        return spec.run(session, actor=actor, query=self._query(), sort=self.sort)

    def _show(self, session: Session, actor: User) -> None:
        try:
            table = self._run(session, actor)
        except DomainError as error:
            self._refuse(error)
            raise
        self._show_range(table.period.start, table.period.end)
        self.title, self.table_sort = table.title, table.sort
        self.view, self.columns = table_view(table), headers(table)
        self.empty, self.problem = empty_message(table), ""

    def _refuse(self, error: DomainError) -> None:
        # a refused query shows no table rather than the previous one under the new filters
        self.view, self.columns, self.empty = TableView(), [], ""
        self.problem = " ".join([error.message, *(e.message for e in error.errors)])

    @rx.event
    def choose_report(self, name: str):
        """Another report, in its own order, for the same range and filters; the address
        follows (without a navigation, which would start the page again)."""
        if name not in TABLES or name == self.report:
            return None
        self.report, self.sort = name, ""
        script = "window.history.replaceState(window.history.state, '', {})"
        moved = rx.call_script(script.format(json.dumps(_address(name))))
        refused = self._refresh()
        return [moved, refused] if refused else moved

    @rx.event
    def sort_by(self, key: str):
        """Sort by a column: ascending, then descending on a second click."""
        if not any(c.key == key and c.sortable for c in self.columns):
            return None
        self.sort = next_sort(self.table_sort, key)
        return self._refresh()

    @rx.event
    def export_csv(self):
        """The report's rows as CSV, for the range, filters and sort shown (asked for again,
        so the permissions are checked again)."""
        try:
            with self._actor_session() as (session, actor):
                table = self._run(session, actor)
        except DomainError as error:
            return error_event(error)
        period = table.period
        filename = f"{table.name}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
        return rx.download(data=table.csv(), filename=filename, mime_type="text/csv")
