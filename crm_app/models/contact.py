"""Contacts: the people the team talks to."""

from enum import StrEnum
from typing import Any, Self

from pydantic import model_validator
from sqlalchemy import BigInteger, Index, String, text
from sqlmodel import Field, SQLModel

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


class LifecycleStage(StrEnum):
    """Where a contact stands in the customer journey."""

    subscriber = "subscriber"
    lead = "lead"
    opportunity = "opportunity"
    customer = "customer"
    evangelist = "evangelist"
    other = "other"


class ContactBase(SQLModel):
    """Editable contact fields; e-mail lowercased and phone in E.164 by the time they are stored."""

    # server defaults (here and below) let COPY and raw INSERTs omit these columns
    first_name: str = Field(default="", max_length=100, sa_column_kwargs={"server_default": ""})
    last_name: str = Field(default="", max_length=100, sa_column_kwargs={"server_default": ""})
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=32)
    additional_emails: list[str] = string_list_field()
    additional_phones: list[str] = string_list_field()
    title: str | None = Field(default=None, max_length=200)
    account_id: int | None = Field(
        default=None, foreign_key="accounts.id", ondelete="SET NULL", index=True
    )
    owner_id: int | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL", index=True
    )
    lifecycle_stage: LifecycleStage = Field(
        default=LifecycleStage.lead,
        index=True,
        sa_type=String,
        sa_column_kwargs={"server_default": "lead"},
    )
    tags: list[str] = string_list_field()
    custom: dict[str, Any] = jsonb_field()


class Contact(ContactBase, AuditedBase, table=True):
    """A person at (or without) a company."""

    __tablename__ = "contacts"
    __table_args__ = (
        *record_indexes("contacts"),
        Index("ix_contacts_email_lower", text("lower(email)")),
        Index("ix_contacts_phone", "phone"),
        *live_sort_indexes(
            "contacts",
            "last_name",
            "first_name",
            "email",
            "phone",
            "title",
            "lifecycle_stage",
            "created_at",
            "company_name",
            "owner_name",
        ),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigInteger)
    company_name: str | None = trigger_kept_field(200)
    owner_name: str | None = trigger_kept_field(200)
    search_vector: str | None = search_vector_field(
        "first_name",
        "last_name",
        *email_terms("email"),
        *phone_terms("phone"),
        "title",
        "company_name",
    )


class ContactCreate(ContactBase):
    """New contact: needs a name or an e-mail to be findable again."""

    email: LowerEmail | None = None
    additional_emails: list[LowerEmail] = Field(default_factory=list)

    @model_validator(mode="after")
    def _named_or_emailed(self) -> Self:
        if not (self.first_name.strip() or self.last_name.strip() or self.email):
            raise ValueError("a contact needs a name or an e-mail")
        return self


class ContactUpdate(SQLModel):
    """Partial update of a contact; unset fields are left alone."""

    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    email: LowerEmail | None = None
    phone: str | None = Field(default=None, max_length=32)
    additional_emails: list[LowerEmail] | None = None
    additional_phones: list[str] | None = None
    title: str | None = Field(default=None, max_length=200)
    account_id: int | None = None
    owner_id: int | None = None
    lifecycle_stage: LifecycleStage | None = None
    tags: list[str] | None = None
    custom: dict[str, Any] | None = None


class ContactPublic(ContactBase, PublicRecord):
    """A contact as the API and UI show it."""

    company_name: str | None = None
