"""OpenID Connect identities (issuer, subject) and the require-SSO setting.

PLACEHOLDER: no-op until its owner fills it in (or it is removed and the chain relinked).

Revision ID: c0a1b2c3d4e5
Revises: b9c0d1e2f3a4
Create Date: 2026-11-25
"""

from collections.abc import Sequence

revision: str = "c0a1b2c3d4e5"
down_revision: str | None = "b9c0d1e2f3a4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
