"""Deals: create, read, change, move, trash and restore one deal, and where it sits on the
board. Field validation is in `deal_fields`; the list and its totals in `deal_list`; the board
in `deal_board`; stage history and the forecast in `deal_report`; the contacts involved in
`deal_contact`.

A deal's place on the board is its stage and a fractional `position` in that stage's column:
a card dropped between two others takes the midpoint of theirs, so a move writes one row; only
when two neighbours get too close is the column renumbered, in one statement. Moves into a
column are serialised by a lock on that column, taken before the deal's row lock so two moves
cannot wait on each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, literal, select, tuple_, update
from sqlmodel import Session

from crm_app.models import Deal, DealStageChange, Stage, StageKind, User, utcnow
from crm_app.services import crud, custom_value, pipeline
from crm_app.services.deal_fields import (
    EDITABLE,
    LABEL,
    MAX_ID,
    PLACEMENT,
    POSITION_PLACES,
    RESOURCE,
    STATUSES,
    clean,
    default_currency,
    parse_id,
)
from crm_app.services.errors import ValidationFailed
from crm_app.services.permission import require

__all__ = [
    "EDITABLE",
    "LABEL",
    "RESOURCE",
    "STATUSES",
    "Slot",
    "create_deal",
    "delete_deal",
    "get_deal",
    "move_deal",
    "restore_deal",
    "update_deal",
]

STEP = Decimal(1)  # between cards after a renumbering, and past either end of a column
GAP = Decimal("1e-6")  # neighbours closer than this get the column renumbered


# --- placing a deal: its stage, the won/lost rules, its position -------------------------------


@dataclass(frozen=True)
class Slot:
    """Where in its column a deal goes: just before or after another deal of that column, at
    an explicit position, or (none given) where it is, or last when it changes column."""

    before_id: int | None = None
    after_id: int | None = None
    position: Decimal | None = None

    @property
    def given(self) -> bool:
        """Whether the caller said where."""
        return any(v is not None for v in (self.before_id, self.after_id, self.position))


def _target_stage(session: Session, deal: Deal | None, values: dict[str, Any]) -> Stage:
    """The stage a deal goes to: the one named (which must belong to the pipeline named), the
    first open stage of a newly named pipeline, its current one, or the default pipeline's
    first open stage for a new deal."""
    if "stage_id" in values:
        stage = pipeline.live_stage(session, values["stage_id"])
        if values.get("pipeline_id", stage.pipeline_id) != stage.pipeline_id:
            raise ValidationFailed.for_field("stage_id", "Pick a stage of the chosen pipeline.")
        return stage
    if deal is not None and values.get("pipeline_id", deal.pipeline_id) == deal.pipeline_id:
        return session.get(Stage, deal.stage_id)
    pipeline_id = values.get("pipeline_id") or pipeline.default_pipeline(session).id
    return pipeline.first_open_stage(session, pipeline_id)


def _closing(
    session: Session, deal: Deal | None, stage: Stage, values: dict[str, Any]
) -> dict[str, Any]:
    """The fields that follow from the deal entering `stage`: closing dates on entering a won
    or lost stage, a lost reason (required) in a lost stage, none of them in an open one."""
    before = StageKind(session.get(Stage, deal.stage_id).kind) if deal is not None else None
    kind = StageKind(stage.kind)
    reason = values.get("lost_reason")
    now = utcnow()
    out: dict[str, Any] = {"stage_id": stage.id, "pipeline_id": stage.pipeline_id}
    if deal is None or deal.stage_id != stage.id:
        out["stage_entered_at"] = now
    if kind is not StageKind.lost and reason is not None:
        raise ValidationFailed.for_field("lost_reason", "Only a lost deal has a lost reason.")
    if kind is StageKind.open:
        return {**out, "closed_at": None, "won_at": None, "lost_reason": None}
    if kind is StageKind.won:
        out["lost_reason"] = None
        if before is not StageKind.won:
            out |= {"closed_at": now, "won_at": now}
        return out
    if "lost_reason" not in values and before is StageKind.lost and deal is not None:
        reason = deal.lost_reason
    if reason is None:
        raise ValidationFailed.for_field("lost_reason", "Pick why the deal was lost.")
    out["lost_reason"] = reason
    if before is not StageKind.lost:
        out |= {"closed_at": now, "won_at": None}
    return out


def _lock_column(session: Session, stage_id: int) -> None:
    """Serialise moves into one column, so two cards cannot take positions computed from
    neighbours a concurrent renumbering is changing. Re-taking it is free."""
    session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"deal_column:{stage_id}"))))


def _live_in(stage_id: int, own_id: int | None) -> list[Any]:
    """Conditions for the other live cards of a column."""
    found = [Deal.stage_id == stage_id, Deal.deleted_at.is_(None)]
    return found + ([Deal.id != own_id] if own_id is not None else [])


def _bounds(
    session: Session, stage_id: int, own_id: int | None, slot: Slot
) -> tuple[Decimal | None, Decimal | None]:
    """The positions of the cards just before and just after the slot (None: column end)."""
    anchor_id = slot.before_id if slot.before_id is not None else slot.after_id
    field_name = "before_id" if slot.before_id is not None else "after_id"
    anchor = session.execute(
        select(Deal.id, Deal.position).where(Deal.id == anchor_id, *_live_in(stage_id, own_id))
    ).first()
    if anchor is None:
        raise ValidationFailed.for_field(field_name, "Pick another deal of the target stage.")
    key = tuple_(Deal.position, Deal.id)
    at = tuple_(literal(anchor.position, Deal.position.type), literal(anchor.id))
    query = select(Deal.position).where(*_live_in(stage_id, own_id)).limit(1)
    if slot.before_id is not None:
        query = query.where(key < at).order_by(Deal.position.desc(), Deal.id.desc())
        return session.execute(query).scalar(), anchor.position
    query = query.where(key > at).order_by(Deal.position, Deal.id)
    return anchor.position, session.execute(query).scalar()


def _between(low: Decimal | None, high: Decimal | None) -> Decimal:
    if low is None and high is None:
        middle = STEP
    elif low is None:
        middle = high - STEP
    elif high is None:
        middle = low + STEP
    else:
        middle = (low + high) / 2
    return middle.quantize(POSITION_PLACES, rounding=ROUND_HALF_UP)


def _renumber_column(session: Session, stage_id: int) -> None:
    """Positions 1, 2, 3... for the live cards of a column in their order, in one statement.
    Versions and update times stay: nobody's edit of these deals should become stale."""
    ranked = (
        select(Deal.id, func.row_number().over(order_by=(Deal.position, Deal.id)).label("rank"))
        .where(*_live_in(stage_id, None))
        .subquery()
    )
    session.execute(
        update(Deal)
        .where(Deal.id == ranked.c.id)
        .values(position=ranked.c.rank, updated_at=Deal.updated_at),
        execution_options={"synchronize_session": False},
    )
    for record in list(session.identity_map.values()):
        if isinstance(record, Deal) and record.stage_id == stage_id:
            session.expire(record, ["position"])


