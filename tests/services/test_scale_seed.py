"""The scale data set: its counts, its determinism, contacts findable by company domain, the
two workloads the bench times (rep1's full My work, one deal's long timeline), and the history
the reports read (stage moves, changes of recurring values).

Self-contained: each seed goes into its own scratch database, created and dropped here, and
crm_app is pointed at it by clearing its cached settings, URL and engine (restored afterwards).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from crm_app.auth.passwords import verify_password
from crm_app.seeding.scale import REFERENCE, SCALE_PASSWORD, marker_value, seed_scale
from crm_app.services.errors import Conflict
from crm_app.services.search import prefix_query

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
N = 200

# Natural keys instead of ids, so equal checksums mean equal data whatever the sequences did.
CHECKSUMS = {
    "accounts": """SELECT concat_ws('|', a.name, a.domain, a.industry, a.size, a.phone, a.city,
        a.tags::text, a.created_at, a.updated_at, o.email) FROM accounts a
        LEFT JOIN users o ON o.id = a.owner_id ORDER BY a.id""",
    "contacts": """SELECT concat_ws('|', c.first_name, c.last_name, c.email, c.phone, c.title,
        c.lifecycle_stage, c.tags::text, c.created_at, c.updated_at, a.domain, o.email)
        FROM contacts c LEFT JOIN accounts a ON a.id = c.account_id
        LEFT JOIN users o ON o.id = c.owner_id ORDER BY c.id""",
    "leads": """SELECT concat_ws('|', l.email, l.company_name, l.source, l.status, l.score,
        l.converted_at, c.email, o.email) FROM leads l
        LEFT JOIN contacts c ON c.id = l.converted_contact_id
        LEFT JOIN users o ON o.id = l.owner_id ORDER BY l.id""",
    "deals": """SELECT concat_ws('|', d.name, d.amount, d.currency, d.recurring_monthly_value,
        d.expected_close_date, d.probability, d.won_at, d.closed_at, d.lost_reason, d.position,
        s.name, p.name, c.email, o.email) FROM deals d JOIN stages s ON s.id = d.stage_id
        JOIN pipelines p ON p.id = d.pipeline_id
        LEFT JOIN contacts c ON c.id = d.primary_contact_id
        LEFT JOIN users o ON o.id = d.owner_id ORDER BY d.id""",
    "activities": """SELECT concat_ws('|', x.kind, x.subject, x.due_at, x.done_at, x.starts_at,
        x.created_at, c.email, d.name, l.email, o.email) FROM activities x
        LEFT JOIN contacts c ON c.id = x.contact_id LEFT JOIN deals d ON d.id = x.deal_id
        LEFT JOIN leads l ON l.id = x.lead_id LEFT JOIN users o ON o.id = x.owner_id
        ORDER BY x.id""",
    "audit_events": """SELECT concat_ws('|', e.action, e.at, e.changes::text, d.name, o.email)
        FROM audit_events e JOIN deals d ON d.id = e.entity_id
        LEFT JOIN users o ON o.id = e.actor_id WHERE e.entity = 'deal' ORDER BY e.id""",
    "deal_stage_changes": """SELECT concat_ws('|', d.name, f.name, t.name, m.changed_at, u.email)
        FROM deal_stage_changes m JOIN deals d ON d.id = m.deal_id
        LEFT JOIN stages f ON f.id = m.from_stage_id JOIN stages t ON t.id = m.to_stage_id
        LEFT JOIN users u ON u.id = m.changed_by ORDER BY m.id""",
}
# Per deal, its moves in order: how many deals have none, and the moves that break the story
# (a first move that is not the creation, a move from another stage than the last one's, a
# last move that is not into the deal's stage or, for a closed deal, not when it closed).
STAGE_HISTORY = """
    WITH moves AS (
        SELECT m.*, lag(m.to_stage_id) OVER w AS came_from, row_number() OVER w AS n,
            count(*) OVER (PARTITION BY m.deal_id) AS moves
        FROM deal_stage_changes m WINDOW w AS (PARTITION BY m.deal_id ORDER BY m.changed_at, m.id))
    SELECT
        (SELECT count(*) FROM deals d WHERE NOT EXISTS
            (SELECT FROM deal_stage_changes m WHERE m.deal_id = d.id)) AS without_history,
        count(DISTINCT m.deal_id) FILTER (WHERE m.moves > 1) AS moved,
        count(*) FILTER (WHERE m.n = 1 AND (m.from_stage_id IS NOT NULL
            OR m.changed_at <> d.created_at)) AS first_not_creation,
        count(*) FILTER (WHERE m.n > 1 AND m.from_stage_id <> m.came_from) AS broken,
        count(*) FILTER (WHERE m.n = m.moves AND (m.to_stage_id <> d.stage_id
            OR m.changed_at <> coalesce(d.closed_at, m.changed_at))) AS wrong_last
    FROM moves m JOIN deals d ON d.id = m.deal_id"""
# Per deal, its recurring-value changes in order: those outside its life as a subscription,
# those whose value is not where the one before left it, and last ones not at today's value.
RECURRING_HISTORY = """
    WITH changes AS (
        SELECT e.entity_id AS deal_id, e.at,
            (e.changes -> 'recurring_monthly_value' ->> 0)::numeric AS before,
            (e.changes -> 'recurring_monthly_value' ->> 1)::numeric AS after,
            lag((e.changes -> 'recurring_monthly_value' ->> 1)::numeric) OVER w AS left_at,
            row_number() OVER w AS n, count(*) OVER (PARTITION BY e.entity_id) AS changes
        FROM audit_events e WHERE e.entity = 'deal' AND e.action = 'update'
            AND e.changes ? 'recurring_monthly_value'
        WINDOW w AS (PARTITION BY e.entity_id ORDER BY e.at, e.id))
    SELECT count(DISTINCT c.deal_id) AS deals,
        count(*) FILTER (WHERE c.at <= d.won_at
            OR c.at >= coalesce(d.churned_at, :reference)) AS outside,
        count(*) FILTER (WHERE c.before <> c.left_at) AS broken,
        count(*) FILTER (WHERE c.n = c.changes
            AND c.after <> d.recurring_monthly_value) AS wrong_last
    FROM changes c JOIN deals d ON d.id = c.deal_id"""


def _server_url() -> str:
    """TEST_DATABASE_URL, else the server the rest of the suite uses, else the local one."""
    url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def _clear_app_caches() -> None:
    from crm_app.db import database_url, get_engine
    from crm_app.settings import get_settings

    if get_engine.cache_info().currsize:  # let go of the scratch database's connections
        get_engine().dispose()
    for cached in (get_settings, database_url, get_engine):
        cached.cache_clear()


@contextmanager
def app_database() -> Iterator[str]:
    """A fresh, migrated scratch database that crm_app uses until the block ends."""
    server = make_url(_server_url())
    name = f"scale_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    saved = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    _clear_app_caches()
    try:
        from crm_app.db import migrate

        migrate()
        yield url
    finally:
        _clear_app_caches()
        if saved is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = saved
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _facts(url: str) -> dict:
    """Counts, checksums and a few rows of the data set in the database at `url`."""
    engine = create_engine(url)
    with engine.connect() as connection:

        def scalar(sql: str, **params):
            return connection.execute(text(sql), params).scalar_one()

        tables = ("users", "accounts", "contacts", "leads", "deals", "activities", "pipelines")
        facts = {
            "counts": {t: scalar(f"SELECT count(*) FROM {t}") for t in tables},
            "checksums": {
                table: scalar(f"SELECT md5(string_agg(line, E'\\n')) FROM ({sql}) AS t(line)")
                for table, sql in CHECKSUMS.items()
            },
            "emails": connection.execute(text("SELECT email FROM contacts ORDER BY id"))
            .scalars()
            .all(),
            "marker": scalar("SELECT value FROM app_settings WHERE key = 'scale_seed'"),
            "admin_hash": scalar(
                "SELECT password_hash FROM users WHERE email = 'admin@scale.example'"
            ),
            "activity_kinds": connection.execute(text("SELECT DISTINCT kind FROM activities"))
            .scalars()
            .all(),
        }
        facts["domain_search"] = _domain_search(connection)
        facts["stage_history"] = connection.execute(text(STAGE_HISTORY)).one()._asdict()
        facts["recurring_history"] = (
            connection.execute(text(RECURRING_HISTORY), {"reference": REFERENCE}).one()._asdict()
        )
        facts["deep_deal"] = _deep_deal(connection)
    engine.dispose()
    return facts


def _domain_search(connection) -> tuple[set[int], set[int]]:
    """(contacts at the company with most contacts, contacts found by a prefix of its domain)."""
    domain = connection.execute(text(
        "SELECT a.domain FROM accounts a JOIN contacts c ON c.account_id = a.id "
        "GROUP BY a.id ORDER BY count(*) DESC, a.id LIMIT 1"
    )).scalar_one()  # fmt: skip
    expected = set(connection.execute(text(
        "SELECT c.id FROM contacts c JOIN accounts a ON a.id = c.account_id WHERE a.domain = :d"
    ), {"d": domain}).scalars())  # fmt: skip
    query = prefix_query(domain.split(".")[0][:6])
    found = set(connection.execute(text(
        "SELECT id FROM contacts WHERE search_vector @@ to_tsquery('simple', :q)"
    ), {"q": query}).scalars())  # fmt: skip
    return expected, found


def _deep_deal(connection) -> dict:
    """The deal with the most audit events: how many it and its activities have, and the stage
    its last stage change went to and the one it is in."""

    def scalar(sql: str, **params):
        return connection.execute(text(sql), params).scalar_one()

    deal_id = scalar(
        "SELECT entity_id FROM audit_events WHERE entity = 'deal' "
        "GROUP BY entity_id ORDER BY count(*) DESC LIMIT 1"
    )
    return {
        "events": scalar(
            "SELECT count(*) FROM audit_events WHERE entity = 'deal' AND entity_id = :d", d=deal_id
        ),
        "activities": scalar("SELECT count(*) FROM activities WHERE deal_id = :d", d=deal_id),
        "last_stage": scalar(
            "SELECT (changes -> 'stage_id' ->> 1)::int FROM audit_events WHERE entity = 'deal' "
            "AND entity_id = :d AND changes ? 'stage_id' ORDER BY at DESC, id DESC LIMIT 1",
            d=deal_id,
        ),
        "stage": scalar("SELECT stage_id FROM deals WHERE id = :d", d=deal_id),
    }


def _rep1_work() -> dict[str, int]:
    """How many open tasks rep1's My work shows in each part, on the data set's day."""
    from sqlmodel import Session, select

    from crm_app.db import get_engine
    from crm_app.models import User
    from crm_app.services.activity_list import my_work

    with Session(get_engine()) as session:
        rep1 = session.exec(select(User).where(User.email == "rep1@scale.example")).one()
        work = my_work(session, actor=rep1, now=REFERENCE)
    return {part: getattr(work, part).total for part in ("overdue", "today", "upcoming")}


def _report_figures() -> dict[str, int]:
    """What the reports that read the history find, as the admin, over the twelve months
    before the data set's day."""
    from datetime import date

    from sqlmodel import Session, select

    from crm_app.db import get_engine
    from crm_app.models import User
    from crm_app.services import report_mrr, report_stage
    from crm_app.services.report_scope import ReportQuery

    query = ReportQuery(date_from=date(2025, 11, 1), date_to=date(2026, 11, 1))
    with Session(get_engine()) as session:
        admin = session.exec(select(User).where(User.email == "admin@scale.example")).one()
        entered = report_stage.stage_conversion(session, actor=admin, query=query).rows
        stays = report_stage.time_in_stage(session, actor=admin, query=query).rows
        mrr = report_mrr.mrr_movements(session, actor=admin, query=query).rows
    return {
        "entered": sum(r.entered for r in entered),
        "advanced": sum(r.advanced for r in entered),
        "stays": sum(r.stays for r in stays),
        "moved_mrr": sum(1 for m in mrr if m.expansion.amount or m.contraction.amount),
    }


