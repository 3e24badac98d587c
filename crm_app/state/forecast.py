"""`/deals/forecast`: open deals' weighted amounts by expected close month, per owner and in
total, for one pipeline or all and one owner or everyone."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import reflex as rx
from sqlmodel import Session

from crm_app.models import User
from crm_app.services import deal_report, pipeline, user
from crm_app.services.deal_list import RESOURCE
from crm_app.services.errors import DomainError, Forbidden
from crm_app.services.listing import ListQuery
from crm_app.services.permission import can
from crm_app.state.base import AppState, error_event
from crm_app.state.record_list import ANY

BAR_COLORS = ("var(--indigo-9)", "var(--teal-9)", "var(--amber-9)", "var(--crimson-9)")


@dataclasses.dataclass
class ForecastRow:
    """One line of the forecast table: whose it is, a cell per month, and its total."""

    owner: str
    cells: list[str]
    total: str


def amounts(by_currency: dict[str, Decimal] | None) -> str:
    """Amounts in several currencies, never added up: "1,200.00 USD + 300.00 EUR"."""
    if not by_currency:
        return "—"
    return " + ".join(f"{v:,.2f} {c}" for c, v in sorted(by_currency.items()))


def month_label(month: date | None) -> str:
    """A month as the table heads it: "Mar 2026"."""
    return f"{month:%b %Y}" if month else "No close date"


def forecast_rows(found: deal_report.Forecast) -> list[ForecastRow]:
    """A row per owner, in the forecast's month order."""
    return [
        ForecastRow(
            owner=line.owner,
            cells=[amounts(line.months.get(m)) for m in found.months],
            total=amounts(line.total),
        )
        for line in found.owners
    ]


def chart_data(found: deal_report.Forecast) -> list[dict[str, str]]:
    """A bar per month and currency, as a share of the largest one in that currency (the
    table shows the exact amounts): month, currency, width ("57%"), label, colour."""
    currencies = sorted(found.total.total)
    largest = {
        c: max((found.total.months[m].get(c, Decimal(0)) for m in found.months), default=0)
        for c in currencies
    }
    bars = []
    for month in found.months:
        for i, currency in enumerate(currencies):
            value = found.total.months[month].get(currency, Decimal(0))
            share = value / largest[currency] * 100 if largest[currency] else 0
            bars.append(
                {
                    "month": month_label(month),
                    "currency": currency,
                    "width": f"{max(share, 0.5 if value else 0):.1f}%",
                    "label": f"{value:,.0f} {currency}",
                    "color": BAR_COLORS[i % len(BAR_COLORS)],
                }
            )
    return bars


class ForecastState(AppState):
    """The forecast shown and its pipeline and owner filters."""

    can_read: bool = True
    loaded: bool = False
    pipelines: list[dict[str, str]] = []  # id, name
    owners: list[dict[str, str]] = []  # id, name
    pipeline_id: str = ANY
    owner_id: str = ANY
    months: list[str] = []
    rows: list[ForecastRow] = []
    total: ForecastRow = ForecastRow(owner="Total", cells=[], total="—")
    chart: list[dict[str, str]] = []
    currencies: list[str] = []

    @rx.event
    def load(self):
        """on_load: every open deal of every pipeline, or the pipeline in `?pipeline=`."""
        self.loaded, self.owner_id = False, ANY
        self.pipeline_id = str(self.router.page.params.get("pipeline", "") or ANY)[:12]
        return self._load_page(self._first)

    def _first(self, session: Session, actor: User) -> None:
        self.can_read = can(session, actor, RESOURCE, "read")
        if not self.can_read:
            return
        found = pipeline.list_pipelines(session, actor=actor)
        self.pipelines = [{"id": str(p.pipeline.id), "name": p.pipeline.name} for p in found]
        if not any(p["id"] == self.pipeline_id for p in self.pipelines):
            self.pipeline_id = ANY
        try:
            people, _ = user.list_users(session, actor=actor, limit=200)
        except Forbidden:
            people = []
        self.owners = [{"id": str(p.id), "name": p.name} for p in people]
        self._build(session, actor)

    def _build(self, session: Session, actor: User) -> None:
        chosen = {"pipeline_id": self.pipeline_id, "owner_id": self.owner_id}
        filters = {k: v for k, v in chosen.items() if v != ANY}
        found = deal_report.forecast(session, actor=actor, listq=ListQuery(filters=filters))
        self.months = [month_label(m) for m in found.months]
        self.rows = forecast_rows(found)
        self.total = ForecastRow(
            owner="Total",
            cells=[amounts(found.total.months.get(m)) for m in found.months],
            total=amounts(found.total.total),
        )
        self.chart = chart_data(found)
        self.currencies = sorted(found.total.total)
        self.loaded = True

    def _rebuild(self) -> rx.event.EventSpec | None:
        try:
            with self._actor_session() as (session, actor):
                self._build(session, actor)
        except DomainError as error:
            return error_event(error)
        return None

    @rx.event
    def choose_pipeline(self, pipeline_id: str):
        """One pipeline's deals, or every pipeline's."""
        value = str(pipeline_id)[:12]
        if value != ANY and not any(p["id"] == value for p in self.pipelines):
            return None
        self.pipeline_id = value
        return self._rebuild()

    @rx.event
    def choose_owner(self, owner_id: str):
        """One owner's deals (me, no one, someone), or everyone's."""
        value = str(owner_id)[:12]
        known = value in (ANY, "me", "none") or any(o["id"] == value for o in self.owners)
        if not known:
            return None
        self.owner_id = value
        return self._rebuild()
