"""Why a background job last failed: procrastinate keeps a job's status and attempts, not
the error, so the worker writes it here for Settings -> Jobs."""

from datetime import datetime

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel, UTCDateTime

from crm_app.models.base import utcnow


class JobError(SQLModel, table=True):
    """The last exception of one procrastinate job (`procrastinate_jobs.id`), as text cut to
    1,000 characters. Removed when the job later succeeds, or once the job itself is gone."""

    __tablename__ = "job_errors"

    job_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    attempt: int = 1  # which attempt failed so (1 = the first run)
    error: str = Field(max_length=1000)
    failed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
