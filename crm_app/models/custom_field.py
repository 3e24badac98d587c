"""Custom field definitions; the values live in each record's `custom` JSONB column."""

from enum import StrEnum
from typing import Any

from sqlalchemy import String, UniqueConstraint
from sqlmodel import Field

from crm_app.models.base import AuditedBase, jsonb_field


class CustomFieldEntity(StrEnum):
    """Which kind of record a custom field belongs to."""

    contact = "contact"
    account = "account"
    lead = "lead"
    deal = "deal"


class FieldType(StrEnum):
    """How a custom field's value is entered, validated and shown."""

    text = "text"
    long_text = "long_text"
    number = "number"
    money = "money"
    date = "date"
    select = "select"
    multi_select = "multi_select"
    checkbox = "checkbox"
    url = "url"


class CustomFieldDefinition(AuditedBase, table=True):
    """One admin-defined field; `key` is the slug used in `custom` and in the API."""

    __tablename__ = "custom_field_definitions"
    __table_args__ = (UniqueConstraint("entity", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    entity: CustomFieldEntity = Field(sa_type=String)
    key: str = Field(max_length=64)
    label: str = Field(max_length=100)
    field_type: FieldType = Field(sa_type=String)
    options: list[Any] = jsonb_field(list)  # choices of a select / multi_select
    required: bool = False
    position: int = 0
