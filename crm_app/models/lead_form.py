"""Public lead-capture forms that create leads."""

from typing import Any

from sqlmodel import Field

from crm_app.models.base import AuditedBase, jsonb_field


class LeadForm(AuditedBase, table=True):
    """A form served at a public URL by its key; submissions become leads."""

    __tablename__ = "lead_forms"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, unique=True)  # public slug in the form's URL
    name: str = Field(max_length=100)
    fields: list[dict[str, Any]] = jsonb_field(list)
    source: str | None = Field(default=None, max_length=100)  # set on the leads it creates
    team_id: int | None = Field(
        default=None, foreign_key="teams.id", ondelete="SET NULL", index=True
    )
    is_active: bool = True
