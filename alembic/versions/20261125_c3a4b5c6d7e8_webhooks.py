"""Outgoing webhooks: deliveries, attempts, secret rotation.

PLACEHOLDER: no-op until its owner fills it in (or it is removed and the chain relinked).

Revision ID: c3a4b5c6d7e8
Revises: c2a3b4c5d6e7
Create Date: 2026-11-25
"""

from collections.abc import Sequence

revision: str = "c3a4b5c6d7e8"
down_revision: str | None = "c2a3b4c5d6e7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
