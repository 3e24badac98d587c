"""The tag catalog: names and colours offered when tagging records."""

from sqlalchemy import Index, text
from sqlmodel import Field

from crm_app.models.base import AuditedBase


class Tag(AuditedBase, table=True):
    """A tag name, unique case-insensitively; records store tag names in their `tags` array."""

    __tablename__ = "tags"
    __table_args__ = (Index("uq_tags_name_lower", text("lower(name)"), unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(min_length=1, max_length=50)
    color: str = Field(default="gray", max_length=20)
