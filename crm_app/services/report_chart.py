"""The dashboard's charts, each a `Table` of rows a chart, its table view and its CSV share:
pipeline value by stage, won revenue by month, MRR movements over 12 months (`report_mrr`),
leads by source, the funnel from lead to won deal, and activities per rep per week.

Months and weeks (starting Monday) are the actor's, in their time zone. Money is per
currency (`Money`); see `report_scope` for who sees what.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, and_, cast, func, or_, select, tuple_
from sqlmodel import Session

from crm_app.models import Activity, Deal, Lead, LeadStatus, Stage, StageKind, User
from crm_app.services import pipeline as pipelines
from crm_app.services import report_mrr
from crm_app.services.deal_list import WEIGHTED
from crm_app.services.report_rows import (
    ALL_CURRENCIES,
    Column,
    ReportSpec,
    Table,
    by_currency,
    groups,
)
from crm_app.services.report_scope import (
    Money,
    ReportQuery,
    ReportScope,
    activity_at,
    local,
    month_of,
    ratio,
    resolve,
)

TEAM_TOTAL, NO_OWNER = "Team total", "No owner"


# --- pipeline value by stage --------------------------------------------------------------------


@dataclass(frozen=True)
class StageValue:
    """The open deals of one stage now: how many, their amounts and weighted amounts."""

    stage_id: int
    stage: str
    deals: int
    amount: Money
    weighted: Money


STAGE_COLUMNS = (
    Column("stage", "Stage", sortable=False),
    Column("deals", "Deals", "int", sortable=False),
    Column("amount", "Amount", "money", sortable=False),
    Column("weighted", "Weighted", "money", sortable=False),
)


def pipeline_by_stage(session: Session, *, actor: User, query: ReportQuery) -> Table[StageValue]:
    """Open deals per open stage of the filtered pipeline (else the default one), today:
    the board's state, whatever the range."""
    scope = resolve(session, actor=actor, query=query)
    pipeline_id = scope.pipeline_id or pipelines.default_pipeline(session).id
    deals = and_(Deal.stage_id == Stage.id, Deal.closed_at.is_(None), *scope.deals())
    rows = session.execute(
        select(
            ALL_CURRENCIES,
            Stage.id,
            Stage.name,
            Stage.position,
            Deal.currency,
            func.count(Deal.id).label("deals"),
            func.sum(Deal.amount).label("amount"),
            func.sum(WEIGHTED).label("weighted"),
        )
        .select_from(Stage)
        .outerjoin(Deal, deals)
        .where(
            Stage.pipeline_id == pipeline_id,
            Stage.kind == StageKind.open.value,
            Stage.deleted_at.is_(None),
        )
        .group_by(by_currency(Stage.id, Stage.name, Stage.position))
        .order_by(Stage.position, Stage.id)
    )
    found = groups(rows, lambda r: (r.position, r.id, r.name))
    values = [
        StageValue(
            stage_id,
            name,
            group.count("deals"),
            group.money("amount", scope.currency),
            group.money("weighted", scope.currency),
        )
        for (_, stage_id, name), group in found.items()
    ]
    return Table(
        "pipeline-by-stage",
        "Pipeline value by stage",
        STAGE_COLUMNS,
        values,
        scope.period,
        scope.currency,
    )


# --- won revenue by month -----------------------------------------------------------------------


@dataclass(frozen=True)
class MonthRevenue:
    """The deals won in one month and their amounts."""

    month: date
    deals: int
    amount: Money


REVENUE_COLUMNS = (
    Column("month", "Month", "date", sortable=False),
    Column("deals", "Deals won", "int", sortable=False),
    Column("amount", "Won amount", "money", sortable=False),
)


