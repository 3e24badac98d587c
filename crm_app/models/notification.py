"""In-app notifications (reminders, assignments, mentions)."""

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel, UTCDateTime

from crm_app.models.base import utcnow


class Notification(SQLModel, table=True):
    """A message for one user, unread until read_at is set."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
        Index("ix_notifications_user_id_created_at", "user_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    kind: str = Field(max_length=50)  # reminder, assigned, import_finished, ...
    title: str = Field(max_length=200)
    body: str = Field(default="", max_length=2000)
    link: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
