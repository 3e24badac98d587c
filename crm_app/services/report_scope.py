"""What a report covers: the period, the period before it, the filters, whose records count,
and how money is added up. Every KPI, chart and report table starts from `resolve`.

The period is a range of days [from, to) in the actor's time zone, turned into UTC bounds; its
previous period has the same length and ends where it starts (whole months shift by whole
months, so March compares with February; other ranges by days).

Who sees what (issue 6): admins see everyone's figures; managers their team's (the people of
the team they belong to or manage, and their own); reps their own figures, and their team's
totals next to them (`ReportScope.team`: sums over the whole team, never a teammate's figures
on their own); viewers, who read every record, see everyone's. The `report.read` permission
lets a role open reports at all. A filter reaching past what the actor sees (another team, an
owner outside it) is refused (Forbidden) rather than silently emptied. Records count for the
team of their owner as the team is today.

Money is never converted and amounts in different currencies are never added together: each
money figure is a `Money`, its amount in the workspace's default currency next to the amounts
in every other currency found. Counts, rates and durations take deals of every currency.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Date, and_, case, cast, func, or_, select, true
from sqlmodel import Session

from crm_app.models import Activity, Deal, Pipeline, Team, User
from crm_app.models.base import utcnow
from crm_app.models.user import Role
from crm_app.services.deal_fields import default_currency
from crm_app.services.deal_list import cents
from crm_app.services.errors import FieldError, Forbidden, ValidationFailed
from crm_app.services.permission import require
from crm_app.services.reminder import zone_of

RESOURCE = "report"
MAX_DAYS = 5 * 366  # a longer range would only make slow, unreadable charts
RATE_PLACES = Decimal("0.0001")
DAY_PLACES = Decimal("0.1")


class Reach(StrEnum):
    """Whose records an actor's reports count."""

    ALL = "all"
    TEAM = "team"
    OWN = "own"


REACH_BY_ROLE = {
    Role.admin: Reach.ALL,
    Role.viewer: Reach.ALL,
    Role.manager: Reach.TEAM,
    Role.rep: Reach.OWN,
}


# --- the period ---------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The first of the month `months` after (or before) the month of `day`."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """Days [start, end) in a time zone."""

    start: date
    end: date
    zone: ZoneInfo

    @property
    def start_at(self) -> datetime:
        """The first moment of the period, in UTC."""
        return _midnight(self.start, self.zone)

    @property
    def end_at(self) -> datetime:
        """The first moment after the period, in UTC."""
        return _midnight(self.end, self.zone)

    @property
    def days(self) -> int:
        """How many days it spans."""
        return (self.end - self.start).days

    @property
    def whole_months(self) -> int:
        """How many months it spans when it runs from a first of the month to another; else 0."""
        if self.start.day != 1 or self.end.day != 1:
            return 0
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month

    def previous(self) -> Period:
        """The period of the same length just before: as many months for whole months, else
        as many days."""
        months = self.whole_months
        if months:
            return Period(add_months(self.start, -months), self.start, self.zone)
        return Period(self.start - timedelta(days=self.days), self.start, self.zone)

    def snapshot_at(self) -> datetime:
        """When figures that are a state rather than a flow (MRR, open pipeline) are measured:
        the end of the period, or now for a period still running."""
        return min(self.end_at, utcnow())

    def covers(self, column: Any) -> ColumnElement[bool]:
        """The condition that a timestamp column falls in the period."""
        return and_(column >= self.start_at, column < self.end_at)

    def months(self) -> list[date]:
        """The first day of each month the period touches, in order."""
        first, found = self.start.replace(day=1), []
        while first < self.end:
            found.append(first)
            first = add_months(first, 1)
        return found


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def local(column: Any, zone: ZoneInfo) -> Any:
    """A timestamp column as wall-clock time in `zone` (for grouping by local day or month)."""
    return func.timezone(zone.key, column)


def month_of(column: Any, zone: ZoneInfo) -> Any:
    """A timestamp column's month (its first day) in `zone`."""
    return cast(func.date_trunc("month", local(column, zone)), Date)


