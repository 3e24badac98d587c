"""Leads: contacts-to-be, scored and worked until converted."""

from datetime import datetime
from enum import StrEnum
from typing import Any, Self

from pydantic import model_validator
from sqlalchemy import BigInteger, CheckConstraint, Index, String, text
from sqlmodel import Field, SQLModel, UTCDateTime

from crm_app.models.base import (
    AuditedBase,
    LowerEmail,
    PublicRecord,
    email_terms,
    jsonb_field,
    live_sort_indexes,
    phone_terms,
    record_indexes,
    search_vector_field,
    string_list_field,
    trigger_kept_field,
)

# The columns the lead list sorts by, each with a (column, id) index over live rows.
SORTED_COLUMNS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "company_name",
    "title",
    "source",
    "status",
    "score",
    "owner_name",
    "created_at",
)


class LeadStatus(StrEnum):
    """How far a lead has been worked."""

    new = "new"
    contacted = "contacted"
    qualified = "qualified"
    unqualified = "unqualified"
    converted = "converted"


class LeadBase(SQLModel):
    """Editable lead fields."""

    # server defaults (here and below) let COPY and raw INSERTs omit these columns
    first_name: str = Field(default="", max_length=100, sa_column_kwargs={"server_default": ""})
    last_name: str = Field(default="", max_length=100, sa_column_kwargs={"server_default": ""})
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=32)
    company_name: str | None = Field(default=None, max_length=200)
    title: str | None = Field(default=None, max_length=200)
    source: str | None = Field(default=None, max_length=100, index=True)
    status: LeadStatus = Field(
        default=LeadStatus.new,
        index=True,
        sa_type=String,
        sa_column_kwargs={"server_default": "new"},
    )
    score: int = Field(
        default=0, ge=0, le=100, index=True, sa_column_kwargs={"server_default": "0"}
    )
    owner_id: int | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL", index=True
    )
    tags: list[str] = string_list_field()
    custom: dict[str, Any] = jsonb_field()


class Lead(LeadBase, AuditedBase, table=True):
    """A prospect not yet a contact; conversion links what it became."""

    __tablename__ = "leads"
    __table_args__ = (
        *record_indexes("leads"),
        Index("ix_leads_email_lower", text("lower(email)")),
        *live_sort_indexes("leads", *SORTED_COLUMNS),
        CheckConstraint("score BETWEEN 0 AND 100", name="score_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    owner_name: str | None = trigger_kept_field(200)
    converted_at: datetime | None = Field(default=None, index=True, sa_type=UTCDateTime)
    converted_contact_id: int | None = Field(
        default=None,
        foreign_key="contacts.id",
        ondelete="SET NULL",
        index=True,
        sa_type=BigInteger,
    )
    converted_account_id: int | None = Field(
        default=None, foreign_key="accounts.id", ondelete="SET NULL", index=True
    )
    converted_deal_id: int | None = Field(
        default=None, foreign_key="deals.id", ondelete="SET NULL", index=True
    )
    search_vector: str | None = search_vector_field(
        "first_name",
        "last_name",
        *email_terms("email"),
        *phone_terms("phone"),
        "company_name",
        "title",
    )


class LeadCreate(LeadBase):
    """New lead: needs a name, an e-mail or a company."""

    email: LowerEmail | None = None

    @model_validator(mode="after")
    def _identifiable(self) -> Self:
        if not (
            self.first_name.strip() or self.last_name.strip() or self.email or self.company_name
        ):
            raise ValueError("a lead needs a name, an e-mail or a company")
        return self


class LeadUpdate(SQLModel):
    """Partial update of a lead; unset fields are left alone."""

    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    email: LowerEmail | None = None
    phone: str | None = Field(default=None, max_length=32)
    company_name: str | None = Field(default=None, max_length=200)
    title: str | None = Field(default=None, max_length=200)
    source: str | None = Field(default=None, max_length=100)
    status: LeadStatus | None = None
    score: int | None = Field(default=None, ge=0, le=100)
    owner_id: int | None = None
    tags: list[str] | None = None
    custom: dict[str, Any] | None = None


class LeadPublic(LeadBase, PublicRecord):
    """A lead as the API and UI show it, with what it was converted into."""

    converted_at: datetime | None = None
    converted_contact_id: int | None = None
    converted_account_id: int | None = None
    converted_deal_id: int | None = None
