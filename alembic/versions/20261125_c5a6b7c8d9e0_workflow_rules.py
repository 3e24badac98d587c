"""Workflow rules: the listener's index on active rules, the run log, and date-trigger fires.

Revision ID: c5a6b7c8d9e0
Revises: c4a5b6c7d8e9
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "c5a6b7c8d9e0"
down_revision: str | None = "c4a5b6c7d8e9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_workflows_active_trigger",
        "workflows",
        [sa.text("(trigger ->> 'entity')"), sa.text("(trigger ->> 'kind')")],
        postgresql_where=sa.text("is_active AND deleted_at IS NULL"),
    )
    op.create_table(
        "workflow_runs",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("workflow_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("event_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("entity", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("chain", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("actions_done", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflows.id"],
            name=op.f("fk_workflow_runs_workflow_id_workflows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_runs")),
    )
    op.create_index(
        "ix_workflow_runs_workflow_id_id", "workflow_runs", ["workflow_id", "id"], unique=False
    )
    op.create_index(
        "uq_workflow_runs_workflow_id_event_id",
        "workflow_runs",
        ["workflow_id", "event_id"],
        unique=True,
    )
    op.create_table(
        "workflow_date_fires",
        sa.Column("workflow_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("fired_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflows.id"],
            name=op.f("fk_workflow_date_fires_workflow_id_workflows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "workflow_id", "record_id", "due_on", name=op.f("pk_workflow_date_fires")
        ),
    )


def downgrade() -> None:
    op.drop_table("workflow_date_fires")
    op.drop_index("uq_workflow_runs_workflow_id_event_id", table_name="workflow_runs")
    op.drop_index("ix_workflow_runs_workflow_id_id", table_name="workflow_runs")
    op.drop_table("workflow_runs")
    op.drop_index("ix_workflows_active_trigger", table_name="workflows")
