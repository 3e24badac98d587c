"""Reports: an index of the audit events that changed a deal's recurring monthly value.

The MRR report (new, expansion, contraction, churn) and the MRR of past periods read these
changes by time; the partial index keeps that read to them instead of the whole audit log.

Revision ID: b9c0d1e2f3a4
Revises: a8b9c0d1e2f3
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "b9c0d1e2f3a4"
down_revision: str | None = "a8b9c0d1e2f3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECURRING = sa.text("entity = 'deal' AND action = 'update' AND changes ? 'recurring_monthly_value'")


def upgrade() -> None:
    op.create_index(
        "ix_audit_events_deal_recurring", "audit_events", ["at"], postgresql_where=RECURRING
    )


def downgrade() -> None:
    op.drop_index(
        "ix_audit_events_deal_recurring", table_name="audit_events", postgresql_where=RECURRING
    )
