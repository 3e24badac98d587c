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
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Date, cast, func, literal, select, true, tuple_, union, update
from sqlalchemy.orm import aliased
from sqlmodel import Session

from crm_app.models import (
    Account,
    AppSetting,
    Contact,
    Deal,
    DealContact,
    DealStageChange,
    Pipeline,
    Stage,
    StageKind,
    User,
    utcnow,
)
from crm_app.services import audit, crud, custom_value, filters, lost_reason, normalize, pipeline
from crm_app.services.contact import display_name
from crm_app.services.errors import FieldError, NotFound, ValidationFailed
from crm_app.services.listing import (
    ListQuery,
    Page,
    SortColumn,
    count,
    decode_cursor,
    encode_cursor,
    fetch_page,
    parse_sort,
)
from crm_app.services.permission import owner_clause, require

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


def _lock_target_column(session: Session, deal_id: int, data: dict[str, Any]) -> None:
    """Take the lock of the column the deal is going to before its row lock (see the module
    docstring), so two moves never wait on each other. It is taken again, for free, once the
    input is validated; a wrong guess here only comes from input that is then refused."""
    try:
        if data.get("stage_id") is not None:
            target = _id(data["stage_id"], "a stage")
        else:
            current = session.execute(
                select(Deal.pipeline_id, Deal.stage_id).where(Deal.id == _id(deal_id, "a deal"))
            ).first()
            if current is None:
                return
            target = current.stage_id
            pipeline_id = data.get("pipeline_id")
            if pipeline_id is not None and _id(pipeline_id, "a pipeline") != current.pipeline_id:
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


# --- the list and its totals -------------------------------------------------------------------


def _filter_id(what: str, largest: int = MAX_ID):
    return lambda v: _id(v, what, largest)


def _in_status(value: str) -> Any:
    if value not in STATUSES:
        raise ValueError(f"Pick one of: {', '.join(STATUSES)}.")
    # correlate(None): the lists join `stages` too, and this must stay a subquery of its own
    return Deal.stage_id.in_(select(Stage.id).where(Stage.kind == value).correlate(None))


def _with_contact(value: str) -> Any:
    contact_id = _id(value, "a contact", MAX_BIG_ID)
    involved = union(
        select(Deal.id).where(Deal.primary_contact_id == contact_id),
        select(DealContact.deal_id).where(DealContact.contact_id == contact_id),
    )
    return Deal.id.in_(involved)


def _bound(value: str, parse, what: str) -> Any:
    parsed = parse(value)
    if parsed is None:
        raise ValueError(f"Enter {what}.")
    return parsed


FILTERS = {
    "pipeline_id": lambda v: Deal.pipeline_id == _id(v, "a pipeline"),
    "stage_id": lambda v: Deal.stage_id == _id(v, "a stage"),
    "status": _in_status,
    "account_id": lambda v: Deal.account_id == _id(v, "a company"),
    "contact_id": _with_contact,
    "currency": lambda v: Deal.currency == _currency(v),
    "expected_close_from": lambda v: Deal.expected_close_date >= _bound(v, _date, "a date"),
    "expected_close_to": lambda v: Deal.expected_close_date <= _bound(v, _date, "a date"),
    "amount_min": lambda v: Deal.amount >= _bound(v, _money, "an amount"),
    "amount_max": lambda v: Deal.amount <= _bound(v, _money, "an amount"),
}


def conditions(session: Session, actor: User, listq: ListQuery) -> list[Any]:
    """WHERE conditions for the live deals the actor may read that match the search and
    filters: the list, its totals, the board, the forecast and exports all start here."""
    require(session, actor, RESOURCE, "read")
    found = [
        Deal.deleted_at.is_(None),
        owner_clause(session, actor, RESOURCE, "read", Deal.owner_id),
        *filters.build(session, actor, Deal, entity="deal", filters=listq.filters, extra=FILTERS),
    ]
    search = filters.search_clause(Deal, listq.q) if listq.q.strip() else None
    return found + ([search] if search is not None else [])


def list_query(session: Session, actor: User, listq: ListQuery):
    """The SELECT of live deals the actor may read, narrowed by the search and filters (not
    sorted or paged)."""
    return select(Deal).where(*conditions(session, actor, listq))


@dataclass
class DealRow:
    """A deal as the list shows it, with its company, owner and stage, and its weighted amount
    (amount times the deal's probability, else its stage's)."""

    deal: Deal
    company: str | None
    owner: str | None
    stage: str
    stage_kind: str
    probability: int
    weighted: Decimal | None


def list_deals(session: Session, *, actor: User, listq: ListQuery) -> Page:
    """A page of live deals matching the search and filters, in the requested order (any
    column the list shows). `Page.rows` holds DealRow objects."""
    query = (
        list_query(session, actor, listq)
        .join(Stage, Stage.id == Deal.stage_id)
        .outerjoin(Company, Company.id == Deal.account_id)
        .outerjoin(Owner, Owner.id == Deal.owner_id)
        .add_columns(Company.name, Owner.name, Stage.name, Stage.kind, PROBABILITY, WEIGHTED)
    )
    keys = parse_sort(listq.sort, SORTS, DEFAULT_SORT)
    page = fetch_page(session, query, keys=keys, id_column=ID, listq=listq)
    page.rows = [
        DealRow(d, company, owner, stage, str(kind), probability, _cents(weighted))
        for d, company, owner, stage, kind, probability, weighted in page.rows
    ]
    return page


