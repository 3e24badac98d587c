"""The dashboard's KPIs for a period, the same figures for the period before, and the change.

Definitions (PRODUCT.md "Money and metrics"), for a period [start, end):

- MRR: recurring monthly values of won deals not churned, as of the end of the period (now,
  for a period still running), each at its value then (the audit log has its changes);
- new leads: leads created in the period; lead conversion rate: leads converted in the period
  / leads created in it (None without new leads; it may pass 1);
- open pipeline: amounts of the deals open at the end of the period (now, for a running one):
  created before then and not closed by then; weighted pipeline: each times its probability,
  the deal's own or else its stage's (for a deal closed since, the stage it was in then, from
  its stage history);
- win rate: deals won / deals won or lost in the period (None when none closed);
- average won deal: the mean amount of the deals won in the period, per currency; sales cycle:
  the mean days from creation to winning of those deals.

Deals without an amount add nothing to sums and averages but count in the win rate and the
sales cycle. Leads belong to no pipeline: the pipeline filter leaves the lead figures alone.
Each audience (the actor's, and a rep's team) costs two queries, one over deals and one over
leads, each covering both periods.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, and_, cast, func, or_, select, text, tuple_
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import aliased
from sqlmodel import Session

from crm_app.models import AuditEvent, Deal, DealStageChange, Lead, Stage, User
from crm_app.models.base import utcnow
from crm_app.services.report_scope import (
    Money,
    Period,
    Reach,
    ReportQuery,
    ReportScope,
    days,
    ratio,
    resolve,
)

KPI_KEYS = (
    "mrr",
    "new_leads",
    "lead_conversion_rate",
    "open_pipeline",
    "weighted_pipeline",
    "win_rate",
    "average_won_deal",
    "sales_cycle_days",
)
# An update that changed a deal's recurring value, other than the one that won it (that one
# sets won_at too, and its new value is part of the new MRR). Literal SQL, so the planner
# matches the partial index `ix_audit_events_deal_recurring` however the query is prepared.
RECURRING_CHANGE = (
    text(
        "audit_events.entity = 'deal' AND audit_events.action = 'update'"
        " AND audit_events.changes ? 'recurring_monthly_value'"
    ),
    text("NOT audit_events.changes ? 'won_at'"),
)


def _recurring(index: int) -> Any:
    """The value before (0) or after (1) a change, 0 for none."""
    value = AuditEvent.changes["recurring_monthly_value"][index].astext
    return func.coalesce(cast(value, Numeric(18, 2)), 0)


def recurring_changes(since: datetime | None = None) -> Any:
    """The changes of deals' recurring values (after `since`), as a SELECT of deal_id, at and
    increase (after - before; negative for a decrease)."""
    query = select(
        AuditEvent.entity_id.label("deal_id"),
        AuditEvent.at,
        (_recurring(1) - _recurring(0)).label("increase"),
    ).where(*RECURRING_CHANGE)
    return query if since is None else query.where(AuditEvent.at > since)


def increases_since(moment: datetime) -> Any:
    """Per deal, how much its recurring value has grown since `moment` (a subquery of deal_id
    and increase): today's value minus that is its value then."""
    changes = recurring_changes(moment).subquery()
    return (
        select(changes.c.deal_id, func.sum(changes.c.increase).label("increase"))
        .group_by(changes.c.deal_id)
        .subquery()
    )


def stages_then(moment: datetime, scope: ReportScope) -> Any:
    """For each of `scope`'s deals closed since `moment`, the probability of the stage it was
    in then (the last move before it in its stage history), as a subquery of deal_id and
    probability."""
    then = aliased(Deal)
    return (
        select(DealStageChange.deal_id, Stage.probability)
        .ext(distinct_on(DealStageChange.deal_id))
        .join(Stage, Stage.id == DealStageChange.to_stage_id)
        .join(then, then.id == DealStageChange.deal_id)
        .where(then.closed_at >= moment, DealStageChange.changed_at < moment)
        .where(*scope.deals(then))
        .order_by(
            DealStageChange.deal_id, DealStageChange.changed_at.desc(), DealStageChange.id.desc()
        )
        .subquery()
    )


