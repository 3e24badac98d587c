"""Saved views: a named list filter, sort and column set, private or shared."""

from typing import Any

from sqlalchemy import Index
from sqlmodel import Field

from crm_app.models.base import AuditedBase, jsonb_field


class SavedView(AuditedBase, table=True):
    """A list view a user saved, optionally shared with everyone."""

    __tablename__ = "saved_views"
    __table_args__ = (Index("ix_saved_views_entity_owner_id", "entity", "owner_id"),)

    id: int | None = Field(default=None, primary_key=True)
    entity: str = Field(max_length=50)  # contacts, accounts, leads, deals, activities
    name: str = Field(max_length=100)
    owner_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    is_shared: bool = False
    filters: dict[str, Any] = jsonb_field()
    sort: str = Field(default="", max_length=200)  # as in the API: "field,-field"
    columns: list[str] = jsonb_field(list)
