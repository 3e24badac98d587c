"""The stage reports, from the deals' stage history (`DealStageChange`): stage-to-stage
conversion and the time deals spend in each stage. Deals moved only before their history was
recorded (imports, seeds) are absent, except that a deal's first recorded move out of a stage
counts its stay there from its creation (as `deal_report.stage_history` does).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import aliased
from sqlmodel import Session

from crm_app.models import Deal, DealStageChange, Pipeline, Stage, StageKind, User
from crm_app.services.report_rows import Column, Table, sort_rows
from crm_app.services.report_scope import ReportQuery, ReportScope, days, ratio, resolve


def _open_stages(scope: ReportScope) -> Any:
    """The live open stages of the scope's pipeline (else of every live pipeline), with the
    pipeline's name and position, as a subquery."""
    query = (
        select(
            Stage.id,
            Stage.name,
            Stage.position,
            Stage.pipeline_id,
            Pipeline.name.label("pipeline"),
            Pipeline.position.label("pipeline_position"),
        )
        .join(Pipeline, Pipeline.id == Stage.pipeline_id)
        .where(
            Stage.kind == StageKind.open.value,
            Stage.deleted_at.is_(None),
            Pipeline.deleted_at.is_(None),
        )
    )
    if scope.pipeline_id is not None:
        query = query.where(Stage.pipeline_id == scope.pipeline_id)
    return query.subquery("shown")


def _board_order(stages: Any) -> list[Any]:
    return [stages.c.pipeline_position, stages.c.pipeline_id, stages.c.position, stages.c.id]


@dataclass(frozen=True)
class StageConversion:
    """Of the deals that entered an open stage in the period: how many later moved on (into
    a later open stage of the pipeline, or a won stage), and how many later entered a won
    stage, by now."""

    pipeline_id: int
    pipeline: str
    stage_id: int
    stage: str
    entered: int
    advanced: int
    advance_rate: Decimal | None
    won: int
    win_rate: Decimal | None


CONVERSION_COLUMNS = (
    Column("pipeline", "Pipeline"),
    Column("stage", "Stage"),
    Column("entered", "Entered", "int"),
    Column("advanced", "Moved on", "int"),
    Column("advance_rate", "Moved on rate", "ratio"),
    Column("won", "Won", "int"),
    Column("win_rate", "Win rate", "ratio"),
)


def _outcomes(scope: ReportScope) -> Any:
    """Per stage, the deals that entered it in the period (their first entry there), and of
    those how many later moved on (into a later open stage of the pipeline, or a won stage)
    and how many were later won: one pass over the moves since the period's start, where a
    window looks at each deal's later moves."""
    move = DealStageChange
    later = {
        "order_by": (move.changed_at.desc(), move.id.desc()),
        "rows": (None, -1),  # the deal's moves after this one
    }
    moves = (
        select(
            move.deal_id,
            move.to_stage_id.label("stage_id"),
            move.changed_at,
            Stage.position,
            func.bool_or(Stage.kind == StageKind.won.value)
            .over(partition_by=move.deal_id, **later)
            .label("won_later"),
            func.max(case((Stage.kind == StageKind.open.value, Stage.position)))
            .over(partition_by=(move.deal_id, Stage.pipeline_id), **later)
            .label("furthest_later"),
        )
        .join(Stage, Stage.id == move.to_stage_id)
        .join(Deal, Deal.id == move.deal_id)
        .where(move.changed_at >= scope.period.start_at, *scope.deals())
        .subquery("moves")
    )
    entries = (
        select(moves)
        .ext(distinct_on(moves.c.deal_id, moves.c.stage_id))
        .where(moves.c.changed_at < scope.period.end_at)
        .order_by(moves.c.deal_id, moves.c.stage_id, moves.c.changed_at)
        .subquery("entries")
    )
    won = func.coalesce(entries.c.won_later, False)
    moved_on = or_(won, entries.c.furthest_later > entries.c.position)
    return (
        select(
            entries.c.stage_id,
            func.count().label("entered"),
            func.count().filter(moved_on).label("advanced"),
            func.count().filter(won).label("won"),
        )
        .group_by(entries.c.stage_id)
        .subquery("outcomes")
    )


