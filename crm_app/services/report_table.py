"""The report tables of `/reports`: deals won and lost by owner, lost reasons, stage-to-stage
conversion and time in each stage (`report_stage`), the forecast by expected close month, and
rep activity.

Each takes the same query (range, pipeline, owner, team; see `report_scope`) and a sort
("col,-col" over the table's sortable columns) and returns a `Table` with a total row where
its rows add up. The tables broken down by person list everyone the actor sees who could own
records (active, not viewers), with zeros, and give a rep their team's total row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, and_, cast, func, or_, select, tuple_
from sqlmodel import Session

from crm_app.models import (
    Activity,
    ActivityKind,
    Deal,
    Stage,
    StageKind,
    User,
)
from crm_app.models.user import Role
from crm_app.services import report_stage
from crm_app.services.deal_list import WEIGHTED
from crm_app.services.report_rows import (
    ALL_CURRENCIES,
    Column,
    Group,
    ReportSpec,
    Table,
    by_currency,
    groups,
    sort_rows,
)
from crm_app.services.report_scope import (
    Money,
    ReportQuery,
    ReportScope,
    activity_at,
    ratio,
    resolve,
)

TOTAL, TEAM_TOTAL, NO_OWNER = "Total", "Team total", "No owner"


def _people(session: Session, scope: ReportScope, owner_ids: set[int]) -> dict[int, str]:
    """Names of the people a by-person table lists: those the scope counts who could own
    records (active, not viewers), and whoever else owns a counted record."""
    could_own = and_(scope.owned(User.id), User.is_active, User.role != Role.viewer.value)
    rows = session.execute(
        select(User.id, User.name)
        .where(or_(could_own, User.id.in_(owner_ids or {-1})))
        .order_by(User.name, User.id)
    )
    return {user_id: name for user_id, name in rows}


# --- deals won and lost by owner ------------------------------------------------------------


@dataclass(frozen=True)
class OwnerResult:
    """One owner's deals closed in the period: won and lost counts and amounts, win rate."""

    owner_id: int | None
    owner: str
    won: int
    lost: int
    win_rate: Decimal | None
    won_amount: Money
    lost_amount: Money


OWNER_COLUMNS = (
    Column("owner", "Owner"),
    Column("won", "Won", "int"),
    Column("lost", "Lost", "int"),
    Column("win_rate", "Win rate", "ratio"),
    Column("won_amount", "Won amount", "money"),
    Column("lost_amount", "Lost amount", "money"),
)


def _won_lost(session: Session, scope: ReportScope) -> dict[Any, Group]:
    """Groups by owner id, and the total of everyone under "total"."""
    won = Deal.won_at.is_not(None)
    rows = session.execute(
        select(
            ALL_CURRENCIES,
            func.grouping(Deal.owner_id).label("everyone"),
            Deal.owner_id,
            Deal.currency,
            func.count().filter(won).label("won"),
            func.count().filter(~won).label("lost"),
            func.sum(Deal.amount).filter(won).label("won_amount"),
            func.sum(Deal.amount).filter(~won).label("lost_amount"),
        )
        .where(scope.period.covers(Deal.closed_at), *scope.deals())
        .group_by(by_currency(Deal.owner_id, total=True))
    )
    return groups(rows, lambda r: "total" if r.everyone else r.owner_id)


def _owner_result(owner_id: int | None, name: str, group: Any, currency: str) -> OwnerResult:
    won, lost = group.count("won"), group.count("lost")
    return OwnerResult(
        owner_id,
        name,
        won,
        lost,
        ratio(won, won + lost),
        group.money("won_amount", currency),
        group.money("lost_amount", currency),
    )


