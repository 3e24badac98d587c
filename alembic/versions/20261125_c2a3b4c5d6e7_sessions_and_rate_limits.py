"""Sessions page and rate limits.

PLACEHOLDER: no-op until its owner fills it in (or it is removed and the chain relinked).

Revision ID: c2a3b4c5d6e7
Revises: c1a2b3c4d5e6
Create Date: 2026-11-25
"""

from collections.abc import Sequence

revision: str = "c2a3b4c5d6e7"
down_revision: str | None = "c1a2b3c4d5e6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
