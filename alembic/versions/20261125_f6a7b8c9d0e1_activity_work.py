"""Activities: an index of each owner's done ones by kind, for "My work".

The open ones already have `ix_activities_open_owner_due`; the done part of "My work" lists a
user's most recently done tasks, which without this index would read every activity the user
ever logged (done calls and notes far outnumber done tasks).

Revision ID: f6a7b8c9d0e1
Revises: a7b8c9d0e1f2
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "f6a7b8c9d0e1"
down_revision: str | None = "a7b8c9d0e1f2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DONE = sa.text("done_at IS NOT NULL AND deleted_at IS NULL")


def upgrade() -> None:
    op.create_index(
        "ix_activities_done_owner_kind",
        "activities",
        ["owner_id", "kind", "done_at"],
        postgresql_where=DONE,
    )


def downgrade() -> None:
    op.drop_index("ix_activities_done_owner_kind", table_name="activities", postgresql_where=DONE)
