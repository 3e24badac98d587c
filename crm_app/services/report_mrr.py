"""MRR over the last 12 months: each month's new MRR (deals won, at their value then),
expansion and contraction (changes of won deals' values, from the audit log), churn (at the
value then), and the MRR at each month's end. The last month's MRR is the dashboard's MRR KPI
for a period ending with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, cast, func, literal, or_, select, union_all
from sqlmodel import Session

from crm_app.models import Deal, User
from crm_app.services.report_kpi import recurring_changes
from crm_app.services.report_rows import Column, Table
from crm_app.services.report_scope import (
    Money,
    Period,
    ReportQuery,
    ReportScope,
    add_months,
    month_of,
    resolve,
)


@dataclass(frozen=True)
class MrrMonth:
    """One month's MRR movements: new (deals won, at their value then), expansion and
    contraction (increases and decreases of won deals' values), churned (at their value
    then), net (new + expansion - contraction - churned), and the MRR at its end."""

    month: date
    new: Money
    expansion: Money
    contraction: Money
    churned: Money
    net: Money
    mrr: Money


MRR_COLUMNS = (
    Column("month", "Month", "date", sortable=False),
    Column("new", "New", "money", sortable=False),
    Column("expansion", "Expansion", "money", sortable=False),
    Column("contraction", "Contraction", "money", sortable=False),
    Column("churned", "Churned", "money", sortable=False),
    Column("net", "Net change", "money", sortable=False),
    Column("mrr", "MRR at month end", "money", sortable=False),
)
MRR_MONTHS = 12
FLOWS = ("new", "expansion", "contraction", "churned")


def _mrr_flows(scope: ReportScope, window: Period) -> Any:
    """One SELECT of (flow, month, currency, amount) rows: each won deal's value when won and
    when churned, each change of a won deal's value, and the values at the window's start
    (flow "start", no month). A value then is today's minus the increases since."""
    start, end = window.start_at, window.end_at
    changes = recurring_changes(start).subquery("changes")
    since = (
        select(
            changes.c.deal_id,
            func.sum(changes.c.increase).filter(changes.c.at > Deal.won_at).label("won"),
            func.sum(changes.c.increase).filter(changes.c.at > Deal.churned_at).label("churned"),
            func.sum(changes.c.increase).label("start"),
        )
        .join(Deal, Deal.id == changes.c.deal_id)
        .group_by(changes.c.deal_id)
        .subquery("since")
    )
    today = func.coalesce(Deal.recurring_monthly_value, 0)

    def then(column: Any) -> Any:
        return today - func.coalesce(column, 0)

    def flow(name: str, month: Any, amount: Any, *where: Any) -> Any:
        return (
            select(
                literal(name).label("flow"),
                month.label("month"),
                Deal.currency,
                amount.label("amount"),
            )
            .select_from(Deal)
            .outerjoin(since, since.c.deal_id == Deal.id)
            .where(*scope.deals(), *where)
        )

    won_then = Deal.won_at < changes.c.at
    live_then = or_(Deal.churned_at.is_(None), Deal.churned_at > changes.c.at)
    moved = (
        select(
            Deal.currency,
            month_of(changes.c.at, window.zone).label("month"),
            changes.c.increase,
        )
        .join(changes, changes.c.deal_id == Deal.id)
        .where(*scope.deals(), won_then, live_then, changes.c.at < end)
        .subquery("moved")
    )
    no_month = cast(literal(None), Date)
    return union_all(
        flow(
            "new", month_of(Deal.won_at, window.zone), then(since.c.won), window.covers(Deal.won_at)
        ),
        flow(
            "churned",
            month_of(Deal.churned_at, window.zone),
            then(since.c.churned),
            window.covers(Deal.churned_at),
            Deal.won_at < Deal.churned_at,
        ),
        flow(
            "start",
            no_month,
            then(since.c.start),
            Deal.won_at < start,
            or_(Deal.churned_at.is_(None), Deal.churned_at >= start),
        ),
        select(
            literal("expansion"),
            moved.c.month,
            moved.c.currency,
            func.greatest(moved.c.increase, 0),
        ),
        select(
            literal("contraction"),
            moved.c.month,
            moved.c.currency,
            func.greatest(-moved.c.increase, 0),
        ),
    ).subquery("flows")


def _mrr_months(currency: str, window: Period, rows: Any) -> list[MrrMonth]:
    """Each month's flows and the running MRR (per currency) from the (flow, month,
    currency, amount) sums."""
    amounts: dict[tuple[str, date | None], dict[str, Decimal]] = {}
    for name, month, code, amount in rows:
        amounts.setdefault((name, month), {})[code] = amount
    level = dict(amounts.get(("start", None), {}))
    months = []
    for month in window.months():
        flow = {name: amounts.get((name, month), {}) for name in FLOWS}
        net: dict[str, Decimal] = {}
        for sign, name in ((1, "new"), (1, "expansion"), (-1, "contraction"), (-1, "churned")):
            for code, amount in flow[name].items():
                net[code] = net.get(code, Decimal(0)) + sign * amount
        for code, amount in net.items():
            level[code] = level.get(code, Decimal(0)) + amount
        money = [Money.of(currency, values.items()) for values in (*flow.values(), net, level)]
        months.append(MrrMonth(month, *money))
    return months


def mrr_movements(session: Session, *, actor: User, query: ReportQuery) -> Table[MrrMonth]:
    """MRR movements in each of the 12 months up to the range's last month, and the MRR at
    each month's end (the MRR before them plus the net changes so far)."""
    scope = resolve(session, actor=actor, query=query)
    last = (scope.period.end - timedelta(days=1)).replace(day=1)
    window = Period(add_months(last, 1 - MRR_MONTHS), add_months(last, 1), scope.period.zone)
    flows = _mrr_flows(scope, window)
    rows = session.execute(
        select(flows.c.flow, flows.c.month, flows.c.currency, func.sum(flows.c.amount)).group_by(
            flows.c.flow, flows.c.month, flows.c.currency
        )
    )
    months = _mrr_months(scope.currency, window, rows)
    return Table("mrr", "MRR over the last 12 months", MRR_COLUMNS, months, window, scope.currency)
