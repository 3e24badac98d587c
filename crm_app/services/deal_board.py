"""The deals board of a pipeline: a column per open stage with its totals and first cards,
"load more" for a column, and the stamp open boards poll to notice other people's changes.
Cards are read in position order (see `services.deal` for how positions are kept).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, literal, select, true, tuple_
from sqlmodel import Session

from crm_app.models import Deal, DealStageChange, Pipeline, Stage, StageKind, User, utcnow
from crm_app.services import crud, pipeline
from crm_app.services.deal_fields import MAX_ID, RESOURCE
from crm_app.services.deal_list import Company, Owner, Totals, conditions, sums
from crm_app.services.errors import ValidationFailed
from crm_app.services.listing import ListQuery, decode_cursor, encode_cursor
from crm_app.services.permission import require

PER_COLUMN = 50


@dataclass
class Card:
    """A deal as its board card shows it."""

    id: int
    name: str
    company: str | None
    amount: Decimal | None
    currency: str
    owner: str | None
    expected_close_date: date | None
    days_in_stage: int
    rotting: bool  # idle in its stage for the stage's rotting limit or longer
    position: Decimal
    version: int


@dataclass
class CardPage:
    """Cards of one column in order, and the cursor of the next ones (None at the end)."""

    cards: list[Card]
    next_cursor: str | None


@dataclass
class Column:
    """One open stage of the board: its totals over every matching deal and its first cards."""

    stage: Stage
    totals: Totals
    cards: list[Card]
    next_cursor: str | None


@dataclass
class Board:
    """A pipeline's open stages in order, each with its cards."""

    pipeline_id: int
    columns: list[Column]


def _card_query(stage_filter: Any, where: list[Any], limit: int, after: Any = None) -> Any:
    """Up to `limit` cards per stage in position order: a LATERAL subquery reads each
    column's first cards from the (stage_id, position) index, whatever the column's size."""
    top = (
        select(
            Deal.id,
            Deal.name,
            Deal.account_id,
            Deal.owner_id,
            Deal.amount,
            Deal.currency,
            Deal.expected_close_date,
            Deal.stage_entered_at,
            Deal.position,
            Deal.version,
        )
        .where(Deal.stage_id == Stage.id, *where)
        .order_by(Deal.position, Deal.id)
        .limit(limit)
    )
    if after is not None:
        top = top.where(after)
    card = top.lateral("card")
    return (
        select(
            Stage.id.label("column_id"),
            Stage.rotting_days,
            card,
            Company.name.label("company"),
            Owner.name.label("owner"),
        )
        .select_from(Stage)
        .join(card, true())
        .outerjoin(Company, Company.id == card.c.account_id)
        .outerjoin(Owner, Owner.id == card.c.owner_id)
        .where(stage_filter)
        .order_by(Stage.id, card.c.position, card.c.id)
    )


def _card(row: Any, now: datetime) -> Card:
    days = max(0, (now - row.stage_entered_at).days)
    return Card(
        id=row.id,
        name=row.name,
        company=row.company,
        amount=row.amount,
        currency=row.currency,
        owner=row.owner,
        expected_close_date=row.expected_close_date,
        days_in_stage=days,
        rotting=row.rotting_days is not None and days >= row.rotting_days,
        position=row.position,
        version=row.version,
    )


def _pages(rows: list[Any], limit: int) -> dict[int, CardPage]:
    """Cards grouped by stage, cut at `limit`, with a cursor where more follow."""
    now = utcnow()
    grouped: dict[int, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.column_id, []).append(row)
    pages = {}
    for stage_id, found in grouped.items():
        more = len(found) > limit
        cards = [_card(row, now) for row in found[:limit]]
        cursor = encode_cursor([cards[-1].position, cards[-1].id]) if more else None
        pages[stage_id] = CardPage(cards, cursor)
    return pages


def board(
    session: Session,
    *,
    actor: User,
    pipeline_id: int,
    listq: ListQuery | None = None,
    per_column: int = PER_COLUMN,
) -> Board:
    """The board of a pipeline: per open stage, the count, amount and weighted amount of its
    deals matching the search and filters, and the first `per_column` of them in position
    order. Two queries, whatever the number of deals."""
    listq = listq or ListQuery()
    where = conditions(session, actor, listq)
    crud.get_live(session, Pipeline, pipeline_id, label="pipeline")
    stages = [s for s in pipeline.live_stages(session, pipeline_id) if s.kind == StageKind.open]
    ids = [s.id for s in stages]
    totals: dict[int, Totals] = {i: Totals() for i in ids}
    for stage_id, currency, n, amount, weighted in session.execute(
        sums(Deal.stage_id).where(Deal.stage_id.in_(ids), *where)
    ):
        totals[stage_id].add(currency, n, amount, weighted)
    per_column = max(1, min(int(per_column), 200))
    rows = session.execute(_card_query(Stage.id.in_(ids), where, per_column + 1)).all()
    pages = _pages(rows, per_column)
    empty = CardPage([], None)
    columns = [
        Column(s, totals[s.id], pages.get(s.id, empty).cards, pages.get(s.id, empty).next_cursor)
        for s in stages
    ]
    return Board(pipeline_id, columns)


def column_page(
    session: Session,
    *,
    actor: User,
    stage_id: int,
    cursor: str,
    listq: ListQuery | None = None,
    limit: int = PER_COLUMN,
) -> CardPage:
    """The next cards of one column after `cursor` (a column's `next_cursor`): "load more"."""
    where = conditions(session, actor, listq or ListQuery())
    position, last_id = decode_cursor(cursor, 2)
    try:
        position, last_id = Decimal(str(position)), int(last_id)
        if not position.is_finite() or not 0 < last_id <= MAX_ID:
            raise ValueError(position)
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationFailed.for_field("cursor", "This cursor is invalid or expired.") from None
    after = tuple_(Deal.position, Deal.id) > tuple_(
        literal(position, Deal.position.type), literal(last_id)
    )
    limit = max(1, min(int(limit), 200))
    rows = session.execute(_card_query(Stage.id == stage_id, where, limit + 1, after)).all()
    return _pages(rows, limit).get(stage_id, CardPage([], None))


def board_stamp(session: Session, *, actor: User, pipeline_id: int) -> str:
    """A value that changes whenever what a pipeline's board shows may have: a deal of it is
    added, edited, moved, trashed or restored, a deal moves out of it, or its stages change.
    Boards poll it every few seconds and read themselves again when it differs."""
    require(session, actor, RESOURCE, "read")
    in_pipeline = Deal.pipeline_id == pipeline_id
    stage_ids = select(Stage.id).where(Stage.pipeline_id == pipeline_id)
    row = session.execute(
        select(
            select(func.count()).where(in_pipeline).scalar_subquery(),
            select(func.max(Deal.updated_at)).where(in_pipeline).scalar_subquery(),
            select(func.max(DealStageChange.id))
            .where(DealStageChange.from_stage_id.in_(stage_ids))
            .scalar_subquery(),
            select(func.max(Stage.updated_at))
            .where(Stage.pipeline_id == pipeline_id)
            .scalar_subquery(),
        )
    ).one()
    return "|".join(str(value) for value in row)