def won_lost_by_owner(
    session: Session, *, actor: User, query: ReportQuery, sort: str = ""
) -> Table[OwnerResult]:
    """Deals closed in the period per owner (everyone the actor sees, with zeros)."""
    scope = resolve(session, actor=actor, query=query)
    found = _won_lost(session, scope)
    total = found.pop("total", Group())
    people = _people(session, scope, {k for k in found if k is not None})
    rows = [
        _owner_result(owner_id, name, found.get(owner_id, Group()), scope.currency)
        for owner_id, name in people.items()
    ]
    if None in found:
        rows.append(_owner_result(None, NO_OWNER, found[None], scope.currency))
    team = None
    if scope.team is not None:
        team_total = _won_lost(session, scope.team).get("total", Group())
        team = _owner_result(None, TEAM_TOTAL, team_total, scope.currency)
    return Table(
        "won-lost-by-owner",
        "Deals won and lost by owner",
        OWNER_COLUMNS,
        sort_rows(rows, sort, OWNER_COLUMNS, "-won_amount,owner"),
        scope.period,
        scope.currency,
        total=_owner_result(None, TOTAL, total, scope.currency),
        team_total=team,
        sort=sort or "-won_amount,owner",
    )


# --- lost reasons ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LostReason:
    """Deals lost in the period for one reason (None: none given): how many, their amounts,
    and their share of the period's lost deals."""

    reason: str | None
    deals: int
    amount: Money
    share: Decimal | None


REASON_COLUMNS = (
    Column("reason", "Reason"),
    Column("deals", "Deals", "int"),
    Column("amount", "Amount", "money"),
    Column("share", "Share", "ratio"),
)


def lost_reasons(
    session: Session, *, actor: User, query: ReportQuery, sort: str = ""
) -> Table[LostReason]:
    """Deals lost in the period by reason, most first."""
    scope = resolve(session, actor=actor, query=query)
    rows = session.execute(
        select(
            ALL_CURRENCIES,
            func.grouping(Deal.lost_reason).label("every_reason"),
            Deal.lost_reason,
            Deal.currency,
            func.count().label("deals"),
            func.sum(Deal.amount).label("amount"),
        )
        .where(scope.period.covers(Deal.closed_at), Deal.won_at.is_(None), *scope.deals())
        .group_by(by_currency(Deal.lost_reason, total=True))
    )
    found = groups(rows, lambda r: ("total",) if r.every_reason else (r.lost_reason,))
    total = found.pop(("total",), Group())
    everyone = total.count("deals")

    def line(reason: str | None, group: Group) -> LostReason:
        n = group.count("deals")
        return LostReason(reason, n, group.money("amount", scope.currency), ratio(n, everyone))

    default = "-deals,reason"
    return Table(
        "lost-reasons",
        "Lost reasons",
        REASON_COLUMNS,
        sort_rows([line(k[0], g) for k, g in found.items()], sort, REASON_COLUMNS, default),
        scope.period,
        scope.currency,
        total=line(TOTAL, total),
        sort=sort or default,
    )


# --- the forecast ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ForecastMonth:
    """The open deals expected to close in one month: how many, their amounts if all are
    won (best case), and weighted by their probabilities."""

    month: date | None  # None on the total row
    deals: int
    best_case: Money
    weighted: Money


FORECAST_COLUMNS = (
    Column("month", "Expected close month", "date"),
    Column("deals", "Deals", "int"),
    Column("best_case", "Best case", "money"),
    Column("weighted", "Weighted", "money"),
)


def forecast(
    session: Session, *, actor: User, query: ReportQuery, sort: str = ""
) -> Table[ForecastMonth]:
    """Open deals by expected close month, over the months of the range (every month, 0
    when none; deals without a date are left out). The weighting is the deal list's and
    `deal_report.forecast`'s; this adds the best case, the team filter and the reach."""
    scope = resolve(session, actor=actor, query=query)
    period = scope.period
    month = cast(func.date_trunc("month", Deal.expected_close_date), Date).label("month")
    rows = session.execute(
        select(
            ALL_CURRENCIES,
            month,
            Deal.currency,
            func.count().label("deals"),
            func.sum(Deal.amount).label("best_case"),
            func.sum(WEIGHTED).label("weighted"),
        )
        .join(Stage, Stage.id == Deal.stage_id)
        .where(
            Stage.kind == StageKind.open.value,
            Deal.expected_close_date >= period.start,
            Deal.expected_close_date < period.end,
            *scope.deals(),
        )
        .group_by(by_currency(month, total=True))
    )
    found = groups(rows, lambda r: r.month if r.month is not None else "total")
    empty = Group()

    def line(key: Any, group: Group) -> ForecastMonth:
        best, weighted = (group.money(k, scope.currency) for k in ("best_case", "weighted"))
        return ForecastMonth(key, group.count("deals"), best, weighted)

    months = [line(m, found.get(m, empty)) for m in period.months()]
    total = line(None, found.get("total", empty))
    return Table(
        "forecast",
        "Forecast by expected close month",
        FORECAST_COLUMNS,
        sort_rows(months, sort, FORECAST_COLUMNS, "month"),
        period,
        scope.currency,
        total=total,
        sort=sort or "month",
    )


