"""E-mail: outbox, templates, mass mail, suppression list.

PLACEHOLDER: no-op until its owner fills it in (or it is removed and the chain relinked).

Revision ID: c4a5b6c7d8e9
Revises: c3a4b5c6d7e8
Create Date: 2026-11-25
"""

from collections.abc import Sequence

revision: str = "c4a5b6c7d8e9"
down_revision: str | None = "c3a4b5c6d7e8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
