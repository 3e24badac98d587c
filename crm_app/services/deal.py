"""Deals: validation, stage moves with the won/lost rules, card positions, the list and its
totals, the board, stage history, the forecast, and the contacts involved in a deal.

A deal's place on the board is its stage and a fractional `position` in that stage's column:
a card dropped between two others takes the midpoint of theirs, so a move writes one row; only
when two neighbours get too close is the column renumbered, in one statement. Moves into a
column are serialised by a lock on that column, taken before the deal's row lock so two moves
cannot wait on each other. Weighted amounts use the deal's own probability when set, else its
stage's. Amounts in different currencies are never added up: totals are per currency.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, literal, select, tuple_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session

from crm_app.models import (
    Account,
    AppSetting,
    Contact,
    Deal,
    DealStageChange,
    Pipeline,
    Stage,
    StageKind,
    User,
    utcnow,
)
from crm_app.services import crud, custom_value, lost_reason, normalize, pipeline
from crm_app.services.errors import FieldError, ValidationFailed
from crm_app.services.listing import (
    SortColumn,
)
from crm_app.services.permission import require

RESOURCE = "deal"
LABEL = "deal"
EDITABLE = (
    "name",
    "account_id",
    "primary_contact_id",
    "pipeline_id",
    "stage_id",
    "position",
    "amount",
    "currency",
    "recurring_monthly_value",
    "expected_close_date",
    "probability",
    "owner_id",
    "lost_reason",
    "tags",
    "custom",
)
PLACEMENT = ("pipeline_id", "stage_id", "lost_reason")  # what moving a deal changes
STATUSES = [k.value for k in StageKind]
DEFAULT_CURRENCY = "USD"
CENT = Decimal("0.01")
MONEY_LIMIT = Decimal("1e16")  # NUMERIC(18, 2)
POSITION_PLACES = Decimal("1e-10")  # NUMERIC(20, 10)
POSITION_LIMIT = Decimal("1e10")
STEP = Decimal(1)  # between cards after a renumbering, and past either end of a column
GAP = Decimal("1e-6")  # neighbours closer than this get the column renumbered
PER_COLUMN = 50
MAX_ID = 2**31 - 1
MAX_BIG_ID = 2**63 - 1  # contacts.id is a BIGINT

Company = aliased(Account, name="company")
Owner = aliased(User, name="owner")
PROBABILITY = func.coalesce(Deal.probability, Stage.probability)
WEIGHTED = Deal.amount * PROBABILITY / 100

SORTS = {
    "name": SortColumn("name", Deal.name, nullable=False),
    "company": SortColumn("company", Company.name),
    "stage": SortColumn("stage", Stage.position, nullable=False),
    "amount": SortColumn("amount", Deal.amount),
    "currency": SortColumn("currency", Deal.currency, nullable=False),
    "probability": SortColumn("probability", PROBABILITY, nullable=False),
    "weighted": SortColumn("weighted", WEIGHTED),
    "expected_close_date": SortColumn("expected_close_date", Deal.expected_close_date),
    "owner": SortColumn("owner", Owner.name),
    "closed_at": SortColumn("closed_at", Deal.closed_at),
    "created_at": SortColumn("created_at", Deal.created_at, nullable=False),
    "updated_at": SortColumn("updated_at", Deal.updated_at, nullable=False),
}
ID = SortColumn("id", Deal.id, nullable=False)
DEFAULT_SORT = "-updated_at"


# --- validation --------------------------------------------------------------------------------


def _text(limit: int, *, required: bool = False):
    def check(value: Any) -> str | None:
        value = " ".join(str(value or "").split())
        if required and not value:
            raise ValueError("Enter a name.")
        if len(value) > limit:
            raise ValueError(f"Use at most {limit} characters.")
        return value or None

    return check


def _whole(value: Any, message: str) -> int:
    """An int from an int or a string of digits (not a bool, not 2.5)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(message)
    try:
        return int(value)
    except ValueError:
        raise ValueError(message) from None


def _id(value: Any, what: str, largest: int = MAX_ID) -> int:
    number = _whole(value, f"'{value}' is not {what} id.")
    if not 0 < number <= largest:
        raise ValueError(f"'{value}' is not {what} id.")
    return number


def _live(session: Session, model: Any, value: Any, what: str, largest: int = MAX_ID) -> int | None:
    """The id of a live record of `model`, None for no value, or a ValueError."""
    if value in (None, ""):
        return None
    try:
        record = session.get(model, _id(value, what, largest))
    except ValueError:
        record = None
    if record is None or record.deleted_at is not None:
        raise ValueError(f"Pick an existing {what.split()[-1]}.")
    return record.id


