"""CSV import jobs, their progress and their outcome."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import String
from sqlmodel import Field, SQLModel, UTCDateTime

from crm_app.models.base import jsonb_field, utcnow


class ImportStatus(StrEnum):
    """Where an import job stands."""

    pending = "pending"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class ImportJob(SQLModel, table=True):
    """One uploaded file being (or having been) imported; undone_at marks a rolled-back import."""

    __tablename__ = "import_jobs"

    id: int | None = Field(default=None, primary_key=True)
    entity: str = Field(max_length=50)
    filename: str = Field(max_length=255)
    status: ImportStatus = Field(default=ImportStatus.pending, index=True, sa_type=String)
    total_rows: int = 0
    processed_rows: int = 0
    created_count: int = 0
    updated_count: int = 0
    skipped_count: int = 0
    error_count: int = 0
    mapping: dict[str, Any] = jsonb_field()  # CSV column -> field
    options: dict[str, Any] = jsonb_field()
    report_path: str | None = Field(default=None, max_length=500)
    created_by: int | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL", index=True
    )
    created_at: datetime = Field(default_factory=utcnow, index=True, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    undone_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
