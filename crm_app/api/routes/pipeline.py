"""`/pipelines`: pipelines with their stages. Everyone reads them; admins change them.

Every rule (permissions, the one default pipeline, the last open stage, moving deals off a
stage before it goes) lives in `services.pipeline`; these routes translate HTTP to it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from crm_app.api.deal_schemas import (
    NewPipelineInput,
    NewStageInput,
    PipelineInput,
    PipelineOrder,
    StageInput,
    StageOrder,
    pipeline_public,
)
from crm_app.api.deps import Actor, DbSession, client_ip
from crm_app.api.problems import only_methods
from crm_app.api.schemas import MAX_INT_ID, PROBLEMS, STALE, RecordList, etag, if_match_version
from crm_app.models import PipelinePublic, Stage, StagePublic
from crm_app.services import pipeline as pipelines
from crm_app.services.errors import NotFound
from crm_app.services.pipeline import PipelineStages

router = APIRouter(prefix="/pipelines", tags=["pipelines"], responses=PROBLEMS)

PipelineId = Annotated[int, Path(ge=1, le=MAX_INT_ID, description="The pipeline's id.")]
StageId = Annotated[int, Path(ge=1, le=MAX_INT_ID, description="The stage's id.")]
MoveTo = Annotated[
    int | None,
    Query(
        ge=1,
        le=MAX_INT_ID,
        description="Where the deals go first: for a stage, another stage of the same pipeline "
        "and kind; for a pipeline, an open stage of another pipeline (its won and lost deals "
        "go to that pipeline's first won and lost stage).",
    ),
]
Version = Annotated[int | None, Depends(if_match_version)]


class PipelineList(RecordList[PipelinePublic]):
    """Every pipeline, in order (there is never a next page)."""


def _pipeline(found: PipelineStages, response: Response) -> PipelinePublic:
    response.headers["ETag"] = etag(found.pipeline.version)
    return pipeline_public(found)


def _stage(stage: Stage, response: Response) -> StagePublic:
    response.headers["ETag"] = etag(stage.version)
    return StagePublic.model_validate(stage)


def _all(found: list[PipelineStages]) -> PipelineList:
    return PipelineList(data=[pipeline_public(p) for p in found], next_cursor=None)


@router.get("", response_model=PipelineList, summary="List pipelines")
def list_pipelines(session: DbSession, actor: Actor) -> PipelineList:
    """Every live pipeline in order, each with its stages in board order."""
    return _all(pipelines.list_pipelines(session, actor=actor))


@router.put("/order", response_model=PipelineList, summary="Reorder pipelines")
def reorder_pipelines(body: PipelineOrder, session: DbSession, actor: Actor) -> PipelineList:
    """Put the pipelines in the order given; every live pipeline must be listed once."""
    return _all(pipelines.reorder_pipelines(session, actor=actor, pipeline_ids=body.pipeline_ids))


only_methods(router, "/order", "PUT")


@router.post("", status_code=201, response_model=PipelinePublic, summary="Create a pipeline")
def create_pipeline(
    body: NewPipelineInput, request: Request, response: Response, session: DbSession, actor: Actor
) -> PipelinePublic:
    """A new pipeline, placed last, with its stages in order (the usual ones if none given)."""
    found = pipelines.create_pipeline(
        session, actor=actor, data=body.model_dump(exclude_unset=True), ip=client_ip(request)
    )
    path = request.app.url_path_for("get_pipeline", pipeline_id=found.pipeline.id)
    response.headers["Location"] = path
    return _pipeline(found, response)


@router.get("/{pipeline_id}", response_model=PipelinePublic, summary="Get a pipeline")
def get_pipeline(
    pipeline_id: PipelineId, response: Response, session: DbSession, actor: Actor
) -> PipelinePublic:
    """One live pipeline with its stages in order."""
    return _pipeline(
        pipelines.get_pipeline(session, actor=actor, pipeline_id=pipeline_id), response
    )


@router.patch(
    "/{pipeline_id}", response_model=PipelinePublic, summary="Change a pipeline", responses=STALE
)
def update_pipeline(
    pipeline_id: PipelineId,
    body: PipelineInput,
    version: Version,
    request: Request,
    response: Response,
    session: DbSession,
    actor: Actor,
) -> PipelinePublic:
    """Rename a pipeline or make it the default."""
    found = pipelines.update_pipeline(
        session,
        actor=actor,
        pipeline_id=pipeline_id,
        data=body.model_dump(exclude_unset=True),
        version=version,
        ip=client_ip(request),
    )
    return _pipeline(found, response)


@router.delete("/{pipeline_id}", status_code=204, summary="Delete a pipeline")
def delete_pipeline(
    pipeline_id: PipelineId,
    request: Request,
    session: DbSession,
    actor: Actor,
    move_to_stage_id: MoveTo = None,
) -> Response:
    """Delete a pipeline other than the default; one holding deals needs `move_to_stage_id`."""
    pipelines.delete_pipeline(
        session,
        actor=actor,
        pipeline_id=pipeline_id,
        move_to_stage_id=move_to_stage_id,
        ip=client_ip(request),
    )
    return Response(status_code=204)


@router.put("/{pipeline_id}/stages/order", response_model=list[StagePublic], summary="Reorder")
def reorder_stages(
    pipeline_id: PipelineId, body: StageOrder, session: DbSession, actor: Actor
) -> list[StagePublic]:
    """Put the pipeline's stages in the order given; each live stage must be listed once."""
    stages = pipelines.reorder_stages(
        session, actor=actor, pipeline_id=pipeline_id, stage_ids=body.stage_ids
    )
    return [StagePublic.model_validate(s) for s in stages]


