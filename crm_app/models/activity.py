"""Activities: calls, e-mails, meetings, tasks and notes on a record's timeline."""

from datetime import datetime
from enum import StrEnum
from typing import Self

from pydantic import AwareDatetime, model_validator
from sqlalchemy import BigInteger, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel, UTCDateTime

from crm_app.models.base import AuditedBase, PublicRecord


class ActivityKind(StrEnum):
    """What sort of activity it is."""

    call = "call"
    email = "email"
    meeting = "meeting"
    task = "task"
    note = "note"


class Priority(StrEnum):
    """How urgent a task is."""

    low = "low"
    normal = "normal"
    high = "high"


class ActivityBase(SQLModel):
    """Editable activity fields; times must carry a zone, and it may relate to any record."""

    kind: ActivityKind = Field(index=True, sa_type=String)
    subject: str = Field(default="", max_length=300, sa_column_kwargs={"server_default": ""})
    body: str = Field(  # HTML, sanitised by services
        default="", max_length=100_000, sa_type=Text, sa_column_kwargs={"server_default": ""}
    )
    due_at: AwareDatetime | None = Field(default=None, index=True, sa_type=UTCDateTime)
    done_at: AwareDatetime | None = Field(default=None, sa_type=UTCDateTime)
    reminder_at: AwareDatetime | None = Field(default=None, sa_type=UTCDateTime)
    starts_at: AwareDatetime | None = Field(default=None, index=True, sa_type=UTCDateTime)
    ends_at: AwareDatetime | None = Field(default=None, sa_type=UTCDateTime)
    location: str | None = Field(default=None, max_length=300)
    outcome: str | None = Field(default=None, max_length=100)  # of a call
    duration_minutes: int | None = Field(default=None, ge=0)
    priority: Priority = Field(
        default=Priority.normal, sa_type=String, sa_column_kwargs={"server_default": "normal"}
    )
    owner_id: int | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL", index=True
    )
    contact_id: int | None = Field(
        default=None, foreign_key="contacts.id", ondelete="SET NULL", sa_type=BigInteger
    )
    account_id: int | None = Field(default=None, foreign_key="accounts.id", ondelete="SET NULL")
    lead_id: int | None = Field(default=None, foreign_key="leads.id", ondelete="SET NULL")
    deal_id: int | None = Field(default=None, foreign_key="deals.id", ondelete="SET NULL")
    attendee_contact_ids: list[int] = Field(
        default_factory=list,
        sa_type=ARRAY(BigInteger),
        sa_column_kwargs={"server_default": "{}"},
    )
    attendee_user_ids: list[int] = Field(
        default_factory=list,
        sa_type=ARRAY(Integer),
        sa_column_kwargs={"server_default": "{}"},
    )


class Activity(ActivityBase, AuditedBase, table=True):
    """Something done or to do, on the timeline of what it relates to."""

    __tablename__ = "activities"
    __table_args__ = (
        # "my open tasks", soonest first; with the kind in the index, My work counts a user's
        # open tasks without reading the table (kind after due_at keeps the order by due time
        # for lists of open activities of every kind)
        Index(
            "ix_activities_open_owner_due_kind",
            "owner_id",
            "due_at",
            "kind",
            postgresql_where=text("done_at IS NULL AND deleted_at IS NULL"),
        ),
        # a user's meetings by start, for their calendar feed (rows loaded in bulk may have
        # only a due time)
        Index(
            "ix_activities_meeting_owner_start",
            "owner_id",
            text("coalesce(starts_at, due_at)"),
            postgresql_where=text("kind = 'meeting' AND deleted_at IS NULL"),
        ),
        # the meetings of others a user attends (owners are often listed among the attendees
        # too: removing them leaves an index of invitations only)
        Index(
            "ix_activities_meeting_guests",
            text("array_remove(attendee_user_ids, owner_id)"),
            postgresql_using="gin",
            postgresql_where=text("kind = 'meeting' AND deleted_at IS NULL"),
        ),
        # "what I did last", by kind (done calls and notes outnumber done tasks)
        Index(
            "ix_activities_done_owner_kind",
            "owner_id",
            "kind",
            "done_at",
            postgresql_where=text("done_at IS NOT NULL AND deleted_at IS NULL"),
        ),
        # record timelines; each also serves its foreign key
        Index("ix_activities_contact_id_created_at", "contact_id", "created_at"),
        Index("ix_activities_account_id_created_at", "account_id", "created_at"),
        Index("ix_activities_lead_id_created_at", "lead_id", "created_at"),
        Index("ix_activities_deal_id_created_at", "deal_id", "created_at"),
        # reminders still to send, for the worker
        Index(
            "ix_activities_reminder_due",
            "reminder_at",
            postgresql_where=text("reminder_sent_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigInteger)
    reminder_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def _ends_after_start(starts_at: datetime | None, ends_at: datetime | None) -> None:
    if starts_at and ends_at and ends_at < starts_at:
        raise ValueError("a meeting cannot end before it starts")


class ActivityCreate(ActivityBase):
    """New activity."""

    @model_validator(mode="after")
    def _check_times(self) -> Self:
        _ends_after_start(self.starts_at, self.ends_at)
        return self


class ActivityUpdate(SQLModel):
    """Partial update of an activity; unset fields are left alone."""

    kind: ActivityKind | None = None
    subject: str | None = Field(default=None, max_length=300)
    body: str | None = Field(default=None, max_length=100_000)
    due_at: AwareDatetime | None = None
    done_at: AwareDatetime | None = None
    reminder_at: AwareDatetime | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    location: str | None = Field(default=None, max_length=300)
    outcome: str | None = Field(default=None, max_length=100)
    duration_minutes: int | None = Field(default=None, ge=0)
    priority: Priority | None = None
    owner_id: int | None = None
    contact_id: int | None = None
    account_id: int | None = None
    lead_id: int | None = None
    deal_id: int | None = None
    attendee_contact_ids: list[int] | None = None
    attendee_user_ids: list[int] | None = None

    @model_validator(mode="after")
    def _check_times(self) -> Self:
        _ends_after_start(self.starts_at, self.ends_at)
        return self


class ActivityPublic(ActivityBase, PublicRecord):
    """An activity as the API and UI show it."""

    reminder_sent_at: datetime | None = None
