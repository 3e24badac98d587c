"""The audit log: who did what to which record, with the before/after of each field."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel, UTCDateTime

from crm_app.models.base import utcnow


class AuditEvent(SQLModel, table=True):
    """One audited action; `changes` maps each field to [before, after]."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_entity_entity_id_at", "entity", "entity_id", "at"),
        Index("ix_audit_events_actor_id_at", "actor_id", "at"),
        # the changes of deals' recurring values, for the MRR report (a small part of the log)
        Index(
            "ix_audit_events_deal_recurring",
            "at",
            postgresql_where=text(
                "entity = 'deal' AND action = 'update' AND changes ? 'recurring_monthly_value'"
            ),
        ),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigInteger)
    actor_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    actor_label: str = Field(default="", max_length=200)  # e.g. "api key Zapier", "system"
    at: datetime = Field(default_factory=utcnow, index=True, sa_type=UTCDateTime)
    entity: str = Field(max_length=50)
    entity_id: int | None = Field(default=None, sa_type=BigInteger)
    action: str = Field(max_length=50)  # sign_in, create, update, delete, restore, ...
    changes: dict[str, Any] = Field(
        default_factory=dict, sa_type=JSONB, sa_column_kwargs={"server_default": "{}"}
    )
    ip: str | None = Field(default=None, max_length=45)
