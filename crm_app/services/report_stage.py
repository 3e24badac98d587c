"""The stage reports, from the deals' stage history (`DealStageChange`): stage-to-stage
conversion and the time deals spend in each stage. Deals moved only before their history was
recorded (imports, seeds) are absent, except that a deal's first recorded move out of a stage
counts its stay there from its creation (as `deal_report.stage_history` does).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, tuple_
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


def stage_conversion(
    session: Session, *, actor: User, query: ReportQuery, sort: str = ""
) -> Table[StageConversion]:
    """Per open stage, deals entering it in the period (once each, from the stage history)
    and what became of them. Deals without recorded moves (imported) are not counted."""
    scope = resolve(session, actor=actor, query=query)
    period = scope.period
    entries = (
        select(
            DealStageChange.deal_id,
            DealStageChange.to_stage_id.label("stage_id"),
            func.min(DealStageChange.changed_at).label("at"),
        )
        .join(Deal, Deal.id == DealStageChange.deal_id)
        .where(
            period.covers(DealStageChange.changed_at),
            *scope.deals(),
        )
        .group_by(DealStageChange.deal_id, DealStageChange.to_stage_id)
        .subquery("entries")
    )
    stages = _open_stages(scope)
    later, later_stage = aliased(DealStageChange), aliased(Stage)
    moves = select(later.id).join(later_stage, later_stage.id == later.to_stage_id)
    moves = moves.where(later.deal_id == entries.c.deal_id, later.changed_at > entries.c.at)
    forward = and_(
        later_stage.kind == StageKind.open.value,
        later_stage.pipeline_id == stages.c.pipeline_id,
        later_stage.position > stages.c.position,
    )
    won = later_stage.kind == StageKind.won.value
    rows = session.execute(
        select(
            stages,
            func.count(entries.c.deal_id).label("entered"),
            func.count(entries.c.deal_id).filter(exists(moves.where(or_(forward, won)))),
            func.count(entries.c.deal_id).filter(exists(moves.where(won))),
        )
        .outerjoin(entries, entries.c.stage_id == stages.c.id)
        .group_by(*stages.c)
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
            won_count,
            ratio(won_count, entered),
        )
        for stage_id, name, _, pipeline_id, pipeline, _, entered, advanced, won_count in rows
    ]
    return Table(
        "stage-conversion",
        "Stage-to-stage conversion",
        CONVERSION_COLUMNS,
        sort_rows(ordered, sort, CONVERSION_COLUMNS, "") if sort else ordered,
        period,
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
    move, earlier = DealStageChange, aliased(DealStageChange)
    entered = (
        select(func.max(earlier.changed_at))
        .where(
            earlier.deal_id == move.deal_id,
            tuple_(earlier.changed_at, earlier.id) < tuple_(move.changed_at, move.id),
        )
        .correlate(move)
        .scalar_subquery()
    )
    length = func.extract("epoch", move.changed_at - func.coalesce(entered, Deal.created_at))
    stays = (
        select(move.from_stage_id.label("stage_id"), (length / 86400).label("days"))
        .join(Deal, Deal.id == move.deal_id)
        .where(
            move.from_stage_id.is_not(None),
            period.covers(move.changed_at),
            *scope.deals(),
        )
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
