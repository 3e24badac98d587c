"""Lead scoring rules: points added when a lead matches a condition."""

from typing import Any

from sqlmodel import Field

from crm_app.models.base import AuditedBase, jsonb_field


class LeadScoringRule(AuditedBase, table=True):
    """Adds `points` (possibly negative) to a lead's score when `condition` matches."""

    __tablename__ = "lead_scoring_rules"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    condition: dict[str, Any] = jsonb_field()
    points: int = 0
    is_active: bool = True
