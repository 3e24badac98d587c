"""The benchmark's database and its scale data set, generated once and then reused."""

from __future__ import annotations

import os

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

BENCH_DB = "crm_bench"
DEFAULT_SCALE = 100_000


def bench_scale() -> int:
    """How many contacts the data set has: BENCH_SCALE, default 100,000."""
    return int(os.environ.get("BENCH_SCALE", DEFAULT_SCALE))


def bench_database_url() -> str:
    """BENCH_DATABASE_URL; else `crm_bench` on TEST_DATABASE_URL's server; else embedded."""
    if url := os.environ.get("BENCH_DATABASE_URL"):
        return _psycopg(url)
    if server := os.environ.get("TEST_DATABASE_URL"):
        return ensure_database(_psycopg(server), BENCH_DB)
    from crm_app.db import _embedded_url
    from crm_app.settings import get_settings

    return _embedded_url(get_settings().data_dir / "bench-pg", BENCH_DB)


def _psycopg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def ensure_database(server_url: str, name: str) -> str:
    """Create database `name` on the server of `server_url` unless it exists; return its URL."""
    server = make_url(server_url)
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        found = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).first()
        if found is None:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


def use_database(url: str) -> None:
    """Point crm_app's settings, URL and engine at `url` from now on."""
    from crm_app.db import database_url, get_engine
    from crm_app.settings import get_settings

    os.environ["DATABASE_URL"] = url
    for cached in (get_settings, database_url, get_engine):
        cached.cache_clear()


def prepare_dataset(scale: int) -> str | None:
    """Migrate, add the defaults and seed the data set unless there; the seed report or None."""
    from crm_app.db import migrate, session_scope
    from crm_app.models import AppSetting
    from crm_app.seeding.defaults import ensure_defaults
    from crm_app.seeding.scale import MARKER_KEY, seed_scale

    migrate()
    with session_scope() as session:
        ensure_defaults(session)
        marker = session.get(AppSetting, MARKER_KEY)
    if marker is not None and marker.value.get("n") == scale:
        return None
    return seed_scale(scale)


def vacuum_analyze() -> None:
    """VACUUM (ANALYZE) the database, as autovacuum would between workloads.

    The bench's import scenario writes and purges 100k rows per run; autovacuum (on in the
    embedded server, but often off on shared CI servers) would clean up after it. Without this,
    later scenarios would measure dead rows and stale statistics, not the app."""
    from crm_app.db import get_engine

    with get_engine().connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM (ANALYZE)"))
