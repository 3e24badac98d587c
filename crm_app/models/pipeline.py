"""Pipelines and their ordered stages."""

from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, String, text
from sqlmodel import Field, SQLModel

from crm_app.models.base import AuditedBase, PublicRecord


class StageKind(StrEnum):
    """Whether deals in a stage are still open, or closed won or lost."""

    open = "open"
    won = "won"
    lost = "lost"


class PipelineBase(SQLModel):
    """Editable pipeline fields."""

    name: str = Field(min_length=1, max_length=100)
    position: int = 0
    is_default: bool = False


class Pipeline(PipelineBase, AuditedBase, table=True):
    """A sales process; new deals land in the default one."""

    __tablename__ = "pipelines"
    __table_args__ = (
        # at most one live default pipeline
        Index(
            "uq_pipelines_default",
            "is_default",
            unique=True,
            postgresql_where=text("is_default AND deleted_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)


class StageBase(SQLModel):
    """Editable stage fields."""

    name: str = Field(min_length=1, max_length=100)
    position: int = 0
    probability: int = Field(default=0, ge=0, le=100)
    kind: StageKind = Field(default=StageKind.open, sa_type=String)
    rotting_days: int | None = Field(default=None, ge=1)  # highlight deals idle this long


class Stage(StageBase, AuditedBase, table=True):
    """One column of a pipeline board."""

    __tablename__ = "stages"
    __table_args__ = (
        Index("ix_stages_pipeline_id_position", "pipeline_id", "position"),
        CheckConstraint("probability BETWEEN 0 AND 100", name="probability_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    pipeline_id: int = Field(foreign_key="pipelines.id", ondelete="CASCADE")


class StageCreate(StageBase):
    """New stage; the pipeline comes from the URL or the enclosing pipeline."""


class StageUpdate(SQLModel):
    """Partial update of a stage."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    position: int | None = None
    probability: int | None = Field(default=None, ge=0, le=100)
    kind: StageKind | None = None
    rotting_days: int | None = Field(default=None, ge=1)


class StagePublic(StageBase, PublicRecord):
    """A stage as the API and UI show it."""

    pipeline_id: int


class PipelineCreate(PipelineBase):
    """New pipeline, optionally with its stages in order."""

    stages: list[StageCreate] = Field(default_factory=list)


class PipelineUpdate(SQLModel):
    """Partial update of a pipeline."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    position: int | None = None
    is_default: bool | None = None


class PipelinePublic(PipelineBase, PublicRecord):
    """A pipeline as the API shows it; services fill in its stages in order."""

    stages: list[StagePublic] = Field(default_factory=list)
