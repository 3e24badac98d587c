"""procrastinate schema (the background job queue)

Installs the schema SQL that ships with the installed procrastinate package, so `crm migrate`
sets up the job queue with everything else. When procrastinate is upgraded later, add a
revision applying the SQL files its release notes list (procrastinate.schema.migrations_path).

Revision ID: b7c1d2e3f4a5
Revises: 273b70eaf865
Create Date: 2026-11-25 14:00:00
"""

from collections.abc import Sequence

from alembic import context, op

revision: str = "b7c1d2e3f4a5"
down_revision: str | None = "273b70eaf865"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_jobs",
    "procrastinate_workers",
)
TYPES = (
    "procrastinate_job_to_defer_v1",
    "procrastinate_job_event_type",
    "procrastinate_job_status",
)


def upgrade() -> None:
    from procrastinate.schema import SchemaManager

    schema = SchemaManager.get_schema()
    if context.is_offline_mode():
        op.execute(schema)
        return
    bind = op.get_bind()
    if bind.exec_driver_sql("SELECT to_regclass('procrastinate_jobs')").scalar() is not None:
        return  # installed by hand (`procrastinate schema --apply`) before this revision
    # The raw driver connection runs the multi-statement script as it is: no bind parameters,
    # so its `%` and `:` characters are left alone.
    bind.connection.driver_connection.execute(schema)


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    op.execute(
        """
        DO $$
        DECLARE f record;
        BEGIN
            FOR f IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
                     JOIN pg_namespace n ON n.oid = p.pronamespace
                     WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%'
            LOOP
                EXECUTE 'DROP FUNCTION IF EXISTS ' || f.signature || ' CASCADE';
            END LOOP;
        END $$;
        """
    )
    for type_name in TYPES:
        op.execute(f"DROP TYPE IF EXISTS {type_name} CASCADE")