def stage_conversion(
    session: Session, *, actor: User, query: ReportQuery, sort: str = ""
) -> Table[StageConversion]:
    """Per open stage, deals entering it in the period (once each, from the stage history)
    and what became of them by now. Deals without recorded moves (imported) are absent."""
    scope = resolve(session, actor=actor, query=query)
    stages = _open_stages(scope)
    outcomes = _outcomes(scope)
    counts = [func.coalesce(outcomes.c[k], 0) for k in ("entered", "advanced", "won")]
    rows = session.execute(
        select(stages, *counts)
        .outerjoin(outcomes, outcomes.c.stage_id == stages.c.id)
        .order_by(*_board_order(stages))
    )
    ordered = [
        StageConversion(
            pipeline_id,
            pipeline,
            stage_id,
            name,
            entered,
            advanced,
            ratio(advanced, entered),
            won,
            ratio(won, entered),
        )
        for stage_id, name, _, pipeline_id, pipeline, _, entered, advanced, won in rows
    ]
    return Table(
        "stage-conversion",
        "Stage-to-stage conversion",
        CONVERSION_COLUMNS,
        sort_rows(ordered, sort, CONVERSION_COLUMNS, "") if sort else ordered,
        scope.period,
        scope.currency,
        sort=sort,
    )


@dataclass(frozen=True)
class StageTime:
    """The stays in an open stage that ended in the period (the deal moved out): how many,
    and their mean and median length in days."""

    pipeline_id: int
    pipeline: str
    stage_id: int
    stage: str
    stays: int
    average_days: Decimal | None
    median_days: Decimal | None


TIME_COLUMNS = (
    Column("pipeline", "Pipeline"),
    Column("stage", "Stage"),
    Column("stays", "Deals", "int"),
    Column("average_days", "Average days", "days"),
    Column("median_days", "Median days", "days"),
)


def time_in_stage(
    session: Session, *, actor: User, query: ReportQuery, sort: str = ""
) -> Table[StageTime]:
    """Per open stage, how long deals stayed in it, from the stage history: a stay ends
    with a move out of the stage in the period, and began with the deal's move before that,
    else its creation (as `deal_report.stage_history` counts imported deals)."""
    scope = resolve(session, actor=actor, query=query)
    period = scope.period
    move, in_period = DealStageChange, aliased(DealStageChange)
    moved = select(in_period.deal_id).where(period.covers(in_period.changed_at))
    # the move before each one (its stage's entry): the window reads the moves before the
    # period too, of the deals moved in it
    entered = func.lag(move.changed_at).over(
        partition_by=move.deal_id, order_by=(move.changed_at, move.id)
    )
    moves = (
        select(
            move.from_stage_id.label("stage_id"),
            move.changed_at,
            func.coalesce(entered, Deal.created_at).label("entered_at"),
        )
        .join(Deal, Deal.id == move.deal_id)
        .where(move.changed_at < period.end_at, move.deal_id.in_(moved), *scope.deals())
        .subquery("moves")
    )
    length = func.extract("epoch", moves.c.changed_at - moves.c.entered_at) / 86400
    stays = (
        select(moves.c.stage_id, length.label("days"))
        .where(moves.c.stage_id.is_not(None), moves.c.changed_at >= period.start_at)
        .subquery("stays")
    )
    stages = _open_stages(scope)
    rows = session.execute(
        select(
            stages,
            func.count(stays.c.days),
            func.avg(stays.c.days),
            func.percentile_cont(0.5).within_group(stays.c.days),
        )
        .outerjoin(stays, stays.c.stage_id == stages.c.id)
        .group_by(*stages.c)
        .order_by(*_board_order(stages))
    )
    ordered = [
        StageTime(pipeline_id, pipeline, stage_id, name, n, days(mean), days(median))
        for stage_id, name, _, pipeline_id, pipeline, _, n, mean, median in rows
    ]
    return Table(
        "time-in-stage",
        "Average time in each stage",
        TIME_COLUMNS,
        sort_rows(ordered, sort, TIME_COLUMNS, "") if sort else ordered,
        period,
        scope.currency,
        sort=sort,
    )
