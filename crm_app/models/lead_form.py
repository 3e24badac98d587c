"""Public lead-capture forms that create leads, and the recent submissions that rate-limit them."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index
from sqlmodel import Field, SQLModel, UTCDateTime

from crm_app.models.base import AuditedBase, jsonb_field, utcnow


class LeadForm(AuditedBase, table=True):
    """A form served at a public URL by its key; submissions become leads."""

    __tablename__ = "lead_forms"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, unique=True)  # public slug in the form's URL
    name: str = Field(max_length=100)
    fields: list[dict[str, Any]] = jsonb_field(list)
    source: str | None = Field(default=None, max_length=100)  # set on the leads it creates
    team_id: int | None = Field(
        default=None, foreign_key="teams.id", ondelete="SET NULL", index=True
    )
    is_active: bool = True


class LeadFormSubmission(SQLModel, table=True):
    """One submission of a form from one address: the rate limit counts these over the last
    minute, and a periodic job deletes them once they are older than that."""

    __tablename__ = "lead_form_submissions"
    __table_args__ = (Index("ix_lead_form_submissions_form_id_ip_at", "form_id", "ip", "at"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigInteger)
    form_id: int = Field(foreign_key="lead_forms.id", ondelete="CASCADE")
    ip: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow, index=True, sa_type=UTCDateTime)
