"""`crm backup` and `crm restore`: a backup restored into an empty database holds every row
(the job queue's too), and the app works on it.

These tests make databases of their own on the test server, beside the per-run one.
"""

from __future__ import annotations

import os

import pytest
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from crm_app import backup, cli
from crm_app.settings import PROJECT_ROOT
from tests.conftest import SERVER_URL, drop_database, recreate_database
from tests.factories import make_deal, make_people

SOURCE_DB = f"crm_backup_src_{os.getpid()}"
TARGET_DB = f"crm_backup_dst_{os.getpid()}"
CHECKSUMMED = ("contacts", "deals", "activities", "audit_events", "procrastinate_jobs")


def _fill(session: Session) -> None:
    """Contacts, deals, activities (their audit events come with them) and a queued job."""
    from crm_app.jobs import app as jobs
    from crm_app.services import activity, contact

    people = make_people(session)
    for n in range(5):
        made = contact.create_contact(
            session,
            actor=people.bob,
            data={"first_name": f"Zoë {n}", "last_name": "Ångström", "email": f"z{n}@ex.com"},
        )
        activity.create_activity(
            session,
            actor=people.bob,
            data={"kind": "call", "subject": f"Call {n}", "contact_id": made.id},
        )
        make_deal(session, owner=people.bob, amount=f"{1000 + n}.50")
    jobs.defer(session, "rescore_leads", queue="leads", lead_ids=[1, 2])


def _tables(conn) -> list[str]:
    return list(
        conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        ).scalars()
    )


def _snapshot(url: str) -> dict[str, object]:
    """Row counts of every table, and a checksum of a few tables' full contents."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        found: dict[str, object] = {
            name: conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar()
            for name in _tables(conn)
        }
        for name in CHECKSUMMED:
            found[f"md5:{name}"] = conn.execute(
                text(f"SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) FROM {name} t")
            ).scalar()
    engine.dispose()
    return found


@pytest.fixture(scope="module")
def source_url():
    """A migrated database with some of everything in it."""
    from crm_app.db import migrate

    url = recreate_database(SERVER_URL, SOURCE_DB)
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        migrate(conn)
    with Session(engine) as session:
        _fill(session)
        session.commit()
    engine.dispose()
    yield url
    drop_database(SERVER_URL, SOURCE_DB)


@pytest.fixture
def target_url():
    """An empty database to restore into."""
    url = recreate_database(SERVER_URL, TARGET_DB)
    yield url
    drop_database(SERVER_URL, TARGET_DB)


@pytest.fixture
def crm_on(monkeypatch):
    """Run a `crm` command against the database at a URL."""

    def run(url: str, *argv: str) -> int:
        monkeypatch.setattr("crm_app.db.database_url", lambda: url)
        return cli.main(list(argv))

    return run


def test_a_restored_backup_holds_every_row(source_url, target_url, crm_on, tmp_path):
    file = tmp_path / "crm.dump"

    assert crm_on(source_url, "backup", str(file)) == 0
    assert crm_on(target_url, "restore", str(file)) == 0

    before, after = _snapshot(source_url), _snapshot(target_url)
    assert after == before
    assert before["contacts"] == 5 and before["procrastinate_jobs"] == 1
    assert before["audit_events"] >= 10  # each contact and activity was audited


def test_the_app_works_on_a_restored_database(source_url, target_url, tmp_path):
    from crm_app.services import contact
    from crm_app.services.auth import find_user_by_email
    from crm_app.services.listing import ListQuery

    file = tmp_path / "crm.dump"
    backup.backup(source_url, file)
    backup.restore(target_url, file)

    engine = create_engine(target_url, poolclass=NullPool)
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    script = ScriptDirectory.from_config(Config(str(PROJECT_ROOT / "alembic.ini")))
    assert set(current) == set(script.get_heads())
    with Session(engine) as session:
        bob = find_user_by_email(session, "bob@example.com")
        page = contact.list_contacts(session, actor=bob, listq=ListQuery(sort="first_name"))
        assert [row.contact.first_name for row in page.rows][:2] == ["Zoë 0", "Zoë 1"]
        # The sequences came along: a new row gets a fresh id.
        added = contact.create_contact(session, actor=bob, data={"first_name": "New"})
        session.commit()
        assert added.id > max(row.contact.id for row in page.rows)
    engine.dispose()


def test_restore_refuses_a_database_that_has_tables(
    source_url, target_url, crm_on, tmp_path, capsys
):
    file = tmp_path / "crm.dump"
    backup.backup(source_url, file)
    engine = create_engine(target_url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE keep_me (id int)"))
    engine.dispose()

    assert crm_on(target_url, "restore", str(file)) == 1
    assert "not empty" in capsys.readouterr().err
    assert crm_on(target_url, "restore", "--force", str(file)) == 0
    assert _snapshot(target_url)["contacts"] == 5


def test_the_client_tools_are_at_least_as_new_as_the_server(source_url):
    major = backup.server_major(source_url)

    assert backup.pick_tool("pg_dump", major).major >= major
    with pytest.raises(backup.BackupError, match="pg_dump 99 or newer"):
        backup.pick_tool("pg_dump", 99)