def won_revenue_by_month(
    session: Session, *, actor: User, query: ReportQuery
) -> Table[MonthRevenue]:
    """Deals won in each month of the range (every month, 0 when none)."""
    scope = resolve(session, actor=actor, query=query)
    period = scope.period
    month = month_of(Deal.won_at, period.zone).label("month")
    rows = session.execute(
        select(
            ALL_CURRENCIES,
            month,
            Deal.currency,
            func.count().label("deals"),
            func.sum(Deal.amount).label("amount"),
        )
        .where(period.covers(Deal.won_at), *scope.deals())
        .group_by(by_currency(month))
    )
    found = groups(rows, lambda r: r.month)
    months = [
        MonthRevenue(m, found[m].count("deals"), found[m].money("amount", scope.currency))
        if m in found
        else MonthRevenue(m, 0, Money.of(scope.currency, []))
        for m in period.months()
    ]
    return Table(
        "won-revenue-by-month",
        "Won revenue by month",
        REVENUE_COLUMNS,
        months,
        period,
        scope.currency,
    )


# --- leads by source ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceLeads:
    """The leads created in the period from one source (None: no source), how many of them
    are converted by now, and their share of all the period's leads."""

    source: str | None
    leads: int
    converted: int
    conversion_rate: Decimal | None
    share: Decimal | None


SOURCE_COLUMNS = (
    Column("source", "Source"),
    Column("leads", "Leads", "int"),
    Column("converted", "Converted", "int"),
    Column("conversion_rate", "Conversion rate", "ratio"),
    Column("share", "Share", "ratio"),
)


def leads_by_source(session: Session, *, actor: User, query: ReportQuery) -> Table[SourceLeads]:
    """New leads per source, most first (the total row over every source)."""
    scope = resolve(session, actor=actor, query=query)
    every_source = func.grouping(Lead.source).label("every_source")
    rows = session.execute(
        select(
            every_source,
            Lead.source,
            func.count().label("leads"),
            func.count(Lead.converted_at).label("converted"),
        )
        .where(
            Lead.deleted_at.is_(None),
            scope.owned(Lead.owner_id),
            scope.period.covers(Lead.created_at),
        )
        .group_by(func.grouping_sets(tuple_(Lead.source), tuple_()))
        .order_by(every_source, func.count().desc(), Lead.source)
    ).all()
    overall = next((r for r in rows if r.every_source), None)
    everyone = overall.leads if overall else 0

    def line(source: str | None, leads: int, converted: int) -> SourceLeads:
        return SourceLeads(
            source, leads, converted, ratio(converted, leads), ratio(leads, everyone)
        )

    sources = [line(r.source, r.leads, r.converted) for r in rows if not r.every_source]
    total = line("Total", everyone, overall.converted if overall else 0)
    return Table(
        "leads-by-source",
        "Leads by source",
        SOURCE_COLUMNS,
        sources,
        scope.period,
        scope.currency,
        total=total,
    )


# --- the funnel from lead to won deal -----------------------------------------------------------


@dataclass(frozen=True)
class FunnelStep:
    """How many of the period's new leads reached a step, as a share of the first step and
    of the step before."""

    step: str
    count: int
    of_created: Decimal | None
    of_previous: Decimal | None


FUNNEL_COLUMNS = (
    Column("step", "Step", sortable=False),
    Column("count", "Leads", "int", sortable=False),
    Column("of_created", "Of created", "ratio", sortable=False),
    Column("of_previous", "Of previous step", "ratio", sortable=False),
)
WORKED = (LeadStatus.contacted, LeadStatus.qualified, LeadStatus.converted)
QUALIFIED = (LeadStatus.qualified, LeadStatus.converted)


