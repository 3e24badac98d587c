"""Workflows: when a trigger fires and the conditions hold, run the actions."""

from typing import Any

from sqlmodel import Field

from crm_app.models.base import AuditedBase, jsonb_field


class Workflow(AuditedBase, table=True):
    """An automation rule, e.g. "deal won -> create onboarding task"."""

    __tablename__ = "workflows"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    trigger: dict[str, Any] = jsonb_field()
    conditions: list[dict[str, Any]] = jsonb_field(list)
    actions: list[dict[str, Any]] = jsonb_field(list)
    is_active: bool = True
