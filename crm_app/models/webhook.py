"""Outgoing webhooks (Standard Webhooks) and the log of their deliveries."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel, UTCDateTime

from crm_app.models.base import AuditedBase, string_list_field, utcnow


class DeliveryStatus(StrEnum):
    """Where a delivery stands in its retry schedule."""

    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"
    gave_up = "gave_up"


class Webhook(AuditedBase, table=True):
    """An endpoint subscribed to events; the previous secret still signs during rotation."""

    __tablename__ = "webhooks"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2048)
    events: list[str] = string_list_field()  # e.g. "contact.created"
    secret: str = Field(max_length=100)  # whsec_...; kept in clear because it signs
    previous_secret: str | None = Field(default=None, max_length=100)
    previous_secret_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    is_active: bool = True
    disabled_reason: str | None = Field(default=None, max_length=500)
    failing_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    owner_id: int | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL", index=True
    )


class WebhookDelivery(SQLModel, table=True):
    """One event sent (or to be sent) to one webhook, with its latest attempt."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_webhook_id_created_at", "webhook_id", "created_at"),
        # the worker's queue of retries that are due
        Index(
            "ix_webhook_deliveries_pending_next_attempt",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigInteger)
    webhook_id: int = Field(foreign_key="webhooks.id", ondelete="CASCADE")
    event_id: str = Field(max_length=100, index=True)  # the webhook-id header, msg_...
    event_type: str = Field(max_length=100)
    payload: dict[str, Any] = Field(sa_type=JSONB)
    status: DeliveryStatus = Field(default=DeliveryStatus.pending, sa_type=String)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_status_code: int | None = None
    last_duration_ms: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WebhookAttempt(SQLModel, table=True):
    """One try at sending a delivery: when, the response code or the error, how long it took.
    The response body is never kept."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (
        Index("ix_webhook_attempts_delivery_id_attempted_at", "delivery_id", "attempted_at"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigInteger)
    delivery_id: int = Field(
        foreign_key="webhook_deliveries.id", ondelete="CASCADE", sa_type=BigInteger
    )
    attempted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    succeeded: bool = False
    status_code: int | None = None
    duration_ms: int = 0
    error: str | None = Field(default=None, max_length=500)  # "ConnectTimeout: ..." etc.
    manual: bool = False  # an admin's redelivery rather than the retry schedule