def _money(value: Any) -> Decimal | None:
    """A non-negative amount with at most two decimals, as Decimal (floats pass via str)."""
    if value in (None, ""):
        return None
    message = "Enter an amount of 0 or more, with at most 2 decimals."
    if isinstance(value, bool):
        raise ValueError(message)
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(message) from None
    if not amount.is_finite() or amount < 0 or amount >= MONEY_LIMIT:
        raise ValueError(message if amount < MONEY_LIMIT else "This amount is too large.")
    if amount != amount.quantize(CENT):
        raise ValueError(message)
    return amount.quantize(CENT)


def _currency(value: Any) -> str:
    code = str(value or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise ValueError("Use a three-letter currency code such as USD or EUR.")
    return code


def _date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError("Use a date like 2026-01-31.") from None


def _probability(value: Any) -> int | None:
    if value in (None, ""):
        return None
    number = _whole(value, "Enter a whole number from 0 to 100.")
    if not 0 <= number <= 100:
        raise ValueError("Enter a whole number from 0 to 100.")
    return number


def _position(value: Any) -> Decimal:
    message = "Enter a number: cards show by ascending position within their stage."
    if isinstance(value, bool) or value in (None, ""):
        raise ValueError(message)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(message) from None
    if not number.is_finite() or abs(number) >= POSITION_LIMIT:
        raise ValueError(message)
    return number.quantize(POSITION_PLACES, rounding=ROUND_HALF_UP)


def _required(check):
    def wrapped(value: Any) -> Any:
        if value in (None, ""):
            raise ValueError("This field cannot be empty.")
        return check(value)

    return wrapped


def clean(session: Session, actor: User, data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Validated, normalised values for the editable fields in `data`; all errors at once.

    Whether the stage belongs to the pipeline and a lost reason fits the stage is checked
    when the deal is placed (`_placement`), against the deal's current stage.
    """
    errors = [FieldError(k, "This field cannot be set.") for k in sorted(set(data) - set(EDITABLE))]
    out: dict[str, Any] = {}

    def attempt(key: str, fn) -> None:
        if key in data:
            try:
                out[key] = fn(data[key])
            except ValueError as error:
                errors.append(FieldError(key, str(error)))

    attempt("name", _text(200, required=True))
    attempt("account_id", lambda v: _live(session, Account, v, "a company"))
    attempt("primary_contact_id", lambda v: _live(session, Contact, v, "a contact", MAX_BIG_ID))
    attempt("pipeline_id", _required(lambda v: _live(session, Pipeline, v, "a pipeline")))
    attempt("stage_id", _required(lambda v: _id(v, "a stage")))
    attempt("position", _position)
    attempt("amount", _money)
    attempt("recurring_monthly_value", _money)
    attempt("currency", _currency)
    attempt("expected_close_date", _date)
    attempt("probability", _probability)
    attempt("owner_id", lambda v: None if v in (None, "") else _id(v, "a user"))
    attempt(
        "lost_reason", lambda v: None if v in (None, "") else lost_reason.active_name(session, v)
    )
    attempt("tags", normalize.tags)
    if "custom" in data:
        try:
            out["custom"] = custom_value.clean_values(
                session, entity="deal", values=data["custom"] or {}, partial=partial
            )
        except ValidationFailed as error:
            errors += error.errors
    if not partial and "name" not in data:
        errors.append(FieldError("name", "Enter a name."))
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", errors)
    if "owner_id" in out:
        crud.check_owner(session, actor, RESOURCE, out["owner_id"])
    return out


def default_currency(session: Session) -> str:
    """The workspace's `default_currency` setting, else USD."""
    setting = session.get(AppSetting, "default_currency")
    value = setting.value if setting else None
    return (
        value if isinstance(value, str) and re.fullmatch(r"[A-Z]{3}", value) else DEFAULT_CURRENCY
    )


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
        return STEP
    if low is None:
        return high - STEP
    if high is None:
        return low + STEP
    return ((low + high) / 2).quantize(POSITION_PLACES, rounding=ROUND_HALF_UP)


def renumber_column(session: Session, stage_id: int) -> None:
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
        renumber_column(session, stage_id)
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


def _lock_target_column(session: Session, deal_id: int, stage_id: Any) -> None:
    """Take the target column's lock before the deal's row lock (see the module docstring);
    the stage is re-checked and re-locked once validated."""
    try:
        target = _id(stage_id, "a stage") if stage_id is not None else None
    except ValueError:
        return
    if target is None:
        target = session.execute(select(Deal.stage_id).where(Deal.id == deal_id)).scalar()
    if target is not None:
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
    if any(k in data for k in ("stage_id", "pipeline_id", "position")):
        _lock_target_column(session, deal_id, data.get("stage_id"))
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
    _lock_target_column(session, deal_id, stage_id)
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
