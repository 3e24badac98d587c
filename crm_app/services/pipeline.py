"""Pipelines and their ordered stages (Settings -> Pipelines).

Everyone signed in reads them (the board, forms and the API need them); only admins change
them. Deleting is a soft delete, so the stage history of deals keeps its stage names; deals
never sit in a deleted stage: a stage (or pipeline) is deleted only once its deals, trashed
ones included, are moved elsewhere. Every workspace keeps exactly one default pipeline, and
every pipeline at least one open stage, so a new deal always has somewhere to go.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ARRAY, Integer, func, insert, literal, select, update
from sqlmodel import Session

from crm_app.models import Deal, DealStageChange, Pipeline, Stage, StageKind, User, utcnow
from crm_app.seeding.defaults import DEFAULT_STAGES
from crm_app.services import audit, crud
from crm_app.services.errors import FieldError, NotFound, ValidationFailed
from crm_app.services.permission import require

RESOURCE = "pipeline"
KINDS = [k.value for k in StageKind]
PIPELINE_FIELDS = ("name", "is_default")
STAGE_FIELDS = ("name", "probability", "kind", "rotting_days")
MAX_ROTTING_DAYS = 3650
FIX_FIELDS = "Please correct the highlighted fields."


@dataclass
class PipelineStages:
    """A pipeline with its live stages in board order."""

    pipeline: Pipeline
    stages: list[Stage]


# --- reading -----------------------------------------------------------------------------------


def live_stages(session: Session, pipeline_id: int) -> list[Stage]:
    """The pipeline's live stages in board order (callers have checked what the actor may do)."""
    query = (
        select(Stage)
        .where(Stage.pipeline_id == pipeline_id, Stage.deleted_at.is_(None))
        .order_by(Stage.position, Stage.id)
    )
    return list(session.execute(query).scalars())


