"""Test fixtures: a real PostgreSQL database, migrated once, and a rolled-back transaction per test.

The server is TEST_DATABASE_URL's when set (CI uses the machine's PostgreSQL 15); otherwise the
embedded pgserver under data/test-pg. Either way a database of this run's own (`crm_test_<pid>`)
is created afresh and dropped at the end, so two runs on one server do not collide.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

os.environ["CRM_ENV"] = "test"
os.environ.setdefault("CRM_DATA_DIR", tempfile.mkdtemp(prefix="crm-test-data-"))
os.environ["CRM_BASE_URL"] = "http://testserver"

from crm_app.settings import PROJECT_ROOT, get_settings

TEST_DB_NAME = f"crm_test_{os.getpid()}"


def _server_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url.replace("postgresql://", "postgresql+psycopg://", 1)
    from crm_app.db import _embedded_url

    return _embedded_url(PROJECT_ROOT / "data" / "test-pg", "postgres")


def drop_database(server_url: str, name: str) -> None:
    """Drop database `name` on the server of `server_url`, if it exists."""
    admin_url = make_url(server_url).set(database="postgres")
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def recreate_database(server_url: str, name: str) -> str:
    """Drop and create database `name` on the server of `server_url`; returns its URL."""
    admin_url = make_url(server_url).set(database="postgres")
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


SERVER_URL = _server_url()
os.environ["DATABASE_URL"] = recreate_database(SERVER_URL, TEST_DB_NAME)
get_settings.cache_clear()


@pytest.fixture(scope="session")
def engine():
    """The test database's engine, with the schema migrated once."""
    from crm_app.db import get_engine, migrate

    engine = get_engine()
    migrate()
    yield engine
    engine.dispose()


def pytest_sessionfinish(session, exitstatus) -> None:
    """Drop this run's database, which was created at import: also when no test used it."""
    drop_database(SERVER_URL, TEST_DB_NAME)


@pytest.fixture
def db(engine) -> Iterator:
    """A session inside a transaction that is rolled back after the test."""
    from sqlmodel import Session

    connection = engine.connect()
    transaction = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


@pytest.fixture
def people(db):
    """The fixed cast: Alice (admin), Bob and Carol (reps, East), Mona (manager, East),
    Dave (rep, West), Vic (viewer)."""
    from tests.factories import make_people

    return make_people(db)


@pytest.fixture
def report_clock(monkeypatch):
    """Reports run at tests.factories.REPORT_NOW (15 April 2026), as make_report_data's
    figures were worked out for."""
    from crm_app.services import report_kpi, report_scope
    from tests.factories import REPORT_NOW

    for module in (report_scope, report_kpi):
        monkeypatch.setattr(module, "utcnow", lambda: REPORT_NOW)