only_methods(router, "/{pipeline_id}/stages/order", "PUT")


@router.post(
    "/{pipeline_id}/stages", status_code=201, response_model=StagePublic, summary="Add a stage"
)
def add_stage(
    pipeline_id: PipelineId,
    body: NewStageInput,
    request: Request,
    response: Response,
    session: DbSession,
    actor: Actor,
) -> StagePublic:
    """A new stage in the pipeline, at `position` if given."""
    stage = pipelines.add_stage(
        session,
        actor=actor,
        pipeline_id=pipeline_id,
        data=body.model_dump(exclude_unset=True),
        ip=client_ip(request),
    )
    response.headers["Location"] = request.app.url_path_for(
        "get_stage", pipeline_id=pipeline_id, stage_id=stage.id
    )
    return _stage(stage, response)


@router.get("/{pipeline_id}/stages/{stage_id}", response_model=StagePublic, summary="Get a stage")
def get_stage(
    pipeline_id: PipelineId, stage_id: StageId, response: Response, session: DbSession, actor: Actor
) -> StagePublic:
    """One live stage of the pipeline."""
    found = pipelines.get_pipeline(session, actor=actor, pipeline_id=pipeline_id)
    stage = next((s for s in found.stages if s.id == stage_id), None)
    if stage is None:
        raise NotFound("No such stage in this pipeline.")
    return _stage(stage, response)


@router.patch(
    "/{pipeline_id}/stages/{stage_id}",
    response_model=StagePublic,
    summary="Change a stage",
    responses=STALE,
)
def update_stage(
    pipeline_id: PipelineId,
    stage_id: StageId,
    body: StageInput,
    version: Version,
    request: Request,
    response: Response,
    session: DbSession,
    actor: Actor,
) -> StagePublic:
    """Rename a stage or change its probability, kind (only when empty) or rotting limit."""
    stage = pipelines.update_stage(
        session,
        actor=actor,
        stage_id=stage_id,
        pipeline_id=pipeline_id,
        data=body.model_dump(exclude_unset=True),
        version=version,
        ip=client_ip(request),
    )
    return _stage(stage, response)


@router.delete("/{pipeline_id}/stages/{stage_id}", status_code=204, summary="Delete a stage")
def delete_stage(
    pipeline_id: PipelineId,
    stage_id: StageId,
    request: Request,
    session: DbSession,
    actor: Actor,
    move_to_stage_id: MoveTo = None,
) -> Response:
    """Delete a stage; one holding deals needs `move_to_stage_id`. The last open stage of a
    pipeline cannot be deleted."""
    pipelines.delete_stage(
        session,
        actor=actor,
        stage_id=stage_id,
        pipeline_id=pipeline_id,
        move_to_stage_id=move_to_stage_id,
        ip=client_ip(request),
    )
    return Response(status_code=204)
