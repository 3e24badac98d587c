"""Accounts, shown as "Companies" in the UI."""

from typing import Any

from sqlalchemy import Index, Text, text
from sqlmodel import Field, SQLModel

from crm_app.models.base import (
    AuditedBase,
    PublicRecord,
    domain_terms,
    jsonb_field,
    live_sort_indexes,
    phone_terms,
    record_indexes,
    search_vector_field,
    string_list_field,
    trigger_kept_field,
)


class AccountBase(SQLModel):
    """Editable company fields."""

    name: str = Field(min_length=1, max_length=200)
    domain: str | None = Field(default=None, max_length=255)
    industry: str | None = Field(default=None, max_length=100)
    size: str | None = Field(default=None, max_length=20)  # employee band, e.g. "11-50"
    phone: str | None = Field(default=None, max_length=32)
    website: str | None = Field(default=None, max_length=500)
    street: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=10_000, sa_type=Text)
    owner_id: int | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL", index=True
    )
    tags: list[str] = string_list_field()
    custom: dict[str, Any] = jsonb_field()


class Account(AccountBase, AuditedBase, table=True):
    """A company the team sells to."""

    __tablename__ = "accounts"
    __table_args__ = (
        *record_indexes("accounts"),
        Index("ix_accounts_domain_lower", text("lower(domain)")),
        *live_sort_indexes(
            "accounts", "name", "domain", "industry", "size", "city", "country", "created_at"
        ),
        *live_sort_indexes("accounts", "owner_name"),
    )

    id: int | None = Field(default=None, primary_key=True)
    owner_name: str | None = trigger_kept_field(200)
    search_vector: str | None = search_vector_field(
        "name", *domain_terms("domain"), *phone_terms("phone"), "website", "city"
    )


class AccountCreate(AccountBase):
    """New company."""


class AccountUpdate(SQLModel):
    """Partial update of a company; unset fields are left alone."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    domain: str | None = Field(default=None, max_length=255)
    industry: str | None = Field(default=None, max_length=100)
    size: str | None = Field(default=None, max_length=20)
    phone: str | None = Field(default=None, max_length=32)
    website: str | None = Field(default=None, max_length=500)
    street: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=10_000)
    owner_id: int | None = None
    tags: list[str] | None = None
    custom: dict[str, Any] | None = None


class AccountPublic(AccountBase, PublicRecord):
    """A company as the API and UI show it."""
