"""Database engine and sessions; starts the embedded PostgreSQL when DATABASE_URL is unset."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlmodel import Session

from crm_app.settings import get_settings

EMBEDDED_DB_NAME = "crm"
_embedded_server = None  # keeps pgserver's handle alive for the life of the process


def _embedded_url(pgdata: Path, database: str = EMBEDDED_DB_NAME) -> str:
    """Start (or attach to) the pgserver PostgreSQL under `pgdata`; return a URL to `database`."""
    global _embedded_server
    import pgserver  # imported lazily: only the embedded mode needs it

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # cleanup_mode="stop": PostgreSQL stops when the last process holding a handle exits.
    _embedded_server = pgserver.get_server(pgdata, cleanup_mode="stop")
    exists = _embedded_server.psql(
        f"SELECT 1 FROM pg_database WHERE datname = '{database}';"  # noqa: S608 - constant name
    )
    if "(1 row)" not in exists:
        _embedded_server.psql(f'CREATE DATABASE "{database}";')
    uri = _embedded_server.get_uri(database)
    return "postgresql+psycopg://" + uri.removeprefix("postgresql://")


@lru_cache
def database_url() -> str:
    """The SQLAlchemy URL: DATABASE_URL, or the embedded server under data/pg."""
    settings = get_settings()
    if settings.database_url:
        return settings.database_url
    url = _embedded_url(settings.data_dir / "pg")
    # Child processes (the Reflex backend started by `crm run`) reuse the same server.
    os.environ["DATABASE_URL"] = url
    return url


@lru_cache
def get_engine() -> Engine:
    """The process-wide engine."""
    return create_engine(database_url(), pool_pre_ping=True, pool_size=10, max_overflow=10)


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def migrate(connection=None) -> None:
    """Bring the schema to the latest Alembic revision (on `connection` when given)."""
    from alembic.config import Config

    from alembic import command
    from crm_app.settings import PROJECT_ROOT

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["configure_logger"] = False
    if connection is not None:
        config.attributes["connection"] = connection
    command.upgrade(config, "head")
