"""Response shapes of `/reports`: the KPIs with their previous values and changes, and one
model per report table and chart, built from the services' row dataclasses (whose money is
`Money`: the default currency's amount and the other currencies' next to it)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from crm_app.services.report_kpi import Kpi, KpiReport
from crm_app.services.report_rows import Table
from crm_app.services.report_scope import Money, Period, Reach


class PeriodOut(BaseModel):
    """Days [from, to) in the key user's time zone."""

    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    time_zone: str

    @classmethod
    def of(cls, period: Period) -> PeriodOut:
        """From a service period."""
        return cls(from_=period.start, to=period.end, time_zone=period.zone.key)


class MoneyKpi(BaseModel):
    """A money KPI: amounts in the default currency, the other currencies' alongside."""

    value: Money
    previous: Money
    change: Money = Field(description="value - previous, currency by currency.")
    change_ratio: Decimal | None = Field(
        description="The default currency's change / its previous amount; null when that is 0."
    )


class CountKpi(BaseModel):
    """A count KPI."""

    value: int
    previous: int
    change: int
    change_ratio: Decimal | None


class RatioKpi(BaseModel):
    """A rate (0..1) or a number of days; null when there is nothing to measure."""

    value: Decimal | None
    previous: Decimal | None
    change: Decimal | None
    change_ratio: Decimal | None


class KpiSet(BaseModel):
    """Every dashboard KPI (definitions: PRODUCT.md "Money and metrics")."""

    mrr: MoneyKpi = Field(description="MRR at the end of the period (now for a running one).")
    new_leads: CountKpi
    lead_conversion_rate: RatioKpi = Field(
        description="Leads converted in the period / leads created in it."
    )
    open_pipeline: MoneyKpi = Field(description="Open deals' amounts at the end of the period.")
    weighted_pipeline: MoneyKpi
    win_rate: RatioKpi = Field(description="Won / (won + lost), deals closed in the period.")
    average_won_deal: MoneyKpi
    sales_cycle_days: RatioKpi = Field(description="Mean days from creation to won.")

    @classmethod
    def of(cls, kpis: list[Kpi]) -> KpiSet:
        """From the service's cards."""
        return cls(**{k.key: _kpi(k) for k in kpis})


def _kpi(kpi: Kpi) -> dict[str, Any]:
    return {
        "value": kpi.value,
        "previous": kpi.previous,
        "change": kpi.change,
        "change_ratio": kpi.change_ratio,
    }


class KpiResponse(BaseModel):
    """The KPIs of a period, each with the previous period's value and the change."""

    period: PeriodOut
    previous_period: PeriodOut
    currency: str = Field(description="The workspace's default currency.")
    scope: Reach = Field(description="Whose figures: all, team (a manager's) or own (a rep's).")
    kpis: KpiSet
    team: KpiSet | None = Field(
        description="For a rep on a team: the team's totals (null for everyone else)."
    )

    @classmethod
    def of(cls, report: KpiReport) -> KpiResponse:
        """From the service's report."""
        team = report.team_kpis()
        return cls(
            period=PeriodOut.of(report.period),
            previous_period=PeriodOut.of(report.previous_period),
            currency=report.currency,
            scope=report.reach,
            kpis=KpiSet.of(report.kpis()),
            team=KpiSet.of(team) if team is not None else None,
        )


class ReportColumn(BaseModel):
    """A column: the row field, its heading, its kind (text, int, money, ratio, days, date)
    and whether `sort` accepts it."""

    key: str
    label: str
    kind: str
    sortable: bool


class ReportBase(BaseModel):
    """What every report and chart carries besides its rows."""

    name: str
    title: str
    period: PeriodOut
    currency: str
    sort: str = Field(description="The order applied (`-won_amount,owner`); empty: natural.")
    columns: list[ReportColumn]


def report_model(name: str, row: type) -> type[ReportBase]:
    """The response model of one report: its rows, total and team total (a rep's)."""
    camel = "".join(part.capitalize() for part in name.split("-"))
    return create_model(
        f"{camel}Report",
        __base__=ReportBase,
        rows=(list[row], ...),
        total=(row | None, Field(None, description="The rows added up, where they add up.")),
        team_total=(row | None, Field(None, description="A rep's team, in by-person reports.")),
    )


def report_body(table: Table) -> dict[str, Any]:
    """A table as the fields of its report model."""
    return {
        "name": table.name,
        "title": table.title,
        "period": PeriodOut.of(table.period),
        "currency": table.currency,
        "sort": table.sort,
        "columns": [ReportColumn(**c.__dict__) for c in table.columns],
        "rows": table.rows,
        "total": table.total,
        "team_total": table.team_total,
    }
