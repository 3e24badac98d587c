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
    """Migrate, add the defaults and seed the data set unless there; the seed report or None.

    An older version of the same data set (same size, seeded before the generator changed) is
    thrown away with its database and seeded again, unless BENCH_DATABASE_URL names the
    database: that one is only ever refused (a Conflict), never dropped."""
    from crm_app.seeding.scale import SEED_VERSION, marker_value, seed_scale
    from crm_app.services.errors import Conflict

    held = _set_up()
    if held == marker_value(scale):
        return None
    if held is not None and held | {"version": SEED_VERSION} == marker_value(scale):
        if os.environ.get("BENCH_DATABASE_URL"):
            raise Conflict(f"BENCH_DATABASE_URL holds version {held.get('version', 1)} of the "
                           f"scale data set, not {SEED_VERSION}.")  # fmt: skip
        print(f"The data set is version {held.get('version', 1)}: seeding version "
              f"{SEED_VERSION} into a new database ...", flush=True)  # fmt: skip
        recreate_database()
        _set_up()
    return seed_scale(scale)


def _set_up() -> dict | None:
    """Migrate and add the defaults; the scale data set's marker, if any."""
    from crm_app.db import migrate, session_scope
    from crm_app.models import AppSetting
    from crm_app.seeding.defaults import ensure_defaults
    from crm_app.seeding.scale import MARKER_KEY

    migrate()
    with session_scope() as session:
        ensure_defaults(session)
        marker = session.get(AppSetting, MARKER_KEY)
        return dict(marker.value) if marker is not None else None


def recreate_database() -> None:
    """Drop crm_app's database and create it empty; a Conflict while others are connected."""
    from sqlalchemy.exc import OperationalError

    from crm_app.db import database_url, get_engine
    from crm_app.services.errors import Conflict

    url = make_url(database_url())
    get_engine().dispose()
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}"'))
            connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    except OperationalError as error:  # someone else is using it: leave it to them
        raise Conflict(f"Could not drop {url.database}: {error.orig}") from None
    finally:
        admin.dispose()


def vacuum_analyze() -> None:
    """VACUUM (ANALYZE) the database, as autovacuum would between workloads.

    The bench's import scenario writes and purges 100k rows per run; autovacuum (on in the
    embedded server, but often off on shared CI servers) would clean up after it. Without this,
    later scenarios would measure dead rows and stale statistics, not the app."""
    from crm_app.db import get_engine

    with get_engine().connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM (ANALYZE)"))
