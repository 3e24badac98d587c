"""import jobs: resume position (byte offset, row), report size, failure message; the records each import touched

Revision ID: c3d4e5f6a7b8
Revises: b7c1d2e3f4a5
Create Date: 2026-11-25 14:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "c3d4e5f6a7b8"
down_revision: str | None = "b7c1d2e3f4a5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTERS = ("file_size", "byte_offset", "report_bytes")


def upgrade() -> None:
    op.create_table(
        "import_records",
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("entity", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=True),
        sa.Column(
            "changes", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["import_jobs.id"],
            name=op.f("fk_import_records_job_id_import_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", "entity", "record_id", name=op.f("pk_import_records")),
    )
    op.add_column(
        "import_jobs",
        sa.Column("companies_created", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column(
        "import_jobs",
        sa.Column("source_path", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    )
    for name in COUNTERS:
        op.add_column(
            "import_jobs", sa.Column(name, sa.BigInteger(), server_default="0", nullable=False)
        )
    op.add_column(
        "import_jobs", sa.Column("next_row", sa.Integer(), server_default="2", nullable=False)
    )
    op.add_column(
        "import_jobs",
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    )


def downgrade() -> None:
    for name in ("message", "next_row", *COUNTERS, "source_path", "companies_created"):
        op.drop_column("import_jobs", name)
    op.drop_table("import_records")
