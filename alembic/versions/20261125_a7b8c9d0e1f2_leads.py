"""Leads: their owner's name kept by triggers, sort indexes, and web-form submissions.

Leads keep a copy of their owner's name (as contacts and companies do since `e5f6a7b8c9d0`,
reusing its `crm_copy_owner_name` function), so the lead list sorts by owner through an index;
every column the list sorts by gets a (column, id) index over live rows. The
`lead_form_submissions` table holds the last minute of public form submissions per address,
which the web-to-lead rate limit counts.

Revision ID: a7b8c9d0e1f2
Revises: e5f6a7b8c9d0
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "a7b8c9d0e1f2"
down_revision: str | None = "e5f6a7b8c9d0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("deleted_at IS NULL")
SORTED_COLUMNS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "company_name",
    "title",
    "source",
    "status",
    "score",
    "owner_name",
    "created_at",
)

# A function and trigger of their own (rather than a new crm_user_renamed), so other
# migrations that add kept names to other tables do not have to rewrite one shared function.
TRIGGERS = """
CREATE TRIGGER leads_owner_id_on_insert BEFORE INSERT ON leads FOR EACH ROW
    WHEN (NEW.owner_id IS NOT NULL) EXECUTE FUNCTION crm_copy_owner_name();
CREATE TRIGGER leads_owner_id_on_update BEFORE UPDATE OF owner_id ON leads FOR EACH ROW
    WHEN (NEW.owner_id IS DISTINCT FROM OLD.owner_id) EXECUTE FUNCTION crm_copy_owner_name();

CREATE FUNCTION crm_lead_owner_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE leads SET owner_name = NEW.name WHERE owner_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER users_renamed_leads AFTER UPDATE OF name ON users FOR EACH ROW
    WHEN (NEW.name IS DISTINCT FROM OLD.name) EXECUTE FUNCTION crm_lead_owner_renamed();
"""


def upgrade() -> None:
    op.add_column("leads", sa.Column("owner_name", sa.String(length=200), nullable=True))
    op.execute("UPDATE leads l SET owner_name = u.name FROM users u WHERE u.id = l.owner_id")
    op.execute(TRIGGERS)
    for column in SORTED_COLUMNS:
        op.create_index(f"ix_leads_live_{column}", "leads", [column, "id"], postgresql_where=LIVE)
    op.create_table(
        "lead_form_submissions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("ip", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["form_id"],
            ["lead_forms.id"],
            name=op.f("fk_lead_form_submissions_form_id_lead_forms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_form_submissions")),
    )
    op.create_index(op.f("ix_lead_form_submissions_at"), "lead_form_submissions", ["at"])
    op.create_index(
        "ix_lead_form_submissions_form_id_ip_at", "lead_form_submissions", ["form_id", "ip", "at"]
    )


def downgrade() -> None:
    op.drop_index("ix_lead_form_submissions_form_id_ip_at", table_name="lead_form_submissions")
    op.drop_index(op.f("ix_lead_form_submissions_at"), table_name="lead_form_submissions")
    op.drop_table("lead_form_submissions")
    for column in SORTED_COLUMNS:
        op.drop_index(f"ix_leads_live_{column}", table_name="leads", postgresql_where=LIVE)
    op.execute(
        """
DROP TRIGGER users_renamed_leads ON users;
DROP FUNCTION crm_lead_owner_renamed();
DROP TRIGGER leads_owner_id_on_update ON leads;
DROP TRIGGER leads_owner_id_on_insert ON leads;
"""
    )
    op.drop_column("leads", "owner_name")