def count_deals(session: Session, *, actor: User, listq: ListQuery) -> int:
    """How many live deals match the search and filters."""
    return count(session, list_query(session, actor, listq))


def _cents(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class Totals:
    """How many deals, and their amounts and weighted amounts by currency (amounts in
    different currencies are not added up). Deals without an amount count but add nothing."""

    count: int = 0
    amount: dict[str, Decimal] = field(default_factory=dict)
    weighted: dict[str, Decimal] = field(default_factory=dict)

    def add(self, currency: str, n: int, amount: Decimal | None, weighted: Decimal | None):
        """Fold in one (currency, count, sum, weighted sum) row of a GROUP BY."""
        self.count += n
        if amount is not None:
            self.amount[currency] = self.amount.get(currency, Decimal(0)) + amount
            self.weighted[currency] = _cents(self.weighted.get(currency, Decimal(0)) + weighted)


def _sums(*group_by: Any) -> Any:
    """SELECT of count, amount and weighted amount per currency (and `group_by`) of deals
    joined with their stages."""
    return (
        select(*group_by, Deal.currency, func.count(), func.sum(Deal.amount), func.sum(WEIGHTED))
        .join(Stage, Stage.id == Deal.stage_id)
        .group_by(*group_by, Deal.currency)
    )


def deal_totals(session: Session, *, actor: User, listq: ListQuery) -> Totals:
    """Count, amount and weighted amount of every deal matching the search and filters."""
    totals = Totals()
    for currency, n, amount, weighted in session.execute(
        _sums().where(*conditions(session, actor, listq))
    ):
        totals.add(currency, n, amount, weighted)
    return totals


# --- the board ---------------------------------------------------------------------------------


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
        _sums(Deal.stage_id).where(Deal.stage_id.in_(ids), *where)
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


# --- stage history -----------------------------------------------------------------------------


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
        line.months = {
            m: {c: _cents(v) for c, v in cell.items()} for m, cell in line.months.items()
        }
        line.total = {c: _cents(v) for c, v in line.total.items()}
    months = sorted(total.months, key=lambda m: (m is None, m or date.min))
    owners = sorted(lines.values(), key=lambda line: (line.owner.lower(), line.owner_id or 0))
    return Forecast(months, owners, total)


# --- contacts involved -------------------------------------------------------------------------


@dataclass
class InvolvedContact:
    """A contact taking part in a deal, with their role in it."""

    contact_id: int
    name: str
    email: str | None
    title: str | None
    role: str | None


def list_deal_contacts(session: Session, *, actor: User, deal_id: int) -> list[InvolvedContact]:
    """The live contacts involved in a deal, by name."""
    deal = get_deal(session, actor=actor, deal_id=deal_id)
    require(session, actor, "contact", "read")
    rows = session.execute(
        select(Contact, DealContact.role)
        .join(DealContact, DealContact.contact_id == Contact.id)
        .where(DealContact.deal_id == deal.id, Contact.deleted_at.is_(None))
        .where(owner_clause(session, actor, "contact", "read", Contact.owner_id))
        .order_by(Contact.last_name, Contact.first_name, Contact.id)
    )
    return [
        InvolvedContact(c.id, display_name(c), c.email, c.title, role) for c, role in rows.all()
    ]


def add_deal_contact(
    session: Session,
    *,
    actor: User,
    deal_id: int,
    contact_id: Any,
    role: str | None = None,
    ip: str | None = None,
) -> DealContact:
    """Involve a contact in a deal with a role (e.g. "Decision maker"), or change their role."""
    deal = crud.for_change(session, actor, Deal, deal_id, resource=RESOURCE, label=LABEL)
    require(session, actor, "contact", "read")
    errors = []
    try:
        found = _live(session, Contact, contact_id, "a contact", MAX_BIG_ID)
        if found is None:
            raise ValueError("Pick an existing contact.")
    except ValueError as error:
        errors.append(FieldError("contact_id", str(error)))
    try:
        role = _text(100)(role)
    except ValueError as error:
        errors.append(FieldError("role", str(error)))
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", errors)
    link = session.get(DealContact, (deal.id, found))
    before = link.role if link else None
    if link is None:
        link = DealContact(deal_id=deal.id, contact_id=found)
    elif link.role == role:
        return link
    link.role = role
    session.add(link)
    audit_contact_change(session, actor, deal, found, [before, role if role else "involved"], ip)
    return link


def remove_deal_contact(
    session: Session, *, actor: User, deal_id: int, contact_id: int, ip: str | None = None
) -> None:
    """Stop involving a contact in a deal (the contact itself stays)."""
    deal = crud.for_change(session, actor, Deal, deal_id, resource=RESOURCE, label=LABEL)
    link = session.get(DealContact, (deal.id, contact_id)) if 0 < contact_id <= MAX_BIG_ID else None
    if link is None:
        raise NotFound("This contact is not involved in the deal.")
    session.delete(link)
    audit_contact_change(session, actor, deal, contact_id, [link.role or "involved", None], ip)


def audit_contact_change(
    session: Session, actor: User, deal: Deal, contact_id: int, change: list[Any], ip: str | None
) -> None:
    """Log a change of the deal's contacts on the deal's timeline."""
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="deal",
        entity_id=deal.id,
        changes={f"contact {contact_id}": change},
        ip=ip,
    )
    session.flush()