def _slot_position(session: Session, deal: Deal | None, stage_id: int, slot: Slot) -> Decimal:
    """The position a deal takes in the column of `stage_id` for `slot`."""
    own_id = deal.id if deal is not None else None
    if slot.position is not None:
        taken = session.execute(
            select(Deal.id, Deal.position)
            .where(*_live_in(stage_id, own_id), Deal.position >= slot.position)
            .order_by(Deal.position, Deal.id)
            .limit(1)
        ).first()
        if taken is None or taken.position != slot.position:
            return slot.position
        slot = Slot(before_id=taken.id)  # that position is taken: go just before its holder
    if not slot.given:
        if deal is not None and deal.stage_id == stage_id:
            return deal.position
        last = session.execute(
            select(func.max(Deal.position)).where(*_live_in(stage_id, own_id))
        ).scalar()
        return _between(last, None)
    low, high = _bounds(session, stage_id, own_id, slot)
    if low is not None and high is not None and high - low < GAP:
        _renumber_column(session, stage_id)
        low, high = _bounds(session, stage_id, own_id, slot)
    return _between(low, high)


def _place(
    session: Session, deal: Deal | None, values: dict[str, Any], slot: Slot
) -> dict[str, Any]:
    """The stage, closing and position fields for putting the deal where `values` and `slot`
    say; {} when they say nothing about its place."""
    if deal is not None and not slot.given and not any(k in values for k in PLACEMENT):
        return {}
    stage = _target_stage(session, deal, values)
    placed = _closing(session, deal, stage, values)
    _lock_column(session, stage.id)
    placed["position"] = _slot_position(session, deal, stage.id, slot)
    return placed


def _record_move(session: Session, actor: User, deal: Deal, from_stage_id: int | None) -> None:
    session.add(
        DealStageChange(
            deal_id=deal.id,
            from_stage_id=from_stage_id,
            to_stage_id=deal.stage_id,
            changed_at=deal.stage_entered_at,
            changed_by=actor.id,
        )
    )


def _emit_stage_events(
    session: Session, actor: User, deal: Deal, from_stage_id: int | None
) -> None:
    """deal.stage_changed for a move, and deal.won / deal.lost when the deal enters a won or
    lost stage from a stage of another kind (a new deal too)."""
    kind = StageKind(session.get(Stage, deal.stage_id).kind)
    before = StageKind(session.get(Stage, from_stage_id).kind) if from_stage_id else None
    changes = {"stage_id": [from_stage_id, deal.stage_id]}
    if from_stage_id is not None:
        crud.emit(session, actor, "deal", "stage_changed", deal.id, changes)
    if kind is not StageKind.open and kind is not before:
        crud.emit(session, actor, "deal", kind.value, deal.id, changes)