def conversion_funnel(session: Session, *, actor: User, query: ReportQuery) -> Table[FunnelStep]:
    """Of the leads created in the period, as they stand now: created; contacted (status
    contacted, qualified or converted); qualified (qualified or converted); converted; won
    (converted into a deal since won). Unqualified leads stop at created; each step holds the
    next."""
    scope = resolve(session, actor=actor, query=query)
    converted = Lead.converted_at.is_not(None)
    won = Deal.won_at.is_not(None)
    row = session.execute(
        select(
            func.count(),
            func.count().filter(or_(Lead.status.in_([s.value for s in WORKED]), converted)),
            func.count().filter(or_(Lead.status.in_([s.value for s in QUALIFIED]), converted)),
            func.count().filter(converted),
            func.count().filter(converted, won),
        )
        .select_from(Lead)
        .outerjoin(Deal, and_(Deal.id == Lead.converted_deal_id, Deal.deleted_at.is_(None)))
        .where(
            Lead.deleted_at.is_(None),
            scope.owned(Lead.owner_id),
            scope.period.covers(Lead.created_at),
        )
    ).one()
    names = ("created", "contacted", "qualified", "converted", "won")
    steps = [
        FunnelStep(name, n, ratio(n, row[0]), ratio(n, row[i - 1]) if i else None)
        for i, (name, n) in enumerate(zip(names, row, strict=True))
    ]
    return Table(
        "conversion-funnel",
        "Conversion funnel",
        FUNNEL_COLUMNS,
        steps,
        scope.period,
        scope.currency,
    )


# --- activities per rep per week ----------------------------------------------------------------


@dataclass(frozen=True)
class RepWeek:
    """How many activities one person did in one week (Monday first); for a rep, their
    team's weekly totals come as rows with `team_total` set and no owner."""

    week: date
    owner_id: int | None
    owner: str
    activities: int
    team_total: bool = False


WEEK_COLUMNS = (
    Column("week", "Week", "date", sortable=False),
    Column("owner", "Owner", sortable=False),
    Column("activities", "Activities", "int", sortable=False),
)


def _weekly(session: Session, counted: ReportScope, *, team_total: bool) -> list[Any]:
    """Activities per week and owner of the `counted` scope (with each owner's name), and
    with `team_total` each week's total too (rows with `team` set), in one pass."""
    at = activity_at()
    week = cast(func.date_trunc("week", local(at, counted.period.zone)), Date).label("week")
    sets = [tuple_(week, Activity.owner_id), *([tuple_(week)] if team_total else [])]
    weekly = (
        select(
            week,
            Activity.owner_id,
            func.grouping(Activity.owner_id).label("team"),
            func.count().label("activities"),
        )
        .where(
            Activity.deleted_at.is_(None),
            counted.owned(Activity.owner_id),
            counted.period.covers(at),
        )
        .group_by(func.grouping_sets(*sets))
        .subquery("weekly")
    )
    return session.execute(
        select(weekly, User.name)
        .outerjoin(User, User.id == weekly.c.owner_id)
        .order_by(weekly.c.week, weekly.c.team, User.name, weekly.c.owner_id)
    ).all()


def activities_per_week(session: Session, *, actor: User, query: ReportQuery) -> Table[RepWeek]:
    """Activities done per person per week (see `report_scope.activity_at`); activities of
    no one show as "No owner". A rep's rows are theirs and their team's weekly totals (one
    pass over the team's activities)."""
    scope = resolve(session, actor=actor, query=query)
    rep = scope.team is not None
    weeks = []
    for row in _weekly(session, scope.team or scope, team_total=rep):
        if row.team:
            weeks.append(RepWeek(row.week, None, TEAM_TOTAL, row.activities, True))
        elif not rep or row.owner_id == scope.actor_id:
            weeks.append(RepWeek(row.week, row.owner_id, row.name or NO_OWNER, row.activities))
    return Table(
        "activities-per-week",
        "Activities per rep per week",
        WEEK_COLUMNS,
        weeks,
        scope.period,
        scope.currency,
    )


CHARTS = {
    "pipeline-by-stage": ReportSpec(pipeline_by_stage, StageValue),
    "won-revenue-by-month": ReportSpec(won_revenue_by_month, MonthRevenue),
    "mrr": ReportSpec(report_mrr.mrr_movements, report_mrr.MrrMonth),
    "leads-by-source": ReportSpec(leads_by_source, SourceLeads),
    "conversion-funnel": ReportSpec(conversion_funnel, FunnelStep),
    "activities-per-week": ReportSpec(activities_per_week, RepWeek),
}
