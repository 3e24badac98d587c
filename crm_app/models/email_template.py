"""E-mail templates with placeholders filled from a record."""

from sqlalchemy import Text
from sqlmodel import Field

from crm_app.models.base import AuditedBase


class EmailTemplate(AuditedBase, table=True):
    """A reusable e-mail; `entity` says which record's fields it may use."""

    __tablename__ = "email_templates"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    entity: str = Field(max_length=50)
    subject: str = Field(default="", max_length=300)
    body: str = Field(default="", sa_type=Text)
