"""Two-factor sign-in: TOTP secrets and one-time recovery codes.

PLACEHOLDER: no-op until its owner fills it in (or it is removed and the chain relinked).

Revision ID: c1a2b3c4d5e6
Revises: c0a1b2c3d4e5
Create Date: 2026-11-25
"""

from collections.abc import Sequence

revision: str = "c1a2b3c4d5e6"
down_revision: str | None = "c0a1b2c3d4e5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