@pytest.fixture(scope="module")
def two_seeds() -> tuple[dict, dict]:
    """The facts of seed_scale(N) run on two separate databases."""
    runs = []
    for _ in range(2):
        with app_database() as url:
            report = seed_scale(N)
            again = seed_scale(N)
            with pytest.raises(Conflict):
                seed_scale(N + 1)
            runs.append(
                _facts(url)
                | {"report": report, "again": again, "work": _rep1_work()}
                | {"reports": _report_figures()}
            )
    return runs[0], runs[1]


def test_scale_seed_writes_rows_in_proportion_to_n(two_seeds):
    first, _ = two_seeds
    assert first["counts"] == {"users": 10, "accounts": 40, "contacts": 200, "leads": 60,
                               "deals": 40, "activities": 600, "pipelines": 2}  # fmt: skip
    assert sorted(first["activity_kinds"]) == ["call", "email", "meeting", "note", "task"]
    assert "200 contacts" in first["report"]


def test_scale_users_sign_in_with_the_documented_password(two_seeds):
    first, _ = two_seeds
    assert verify_password(first["admin_hash"], SCALE_PASSWORD)


def test_the_same_n_and_seed_give_the_same_data_on_another_database(two_seeds):
    first, second = two_seeds
    assert first["emails"] == second["emails"]
    assert first["checksums"] == second["checksums"]
    assert all(first["checksums"].values())


