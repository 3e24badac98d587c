"""What a deal's history and the open pipeline add up to: the stages a deal went through
with the time spent in each, and the forecast of weighted amounts by expected close month.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Date, cast, func, select
from sqlmodel import Session

from crm_app.models import Deal, DealStageChange, Stage, StageKind, User, utcnow
from crm_app.services.deal import get_deal
from crm_app.services.deal_list import WEIGHTED, Owner, cents, conditions
from crm_app.services.listing import ListQuery


@dataclass
class StageVisit:
    """A stretch of time a deal spent in one stage; `left_at` is None for the current one."""

    stage_id: int | None
    stage: str
    kind: str
    entered_at: datetime
    left_at: datetime | None
    duration: timedelta


def stage_history(session: Session, *, actor: User, deal_id: int) -> list[StageVisit]:
    """The stages a deal went through, oldest first, with the time spent in each. Deals made
    before their first move was recorded (imports, seeds) start in the first move's source
    stage at their creation."""
    deal = get_deal(session, actor=actor, deal_id=deal_id)
    changes = session.execute(
        select(DealStageChange)
        .where(DealStageChange.deal_id == deal.id)
        .order_by(DealStageChange.changed_at, DealStageChange.id)
    ).scalars()
    stretches: list[tuple[int | None, datetime, datetime | None]] = []
    for change in changes:
        if stretches:
            stage_id, entered, _ = stretches[-1]
            stretches[-1] = (stage_id, entered, change.changed_at)
        elif change.from_stage_id is not None:
            stretches.append((change.from_stage_id, deal.created_at, change.changed_at))
        stretches.append((change.to_stage_id, change.changed_at, None))
    if not stretches:
        stretches.append((deal.stage_id, deal.created_at, None))
    stages = {
        s.id: s
        for s in session.execute(
            select(Stage).where(Stage.id.in_({s for s, _, _ in stretches}))
        ).scalars()
    }
    now = utcnow()
    visits = []
    for stage_id, entered, left in stretches:
        stage = stages.get(stage_id)
        name, kind = (stage.name, str(stage.kind)) if stage else ("(deleted stage)", "")
        visits.append(StageVisit(stage_id, name, kind, entered, left, (left or now) - entered))
    return visits


# --- the forecast ------------------------------------------------------------------------------


@dataclass
class ForecastLine:
    """One owner's (or everyone's) weighted amounts of open deals by expected close month
    (the first of the month; None for deals without a date), each by currency."""

    owner_id: int | None
    owner: str
    months: dict[date | None, dict[str, Decimal]] = field(default_factory=dict)
    total: dict[str, Decimal] = field(default_factory=dict)

    def add(self, month: date | None, currency: str, weighted: Decimal) -> None:
        """Add a weighted amount to a month and to the line's total."""
        cell = self.months.setdefault(month, {})
        cell[currency] = cell.get(currency, Decimal(0)) + weighted
        self.total[currency] = self.total.get(currency, Decimal(0)) + weighted


@dataclass
class Forecast:
    """The months that have open deals (dated ones in order, then None), a line per owner
    by name, and the line of everyone."""

    months: list[date | None]
    owners: list[ForecastLine]
    total: ForecastLine


def forecast(session: Session, *, actor: User, listq: ListQuery | None = None) -> Forecast:
    """Weighted amounts of the open deals matching the search and filters (e.g. a pipeline,
    an owner, a close date range), by expected close month, per owner and in total."""
    where = conditions(session, actor, listq or ListQuery())
    month = cast(func.date_trunc("month", Deal.expected_close_date), Date)
    rows = session.execute(
        select(month, Deal.owner_id, Owner.name, Deal.currency, func.sum(WEIGHTED))
        .join(Stage, Stage.id == Deal.stage_id)
        .outerjoin(Owner, Owner.id == Deal.owner_id)
        .where(Stage.kind == StageKind.open.value, Deal.amount.is_not(None), *where)
        .group_by(month, Deal.owner_id, Owner.name, Deal.currency)
    )
    lines: dict[int | None, ForecastLine] = {}
    total = ForecastLine(None, "Total")
    for when, owner_id, owner, currency, weighted in rows:
        line = lines.setdefault(owner_id, ForecastLine(owner_id, owner or "No owner"))
        line.add(when, currency, weighted)
        total.add(when, currency, weighted)
    for line in (*lines.values(), total):
        line.months = {m: {c: cents(v) for c, v in cell.items()} for m, cell in line.months.items()}
        line.total = {c: cents(v) for c, v in line.total.items()}
    months = sorted(total.months, key=lambda m: (m is None, m or date.min))
    owners = sorted(lines.values(), key=lambda line: (line.owner.lower(), line.owner_id or 0))
    return Forecast(months, owners, total)