# --- rep activity ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RepActivity:
    """What one person did in the period (see `report_scope.activity_at`): calls, e-mails,
    meetings and tasks done, notes written, and all of them."""

    owner_id: int | None
    owner: str
    calls: int
    emails: int
    meetings: int
    tasks_done: int
    notes: int
    total: int


ACTIVITY_COLUMNS = (
    Column("owner", "Owner"),
    Column("calls", "Calls", "int"),
    Column("emails", "E-mails", "int"),
    Column("meetings", "Meetings", "int"),
    Column("tasks_done", "Tasks done", "int"),
    Column("notes", "Notes", "int"),
    Column("total", "Total", "int"),
)
KIND_COLUMNS = (
    ("calls", ActivityKind.call),
    ("emails", ActivityKind.email),
    ("meetings", ActivityKind.meeting),
    ("tasks_done", ActivityKind.task),
    ("notes", ActivityKind.note),
)


def _activity_counts(session: Session, scope: ReportScope) -> dict[Any, Any]:
    """Counts by kind per owner id, and everyone's under "total"."""
    at = activity_at()
    rows = session.execute(
        select(
            func.grouping(Activity.owner_id).label("everyone"),
            Activity.owner_id,
            *[func.count().filter(Activity.kind == k.value).label(n) for n, k in KIND_COLUMNS],
            func.count().label("total"),
        )
        .where(
            Activity.deleted_at.is_(None),
            scope.owned(Activity.owner_id),
            scope.period.covers(at),
        )
        .group_by(func.grouping_sets(tuple_(Activity.owner_id), tuple_()))
    )
    return {"total" if r.everyone else r.owner_id: r for r in rows}


def _rep_activity(owner_id: int | None, name: str, row: Any) -> RepActivity:
    counts = [getattr(row, n, 0) if row is not None else 0 for n, _ in KIND_COLUMNS]
    return RepActivity(owner_id, name, *counts, row.total if row is not None else 0)


def rep_activity(
    session: Session, *, actor: User, query: ReportQuery, sort: str = ""
) -> Table[RepActivity]:
    """Activities per person in the period (everyone the actor sees, with zeros). A rep's
    line and their team's total come from one pass over the team's activities."""
    scope = resolve(session, actor=actor, query=query)
    found = _activity_counts(session, scope.team or scope)
    total = found.pop("total", None)
    team = None
    if scope.team is not None:
        team = _rep_activity(None, TEAM_TOTAL, total)
        found = {k: v for k, v in found.items() if k == scope.actor_id}
        total = found.get(scope.actor_id)
    people = _people(session, scope, {k for k in found if k is not None})
    rows = [_rep_activity(i, name, found.get(i)) for i, name in people.items()]
    if None in found:
        rows.append(_rep_activity(None, NO_OWNER, found[None]))
    default = "-total,owner"
    return Table(
        "rep-activity",
        "Rep activity",
        ACTIVITY_COLUMNS,
        sort_rows(rows, sort, ACTIVITY_COLUMNS, default),
        scope.period,
        scope.currency,
        total=_rep_activity(None, TOTAL, total),
        team_total=team,
        sort=sort or default,
    )


TABLES = {
    "won-lost-by-owner": ReportSpec(won_lost_by_owner, OwnerResult),
    "lost-reasons": ReportSpec(lost_reasons, LostReason),
    "stage-conversion": ReportSpec(report_stage.stage_conversion, report_stage.StageConversion),
    "time-in-stage": ReportSpec(report_stage.time_in_stage, report_stage.StageTime),
    "forecast": ReportSpec(forecast, ForecastMonth),
    "rep-activity": ReportSpec(rep_activity, RepActivity),
}
