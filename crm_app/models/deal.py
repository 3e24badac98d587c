"""Deals, the contacts involved in them, and their stage history."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Index, Numeric, text
from sqlmodel import Field, SQLModel, UTCDateTime

from crm_app.models.base import (
    AuditedBase,
    PublicRecord,
    jsonb_field,
    record_indexes,
    search_vector_field,
    string_list_field,
    utcnow,
)

CURRENCY = {"pattern": r"^[A-Z]{3}$"}  # ISO 4217 code; sqlmodel's `regex=` is silently ignored


class DealBase(SQLModel):
    """Editable deal fields."""

    name: str = Field(min_length=1, max_length=200)
    account_id: int | None = Field(
        default=None, foreign_key="accounts.id", ondelete="SET NULL", index=True
    )
    primary_contact_id: int | None = Field(
        default=None,
        foreign_key="contacts.id",
        ondelete="SET NULL",
        index=True,
        sa_type=BigInteger,
    )
    pipeline_id: int = Field(foreign_key="pipelines.id", index=True)
    stage_id: int = Field(foreign_key="stages.id", index=True)
    amount: Decimal | None = Field(
        default=None, ge=0, max_digits=18, decimal_places=2, sa_type=Numeric(18, 2)
    )
    currency: str = Field(
        default="USD",
        min_length=3,
        max_length=3,
        schema_extra=CURRENCY,
        sa_column_kwargs={"server_default": "USD"},
    )
    recurring_monthly_value: Decimal | None = Field(
        default=None, ge=0, max_digits=18, decimal_places=2, sa_type=Numeric(18, 2)
    )
    expected_close_date: date | None = Field(default=None, index=True)
    probability: int | None = Field(default=None, ge=0, le=100)  # None: the stage's
    owner_id: int | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL", index=True
    )
    lost_reason: str | None = Field(default=None, max_length=200)
    tags: list[str] = string_list_field()
    custom: dict[str, Any] = jsonb_field()


class Deal(DealBase, AuditedBase, table=True):
    """A sale in progress (or closed) moving through a pipeline."""

    __tablename__ = "deals"
    __table_args__ = (
        *record_indexes("deals"),
        Index(
            "ix_deals_live_stage_position",
            "stage_id",
            "position",
            postgresql_where=text("deleted_at IS NULL"),
        ),
        CheckConstraint("probability BETWEEN 0 AND 100", name="probability_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Numeric rather than int so a card dropped between two others gets the midpoint
    position: Decimal = Field(
        default=Decimal(0), sa_type=Numeric(20, 10), sa_column_kwargs={"server_default": "0"}
    )
    stage_entered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, index=True, sa_type=UTCDateTime)
    won_at: datetime | None = Field(default=None, index=True, sa_type=UTCDateTime)
    churned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    search_vector: str | None = search_vector_field("name")


class DealCreate(DealBase):
    """New deal; pipeline and stage required, probability defaults from the stage."""


class DealUpdate(SQLModel):
    """Partial update of a deal; unset fields are left alone."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    account_id: int | None = None
    primary_contact_id: int | None = None
    pipeline_id: int | None = None
    stage_id: int | None = None
    amount: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=2)
    currency: str | None = Field(default=None, min_length=3, max_length=3, schema_extra=CURRENCY)
    recurring_monthly_value: Decimal | None = Field(
        default=None, ge=0, max_digits=18, decimal_places=2
    )
    expected_close_date: date | None = None
    probability: int | None = Field(default=None, ge=0, le=100)
    owner_id: int | None = None
    lost_reason: str | None = Field(default=None, max_length=200)
    tags: list[str] | None = None
    custom: dict[str, Any] | None = None


class DealPublic(DealBase, PublicRecord):
    """A deal as the API and UI show it."""

    position: Decimal
    stage_entered_at: datetime
    closed_at: datetime | None = None
    won_at: datetime | None = None
    churned_at: datetime | None = None


class DealContact(SQLModel, table=True):
    """A contact involved in a deal, with their role in it (e.g. "decision maker")."""

    __tablename__ = "deal_contacts"

    deal_id: int = Field(foreign_key="deals.id", ondelete="CASCADE", primary_key=True)
    contact_id: int = Field(
        foreign_key="contacts.id",
        ondelete="CASCADE",
        primary_key=True,
        index=True,
        sa_type=BigInteger,
    )
    role: str | None = Field(default=None, max_length=100)


class DealStageChange(SQLModel, table=True):
    """One move of a deal between stages, for stage-duration and conversion reports."""

    __tablename__ = "deal_stage_changes"
    __table_args__ = (
        Index("ix_deal_stage_changes_to_stage_id_changed_at", "to_stage_id", "changed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    deal_id: int = Field(foreign_key="deals.id", ondelete="CASCADE", index=True)
    from_stage_id: int | None = Field(
        default=None, foreign_key="stages.id", ondelete="SET NULL", index=True
    )
    to_stage_id: int = Field(foreign_key="stages.id", ondelete="CASCADE")
    changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    changed_by: int | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL", index=True
    )