def default_pipeline(session: Session) -> Pipeline:
    """The live default pipeline, where deals go when none is named."""
    found = session.execute(
        select(Pipeline).where(Pipeline.is_default, Pipeline.deleted_at.is_(None))
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("There is no default pipeline; an admin must pick one.")
    return found


def first_open_stage(session: Session, pipeline_id: int) -> Stage:
    """The first open stage of a pipeline, where its new deals start."""
    stage = next((s for s in live_stages(session, pipeline_id) if s.kind == StageKind.open), None)
    if stage is None:
        raise ValidationFailed.for_field("stage_id", "This pipeline has no open stage.")
    return stage


def live_stage(session: Session, stage_id: Any, *, field: str = "stage_id") -> Stage:
    """A live stage by id, or a ValidationFailed on `field` (ids come from user input)."""
    stage = _get(session, Stage, stage_id)
    if stage is None or stage.deleted_at is not None:
        raise ValidationFailed.for_field(field, "Pick an existing stage.")
    return stage


def list_pipelines(session: Session, *, actor: User) -> list[PipelineStages]:
    """Every live pipeline in order, each with its stages in order."""
    require(session, actor, RESOURCE, "read")
    pipelines = session.execute(
        select(Pipeline)
        .where(Pipeline.deleted_at.is_(None))
        .order_by(Pipeline.position, Pipeline.id)
    ).scalars()
    stages = session.execute(
        select(Stage).where(Stage.deleted_at.is_(None)).order_by(Stage.position, Stage.id)
    ).scalars()
    by_pipeline: dict[int, list[Stage]] = {}
    for stage in stages:
        by_pipeline.setdefault(stage.pipeline_id, []).append(stage)
    return [PipelineStages(p, by_pipeline.get(p.id, [])) for p in pipelines]


def get_pipeline(session: Session, *, actor: User, pipeline_id: int) -> PipelineStages:
    """One live pipeline with its stages."""
    require(session, actor, RESOURCE, "read")
    pipeline = crud.get_live(session, Pipeline, pipeline_id, label="pipeline")
    return PipelineStages(pipeline, live_stages(session, pipeline.id))


# --- validation --------------------------------------------------------------------------------


def _get(session: Session, model: type, record_id: Any) -> Any:
    try:
        number = int(record_id)
    except (TypeError, ValueError):
        return None
    return session.get(model, number) if 0 < number < 2**31 else None


def _name(value: Any, taken: set[str]) -> str:
    name = " ".join(str(value or "").split())
    if not name:
        raise ValueError("Enter a name.")
    if len(name) > 100:
        raise ValueError("Use at most 100 characters.")
    if name.lower() in taken:
        raise ValueError(f"“{name}” is already used.")
    return name


def _whole_number(value: Any, low: int, high: int, message: str) -> int:
    """An int from an int or a string of digits (a bool or 2.5 is no whole number)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(message)
    try:
        number = int(value)
    except ValueError:
        raise ValueError(message) from None
    if not low <= number <= high:
        raise ValueError(message)
    return number


def _probability(value: Any) -> int:
    return _whole_number(value, 0, 100, "Enter a whole number from 0 to 100.")


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("Send true or false.")
    return value


def _kind(value: Any) -> str:
    if value not in KINDS:
        raise ValueError(f"Pick one of: {', '.join(KINDS)}.")
    return str(value)


def _rotting_days(value: Any) -> int | None:
    if value in (None, ""):
        return None
    message = f"Enter a number of days from 1 to {MAX_ROTTING_DAYS}, or nothing."
    return _whole_number(value, 1, MAX_ROTTING_DAYS, message)


def _clean(
    data: dict[str, Any], allowed: tuple[str, ...], checks: dict[str, Any], prefix: str = ""
) -> tuple[dict[str, Any], list[FieldError]]:
    """Checked values of the allowed keys in `data`, and an error for each bad or unknown one."""
    errors = [
        FieldError(f"{prefix}{k}", "This field cannot be set.")
        for k in sorted(set(data) - set(allowed))
    ]
    out: dict[str, Any] = {}
    for key, check in checks.items():
        if key in data:
            try:
                out[key] = check(data[key])
            except ValueError as error:
                errors.append(FieldError(f"{prefix}{key}", str(error)))
    return out, errors


def _stage_checks(taken: set[str]) -> dict[str, Any]:
    return {
        "name": lambda v: _name(v, taken),
        "probability": _probability,
        "kind": _kind,
        "rotting_days": _rotting_days,
    }


def _lock(session: Session) -> None:
    """Serialise pipeline changes, so two admins cannot both remove the last open stage or
    both make a pipeline the default."""
    session.execute(select(func.pg_advisory_xact_lock(func.hashtext("pipelines"))))


def _pipeline_for_change(session: Session, actor: User, pipeline_id: int) -> Pipeline:
    require(session, actor, RESOURCE, "manage")
    _lock(session)
    return crud.get_live(session, Pipeline, pipeline_id, label="pipeline", lock=True)


def _stage_for_change(
    session: Session, actor: User, stage_id: int, pipeline_id: int | None
) -> Stage:
    require(session, actor, RESOURCE, "manage")
    _lock(session)
    stage = crud.get_live(session, Stage, stage_id, label="stage", lock=True)
    if pipeline_id is not None and stage.pipeline_id != pipeline_id:
        raise NotFound("No such stage in this pipeline.")
    return stage


# --- pipelines ---------------------------------------------------------------------------------


def _pipeline_names(session: Session, exclude_id: int | None = None) -> set[str]:
    query = select(Pipeline.name).where(Pipeline.deleted_at.is_(None))
    if exclude_id is not None:
        query = query.where(Pipeline.id != exclude_id)
    return {name.lower() for name in session.execute(query).scalars()}


def _clean_stage_list(raw: Any) -> tuple[list[dict[str, Any]], list[FieldError]]:
    """The stages of a new pipeline; the usual sales stages when none are given."""
    if raw in (None, []):
        return [
            {"name": n, "probability": p, "kind": k, "rotting_days": r}
            for n, p, k, r in DEFAULT_STAGES
        ], []
    if not isinstance(raw, list):
        return [], [FieldError("stages", "Send a list of stages.")]
    stages, errors, taken = [], [], set()
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            errors.append(FieldError(f"stages.{i}", "Send each stage as an object."))
            continue
        values, problems = _clean(item, STAGE_FIELDS, _stage_checks(taken), f"stages.{i}.")
        if "name" not in item:
            problems.append(FieldError(f"stages.{i}.name", "Enter a name."))
        errors += problems
        taken.add(str(values.get("name", "")).lower())
        stages.append({"probability": 0, "kind": "open", "rotting_days": None, **values})
    if not errors and not any(s["kind"] == "open" for s in stages):
        errors.append(FieldError("stages", "A pipeline needs at least one open stage."))
    return stages, errors


def create_pipeline(
    session: Session, *, actor: User, data: dict[str, Any], ip: str | None = None
) -> PipelineStages:
    """A new pipeline, placed last, with the stages given in order (or the usual ones)."""
    require(session, actor, RESOURCE, "manage")
    _lock(session)
    values, errors = _clean(
        {k: v for k, v in data.items() if k != "stages"},
        PIPELINE_FIELDS,
        {"name": lambda v: _name(v, _pipeline_names(session)), "is_default": _flag},
    )
    if "name" not in data:
        errors.append(FieldError("name", "Enter a name."))
    stages, stage_errors = _clean_stage_list(data.get("stages"))
    if errors or stage_errors:
        raise ValidationFailed(FIX_FIELDS, errors + stage_errors)
    last = session.execute(
        select(func.max(Pipeline.position)).where(Pipeline.deleted_at.is_(None))
    ).scalar()
    pipeline = Pipeline(name=values["name"], position=0 if last is None else last + 1)
    crud.created(session, actor, pipeline, entity="pipeline", fields={"name": pipeline.name}, ip=ip)
    for position, stage in enumerate(stages):
        session.add(Stage(pipeline_id=pipeline.id, position=position, created_by=actor.id, **stage))
    session.flush()
    if values.get("is_default"):
        _make_default(session, actor, pipeline)
    return PipelineStages(pipeline, live_stages(session, pipeline.id))


def _make_default(session: Session, actor: User, pipeline: Pipeline) -> None:
    """Move the default flag to this pipeline (the unique index allows one at a time)."""
    for other in session.execute(
        select(Pipeline).where(Pipeline.is_default, Pipeline.id != pipeline.id)
    ).scalars():
        crud.apply_changes(session, actor, other, {"is_default": False}, entity="pipeline")
    crud.apply_changes(session, actor, pipeline, {"is_default": True}, entity="pipeline")


def update_pipeline(
    session: Session,
    *,
    actor: User,
    pipeline_id: int,
    data: dict[str, Any],
    version: int | None = None,
    ip: str | None = None,
) -> PipelineStages:
    """Rename a pipeline or make it the default (which the previous default stops being)."""
    pipeline = _pipeline_for_change(session, actor, pipeline_id)
    crud.check_version(pipeline, version)
    values, errors = _clean(
        data,
        PIPELINE_FIELDS,
        {"name": lambda v: _name(v, _pipeline_names(session, pipeline.id)), "is_default": _flag},
    )
    if values.get("is_default") is False and pipeline.is_default:
        errors.append(FieldError("is_default", "Make another pipeline the default instead."))
    if errors:
        raise ValidationFailed(FIX_FIELDS, errors)
    if "name" in values:
        crud.apply_changes(
            session, actor, pipeline, {"name": values["name"]}, entity="pipeline", ip=ip
        )
    if values.get("is_default") and not pipeline.is_default:
        _make_default(session, actor, pipeline)
    return PipelineStages(pipeline, live_stages(session, pipeline.id))


def check_order(given: Any, current: list[int], field_name: str, noun: str) -> list[int]:
    """The ids in their new order: exactly the current ones, each once (any reorder)."""
    try:
        ids = [int(i) for i in given]
    except (TypeError, ValueError):
        ids = []
    if sorted(ids) != sorted(current):
        raise ValidationFailed.for_field(field_name, f"List every {noun} exactly once.")
    return ids


def set_order(session: Session, model: Any, ids: list[int]) -> None:
    """Positions 0..n-1 in the order of `ids`, in one statement (pipelines, stages, lost
    reasons)."""
    rank = func.array_position(literal(ids, type_=ARRAY(Integer)), model.id) - 1
    session.execute(
        update(model)
        .where(model.id.in_(ids), model.position != rank)
        .values(position=rank, version=model.version + 1, updated_at=utcnow()),
        execution_options={"synchronize_session": "fetch"},
    )


def reorder_pipelines(
    session: Session, *, actor: User, pipeline_ids: list[int]
) -> list[PipelineStages]:
    """Put the pipelines in this order; every live pipeline must be listed once."""
    require(session, actor, RESOURCE, "manage")
    _lock(session)
    current = session.execute(select(Pipeline.id).where(Pipeline.deleted_at.is_(None))).scalars()
    ids = check_order(pipeline_ids, list(current), "pipeline_ids", "pipeline")
    set_order(session, Pipeline, ids)
    audit.record(
        session, actor=actor, action="reorder", entity="pipeline", changes={"order": [None, ids]}
    )
    return list_pipelines(session, actor=actor)


def _deal_counts(session: Session, stage_ids: list[int]) -> dict[int, int]:
    """How many deals, trashed ones included, each stage holds."""
    rows = session.execute(
        select(Deal.stage_id, func.count())
        .where(Deal.stage_id.in_(stage_ids))
        .group_by(Deal.stage_id)
    )
    return {stage_id: n for stage_id, n in rows}


def _move_all_deals(session: Session, actor: User, source: Stage, target: Stage) -> int:
    """Move every deal of `source`, trashed ones too, to the end of `target` in their order,
    recording each move in the stage history; two statements however many deals. Both
    stages are of the same kind, so closing dates and lost reasons still hold."""
    now = utcnow()
    moved = session.execute(
        insert(DealStageChange)
        .from_select(
            ["deal_id", "from_stage_id", "to_stage_id", "changed_at", "changed_by"],
            select(
                Deal.id,
                Deal.stage_id,
                literal(target.id),
                literal(now, type_=DealStageChange.__table__.c.changed_at.type),
                literal(actor.id),
            ).where(Deal.stage_id == source.id),
        )
        .returning(DealStageChange.deal_id)
    ).all()
    last = session.execute(
        select(func.coalesce(func.max(Deal.position), 0)).where(Deal.stage_id == target.id)
    ).scalar_one()
    ranked = (
        select(Deal.id, func.row_number().over(order_by=(Deal.position, Deal.id)).label("rank"))
        .where(Deal.stage_id == source.id)
        .subquery()
    )
    session.execute(
        update(Deal)
        .where(Deal.id == ranked.c.id)
        .values(
            stage_id=target.id,
            pipeline_id=target.pipeline_id,
            position=last + ranked.c.rank,
            stage_entered_at=now,
            version=Deal.version + 1,
            updated_at=now,
        ),
        execution_options={"synchronize_session": False},
    )
    for record in list(session.identity_map.values()):
        if isinstance(record, Deal):
            session.expire(record)
    for (deal_id,) in moved:  # webhooks and workflow rules hear of each move
        crud.emit(
            session, actor, "deal", "stage_changed", deal_id, {"stage_id": [source.id, target.id]}
        )
    return len(moved)


def delete_pipeline(
    session: Session,
    *,
    actor: User,
    pipeline_id: int,
    move_to_stage_id: int | None = None,
    ip: str | None = None,
) -> None:
    """Delete a pipeline that holds no deals, or move its deals to another pipeline first:
    open ones to the open stage named, won and lost ones to that pipeline's first won or lost
    stage, so a closed deal stays closed. The default pipeline cannot be deleted."""
    pipeline = _pipeline_for_change(session, actor, pipeline_id)
    if pipeline.is_default:
        raise ValidationFailed.for_field(
            "is_default", "This is the default pipeline: make another pipeline the default first."
        )
    stages = live_stages(session, pipeline.id)
    counts = _deal_counts(session, [s.id for s in stages])
    if counts:
        targets = _targets_in_other_pipeline(session, pipeline, move_to_stage_id, stages, counts)
        for stage in stages:
            if counts.get(stage.id):
                _move_all_deals(session, actor, stage, targets[stage.kind])
    now = utcnow()
    for stage in stages:
        stage.deleted_at, stage.version = now, stage.version + 1
        session.add(stage)
    crud.trash(session, actor, pipeline, entity="pipeline", ip=ip)
    session.flush()


def _targets_in_other_pipeline(
    session: Session,
    pipeline: Pipeline,
    move_to_stage_id: int | None,
    stages: list[Stage],
    counts: dict[int, int],
) -> dict[str, Stage]:
    """Where each kind of deal goes: open ones to the stage named, won and lost ones to the
    first stage of their kind in its pipeline; refused when something has nowhere to go."""
    if move_to_stage_id is None:
        n = sum(counts.values())
        raise ValidationFailed.for_field(
            "move_to_stage_id",
            f"This pipeline holds {n} deal{'s' * (n != 1)}: pick an open stage of another "
            "pipeline to move them to.",
        )
    target = live_stage(session, move_to_stage_id, field="move_to_stage_id")
    if target.pipeline_id == pipeline.id or target.kind != StageKind.open:
        raise ValidationFailed.for_field(
            "move_to_stage_id", "Pick an open stage of another pipeline."
        )
    targets = {StageKind.open.value: target}
    for stage in live_stages(session, target.pipeline_id):
        targets.setdefault(stage.kind, stage)
    missing = sorted({s.kind for s in stages if counts.get(s.id)} - set(targets))
    if missing:
        raise ValidationFailed.for_field(
            "move_to_stage_id",
            f"That pipeline has no {' or '.join(missing)} stage for the "
            f"{' and '.join(missing)} deals of this one.",
        )
    return targets


# --- stages ------------------------------------------------------------------------------------


def _stage_names(stages: list[Stage], exclude_id: int | None = None) -> set[str]:
    return {s.name.lower() for s in stages if s.id != exclude_id}


def _insert_index(stages: list[Stage], kind: str, index: Any) -> int:
    """Where a new stage goes: the index asked for, else an open stage before the first
    closed one and a closed stage last."""
    if index not in (None, ""):
        return _whole_number(index, 0, len(stages), f"Use a position from 0 to {len(stages)}.")
    if kind == StageKind.open:
        return next((i for i, s in enumerate(stages) if s.kind != StageKind.open), len(stages))
    return len(stages)


def add_stage(
    session: Session, *, actor: User, pipeline_id: int, data: dict[str, Any], ip: str | None = None
) -> Stage:
    """A new stage in a pipeline, at `position` (0 is first) if given."""
    pipeline = _pipeline_for_change(session, actor, pipeline_id)
    stages = live_stages(session, pipeline.id)
    values, errors = _clean(
        {k: v for k, v in data.items() if k != "position"},
        STAGE_FIELDS,
        _stage_checks(_stage_names(stages)),
    )
    if "name" not in data:
        errors.append(FieldError("name", "Enter a name."))
    values.setdefault("kind", StageKind.open.value)
    try:
        index = _insert_index(stages, values["kind"], data.get("position"))
    except ValueError as error:
        errors.append(FieldError("position", str(error)))
    if errors:
        raise ValidationFailed(FIX_FIELDS, errors)
    stage = Stage(pipeline_id=pipeline.id, position=index, **values)
    crud.created(session, actor, stage, entity="stage", fields=values, ip=ip)
    stages.insert(index, stage)
    set_order(session, Stage, [s.id for s in stages])
    return stage


def _open_stages_left(session: Session, stage: Stage) -> int:
    """How many other live open stages the stage's pipeline has."""
    return sum(
        1
        for s in live_stages(session, stage.pipeline_id)
        if s.kind == StageKind.open and s.id != stage.id
    )


def update_stage(
    session: Session,
    *,
    actor: User,
    stage_id: int,
    data: dict[str, Any],
    pipeline_id: int | None = None,
    version: int | None = None,
    ip: str | None = None,
) -> Stage:
    """Rename a stage or change its probability, kind or rotting limit.

    The kind only changes on an empty stage: otherwise its deals would be closed or reopened
    without closing dates or lost reasons. The last open stage stays open.
    """
    stage = _stage_for_change(session, actor, stage_id, pipeline_id)
    crud.check_version(stage, version)
    siblings = live_stages(session, stage.pipeline_id)
    values, errors = _clean(data, STAGE_FIELDS, _stage_checks(_stage_names(siblings, stage.id)))
    if values.get("kind", stage.kind) != stage.kind:
        if _deal_counts(session, [stage.id]):
            errors.append(
                FieldError("kind", "Move this stage's deals elsewhere before changing its kind.")
            )
        elif stage.kind == StageKind.open and not _open_stages_left(session, stage):
            errors.append(FieldError("kind", "A pipeline needs at least one open stage."))
    if errors:
        raise ValidationFailed(FIX_FIELDS, errors)
    crud.apply_changes(session, actor, stage, values, entity="stage", ip=ip)
    return stage


def reorder_stages(
    session: Session, *, actor: User, pipeline_id: int, stage_ids: list[int]
) -> list[Stage]:
    """Put a pipeline's stages in this order (each live stage listed once), in one statement."""
    pipeline = _pipeline_for_change(session, actor, pipeline_id)
    current = [s.id for s in live_stages(session, pipeline.id)]
    ids = check_order(stage_ids, current, "stage_ids", "stage of the pipeline")
    set_order(session, Stage, ids)
    audit.record(
        session,
        actor=actor,
        action="reorder",
        entity="pipeline",
        entity_id=pipeline.id,
        changes={"stages": [current, ids]},
    )
    return live_stages(session, pipeline.id)


def delete_stage(
    session: Session,
    *,
    actor: User,
    stage_id: int,
    move_to_stage_id: int | None = None,
    pipeline_id: int | None = None,
    ip: str | None = None,
) -> None:
    """Delete a stage; its deals, trashed ones too, first move to `move_to_stage_id`, a stage
    of the same pipeline and kind. The last open stage of a pipeline stays."""
    stage = _stage_for_change(session, actor, stage_id, pipeline_id)
    if stage.kind == StageKind.open and not _open_stages_left(session, stage):
        raise ValidationFailed.for_field("stage_id", "A pipeline needs at least one open stage.")
    held = _deal_counts(session, [stage.id]).get(stage.id, 0)
    moved_to = None
    if held:
        if move_to_stage_id is None:
            raise ValidationFailed.for_field(
                "move_to_stage_id",
                f"This stage holds {held} deal{'s' * (held != 1)}: pick the stage to move "
                f"{'them' if held != 1 else 'it'} to.",
            )
        target = live_stage(session, move_to_stage_id, field="move_to_stage_id")
        if target.id == stage.id or target.pipeline_id != stage.pipeline_id:
            raise ValidationFailed.for_field(
                "move_to_stage_id", "Pick another stage of the same pipeline."
            )
        if target.kind != stage.kind:
            raise ValidationFailed.for_field(
                "move_to_stage_id",
                f"Pick a {stage.kind} stage: moving deals to a {target.kind} one would "
                "change whether they are open, won or lost.",
            )
        _move_all_deals(session, actor, stage, target)
        moved_to = target.id
    stage.deleted_at, stage.version = utcnow(), stage.version + 1
    session.add(stage)
    changes = {"deals_moved_to": [None, moved_to]} if moved_to else {}
    audit.record(
        session,
        actor=actor,
        action="delete",
        entity="stage",
        entity_id=stage.id,
        changes=changes,
        ip=ip,
    )
    session.flush()
