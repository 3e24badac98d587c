"""Input bodies of `/deals` and `/pipelines`. Like `api.schemas`, they carry types only: the
services validate every value, and a body refuses fields that do not exist or may not be set.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from crm_app.api.schemas import MAX_INT_ID
from crm_app.models import PipelinePublic, StageKind, StagePublic
from crm_app.services.pipeline import PipelineStages

KINDS = [k.value for k in StageKind]


class DealInput(BaseModel):
    """Deal fields to set; on create a name is needed, on update any subset. Setting
    `stage_id` (and optionally `position`) moves the deal."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    account_id: int | None = Field(None, description="The company the deal is with.")
    primary_contact_id: int | None = None
    pipeline_id: int | None = Field(
        None,
        description="Defaults to the default pipeline. Naming only a pipeline puts the deal in "
        "its first open stage.",
    )
    stage_id: int | None = Field(
        None,
        description="A stage of the pipeline; defaults to its first open stage. A won stage "
        "closes the deal as won; a lost stage needs `lost_reason`; an open stage reopens it.",
    )
    position: Decimal | None = Field(
        None,
        description="Order within the stage's column (ascending). To put a deal between two "
        "others send any number between theirs; a position already taken puts it just "
        "before that deal. Without it a deal keeps its place, or goes last in a new stage.",
    )
    amount: Decimal | None = Field(None, description="0 or more, at most 2 decimals.")
    currency: str | None = Field(
        None, description="ISO 4217 code; defaults to the workspace's currency."
    )
    recurring_monthly_value: Decimal | None = None
    expected_close_date: date | None = None
    probability: int | None = Field(
        None, description="Win probability %; null uses the stage's probability."
    )
    owner_id: int | None = Field(
        None,
        le=MAX_INT_ID,
        description="Defaults to the key's user; reps may only pick themselves (403).",
    )
    lost_reason: str | None = Field(
        None, description="Required when moving to a lost stage: one of the active reasons."
    )
    tags: list[str] | None = None
    custom: dict[str, Any] | None = Field(
        None, description="Custom field values by key; on update, null removes a value."
    )


class StageInput(BaseModel):
    """A stage's fields; on create the name is needed, on update any subset."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    probability: int | None = Field(None, description="Win probability %, 0-100.")
    kind: str | None = Field(None, json_schema_extra={"enum": KINDS})
    rotting_days: int | None = Field(
        None, description="Cards idle in the stage this many days are highlighted."
    )


class NewStageInput(StageInput):
    """A new stage, and where it goes."""

    position: int | None = Field(
        None,
        description="0 puts it first; by default an open stage goes before the first closed "
        "stage and a closed one last.",
    )


class PipelineInput(BaseModel):
    """A pipeline's fields; on update any subset."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    is_default: bool | None = Field(
        None, description="true makes it the default (the previous default stops being one)."
    )


class NewPipelineInput(PipelineInput):
    """A new pipeline with its stages in order (the usual sales stages when none are given)."""

    stages: list[StageInput] | None = None


class PipelineOrder(BaseModel):
    """Every live pipeline's id, in the new order."""

    model_config = ConfigDict(extra="forbid")

    pipeline_ids: list[int]


class StageOrder(BaseModel):
    """Every live stage id of the pipeline, in the new order."""

    model_config = ConfigDict(extra="forbid")

    stage_ids: list[int]


def pipeline_public(found: PipelineStages) -> PipelinePublic:
    """A pipeline with its stages as the API shows it."""
    stages = [StagePublic.model_validate(s) for s in found.stages]
    return PipelinePublic.model_validate(found.pipeline, update={"stages": stages})
