"""Connecting single sign-on from one's profile: the user a pending sign-in links to.

Revision ID: c6a7b8c9d0e1
Revises: c5a6b7c8d9e0
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "c6a7b8c9d0e1"
down_revision: str | None = "c5a6b7c8d9e0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("oidc_logins", sa.Column("link_user_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_oidc_logins_link_user_id_users"),
        "oidc_logins",
        "users",
        ["link_user_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_index(op.f("ix_oidc_logins_link_user_id"), "oidc_logins", ["link_user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_oidc_logins_link_user_id"), table_name="oidc_logins")
    op.drop_constraint(op.f("fk_oidc_logins_link_user_id_users"), "oidc_logins", type_="foreignkey")
    op.drop_column("oidc_logins", "link_user_id")
