"""Activities: indexes for My work's counts and for a user's calendar feed.

- `ix_activities_open_owner_due_kind` replaces `ix_activities_open_owner_due` (owner_id,
  due_at): the same order, plus the kind, so My work counts a user's open tasks from the index
  alone instead of visiting every open activity of theirs in the table.
- `ix_activities_meeting_owner_start`: a user's meetings by start, so the feed no longer reads
  every meeting of everyone.
- `ix_activities_meeting_guests`: the meetings a user attends that someone else owns (GIN over
  the attendees less the owner, who is often listed too).

Revision ID: a8b9c0d1e2f3
Revises: f6a7b8c9d0e1
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "a8b9c0d1e2f3"
down_revision: str | None = "f6a7b8c9d0e1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("done_at IS NULL AND deleted_at IS NULL")
LIVE_MEETING = sa.text("kind = 'meeting' AND deleted_at IS NULL")


def upgrade() -> None:
    op.create_index(
        "ix_activities_open_owner_due_kind",
        "activities",
        ["owner_id", "due_at", "kind"],
        postgresql_where=OPEN,
    )
    op.drop_index("ix_activities_open_owner_due", table_name="activities", postgresql_where=OPEN)
    op.create_index(
        "ix_activities_meeting_owner_start",
        "activities",
        ["owner_id", sa.text("coalesce(starts_at, due_at)")],
        postgresql_where=LIVE_MEETING,
    )
    op.create_index(
        "ix_activities_meeting_guests",
        "activities",
        [sa.text("array_remove(attendee_user_ids, owner_id)")],
        postgresql_using="gin",
        postgresql_where=LIVE_MEETING,
    )


def downgrade() -> None:
    op.drop_index(
        "ix_activities_meeting_guests",
        table_name="activities",
        postgresql_using="gin",
        postgresql_where=LIVE_MEETING,
    )
    op.drop_index(
        "ix_activities_meeting_owner_start", table_name="activities", postgresql_where=LIVE_MEETING
    )
    op.create_index(
        "ix_activities_open_owner_due",
        "activities",
        ["owner_id", "due_at"],
        postgresql_where=OPEN,
    )
    op.drop_index(
        "ix_activities_open_owner_due_kind", table_name="activities", postgresql_where=OPEN
    )