# --- the figures --------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiFigures:
    """Every KPI for one period and audience."""

    mrr: Money
    new_leads: int
    converted_leads: int
    lead_conversion_rate: Decimal | None
    open_pipeline: Money
    weighted_pipeline: Money
    won_deals: int
    lost_deals: int
    win_rate: Decimal | None
    won_amount: Money
    average_won_deal: Money
    sales_cycle_days: Decimal | None


@dataclass(frozen=True)
class Kpi:
    """One KPI card: its value, the previous period's, the change (for money, currency by
    currency) and the relative change (of the default currency's amount for money; None
    when the previous value is 0 or unknown)."""

    key: str
    value: Money | Decimal | int | None
    previous: Money | Decimal | int | None
    change: Money | Decimal | int | None
    change_ratio: Decimal | None


@dataclass(frozen=True)
class KpiReport:
    """The KPIs of a period and of the one before, for the actor's audience and, for a rep,
    their team's totals (None otherwise)."""

    period: Period
    previous_period: Period
    currency: str
    reach: Reach
    current: KpiFigures
    previous: KpiFigures
    team_current: KpiFigures | None = None
    team_previous: KpiFigures | None = None

    def kpis(self) -> list[Kpi]:
        """The dashboard's cards, in KPI_KEYS order."""
        return compare(self.current, self.previous)

    def team_kpis(self) -> list[Kpi] | None:
        """The team's cards (a rep's dashboard), else None."""
        if self.team_current is None or self.team_previous is None:
            return None
        return compare(self.team_current, self.team_previous)


def _change(value: Any, previous: Any) -> tuple[Any, Decimal | None]:
    if isinstance(value, Money):
        before = previous.amount or Decimal(0)
        rate = ratio((value.amount or 0) - before, before) if previous.amount else None
        return value.minus(previous), rate
    if value is None or previous is None:
        return None, None
    return value - previous, ratio(value - previous, previous) if previous else None


def compare(current: KpiFigures, previous: KpiFigures) -> list[Kpi]:
    """A card per KPI: current and previous values and the change."""
    cards = []
    for key in KPI_KEYS:
        value, before = getattr(current, key), getattr(previous, key)
        change, change_ratio = _change(value, before)
        cards.append(Kpi(key, value, before, change, change_ratio))
    return cards


# --- the queries --------------------------------------------------------------------------------


def _deal_columns(i: int, period: Period, past: Any) -> list[Any]:
    """The deal KPIs of one period. For a period that has ended, `past` holds the subqueries
    joined for its end: `grown` (increases of recurring values since) and `stages` (the
    stages of deals closed since); None for a period still running, measured on today's
    values."""
    start, end, moment = period.start_at, period.end_at, period.snapshot_at()
    won_in = and_(Deal.won_at >= start, Deal.won_at < end)
    lost_in = and_(Deal.closed_at >= start, Deal.closed_at < end, Deal.won_at.is_(None))
    subscribed = and_(
        Deal.won_at < moment, or_(Deal.churned_at.is_(None), Deal.churned_at >= moment)
    )
    open_then = and_(
        Deal.created_at < moment, or_(Deal.closed_at.is_(None), Deal.closed_at >= moment)
    )
    recurring, stage = Deal.recurring_monthly_value, Stage.probability
    if past is not None:
        grown, stages = past
        recurring = func.coalesce(recurring, 0) - func.coalesce(grown.c.increase, 0)
        # a deal closed since without a stage history counts at its stage's as today
        stage = func.coalesce(stages.c.probability, Stage.probability)
    probability = func.coalesce(Deal.probability, stage)
    cycle = func.extract("epoch", Deal.won_at - Deal.created_at) / 86400
    return [
        func.sum(recurring).filter(subscribed).label(f"mrr{i}"),
        func.sum(Deal.amount).filter(open_then).label(f"open{i}"),
        func.sum(Deal.amount * probability / 100).filter(open_then).label(f"weighted{i}"),
        func.count().filter(won_in).label(f"won{i}"),
        func.count().filter(lost_in).label(f"lost{i}"),
        func.sum(Deal.amount).filter(won_in).label(f"won_amount{i}"),
        func.avg(Deal.amount).filter(won_in).label(f"average_won{i}"),
        func.avg(cycle).filter(won_in).label(f"cycle{i}"),
    ]