def test_seeding_again_is_a_no_op_and_a_different_size_is_refused(two_seeds):
    first, _ = two_seeds
    assert first["marker"] == marker_value(N, 42)
    assert "nothing was written" in first["again"]


def test_contacts_are_found_by_a_prefix_of_their_company_domain(two_seeds):
    expected, found = two_seeds[0]["domain_search"]
    assert expected
    assert expected <= found


def test_rep1_has_open_tasks_overdue_due_today_and_upcoming(two_seeds):
    work = two_seeds[0]["work"]
    assert sum(work.values()) >= N // 20
    assert all(work.values()), work


def test_one_deal_has_a_long_timeline_that_ends_in_its_stage(two_seeds):
    deep = two_seeds[0]["deep_deal"]
    assert deep["events"] == 80
    assert deep["activities"] >= 3 * N // 10
    assert deep["last_stage"] == deep["stage"]


def test_every_deal_has_a_stage_history_from_its_creation_to_its_stage(two_seeds):
    history = two_seeds[0]["stage_history"]
    assert history["without_history"] == 0
    assert history["moved"] > 0
    assert history == history | {"first_not_creation": 0, "broken": 0, "wrong_last": 0}


def test_some_recurring_values_changed_while_the_deal_was_a_subscription(two_seeds):
    history = two_seeds[0]["recurring_history"]
    assert history["deals"] > 0
    assert history == history | {"outside": 0, "broken": 0, "wrong_last": 0}


def test_the_stage_reports_and_the_mrr_chart_have_history_to_show(two_seeds):
    figures = two_seeds[0]["reports"]
    assert figures["entered"] > 0
    assert figures["advanced"] > 0
    assert figures["stays"] > 0
    assert figures["moved_mrr"] > 0
