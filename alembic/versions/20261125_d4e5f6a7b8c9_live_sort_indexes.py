"""Indexes for every sortable list column of contacts and companies (live rows only).

Revision ID: d4e5f6a7b8c9
Revises: c3d4e5f6a7b8
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "d4e5f6a7b8c9"
down_revision: str | None = "c3d4e5f6a7b8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("deleted_at IS NULL")
CONTACTS = ("last_name", "first_name", "email", "phone", "title", "lifecycle_stage", "created_at")
ACCOUNTS = ("domain", "industry", "size", "city", "country", "created_at")


def upgrade() -> None:
    op.drop_index("ix_contacts_live_name", table_name="contacts", postgresql_where=LIVE)
    for column in CONTACTS:
        op.create_index(
            f"ix_contacts_live_{column}", "contacts", [column, "id"], postgresql_where=LIVE
        )
    for column in ACCOUNTS:
        op.create_index(
            f"ix_accounts_live_{column}", "accounts", [column, "id"], postgresql_where=LIVE
        )


def downgrade() -> None:
    for column in ACCOUNTS:
        op.drop_index(f"ix_accounts_live_{column}", table_name="accounts", postgresql_where=LIVE)
    for column in CONTACTS:
        op.drop_index(f"ix_contacts_live_{column}", table_name="contacts", postgresql_where=LIVE)
    op.create_index(
        "ix_contacts_live_name",
        "contacts",
        ["last_name", "first_name", "id"],
        postgresql_where=LIVE,
    )