def _deal_figures(session: Session, scope: ReportScope, periods: list[Period]) -> list[dict]:
    """Per period, the deal KPIs: counts and durations over every currency, money per
    currency (one query: the grouping set () gives the all-currency row)."""
    now = utcnow()
    query = select(func.grouping(Deal.currency).label("every_currency"), Deal.currency)
    query = query.select_from(Deal).join(Stage, Stage.id == Deal.stage_id)
    for i, period in enumerate(periods):
        past = None
        if period.snapshot_at() < now:
            moment = period.snapshot_at()
            past = (
                increases_since(moment).alias(f"grown{i}"),
                stages_then(moment, scope).alias(f"stages{i}"),
            )
            for joined in past:
                query = query.outerjoin(joined, joined.c.deal_id == Deal.id)
        query = query.add_columns(*_deal_columns(i, period, past))
    rows = session.execute(
        query.where(*scope.deals()).group_by(func.grouping_sets(tuple_(Deal.currency), tuple_()))
    ).all()
    overall = next(r._mapping for r in rows if r.every_currency)
    by_currency = [r._mapping for r in rows if not r.every_currency]

    def money(key: str, empty: Any = Decimal(0)) -> Money:
        return Money.of(scope.currency, [(r["currency"], r[key]) for r in by_currency], empty=empty)

    figures = []
    for i in range(len(periods)):
        won, lost = overall[f"won{i}"], overall[f"lost{i}"]
        figures.append(
            {
                "mrr": money(f"mrr{i}"),
                "open_pipeline": money(f"open{i}"),
                "weighted_pipeline": money(f"weighted{i}"),
                "won_deals": won,
                "lost_deals": lost,
                "win_rate": ratio(won, won + lost),
                "won_amount": money(f"won_amount{i}"),
                "average_won_deal": money(f"average_won{i}", None),
                "sales_cycle_days": days(overall[f"cycle{i}"]),
            }
        )
    return figures


def _lead_figures(session: Session, scope: ReportScope, periods: list[Period]) -> list[dict]:
    """Per period, leads created and converted in it (one query over the periods' span)."""
    first, last = min(p.start_at for p in periods), max(p.end_at for p in periods)
    columns = []
    for i, p in enumerate(periods):
        created = and_(Lead.created_at >= p.start_at, Lead.created_at < p.end_at)
        converted = and_(Lead.converted_at >= p.start_at, Lead.converted_at < p.end_at)
        columns += [
            func.count().filter(created).label(f"new{i}"),
            func.count().filter(converted).label(f"converted{i}"),
        ]
    row = (
        session.execute(
            select(*columns).where(
                Lead.deleted_at.is_(None),
                scope.owned(Lead.owner_id),
                or_(
                    and_(Lead.created_at >= first, Lead.created_at < last),
                    and_(Lead.converted_at >= first, Lead.converted_at < last),
                ),
            )
        )
        .one()
        ._mapping
    )
    return [
        {
            "new_leads": row[f"new{i}"],
            "converted_leads": row[f"converted{i}"],
            "lead_conversion_rate": ratio(row[f"converted{i}"], row[f"new{i}"]),
        }
        for i in range(len(periods))
    ]


def figures(session: Session, scope: ReportScope) -> tuple[KpiFigures, KpiFigures]:
    """The KPIs of the scope's period and of the one before it (two queries)."""
    periods = [scope.period, scope.period.previous()]
    deals = _deal_figures(session, scope, periods)
    leads = _lead_figures(session, scope, periods)
    current, previous = (KpiFigures(**d, **lead) for d, lead in zip(deals, leads, strict=True))
    return current, previous


def dashboard_kpis(session: Session, *, actor: User, query: ReportQuery) -> KpiReport:
    """Every dashboard KPI for the query's period and filters, with the previous period's
    and, for a rep, their team's totals."""
    scope = resolve(session, actor=actor, query=query)
    current, previous = figures(session, scope)
    team = figures(session, scope.team) if scope.team else (None, None)
    return KpiReport(
        period=scope.period,
        previous_period=scope.period.previous(),
        currency=scope.currency,
        reach=scope.reach,
        current=current,
        previous=previous,
        team_current=team[0],
        team_previous=team[1],
    )