PRESETS = (
    "this_month",
    "last_month",
    "this_quarter",
    "last_quarter",
    "this_year",
    "last_12_months",
)


def preset_range(preset: str, today: date) -> tuple[date, date]:
    """[from, to) of a range picker preset; `last_12_months` ends with the current month."""
    month = today.replace(day=1)
    quarter = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    ranges = {
        "this_month": (month, add_months(month, 1)),
        "last_month": (add_months(month, -1), month),
        "this_quarter": (quarter, add_months(quarter, 3)),
        "last_quarter": (add_months(quarter, -3), quarter),
        "this_year": (date(today.year, 1, 1), date(today.year + 1, 1, 1)),
        "last_12_months": (add_months(month, -11), add_months(month, 1)),
    }
    if preset not in ranges:
        raise ValidationFailed.for_field("range", f"Pick one of: {', '.join(PRESETS)}.")
    return ranges[preset]


def today_for(actor: User) -> date:
    """Today in the actor's time zone."""
    return utcnow().astimezone(zone_of(actor.timezone)).date()


# --- money --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Money:
    """An amount in the workspace's default currency (None for an average of nothing), and
    the amounts in other currencies, never converted or added to it."""

    currency: str
    amount: Decimal | None
    others: dict[str, Decimal] = field(default_factory=dict)

    @classmethod
    def of(
        cls, currency: str, rows: Iterable[tuple[str, Decimal | None]], *, empty: Any = Decimal(0)
    ) -> Money:
        """From (currency, amount) pairs of a GROUP BY; `empty` when the default is absent."""
        found = {c: cents(v) for c, v in rows if v is not None}
        others = {c: found[c] for c in sorted(found) if c != currency}
        return cls(currency, found.get(currency, cents(empty)), others)

    def minus(self, other: Money) -> Money:
        """The difference, currency by currency (a missing amount counts as 0)."""
        codes = sorted((self.others.keys() | other.others.keys()) - {self.currency})
        zero = Decimal("0.00")
        return Money(
            self.currency,
            (self.amount or zero) - (other.amount or zero),
            {c: self.others.get(c, zero) - other.others.get(c, zero) for c in codes},
        )

    def get(self, currency: str) -> Decimal | None:
        """The amount in one currency."""
        return self.amount if currency == self.currency else self.others.get(currency)


