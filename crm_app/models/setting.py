"""Workspace-wide settings as key/value pairs."""

from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel, UTCDateTime

from crm_app.models.base import utcnow


class AppSetting(SQLModel, table=True):
    """One workspace setting, e.g. "default_currency" -> "EUR"."""

    __tablename__ = "app_settings"

    key: str = Field(max_length=100, primary_key=True)
    value: Any = Field(default=None, sa_type=JSONB)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, sa_column_kwargs={"onupdate": utcnow}
    )
