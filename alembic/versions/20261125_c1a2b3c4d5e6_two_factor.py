"""Two-factor sign-in: TOTP secrets and one-time recovery codes.

`users.totp_secret` (there since the first schema, never used until now) holds the secret
encrypted with a key derived from the app's secret key; `totp_enabled_at` says two-factor is
on, `totp_last_step` refuses a code used twice. Which roles must use it is an app setting.

Revision ID: c1a2b3c4d5e6
Revises: c0a1b2c3d4e5
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "c1a2b3c4d5e6"
down_revision: str | None = "c0a1b2c3d4e5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("totp_enabled_at", sqlmodel.sql.sqltypes.UTCDateTime()))
    op.add_column("users", sa.Column("totp_last_step", sa.BigInteger()))
    # Whatever the column held before was never a working secret: start everyone at "off".
    op.execute("UPDATE users SET totp_secret = NULL")
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_recovery_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_recovery_codes_code_hash")),
    )
    op.create_index(op.f("ix_recovery_codes_user_id"), "recovery_codes", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_recovery_codes_user_id"), table_name="recovery_codes")
    op.drop_table("recovery_codes")
    op.drop_column("users", "totp_last_step")
    op.drop_column("users", "totp_enabled_at")
