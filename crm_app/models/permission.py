"""Permissions: what each role may do to each resource, editable by admins."""

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlmodel import Field, SQLModel, UTCDateTime

from crm_app.models.base import utcnow
from crm_app.models.user import Role


class Permission(SQLModel, table=True):
    """One (role, resource, action) grant and how far it reaches."""

    __tablename__ = "permissions"
    __table_args__ = (UniqueConstraint("role", "resource", "action"),)

    id: int | None = Field(default=None, primary_key=True)
    role: Role = Field(sa_type=String)
    resource: str = Field(max_length=50)
    action: str = Field(max_length=50)
    # a crm_app.auth.permissions.Scope value: none, own, team or all
    scope: str = Field(default="none", max_length=10)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, sa_column_kwargs={"onupdate": utcnow}
    )
    updated_by: int | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL", index=True
    )
