"""Workflows: when a trigger fires and the conditions hold, run the actions; and their run log."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel, UTCDateTime

from crm_app.models.base import AuditedBase, jsonb_field, utcnow


class Workflow(AuditedBase, table=True):
    """An automation rule, e.g. "deal won -> create onboarding task"."""

    __tablename__ = "workflows"
    __table_args__ = (
        # the event listener's one query: the live, active rules of an entity and trigger kind
        Index(
            "ix_workflows_active_trigger",
            text("(trigger ->> 'entity')"),
            text("(trigger ->> 'kind')"),
            postgresql_where=text("is_active AND deleted_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    trigger: dict[str, Any] = jsonb_field()
    conditions: list[dict[str, Any]] = jsonb_field(list)
    actions: list[dict[str, Any]] = jsonb_field(list)
    is_active: bool = True


class RunStatus(StrEnum):
    """Where one run of a rule stands."""

    queued = "queued"  # its job has not run yet
    succeeded = "succeeded"
    skipped = "skipped"  # the conditions did not hold
    failed = "failed"
    stopped = "stopped"  # loop protection: not run


class WorkflowRun(SQLModel, table=True):
    """One rule run for one event on one record: the run log, and what makes a job that is
    run again (after a worker was killed) a no-op: (workflow, event) is unique."""

    __tablename__ = "workflow_runs"
    __table_args__ = (
        Index("ix_workflow_runs_workflow_id_id", "workflow_id", "id"),
        Index("uq_workflow_runs_workflow_id_event_id", "workflow_id", "event_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigInteger)
    workflow_id: int = Field(foreign_key="workflows.id", ondelete="CASCADE")
    event_id: str = Field(max_length=64)
    event_type: str = Field(max_length=100)
    entity: str = Field(max_length=20)
    record_id: int = Field(sa_type=BigInteger)
    status: RunStatus = Field(default=RunStatus.queued, sa_type=String(20))
    depth: int = 0
    # the (rule, entity, record) runs that led here, for loop protection
    chain: list[Any] = Field(default_factory=list, sa_type=JSONB)
    changes: dict[str, Any] = Field(default_factory=dict, sa_type=JSONB)
    actions_done: list[str] = Field(default_factory=list, sa_type=JSONB)
    error: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    duration_ms: int | None = None


class WorkflowDateFire(SQLModel, table=True):
    """A date trigger fired for one record and date: the key that makes it fire once, however
    many workers look at the same time."""

    __tablename__ = "workflow_date_fires"

    workflow_id: int = Field(foreign_key="workflows.id", ondelete="CASCADE", primary_key=True)
    record_id: int = Field(sa_type=BigInteger, primary_key=True)
    due_on: date = Field(primary_key=True)
    fired_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