def _lock_target_column(session: Session, deal_id: int, data: dict[str, Any]) -> None:
    """Take the lock of the column the deal is going to before its row lock (see the module
    docstring), so two moves never wait on each other. It is taken again, for free, once the
    input is validated; a wrong guess here only comes from input that is then refused."""
    try:
        if data.get("stage_id") is not None:
            target = parse_id(data["stage_id"], "a stage")
        else:
            current = session.execute(
                select(Deal.pipeline_id, Deal.stage_id).where(
                    Deal.id == parse_id(deal_id, "a deal")
                )
            ).first()
            if current is None:
                return
            target = current.stage_id
            pipeline_id = data.get("pipeline_id")
            if (
                pipeline_id is not None
                and parse_id(pipeline_id, "a pipeline") != current.pipeline_id
            ):
                target = pipeline.first_open_stage(session, int(pipeline_id)).id
    except (ValueError, ValidationFailed):
        return
    _lock_column(session, target)


# --- one deal ----------------------------------------------------------------------------------


def create_deal(
    session: Session, *, actor: User, data: dict[str, Any], ip: str | None = None
) -> Deal:
    """Create a deal owned by the actor unless another owner is given (and allowed), in the
    stage named, else the first open stage of the pipeline named or of the default one."""
    require(session, actor, RESOURCE, "create")
    values = clean(session, actor, {"owner_id": actor.id, **data}, partial=False)
    values.setdefault("currency", default_currency(session))
    slot = Slot(position=values.pop("position", None))
    values |= _place(session, None, values, slot)
    deal = Deal(**values)
    crud.created(session, actor, deal, entity="deal", fields=values, ip=ip)
    _record_move(session, actor, deal, None)
    _emit_stage_events(session, actor, deal, None)
    return deal


def get_deal(session: Session, *, actor: User, deal_id: int) -> Deal:
    """A live deal the actor may read."""
    return crud.for_read(session, actor, Deal, deal_id, resource=RESOURCE, label=LABEL)


def _save(
    session: Session,
    actor: User,
    deal: Deal,
    values: dict[str, Any],
    slot: Slot,
    ip: str | None,
) -> Deal:
    """Apply validated changes, placing the deal anew when they move it, and record the move."""
    if "custom" in values:
        values["custom"] = custom_value.merge_values(deal.custom, values["custom"])
    from_stage_id = deal.stage_id
    values |= _place(session, deal, values, slot)
    crud.apply_changes(session, actor, deal, values, entity="deal", ip=ip)
    if deal.stage_id != from_stage_id:
        _record_move(session, actor, deal, from_stage_id)
        _emit_stage_events(session, actor, deal, from_stage_id)
    return deal


def update_deal(
    session: Session,
    *,
    actor: User,
    deal_id: int,
    data: dict[str, Any],
    version: int | None = None,
    ip: str | None = None,
) -> Deal:
    """Change some fields; `stage_id`, `pipeline_id`, `position` and `lost_reason` move the
    deal by the rules of `move_deal`. `version` guards against overwriting someone's edit."""
    if any(k in data for k in (*PLACEMENT, "position")):
        _lock_target_column(session, deal_id, data)
    deal = crud.for_change(session, actor, Deal, deal_id, resource=RESOURCE, label=LABEL)
    crud.check_version(deal, version)
    values = clean(session, actor, data, partial=True)
    return _save(session, actor, deal, values, Slot(position=values.pop("position", None)), ip)


def move_deal(
    session: Session,
    *,
    actor: User,
    deal_id: int,
    stage_id: int,
    before_id: int | None = None,
    after_id: int | None = None,
    lost_reason: str | None = None,
    version: int | None = None,
    ip: str | None = None,
) -> Deal:
    """Move a deal to a stage (of any pipeline), just before `before_id` or after `after_id`
    (deals of that stage); with neither it keeps its place in its own column or goes last in
    another. Entering a won stage closes it as won; a lost stage needs an active lost reason;
    an open stage reopens it (closing dates and lost reason cleared)."""
    if before_id is not None and after_id is not None:
        raise ValidationFailed.for_field("before_id", "Give before_id or after_id, not both.")
    for name, value in (("before_id", before_id), ("after_id", after_id)):
        if value is not None and not 0 < value <= MAX_ID:
            raise ValidationFailed.for_field(name, "Pick another deal of the target stage.")
    _lock_target_column(session, deal_id, {"stage_id": stage_id})
    deal = crud.for_change(session, actor, Deal, deal_id, resource=RESOURCE, label=LABEL)
    crud.check_version(deal, version)
    data: dict[str, Any] = {"stage_id": stage_id}
    if lost_reason is not None:
        data["lost_reason"] = lost_reason
    values = clean(session, actor, data, partial=True)
    return _save(session, actor, deal, values, Slot(before_id=before_id, after_id=after_id), ip)


def delete_deal(session: Session, *, actor: User, deal_id: int, ip: str | None = None) -> None:
    """Move a deal to the trash."""
    deal = crud.for_change(
        session, actor, Deal, deal_id, resource=RESOURCE, label=LABEL, action="delete"
    )
    crud.trash(session, actor, deal, entity="deal", ip=ip)


def restore_deal(session: Session, *, actor: User, deal_id: int, ip: str | None = None) -> Deal:
    """Bring a deal back from the trash, in its stage and place."""
    return crud.restore(session, actor, Deal, deal_id, resource=RESOURCE, label=LABEL, ip=ip)
