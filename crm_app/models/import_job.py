"""CSV import jobs, their progress and their outcome, and the records each one touched."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, String
from sqlmodel import Field, SQLModel, UTCDateTime

from crm_app.models.base import jsonb_field, utcnow


class ImportStatus(StrEnum):
    """Where an import job stands."""

    pending = "pending"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class ImportJob(SQLModel, table=True):
    """One uploaded file being (or having been) imported; undone_at marks a rolled-back import.

    The job commits once per chunk of rows, together with its progress: `byte_offset` (where
    the next chunk starts in the file), `next_row` (that chunk's first row number) and
    `report_bytes` (how much of the rejected-rows report is written). A job that is killed
    and run again resumes from there, without importing a row twice.
    """

    __tablename__ = "import_jobs"

    id: int | None = Field(default=None, primary_key=True)
    entity: str = Field(max_length=50)
    filename: str = Field(max_length=255)
    status: ImportStatus = Field(default=ImportStatus.pending, index=True, sa_type=String)
    total_rows: int = 0  # estimated from the line count until the job ends
    processed_rows: int = 0
    created_count: int = 0
    updated_count: int = 0
    skipped_count: int = 0
    error_count: int = 0
    companies_created: int = 0  # companies a contacts import created for its "Company" column
    mapping: dict[str, Any] = jsonb_field()  # CSV column -> field
    options: dict[str, Any] = jsonb_field()  # on_duplicate, encoding, delimiter
    source_path: str | None = Field(default=None, max_length=500)  # under data/imports/
    file_size: int = Field(default=0, sa_type=BigInteger)
    byte_offset: int = Field(default=0, sa_type=BigInteger)
    next_row: int = 2  # the spreadsheet row number of the record at byte_offset (header: 1)
    report_path: str | None = Field(default=None, max_length=500)
    report_bytes: int = Field(default=0, sa_type=BigInteger)
    message: str | None = Field(default=None, max_length=1000)  # why a job failed
    created_by: int | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL", index=True
    )
    created_at: datetime = Field(default_factory=utcnow, index=True, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    undone_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ImportRecord(SQLModel, table=True):
    """A record an import created or updated, so that undoing the import can trash or revert it.

    `changes` holds {field: [before, after]} for an update, and is empty for a creation.
    """

    __tablename__ = "import_records"

    job_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("import_jobs.id", ondelete="CASCADE"),
            primary_key=True,
            nullable=False,
        )
    )
    entity: str = Field(primary_key=True, max_length=20)
    record_id: int = Field(primary_key=True, sa_type=BigInteger)
    action: str = Field(max_length=10)  # created | updated
    row_number: int | None = None
    changes: dict[str, Any] = jsonb_field()
