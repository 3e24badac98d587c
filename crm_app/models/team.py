"""Teams: a manager and the reps who report to them."""

from sqlmodel import Field, SQLModel

from crm_app.models.base import AuditedBase, PublicRecord


class TeamBase(SQLModel):
    """Editable team fields."""

    name: str = Field(min_length=1, max_length=100, unique=True)
    manager_id: int | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL", index=True
    )


class Team(TeamBase, AuditedBase, table=True):
    """A sales team; managers see their team's records."""

    __tablename__ = "teams"

    id: int | None = Field(default=None, primary_key=True)


class TeamCreate(TeamBase):
    """New team."""


class TeamUpdate(SQLModel):
    """Partial update of a team."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    manager_id: int | None = None


class TeamPublic(TeamBase, PublicRecord):
    """A team as the API and UI show it."""
