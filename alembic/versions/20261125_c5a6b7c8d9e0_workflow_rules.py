"""Workflow rules: run log and date triggers.

PLACEHOLDER: no-op until its owner fills it in (or it is removed and the chain relinked).

Revision ID: c5a6b7c8d9e0
Revises: c4a5b6c7d8e9
Create Date: 2026-11-25
"""

from collections.abc import Sequence

revision: str = "c5a6b7c8d9e0"
down_revision: str | None = "c4a5b6c7d8e9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
