"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import crm_app.models  # noqa: F401  (every table on the metadata)


def _ours(name, type_, parent_names) -> bool:
    return not (type_ == "table" and name and name.startswith("procrastinate_"))


def test_migrated_database_matches_the_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": _ours}
        )
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []
