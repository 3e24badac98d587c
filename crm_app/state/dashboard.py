"""`/`: the dashboard: KPI cards against the previous period, and six charts, each with its
table and CSV. The figures, and whose records they count, are `services.report_*`'s."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import reflex as rx
from sqlmodel import Session

from crm_app.models import User
from crm_app.services import report_chart, report_kpi
from crm_app.services.errors import DomainError
from crm_app.services.permission import can
from crm_app.services.report_rows import Table, pivot
from crm_app.services.report_scope import Money
from crm_app.state.base import AppState, error_event
from crm_app.state.report_filter import (
    ReportFilters,
    TableView,
    cell_text,
    chart_number,
    money_text,
    table_view,
)

KPI_LABELS = {
    "mrr": "MRR",
    "new_leads": "New leads",
    "lead_conversion_rate": "Lead conversion",
    "open_pipeline": "Open pipeline",
    "weighted_pipeline": "Weighted pipeline",
    "win_rate": "Win rate",
    "average_won_deal": "Average won deal",
    "sales_cycle_days": "Sales cycle",
}
RATES = {"lead_conversion_rate", "win_rate"}
LOWER_IS_BETTER = {"sales_cycle_days"}
CHART_NAMES = tuple(report_chart.CHARTS)


@dataclasses.dataclass
class KpiView:
    """One KPI card."""

    key: str
    label: str
    value: str
    previous: str
    change: str  # "+12.5%", "+3.0 pts", "-2.0 days", or "" without a previous figure
    tone: str  # green, red or gray: whether the change is good news
    team: str = ""  # a rep's team total, or ""


def _figure(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, Money):
        return money_text(value)
    if key in RATES:
        return cell_text(value, "ratio")
    if key == "sales_cycle_days":
        return f"{value} days"
    return f"{value:,}"


def _change(kpi: report_kpi.Kpi) -> tuple[str, str]:
    change = kpi.change.amount if isinstance(kpi.change, Money) else kpi.change
    if change is None or kpi.previous is None:
        return "", "gray"
    if kpi.key in RATES:
        text = f"{Decimal(change) * 100:+.1f} pts"
    elif kpi.change_ratio is not None and kpi.key != "sales_cycle_days":
        text = f"{Decimal(kpi.change_ratio) * 100:+.1f}%"
    elif kpi.key == "sales_cycle_days":
        text = f"{Decimal(change):+.1f} days"
    else:
        text = f"{change:+,}"
    better = change < 0 if kpi.key in LOWER_IS_BETTER else change > 0
    tone = "gray" if change == 0 else ("green" if better else "red")
    return text, tone


def kpi_views(report: report_kpi.KpiReport) -> list[KpiView]:
    """The KPI cards, with a rep's team totals when the report has them."""
    team = {k.key: k for k in report.team_kpis()} if report.team_current else {}
    views = []
    for kpi in report.kpis():
        change, tone = _change(kpi)
        views.append(
            KpiView(
                key=kpi.key,
                label=KPI_LABELS.get(kpi.key, kpi.key),
                value=_figure(kpi.key, kpi.value),
                previous=_figure(kpi.key, kpi.previous),
                change=change,
                tone=tone,
                team=_figure(kpi.key, team[kpi.key].value) if kpi.key in team else "",
            )
        )
    return views


def _month(day: date) -> str:
    return f"{day:%b %Y}"


# What each chart draws: its rows as numbers under the names of the series.
def _points(name: str, table: Table) -> tuple[list[dict[str, Any]], list[str]]:
    rows = table.rows
    if name == "pipeline-by-stage":
        return [
            {
                "label": r.stage,
                "Amount": chart_number(r.amount),
                "Weighted": chart_number(r.weighted),
            }
            for r in rows
        ], ["Amount", "Weighted"]
    if name == "won-revenue-by-month":
        return [{"label": _month(r.month), "Won": chart_number(r.amount)} for r in rows], ["Won"]
    if name == "mrr":
        return [
            {
                "label": _month(r.month),
                "New": chart_number(r.new),
                "Expansion": chart_number(r.expansion),
                "Contraction": -abs(chart_number(r.contraction)),
                "Churned": -abs(chart_number(r.churned)),
                "MRR": chart_number(r.mrr),
            }
            for r in rows
        ], ["New", "Expansion", "Contraction", "Churned", "MRR"]
    if name == "leads-by-source":
        return [
            {"label": r.source or "No source", "Leads": r.leads, "Converted": r.converted}
            for r in rows
        ], ["Leads", "Converted"]
    if name == "conversion-funnel":
        return [{"label": r.step.capitalize(), "Leads": r.count} for r in rows], ["Leads"]
    # activities per week: a series per rep (and the team's total for a rep)
    people = [r for r in rows if not r.team_total]
    wide = pivot(people, "week", "owner", "activities")
    series = sorted({r.owner for r in people})
    team = {r.week: r.activities for r in rows if r.team_total}
    points = []
    for point in wide or [{"week": week} for week in sorted(team)]:
        week = point.pop("week")
        if team:
            point["Team"] = team.get(week, 0)
        points.append({"label": f"{week:%-d %b}" if isinstance(week, date) else str(week), **point})
    return points, series + (["Team"] if team else [])


class DashboardState(ReportFilters, AppState):
    """The KPI cards and charts of the chosen range and filters."""

    can_report: bool = False
    loading: bool = False
    kpis: list[KpiView] = []
    period_label: str = ""
    previous_label: str = ""
    # every chart's entry exists from the start, so the page never reads a missing one
    charts: dict[str, list[dict[str, Any]]] = {name: [] for name in CHART_NAMES}
    series: dict[str, list[str]] = {name: [] for name in CHART_NAMES}
    tables: dict[str, TableView] = {name: TableView(name=name) for name in CHART_NAMES}

    @rx.event
    def load(self):
        """on_load: the greeting and the filters at once; the figures right after."""
        self._reset_filters()
        self.kpis = []
        return self._load_page(self._open)

    def _open(self, session: Session, actor: User) -> None:
        self.can_report = can(session, actor, "report", "read")
        if self.can_report:
            self._load_filters(session, actor)
            self.loading = True

    @rx.event
    def figures(self):
        """Compute the figures (called once the page shows)."""
        if not self.can_report:
            return None
        return self._refresh()

    def _refresh(self) -> Any:
        self.loading = False
        return self._act_then(None, self._fetch)

    def _fetch(self, session: Session, actor: User) -> None:
        query = self._query()
        report = report_kpi.dashboard_kpis(session, actor=actor, query=query)
        self.kpis = kpi_views(report)
        self._show_range(report.period.start, report.period.end)
        before = report.previous_period
        last = before.end - timedelta(days=1)
        self.previous_label = f"Compared with {before.start:%-d %b %Y} to {last:%-d %b %Y}"
        charts, series, tables = {}, {}, {}
        for name, spec in report_chart.CHARTS.items():
            table = spec.run(session, actor=actor, query=query)
            charts[name], series[name] = _points(name, table)
            tables[name] = table_view(table)
        self.charts, self.series, self.tables = charts, series, tables

    @rx.event
    def download(self, name: str):
        """A chart's rows as CSV, for the range and filters shown."""
        spec = report_chart.CHARTS.get(str(name))
        if spec is None:
            return None
        try:
            with self._actor_session() as (session, actor):
                table = spec.run(session, actor=actor, query=self._query())
        except DomainError as error:
            return error_event(error)
        period = table.period
        filename = f"{name}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
        return rx.download(data=table.csv(), filename=filename)