def ratio(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    """part / whole to four places (0.6667); None when whole is 0."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def days(value: Any) -> Decimal | None:
    """A number of days to one decimal."""
    return None if value is None else Decimal(value).quantize(DAY_PLACES, rounding=ROUND_HALF_UP)


# --- the query and the scope ------------------------------------------------------------------


@dataclass(frozen=True)
class ReportQuery:
    """What a caller asks for: days [date_from, date_to) in their time zone, or a preset
    range of PRESETS (this month when neither), and optional filters."""

    date_from: date | None = None
    date_to: date | None = None
    preset: str | None = None
    pipeline_id: int | None = None
    owner_id: int | None = None
    team_id: int | None = None


@dataclass(frozen=True)
class ReportScope:
    """A resolved query: the period, whose records count (`owners` is a SELECT of user ids,
    None for everyone's), the pipeline, the currency money is shown in, and for a rep the
    scope of their team's totals."""

    actor_id: int
    reach: Reach
    period: Period
    currency: str
    pipeline_id: int | None = None
    owners: Any = None
    team: ReportScope | None = None

    def owned(self, column: Any) -> ColumnElement[bool]:
        """The condition that a record's owner `column` counts."""
        return true() if self.owners is None else column.in_(self.owners)

    def deals(self, deal: Any = Deal) -> list[ColumnElement[bool]]:
        """Conditions on `deals` (or an alias of it): live, owned by someone counted, in the
        pipeline."""
        found = [deal.deleted_at.is_(None), self.owned(deal.owner_id)]
        if self.pipeline_id is not None:
            found.append(deal.pipeline_id == self.pipeline_id)
        return found


def _members(*team_ids: int) -> Any:
    return select(User.id).where(User.team_id.in_(team_ids))


def _managed_teams(session: Session, actor: User) -> set[int]:
    """The teams a manager leads or belongs to."""
    led = session.execute(
        select(Team.id).where(Team.manager_id == actor.id, Team.deleted_at.is_(None))
    ).scalars()
    return set(led) | ({actor.team_id} if actor.team_id else set())


def _period(actor: User, query: ReportQuery) -> Period:
    zone = zone_of(actor.timezone)
    start, end = query.date_from, query.date_to
    if query.preset is not None and (start or end):
        raise ValidationFailed.for_field("range", "Give a preset range or dates, not both.")
    if start is None and end is None:
        start, end = preset_range(query.preset or "this_month", today_for(actor))
    errors = []
    if start is None:
        errors.append(FieldError("from", "Give the first day of the range."))
    if end is None:
        errors.append(FieldError("to", "Give the day after the range."))
    if start and end and end <= start:
        errors.append(FieldError("to", "The range must end after it starts."))
    elif start and end and (end - start).days > MAX_DAYS:
        errors.append(FieldError("to", "Pick a range of at most five years."))
    if errors:
        raise ValidationFailed("Please correct the date range.", errors)
    return Period(start, end, zone)


def _check_ids(session: Session, query: ReportQuery) -> None:
    errors = []
    for name, model, value in (
        ("pipeline_id", Pipeline, query.pipeline_id),
        ("owner_id", User, query.owner_id),
        ("team_id", Team, query.team_id),
    ):
        if value is None:
            continue
        record = session.get(model, value) if 0 < value < 2**31 else None
        if record is None or getattr(record, "deleted_at", None) is not None:
            errors.append(FieldError(name, f"Pick an existing {name.removesuffix('_id')}."))
    if errors:
        raise ValidationFailed("Some filters are invalid.", errors)


def _owners(session: Session, actor: User, reach: Reach, query: ReportQuery) -> Any:
    """The SELECT of the owners counted (None: everyone), after checking the filters stay
    within what the actor sees."""
    teams = _managed_teams(session, actor) if reach is Reach.TEAM else set()
    owner = session.get(User, query.owner_id) if query.owner_id else None
    if reach is Reach.OWN:
        allowed_owner = owner is None or owner.id == actor.id
        allowed_team = query.team_id in (None, actor.team_id)
    elif reach is Reach.TEAM:
        allowed_owner = owner is None or owner.id == actor.id or owner.team_id in teams
        allowed_team = query.team_id is None or query.team_id in teams
    else:
        allowed_owner = allowed_team = True
    if not (allowed_owner and allowed_team):
        raise Forbidden("You can see reports on your own figures and your team's only.")
    if owner is not None:
        found = select(User.id).where(User.id == owner.id)
        return found if query.team_id is None else found.where(User.team_id == query.team_id)
    if reach is Reach.OWN:
        return select(User.id).where(User.id == actor.id)
    if query.team_id is not None:
        return _members(query.team_id)
    if reach is Reach.TEAM:
        return select(User.id).where(or_(User.id == actor.id, User.team_id.in_(teams or {-1})))
    return None


def resolve(session: Session, *, actor: User, query: ReportQuery) -> ReportScope:
    """Check the actor may read reports and the query is valid; the scope to report on."""
    require(session, actor, RESOURCE, "read")
    period = _period(actor, query)
    _check_ids(session, query)
    reach = REACH_BY_ROLE.get(Role(actor.role), Reach.OWN)
    scope = ReportScope(
        actor_id=actor.id or 0,
        reach=reach,
        period=period,
        currency=default_currency(session),
        pipeline_id=query.pipeline_id,
        owners=_owners(session, actor, reach, query),
    )
    if reach is Reach.OWN and actor.team_id is not None:
        team = replace(scope, reach=Reach.TEAM, owners=_members(actor.team_id))
        scope = replace(scope, team=team)
    return scope


def activity_at() -> Any:
    """When an activity counts: when it was done (calls, e-mails and notes when logged,
    tasks and meetings when ticked off); a note loaded without a done time, when created."""
    return func.coalesce(Activity.done_at, case((Activity.kind == "note", Activity.created_at)))
