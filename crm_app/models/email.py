"""Outgoing e-mail: messages (the outbox), mass-mail campaigns and their recipients, and the
suppression list of addresses that asked for no more mass mail."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Index, Text, UniqueConstraint, func
from sqlmodel import Field, SQLModel, UTCDateTime

from crm_app.models.base import jsonb_field, utcnow


class MessageStatus(StrEnum):
    """Where an outgoing message is: waiting, delivered, given up, skipped, or kept (no SMTP)."""

    queued = "queued"
    sent = "sent"
    failed = "failed"
    suppressed = "suppressed"
    kept = "kept"  # development mode: shown in the outbox instead of sent


class RecipientStatus(StrEnum):
    """Where one recipient of a campaign is."""

    pending = "pending"
    sent = "sent"
    failed = "failed"
    suppressed = "suppressed"


class CampaignStatus(StrEnum):
    """A campaign sends until every recipient is settled, or someone cancels it."""

    sending = "sending"
    done = "done"
    cancelled = "cancelled"


def _created_at() -> Any:
    return Field(
        default_factory=utcnow,
        index=True,
        sa_type=UTCDateTime,
        sa_column_kwargs={"server_default": func.now()},
    )


class EmailMessage(SQLModel, table=True):
    """One outgoing e-mail, written in the sender's transaction and sent by a job; its status
    decides whether a job that runs again sends it (only `queued` ones are sent)."""

    __tablename__ = "email_messages"
    __table_args__ = (Index("ix_email_messages_status_sent_at", "status", "sent_at"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigInteger)
    message_id: str = Field(max_length=200, unique=True)  # the Message-ID header, <...@...>
    to_address: str = Field(max_length=320, index=True)
    from_address: str = Field(max_length=320)
    subject: str = Field(default="", max_length=300)
    html: str = Field(default="", sa_type=Text)
    text: str = Field(default="", sa_type=Text)
    headers: dict[str, Any] = jsonb_field()
    status: str = Field(default=MessageStatus.queued.value, max_length=20, index=True)
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    error: str | None = Field(default=None, sa_type=Text)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # What the message is about, when a person sent it from a record (or a rule did).
    entity: str | None = Field(default=None, max_length=20)
    record_id: int | None = Field(default=None, sa_type=BigInteger)
    template_id: int | None = Field(
        default=None, foreign_key="email_templates.id", ondelete="SET NULL"
    )
    campaign_id: int | None = Field(
        default=None, foreign_key="email_campaigns.id", ondelete="CASCADE", index=True
    )
    recipient_id: int | None = Field(
        default=None,
        foreign_key="email_campaign_recipients.id",
        ondelete="SET NULL",
        index=True,
        sa_type=BigInteger,
    )
    # Messages about a record honour the suppression list only when automated (rules, mass mail).
    respect_suppression: bool = Field(default=False)
    created_by: int | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL", index=True
    )
    created_at: datetime = _created_at()


class Campaign(SQLModel, table=True):
    """A mass mail: a template sent to a snapshot of a saved view's people."""

    __tablename__ = "email_campaigns"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    entity: str = Field(max_length=20)  # contact | lead
    saved_view_id: int | None = Field(
        default=None, foreign_key="saved_views.id", ondelete="SET NULL"
    )
    template_id: int | None = Field(
        default=None, foreign_key="email_templates.id", ondelete="SET NULL"
    )
    subject: str = Field(default="", max_length=300)  # the template's, as it was when sent
    body: str = Field(default="", sa_type=Text)
    status: str = Field(default=CampaignStatus.sending.value, max_length=20)
    total: int = 0
    created_by: int | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL", index=True
    )
    created_at: datetime = _created_at()
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CampaignRecipient(SQLModel, table=True):
    """One person of a campaign, snapshotted when it was sent; one row per address."""

    __tablename__ = "email_campaign_recipients"
    __table_args__ = (
        UniqueConstraint("campaign_id", "email", name="uq_email_campaign_recipients_address"),
        Index("ix_email_campaign_recipients_campaign_status", "campaign_id", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigInteger)
    campaign_id: int = Field(foreign_key="email_campaigns.id", ondelete="CASCADE")
    record_id: int = Field(sa_type=BigInteger)
    email: str = Field(max_length=320)
    name: str = Field(default="", max_length=200)
    status: str = Field(default=RecipientStatus.pending.value, max_length=20)
    attempts: int = 0
    error: str | None = Field(default=None, sa_type=Text)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Suppression(SQLModel, table=True):
    """An address that mass mail and automated e-mail skip (it unsubscribed, or an admin
    added it)."""

    __tablename__ = "email_suppressions"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True)  # lowercased
    reason: str = Field(default="unsubscribed", max_length=50)
    campaign_id: int | None = Field(
        default=None, foreign_key="email_campaigns.id", ondelete="SET NULL"
    )
    created_by: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = _created_at()
