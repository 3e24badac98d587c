"""The scale data set behind `crm seed --scale N` and `make bench`, written with PostgreSQL COPY.

For N contacts: N/5 companies, 3N/10 leads, N/5 deals in two pipelines ("Sales" and
"Renewals") and 3N activities, owned by ten fixed users (admin@scale.example, manager1..2,
rep1..6, viewer) who all sign in with SCALE_PASSWORD. Two workloads are there on purpose:
rep1 has a full My work (N/20 open tasks: 5,000 at N=100k, overdue, due today and upcoming),
and one old open deal has a long timeline (250 activities and 80 audited changes). For the
reports, every deal has a stage history (its moves from creation to the stage it is in) and
every third deal with a recurring value has had that value changed (audited updates).

Deterministic: every value comes from `random.Random` seeded per table and from the fixed
REFERENCE date (never now()), so the same N and seed give the same rows on any database; only
the ids the sequences hand out can differ. Company domains sit under the reserved `.example`
TLD, so no e-mail sent from a scale workspace can reach a real company.

Idempotent: a database whose `scale_seed` marker already records the same N, seed and
SEED_VERSION is left alone (the report says so); one holding any other scale data set (an
older version included) is refused with a Conflict.
Everything is written in one transaction, so a failed run leaves nothing behind.
"""

from __future__ import annotations

import itertools
import json
import math
import random
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, text
from sqlmodel import Session, select

from crm_app.auth.passwords import hash_password
from crm_app.db import get_engine
from crm_app.models import AppSetting, Pipeline, Stage, Tag, Team, User
from crm_app.seeding.defaults import LEAD_SOURCES, LOST_REASONS, create_pipeline, ensure_defaults
from crm_app.services.errors import Conflict


def _words(text: str) -> list[str]:
    """The whitespace-separated words of `text` (keeps long word lists compact)."""
    return text.split()


REFERENCE = datetime(2026, 11, 1, tzinfo=UTC)  # "now" of the data set
PAST = timedelta(days=548)  # records go back about 18 months...
FUTURE = timedelta(days=92)  # ...and activities are planned about 3 months ahead
SCALE_DOMAIN = "scale.example"
SCALE_PASSWORD = "bench-password-123"  # noqa: S105 - documented, for synthetic users only
MARKER_KEY = "scale_seed"
SEED_VERSION = 3  # bump whenever the same N and seed give other rows, so old copies are redone
BUSY_SHARE = 20  # rep1 has at least N/BUSY_SHARE open tasks
DEEP_ACTIVITIES, DEEP_EVENTS = 250, 80  # the long timeline of one deal
RECURRING_CHANGED = 3  # every third deal with a recurring value has had it changed
SETUP_AT = REFERENCE - PAST - timedelta(days=30)  # when the users, teams and pipelines appear
TABLES = ("accounts", "contacts", "deals", "leads", "activities", "audit_events",
          "deal_stage_changes")  # fmt: skip

# (e-mail local part, name, role, team index); team i is managed by manager{i+1}
USERS = [
    ("admin", "Avery Admin", "admin", None),
    ("manager1", "Morgan Hale", "manager", 0),
    ("manager2", "Jordan Reyes", "manager", 1),
    ("rep1", "Riley Chen", "rep", 0),
    ("rep2", "Sam Patel", "rep", 0),
    ("rep3", "Taylor Brooks", "rep", 0),
    ("rep4", "Casey Novak", "rep", 1),
    ("rep5", "Jamie Okafor", "rep", 1),
    ("rep6", "Drew Lindqvist", "rep", 1),
    ("viewer", "Val Viewer", "viewer", None),
]
TEAMS = ["Scale North", "Scale South"]
RENEWAL_STAGES = [
    ("Upcoming", 30, "open", 30),
    ("Quoted", 60, "open", 21),
    ("Committed", 90, "open", 14),
    ("Renewed", 100, "won", None),
    ("Churned", 0, "lost", None),
]
TAGS = [("enterprise", "indigo"), ("smb", "green"), ("priority", "red"), ("partner", "amber"),
        ("expansion", "cyan"), ("churn-risk", "orange"), ("newsletter", "gray"),
        ("event-2026", "purple")]  # fmt: skip

FIRST_NAMES = _words("""Ada Alan Alice Amara Ana Andre Ben Bianca Carlos Chen Chloe Daniel
    Diego Elena Emma Ethan Fatima Felix Grace Hana Hugo Ibrahim Ines Isaac Ivy Jack Jana Javier
    Jin Julia Kai Karen Kenji Lara Leo Lina Lucas Maria Marco Maya Mei Mohammed Nadia Noah Nora
    Olivia Omar Oscar Paula Priya Rafael Rosa Ryan Sara Sofia Tariq Theo Uma Victor Yara Zoe""")
LAST_NAMES = _words("""Adams Alvarez Baker Bauer Becker Bennett Brown Campbell Carter Castillo
    Chen Clark Cohen Costa Davis Dubois Evans Fischer Garcia Gomez Green Hall Hansen Hernandez
    Hughes Ito Jensen Johnson Kaur Khan Kim Klein Kowalski Larsen Lee Lopez Martin Meyer Miller
    Moreau Murphy Nakamura Nguyen Novak Okafor Olsen Park Patel Perez Rossi Santos Schmidt Silva
    Singh Smith Sousa Tanaka Taylor Thomas Walker Wang Weber Wilson Wright Young Zhang""")
COMPANY_WORDS = _words("""Acorn Alder Amber Apex Arbor Atlas Beacon Birch Blue Bright Cedar Clear
    Cobalt Copper Coral Crest Crimson Delta Ember Evergreen Falcon Fern Fox Granite Harbor Hawk
    Helix Iron Juniper Keystone Lake Lumen Maple Meadow Mesa Nimbus North Oak Onyx Orbit Pine
    Prism Quartz Raven Ridge River Sage Silver Slate Solar Spruce Stone Summit Tidal Willow""")
COMPANY_NOUNS = _words("""Analytics Bio Brands Capital Cloud Dynamics Energy Foods Freight Health
    Labs Logistics Media Metrics Networks Partners Robotics Security Software Solutions Systems
    Telecom Therapeutics Ventures Works""")
COMPANY_FORMS = ["", "", "", " Inc.", " LLC", " Group", " Co.", " GmbH"]
INDUSTRIES = ["Software", "Manufacturing", "Healthcare", "Logistics", "Retail", "Education",
              "Financial Services", "Energy", "Food & Beverage", "Media", "Construction",
              "Telecommunications"]  # fmt: skip
SIZES = (["1-10", "11-50", "51-200", "201-500", "501-1000", "1000+"], [10, 30, 30, 15, 8, 7])
# (city, region, country, postal prefix): most companies are in North America...
CITIES = [("Austin", "TX", "US", "787"), ("Boston", "MA", "US", "021"),
          ("Chicago", "IL", "US", "606"), ("Denver", "CO", "US", "802"),
          ("Miami", "FL", "US", "331"), ("New York", "NY", "US", "100"),
          ("Seattle", "WA", "US", "981"), ("San Francisco", "CA", "US", "941"),
          ("Atlanta", "GA", "US", "303"), ("Toronto", "ON", "CA", "M5V")]  # fmt: skip
# ...and a few in the euro area, whose deals are in EUR
EURO_CITIES = [("Berlin", "Berlin", "DE", "101"), ("Paris", "Île-de-France", "FR", "750"),
               ("Amsterdam", "North Holland", "NL", "101")]  # fmt: skip
EURO_SHARE = 0.06
STREETS = ["Main St", "Market St", "Oak Ave", "Harbor Blvd", "Park Rd", "Mill Ln", "King St"]
AREA_CODES = [212, 303, 305, 312, 404, 415, 512, 617, 646, 720, 206, 416, 628, 737]
TITLES = ["CEO", "CTO", "CFO", "COO", "Founder", "VP Sales", "VP Engineering", "VP Marketing",
          "VP Operations", "Senior VP Finance", "Head of Procurement", "Director of IT",
          "Sales Manager", "Operations Manager", "Product Manager", "Account Manager",
          "Software Engineer", "Office Manager", "Buyer", "Marketing Specialist",
          "Controller"]  # fmt: skip
LIFECYCLE = (["subscriber", "lead", "opportunity", "customer", "evangelist", "other"],
             [10, 35, 20, 25, 5, 5])  # fmt: skip
LEAD_STATUS = (["new", "contacted", "qualified", "unqualified", "converted"], [30, 25, 15, 15, 15])
PRODUCTS = ["Annual subscription", "Pilot", "Expansion", "Support plan", "Platform licence",
            "Onboarding package", "50 seats", "Enterprise plan", "Data migration"]  # fmt: skip
ACTIVITY_KINDS = (["call", "email", "meeting", "task", "note"], [25, 30, 10, 20, 15])
SUBJECTS = {
    "call": ["Intro call", "Discovery call", "Follow-up call", "Check-in call", "Pricing call"],
    "email": ["Re: proposal", "Pricing details", "Follow-up", "Meeting notes", "Contract draft"],
    "meeting": ["Product demo", "Kick-off meeting", "Quarterly business review", "Onsite visit"],
    "task": ["Send proposal", "Prepare quote", "Follow up", "Update contract", "Schedule demo"],
    "note": ["Budget confirmed", "Decision maker identified", "Competitor noted", "Requirements"],
}
BODIES = ["<p>Asked for a revised quote with volume pricing.</p>",
          "<p>Legal is reviewing the contract; expect comments next week.</p>",
          "<p>Interested in the analytics add-on. Send case studies.</p>",
          "<p>Timeline slipped to next quarter because of a budget freeze.</p>",
          "<p>Champion is the VP Operations; procurement needs three quotes.</p>"]  # fmt: skip
CALL_OUTCOMES = ["Connected", "Left voicemail", "No answer", "Wrong number"]
LOCATIONS = ["Video call", "Phone", "Customer office", "Our office", "Conference"]


@dataclass(frozen=True)
class ScaleCounts:
    """How many rows of each kind the data set for N contacts has."""

    contacts: int
    accounts: int
    leads: int
    deals: int
    activities: int
    busy_tasks: int  # rep1's open tasks, at least
    deep_activities: int  # of the deal with the long timeline (part of `activities`)
    deep_events: int  # its audited changes

    @classmethod
    def for_n(cls, n: int) -> ScaleCounts:
        """Companies n/5, leads 0.3n, deals n/5, activities 3n (at least one of each)."""
        return cls(contacts=n, accounts=max(1, n // 5), leads=max(1, n * 3 // 10),
                   deals=max(1, n // 5), activities=3 * n, busy_tasks=n // BUSY_SHARE,
                   deep_activities=min(DEEP_ACTIVITIES, n * 3 // 10),
                   deep_events=DEEP_EVENTS)  # fmt: skip


@dataclass
class StageInfo:
    """What a deal needs to know about the stage it is in."""

    id: int
    probability: int
    kind: str


@dataclass(frozen=True, slots=True)
class DealFacts:
    """What a deal's stage history and recurring-value changes are made from."""

    id: int
    pipeline_id: int
    stage_id: int
    owner: int
    created: datetime
    entered: datetime  # when it entered the stage it is in
    won: datetime | None
    churned: datetime | None
    recurring: Decimal | None

    @classmethod
    def of(cls, row: dict[str, Any]) -> DealFacts:
        """The facts of a deal row."""
        return cls(row["id"], row["pipeline_id"], row["stage_id"], row["owner_id"],
                   row["created_at"], row["stage_entered_at"], row["won_at"], row["churned_at"],
                   row["recurring_monthly_value"])  # fmt: skip


@dataclass
class Plan:
    """The users, stages and rows already copied that later tables link to (by index)."""

    admin: int
    reps: list[int]  # rep1 first: the busy one
    managers: list[int]
    pipelines: list[tuple[int, list[StageInfo]]]  # (pipeline id, stages in order)
    emails: dict[int, str] = field(default_factory=dict)  # of the users, for the audit log
    account_first: int = 0
    account_names: list[str] = field(default_factory=list)
    account_domains: list[str] = field(default_factory=list)
    account_owners: list[int] = field(default_factory=list)
    account_euro: list[bool] = field(default_factory=list)
    account_created: list[datetime] = field(default_factory=list)
    contact_first: int = 0
    contact_accounts: list[int | None] = field(default_factory=list)
    contact_owners: list[int] = field(default_factory=list)
    contacts_by_account: dict[int, list[int]] = field(default_factory=dict)
    deal_first: int = 0
    deal_accounts: list[int | None] = field(default_factory=list)
    deal_contacts: list[int | None] = field(default_factory=list)
    deal_owners: list[int] = field(default_factory=list)
    deep_deal: dict[str, Any] = field(default_factory=dict)  # the row of the long timeline
    deal_facts: list[DealFacts] = field(default_factory=list)
    deep_moves: list[dict[str, Any]] = field(default_factory=list)  # its stage history
    lead_first: int = 0
    lead_owners: list[int] = field(default_factory=list)

    def owner(self, rng: random.Random) -> int:
        """A record owner: mostly reps, sometimes a manager."""
        return rng.choice(self.managers if rng.random() < 0.15 else self.reps)

    def account_id(self, index: int | None) -> int | None:
        """The id of the account at `index` (None stays None)."""
        return None if index is None else self.account_first + index

    def contact_id(self, index: int | None) -> int | None:
        """The id of the contact at `index` (None stays None)."""
        return None if index is None else self.contact_first + index


def seed_scale(n: int, *, seed: int = 42) -> str:
    """Write the scale data set for `n` contacts; return a one-paragraph report."""
    if n < 1:
        raise ValueError("n must be at least 1")
    started = time.perf_counter()
    counts = ScaleCounts.for_n(n)
    timings: dict[str, float] = {}
    with Session(get_engine(), expire_on_commit=False) as session:
        if _already_seeded(session, n=n, seed=seed):
            return (f"The scale data set (n={n}, seed={seed}) is already in this database, "
                    "nothing was written.")  # fmt: skip
        _tune_bulk_load(session)
        plan = _prepare_workspace(session)
        cursor = session.connection().connection.driver_connection.cursor()
        for table, write in _WRITERS:
            table_started = time.perf_counter()
            write(session, cursor, plan, counts, seed)
            timings[table] = time.perf_counter() - table_started
        session.add(AppSetting(key=MARKER_KEY, value=marker_value(n, seed)))
        session.commit()
    analyze_started = time.perf_counter()
    _analyze()
    timings["analyze"] = time.perf_counter() - analyze_started
    return _report(n, seed, counts, timings, time.perf_counter() - started)


def marker_value(n: int, seed: int = 42) -> dict[str, int]:
    """What the `scale_seed` setting holds once this version seeded `n` contacts with `seed`."""
    return {"n": n, "seed": seed, "version": SEED_VERSION}


def _already_seeded(session: Session, *, n: int, seed: int) -> bool:
    """True when this very data set is present; Conflict when another scale data set is."""
    marker = session.get(AppSetting, MARKER_KEY)
    if marker is not None and marker.value == marker_value(n, seed):
        return True
    scale_user = session.exec(
        select(User.id).where(func.lower(User.email).like(f"%@{SCALE_DOMAIN}")).limit(1)
    ).first()
    if marker is not None or scale_user is not None:
        held = marker.value if marker else {}
        found = f" (n={held['n']}, seed={held['seed']}, version {held.get('version', 1)})" \
            if marker else ""  # fmt: skip
        raise Conflict(f"This database already holds another scale data set{found}; "
                       "seed a fresh database instead.")  # fmt: skip
    return False


def _tune_bulk_load(session: Session) -> None:
    """Transaction-local settings that make one big load cheaper; nothing outlives it."""
    session.execute(text("SET LOCAL synchronous_commit = off"))
    session.execute(text("SET LOCAL work_mem = '128MB'"))  # GIN pending-list merges use it


def _prepare_workspace(session: Session) -> Plan:
    """Defaults, the ten users and two teams, the Renewals pipeline and the tag catalog."""
    ensure_defaults(session)
    admin, reps, managers = _create_people(session)
    sales = session.exec(
        select(Pipeline).where(Pipeline.is_default, Pipeline.deleted_at.is_(None))
    ).one()
    renewals = _renewals_pipeline(session, admin)
    _create_tags(session, admin)
    pipelines = [(p.id, _stages(session, p.id)) for p in (sales, renewals)]
    people = select(User.id, User.email).where(User.id.in_([admin, *reps, *managers]))
    return Plan(admin=admin, reps=reps, managers=managers, pipelines=pipelines,
                emails=dict(session.exec(people).all()))  # fmt: skip


def _create_people(session: Session) -> tuple[int, list[int], list[int]]:
    """The ten scale users in two teams, sharing one password hashed once; returns their ids."""
    password_hash = hash_password(SCALE_PASSWORD)
    joined = SETUP_AT
    teams = [Team(name=name, created_at=joined, updated_at=joined) for name in TEAMS]
    session.add_all(teams)
    session.flush()
    users = {}
    for local, name, role, team in USERS:
        users[local] = User(email=f"{local}@{SCALE_DOMAIN}", name=name, role=role,
                            team_id=teams[team].id if team is not None else None,
                            password_hash=password_hash, created_at=joined,
                            updated_at=joined)  # fmt: skip
    session.add_all(users.values())
    session.flush()
    for i, team in enumerate(teams):
        team.manager_id = users[f"manager{i + 1}"].id
        team.created_by = users["admin"].id
        team.updated_at = joined + timedelta(days=1)  # set explicitly, so not now()
    session.flush()
    reps = [u.id for key, u in users.items() if key.startswith("rep")]
    return users["admin"].id, reps, [users["manager1"].id, users["manager2"].id]


def _renewals_pipeline(session: Session, admin: int) -> Pipeline:
    """The second pipeline, "Renewals", reused when the workspace already has one."""
    existing = session.exec(
        select(Pipeline).where(Pipeline.name == "Renewals", Pipeline.deleted_at.is_(None))
    ).first()
    if existing is not None:
        return existing
    position = session.exec(select(func.coalesce(func.max(Pipeline.position), 0))).one() + 1
    pipeline = create_pipeline(
        session, "Renewals", RENEWAL_STAGES, is_default=False, position=position
    )
    stages = session.exec(select(Stage).where(Stage.pipeline_id == pipeline.id)).all()
    for record in (pipeline, *stages):
        record.created_by, record.created_at, record.updated_at = admin, SETUP_AT, SETUP_AT
    session.flush()
    return pipeline


def _stages(session: Session, pipeline_id: int) -> list[StageInfo]:
    """The live stages of a pipeline, in board order."""
    rows = session.exec(
        select(Stage)
        .where(Stage.pipeline_id == pipeline_id, Stage.deleted_at.is_(None))
        .order_by(Stage.position, Stage.id)
    ).all()
    return [StageInfo(s.id, s.probability, str(s.kind)) for s in rows]


def _create_tags(session: Session, admin: int) -> None:
    """Add the tags the data set uses to the tag catalog, unless already there."""
    present = set(session.exec(select(func.lower(Tag.name))).all())
    missing = [(name, color) for name, color in TAGS if name not in present]
    session.add_all(Tag(name=name, color=color, created_by=admin, created_at=SETUP_AT,
                        updated_at=SETUP_AT) for name, color in missing)  # fmt: skip
    session.flush()


def _reserve_ids(session: Session, table: str, count: int) -> int:
    """Lock `table` against other writers and take `count` consecutive ids; return the first."""
    session.execute(text(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"))
    sequence = f"pg_get_serial_sequence('{table}', 'id')"
    first = session.execute(text(f"SELECT nextval({sequence})")).scalar_one()
    session.execute(text(f"SELECT setval({sequence}, :last)"), {"last": first + count - 1})
    return first


def _copy_rows(cursor: Any, table: str, rows: Iterable[dict[str, Any]]) -> int:
    """COPY dict rows (all with the same keys, in the same order) into `table`."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return 0
    columns = list(first)
    quoted = ", ".join(f'"{c}"' for c in columns)
    count = 0
    with cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
        for row in itertools.chain([first], rows):
            copy.write_row([row[c] for c in columns])
            count += 1
    return count


def _rng(seed: int, table: str) -> random.Random:
    """One random stream per table, so a change to one table leaves the others' values alone."""
    return random.Random(f"{seed}:{table}")  # noqa: S311 - synthetic data, not secrets


def _past(rng: random.Random) -> datetime:
    """A whole-second moment in the 18 months before REFERENCE."""
    return _later(rng, REFERENCE - PAST)


def _later(
    rng: random.Random, start: datetime, *, max_days: int = 600, until: datetime = REFERENCE
) -> datetime:
    """A whole-second moment after `start`: at most `max_days` later and not after `until`."""
    room = min(max_days * 86_400, int((until - start).total_seconds()))
    return start + timedelta(seconds=rng.randrange(max(1, room)))


def _audit(created: datetime, updated: datetime, by: int) -> dict[str, Any]:
    """The bookkeeping columns of a business row."""
    return {"created_at": created, "updated_at": updated, "version": 1, "created_by": by}


def _pick(rng: random.Random, choices: tuple[list[str], list[int]]) -> str:
    """One of weighted `choices` (values, weights)."""
    return rng.choices(choices[0], weights=choices[1])[0]


def _tags(rng: random.Random) -> list[str]:
    """Zero to two tags, most records having none."""
    roll = rng.random()
    if roll < 0.6:
        return []
    return rng.sample([name for name, _ in TAGS], 1 if roll < 0.9 else 2)


def _phone(rng: random.Random) -> str:
    """A North American number in E.164."""
    return f"+1{rng.choice(AREA_CODES)}{rng.randrange(200, 1000)}{rng.randrange(10_000):04d}"


def _person(rng: random.Random) -> tuple[str, str]:
    """A first and last name."""
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


def _email(first: str, last: str, domain: str, taken: set[str]) -> str:
    """first.last@domain in lowercase, numbered when already taken."""
    stem = f"{first}.{last}".lower()
    for number in itertools.count(1):
        email = f"{stem}{number if number > 1 else ''}@{domain}"
        if email not in taken:
            taken.add(email)
            return email
    raise AssertionError("unreachable")


def _company(rng: random.Random, taken: set[str]) -> tuple[str, str]:
    """A company name and its unique domain under .example."""
    word, noun = rng.choice(COMPANY_WORDS), rng.choice(COMPANY_NOUNS)
    name = f"{word} {noun}{rng.choice(COMPANY_FORMS)}"
    stem = f"{word}{noun}".lower() if rng.random() < 0.7 else f"{word}-{noun}".lower()
    for number in itertools.count(1):
        domain = f"{stem}{number if number > 1 else ''}.example"
        if domain not in taken:
            taken.add(domain)
            return name, domain
    raise AssertionError("unreachable")


def _write_accounts(
    session: Session, cursor: Any, plan: Plan, counts: ScaleCounts, seed: int
) -> None:
    """COPY the companies."""
    plan.account_first = _reserve_ids(session, "accounts", counts.accounts)
    _copy_rows(cursor, "accounts", _account_rows(_rng(seed, "accounts"), plan, counts.accounts))


def _account_rows(rng: random.Random, plan: Plan, count: int) -> Iterator[dict[str, Any]]:
    """Company rows, recording each one's name, domain and owner on `plan`."""
    domains: set[str] = set()
    for i in range(count):
        name, domain = _company(rng, domains)
        euro = rng.random() < EURO_SHARE
        city, region, country, postal = rng.choice(EURO_CITIES if euro else CITIES)
        industry = rng.choice(INDUSTRIES)
        owner, created = plan.owner(rng), _past(rng)
        plan.account_names.append(name)
        plan.account_domains.append(domain)
        plan.account_owners.append(owner)
        plan.account_created.append(created)
        plan.account_euro.append(euro)
        yield {
            "id": plan.account_first + i, "name": name, "domain": domain, "industry": industry,
            "size": _pick(rng, SIZES), "phone": _phone(rng), "website": f"https://www.{domain}",
            "street": f"{rng.randrange(1, 2000)} {rng.choice(STREETS)}", "city": city,
            "region": region, "postal_code": f"{postal}{rng.randrange(100):02d}",
            "country": country, "owner_id": owner, "tags": _tags(rng),
            "description": f"{industry} company based in {city}." if rng.random() < 0.3 else None,
            **_audit(created, _later(rng, created, max_days=90), rng.choice([owner, plan.admin])),
        }  # fmt: skip


def _write_contacts(
    session: Session, cursor: Any, plan: Plan, counts: ScaleCounts, seed: int
) -> None:
    """COPY the contacts."""
    plan.contact_first = _reserve_ids(session, "contacts", counts.contacts)
    rows = _contact_rows(_rng(seed, "contacts"), plan, counts.contacts)
    _copy_rows(cursor, "contacts", rows)


def _skewed_account(rng: random.Random, plan: Plan) -> int:
    """An account index, some companies getting many more records than others."""
    return min(len(plan.account_names) - 1, int(len(plan.account_names) * rng.random() ** 1.5))


def _contact_rows(rng: random.Random, plan: Plan, count: int) -> Iterator[dict[str, Any]]:
    """Contact rows, most at a company, recording each one's company and owner on `plan`."""
    emails: set[str] = set()
    for i in range(count):
        account = _skewed_account(rng, plan) if rng.random() < 0.9 else None
        first, last = _person(rng)
        domain = plan.account_domains[account] if account is not None else "mailbox.example"
        owner = plan.account_owners[account] if account is not None and rng.random() < 0.8 \
            else plan.owner(rng)  # fmt: skip
        plan.contact_accounts.append(account)
        plan.contact_owners.append(owner)
        if account is not None:
            plan.contacts_by_account.setdefault(account, []).append(i)
        email = _email(first, last, domain, emails)
        created = _past(rng) if account is None else _later(rng, plan.account_created[account])
        yield {
            "id": plan.contact_first + i, "first_name": first, "last_name": last, "email": email,
            "phone": _phone(rng) if rng.random() < 0.85 else None,
            "additional_emails": [f"{first[0]}{last}@{domain}".lower()] if rng.random() < 0.05
            else [],
            "title": rng.choice(TITLES) if rng.random() < 0.9 else None,
            "account_id": plan.account_id(account), "owner_id": owner,
            "lifecycle_stage": _pick(rng, LIFECYCLE), "tags": _tags(rng),
            **_audit(created, _later(rng, created, max_days=120), owner),
        }  # fmt: skip


def _write_deals(session: Session, cursor: Any, plan: Plan, counts: ScaleCounts, seed: int) -> None:
    """COPY the deals, three in four in the default pipeline."""
    plan.deal_first = _reserve_ids(session, "deals", counts.deals)
    _copy_rows(cursor, "deals", _deal_rows(_rng(seed, "deals"), plan, counts.deals))


def _deal_stage(rng: random.Random, stages: list[StageInfo], created: datetime) -> StageInfo:
    """Older deals are more often closed; open ones lean to the early stages."""
    age = (REFERENCE - created) / PAST
    if rng.random() < 0.1 + 0.75 * age:
        kind = "won" if rng.random() < 0.45 else "lost"
        return next(s for s in stages if s.kind == kind)
    open_stages = [s for s in stages if s.kind == "open"]
    return open_stages[min(len(open_stages) - 1, int(len(open_stages) * rng.random() ** 1.4))]


def _amount(rng: random.Random) -> Decimal:
    """A deal size between 1,000 and 250,000, log-uniform, in whole tens."""
    tens = int(math.exp(rng.uniform(math.log(100), math.log(25_000))))
    return Decimal(tens * 1000).scaleb(-2)


def _deal_rows(rng: random.Random, plan: Plan, count: int) -> Iterator[dict[str, Any]]:
    """Deal rows, recording each one's company, contact and owner on `plan`."""
    positions: dict[int, int] = {}
    for i in range(count):
        renewal = rng.random() < 0.25
        pipeline_id, stages = plan.pipelines[1 if renewal else 0]
        account = _skewed_account(rng, plan)
        people = plan.contacts_by_account.get(account)
        contact = rng.choice(people) if people else None
        owner = plan.account_owners[account] if rng.random() < 0.85 else plan.owner(rng)
        created = _later(rng, plan.account_created[account], until=REFERENCE - timedelta(days=1))
        stage = _deal_stage(rng, stages, created)
        positions[stage.id] = positions.get(stage.id, 0) + 1
        plan.deal_accounts.append(account)
        plan.deal_contacts.append(contact)
        plan.deal_owners.append(owner)
        name = f"{plan.account_names[account]} — " + (
            f"renewal {created.year + 1}" if renewal else rng.choice(PRODUCTS)
        )
        money_and_dates = _deal_money_and_dates(rng, stage, created, renewal)
        row = {
            "id": plan.deal_first + i, "name": name, "account_id": plan.account_id(account),
            "primary_contact_id": plan.contact_id(contact), "pipeline_id": pipeline_id,
            "stage_id": stage.id, "owner_id": owner, "position": Decimal(positions[stage.id]),
            "currency": "EUR" if plan.account_euro[account] else "USD",
            "probability": stage.probability, "tags": _tags(rng), **money_and_dates,
            **_audit(created, money_and_dates["stage_entered_at"], owner),
        }  # fmt: skip
        if not plan.deep_deal or (_long_open(row) and not _long_open(plan.deep_deal)):
            plan.deep_deal = row  # the long timeline: the first deal open for a year
        plan.deal_facts.append(DealFacts.of(row))
        yield row


def _long_open(deal: dict[str, Any]) -> bool:
    """Whether a deal row is still open after more than a year."""
    return deal["closed_at"] is None and deal["created_at"] < REFERENCE - timedelta(days=365)


def _deal_money_and_dates(
    rng: random.Random, stage: StageInfo, created: datetime, renewal: bool
) -> dict[str, Any]:
    """Amount, MRR, close and stage dates and lost reason, as they follow from the stage."""
    amount = _amount(rng)
    closed = _later(rng, created, max_days=180) if stage.kind != "open" else None
    entered = closed or _later(rng, created, max_days=60)
    won = stage.kind == "won"
    mrr = (amount / 12).quantize(Decimal("0.01")) if won and (renewal or rng.random() < 0.4) \
        else None  # fmt: skip
    expected = (
        closed.date() if closed else REFERENCE.date() + timedelta(days=rng.randrange(-30, 120))
    )
    return {
        "amount": amount, "recurring_monthly_value": mrr, "expected_close_date": expected,
        "stage_entered_at": entered, "closed_at": closed, "won_at": closed if won else None,
        "churned_at": _later(rng, closed, max_days=120) if mrr and rng.random() < 0.05 else None,
        "lost_reason": rng.choice(LOST_REASONS) if stage.kind == "lost" else None,
    }  # fmt: skip


def _write_leads(session: Session, cursor: Any, plan: Plan, counts: ScaleCounts, seed: int) -> None:
    """COPY the leads; converted ones link the contact, company and deal they became."""
    plan.lead_first = _reserve_ids(session, "leads", counts.leads)
    _copy_rows(cursor, "leads", _lead_rows(_rng(seed, "leads"), plan, counts.leads))


def _lead_rows(rng: random.Random, plan: Plan, count: int) -> Iterator[dict[str, Any]]:
    """Lead rows at companies not (yet) in the CRM, recording each one's owner on `plan`."""
    domains: set[str] = set(plan.account_domains)
    emails: set[str] = set()
    for i in range(count):
        first, last = _person(rng)
        company, domain = _company(rng, domains)
        status = _pick(rng, LEAD_STATUS)
        owner, created = plan.owner(rng), _past(rng)
        plan.lead_owners.append(owner)
        score = {"qualified": 60, "converted": 70, "unqualified": 0}.get(status, 20)
        yield {
            "id": plan.lead_first + i, "first_name": first, "last_name": last,
            "email": _email(first, last, domain, emails),
            "phone": _phone(rng) if rng.random() < 0.6 else None, "company_name": company,
            "title": rng.choice(TITLES) if rng.random() < 0.7 else None,
            "source": rng.choice(LEAD_SOURCES), "status": status,
            "score": min(100, score + rng.randrange(31)), "owner_id": owner, "tags": _tags(rng),
            **_conversion(rng, plan, status, created),
            **_audit(created, _later(rng, created, max_days=60), owner),
        }  # fmt: skip


def _conversion(rng: random.Random, plan: Plan, status: str, created: datetime) -> dict[str, Any]:
    """For a converted lead: when, and the contact, company and (often) deal it became."""
    if status != "converted":
        return {"converted_at": None, "converted_contact_id": None,
                "converted_account_id": None, "converted_deal_id": None}  # fmt: skip
    deal = rng.randrange(len(plan.deal_accounts)) if rng.random() < 0.6 else None
    contact = plan.deal_contacts[deal] if deal is not None else None
    if contact is None:
        contact = rng.randrange(len(plan.contact_accounts))
    return {
        "converted_at": _later(rng, created, max_days=45),
        "converted_contact_id": plan.contact_id(contact),
        "converted_account_id": plan.account_id(plan.contact_accounts[contact]),
        "converted_deal_id": plan.deal_first + deal if deal is not None else None,
    }


def _write_activities(
    session: Session, cursor: Any, plan: Plan, counts: ScaleCounts, seed: int
) -> None:
    """COPY the activities of every kind, on contacts, companies, leads and deals."""
    _copy_rows(cursor, "activities", _activity_rows(_rng(seed, "activities"), plan, counts))


def _about_contact(plan: Plan, contact: int) -> dict[str, Any]:
    return {"contact_id": plan.contact_id(contact),
            "account_id": plan.account_id(plan.contact_accounts[contact]), "lead_id": None,
            "deal_id": None, "owner_id": plan.contact_owners[contact]}  # fmt: skip


def _about_deal(plan: Plan, deal: int) -> dict[str, Any]:
    return {"contact_id": plan.contact_id(plan.deal_contacts[deal]),
            "account_id": plan.account_id(plan.deal_accounts[deal]), "lead_id": None,
            "deal_id": plan.deal_first + deal, "owner_id": plan.deal_owners[deal]}  # fmt: skip


def _related(rng: random.Random, plan: Plan) -> dict[str, Any]:
    """What an activity is about (and so its owner): a contact, company, lead or deal."""
    roll = rng.random()
    none = {"contact_id": None, "account_id": None, "lead_id": None, "deal_id": None}
    if roll < 0.5:
        return _about_contact(plan, rng.randrange(len(plan.contact_accounts)))
    if roll < 0.7:
        return _about_deal(plan, rng.randrange(len(plan.deal_accounts)))
    if roll < 0.85:
        account = rng.randrange(len(plan.account_names))
        return none | {"account_id": plan.account_id(account),
                       "owner_id": plan.account_owners[account]}  # fmt: skip
    lead = rng.randrange(len(plan.lead_owners))
    return none | {"lead_id": plan.lead_first + lead, "owner_id": plan.lead_owners[lead]}


def _business_hours(rng: random.Random, since: datetime = REFERENCE - PAST) -> datetime:
    """A quarter-hour in working hours from the day of `since` (by default 18 months ago)
    until 3 months ahead."""
    first = since.replace(hour=0, minute=0, second=0, microsecond=0)
    days = (REFERENCE + FUTURE - first).days
    return _working_hour(rng, first + timedelta(days=rng.randrange(days)))


def _working_hour(rng: random.Random, day: datetime) -> datetime:
    """A quarter-hour in the working hours of `day` (a midnight, UTC)."""
    return day + timedelta(hours=rng.randrange(13, 23), minutes=15 * rng.randrange(4))  # UTC ~ US


def _activity_rows(rng: random.Random, plan: Plan, counts: ScaleCounts) -> Iterator[dict[str, Any]]:
    """Activity rows: past ones mostly done, future ones open. Then the deep deal's, and as
    many more open tasks of rep1 as it takes to give them `counts.busy_tasks`."""
    busy, open_tasks, made, deep = plan.reps[0], 0, 0, counts.deep_activities
    # Leave room for the deep deal's rows and for the tasks rep1 still misses.
    while made + deep + max(0, counts.busy_tasks - open_tasks) < counts.activities:
        kind = _pick(rng, ACTIVITY_KINDS)
        row = _activity(rng, plan, kind, _related(rng, plan))
        open_tasks += row["owner_id"] == busy and kind == "task" and row["done_at"] is None
        made += 1
        yield row
    deal = plan.deep_deal
    for _ in range(deep):
        about = _about_deal(plan, deal["id"] - plan.deal_first)
        yield _activity(rng, plan, _pick(rng, ACTIVITY_KINDS), about, since=deal["created_at"])
    yield from _busy_tasks(rng, plan, max(0, counts.busy_tasks - open_tasks))


def _activity(
    rng: random.Random,
    plan: Plan,
    kind: str,
    related: dict[str, Any],
    since: datetime = REFERENCE - PAST,
) -> dict[str, Any]:
    """One activity of `kind` about `related` (whose owner it takes, mostly), after `since`."""
    if rng.random() < 0.2:  # someone else on the team helped out
        related["owner_id"] = plan.owner(rng)
    when = _business_hours(rng, since)
    return {
        "kind": kind, "subject": rng.choice(SUBJECTS[kind]),
        "body": rng.choice(BODIES) if kind in ("note", "email") or rng.random() < 0.2 else "",
        **related, **_activity_times(rng, kind, when, related["owner_id"]),
    }  # fmt: skip


def _busy_tasks(rng: random.Random, plan: Plan, count: int) -> Iterator[dict[str, Any]]:
    """Open tasks of rep1 about their own contacts and deals: every 20th due on the day of
    REFERENCE, a third overdue (by up to six weeks), the rest over the next two months."""
    busy = plan.reps[0]
    contacts = [i for i, owner in enumerate(plan.contact_owners) if owner == busy]
    deals = [i for i, owner in enumerate(plan.deal_owners) if owner == busy]
    for i in range(count):
        if deals and (not contacts or rng.random() < 0.5):
            related = _about_deal(plan, rng.choice(deals))
        elif contacts:
            related = _about_contact(plan, rng.choice(contacts))
        else:
            related = _related(rng, plan)
        related["owner_id"] = busy
        # by position rather than by chance, so that even a few of them fill all three parts
        days = 0 if i % 20 == 0 else -rng.randrange(1, 43) if i % 3 == 1 else rng.randrange(1, 61)
        times = _activity_times(rng, "task", _working_hour(rng, REFERENCE + timedelta(days)), busy)
        yield {
            "kind": "task", "subject": rng.choice(SUBJECTS["task"]), "body": "", **related,
            **times, "done_at": None, "duration_minutes": None, "updated_at": times["created_at"],
        }  # fmt: skip


def _activity_times(rng: random.Random, kind: str, when: datetime, owner: int) -> dict[str, Any]:
    """Due, done, meeting and reminder times plus call and task details for one activity."""
    past = when < REFERENCE
    created = when if past and kind in ("call", "email", "note") else \
        min(REFERENCE, when) - timedelta(days=rng.randrange(1, 15))  # fmt: skip
    done = None
    if past and kind != "note" and (kind != "task" or rng.random() < 0.9):
        done = when + timedelta(minutes=rng.randrange(0, 120)) if kind == "task" else when
    minutes = rng.choice([15, 30, 45, 60]) if kind in ("call", "meeting") else None
    meeting = kind == "meeting"
    remind = kind == "task" and not past and rng.random() < 0.3
    return {
        "due_at": None if kind == "note" else when, "done_at": done,
        "reminder_at": when - timedelta(hours=1) if remind else None,
        "starts_at": when if meeting else None,
        "ends_at": when + timedelta(minutes=minutes) if meeting and minutes else None,
        "location": rng.choice(LOCATIONS) if meeting else None,
        "outcome": rng.choice(CALL_OUTCOMES) if kind == "call" and done else None,
        "duration_minutes": minutes if done else None,
        "priority": rng.choice(["low", "normal", "normal", "high"]) if kind == "task" else "normal",
        "attendee_user_ids": [owner] if meeting else [],
        **_audit(created, done or created, owner),
    }  # fmt: skip


def _write_audit_events(
    session: Session, cursor: Any, plan: Plan, counts: ScaleCounts, seed: int
) -> None:
    """COPY the audited history of the deal with the long timeline, then the changes of
    deals' recurring values."""
    deep = _deep_history(_rng(seed, "audit_events"), plan, counts.deep_events)
    recurring = _recurring_changes(_rng(seed, "recurring_changes"), plan)
    _copy_rows(cursor, "audit_events", itertools.chain(deep, recurring))


def _deep_history(rng: random.Random, plan: Plan, count: int) -> Iterator[dict[str, Any]]:
    """The deep deal created by a manager, handed to its owner, then moved between stages,
    re-priced and its close date pushed until it ends up as its row says: `count` events."""
    deal = plan.deep_deal
    stages = next(stages for id_, stages in plan.pipelines if id_ == deal["pipeline_id"])
    open_ids = [s.id for s in stages if s.kind == "open"]
    owner = deal["owner_id"]
    creator = rng.choice([m for m in plan.managers if m != owner])
    now = {
        "stage_id": open_ids[0],
        "amount": str(_amount(rng)),
        "owner_id": creator,
        "expected_close_date": (deal["created_at"] + timedelta(days=60)).date().isoformat(),
    }
    final = {"stage_id": deal["stage_id"], "amount": str(deal["amount"]), "owner_id": owner,
             "expected_close_date": deal["expected_close_date"].isoformat()}  # fmt: skip
    shown = {"name": deal["name"], "pipeline_id": deal["pipeline_id"], **now,
             "currency": deal["currency"], "account_id": deal["account_id"],
             "primary_contact_id": deal["primary_contact_id"]}  # fmt: skip
    yield _event(plan, deal["id"], deal["created_at"], creator, "create",
                 {k: [None, v] for k, v in shown.items() if v is not None})  # fmt: skip
    plan.deep_moves.append(_move(deal["id"], None, now["stage_id"], deal["created_at"], creator))
    middle = rng.choices(["stage_id", "amount", "expected_close_date"], [4, 3, 3], k=count - 3)
    changed = ["owner_id", *middle, "stage_id"]
    last = {key: max(i for i, k in enumerate(changed) if k == key) for key in set(changed)}
    moments = sorted(_later(rng, deal["created_at"]) for _ in changed)
    for i, (key, at) in enumerate(zip(changed, moments, strict=True)):
        if i == last[key] or key == "owner_id":
            value = final[key]
        elif key == "stage_id":  # never its final stage before the end
            value = rng.choice([s for s in open_ids if s not in (now[key], final[key])] or open_ids)
        elif key == "amount":
            value = str(_amount(rng))
        else:
            value = (
                date.fromisoformat(now[key]) + timedelta(days=rng.randrange(7, 45))
            ).isoformat()
        actor = creator if i == 0 else owner if rng.random() < 0.85 else plan.admin
        yield _event(plan, deal["id"], at, actor, "update", {key: [now[key], value]})
        if key == "stage_id":
            plan.deep_moves.append(_move(deal["id"], now[key], value, at, actor))
        now[key] = value


def _event(
    plan: Plan, deal_id: int, at: datetime, actor: int, action: str, changes: dict
) -> dict[str, Any]:
    """One audit event about a deal."""
    return {"actor_id": actor, "actor_label": plan.emails[actor], "at": at, "entity": "deal",
            "entity_id": deal_id, "action": action, "changes": json.dumps(changes),
            "ip": None}  # fmt: skip


def _recurring_changes(rng: random.Random, plan: Plan) -> Iterator[dict[str, Any]]:
    """One to three changes of the recurring value (mostly upgrades) for every third deal
    with one (by position, so even a small data set has some) that was live for a day,
    between its winning and its churn (or REFERENCE), ending at the value it has now."""
    live = [d for d in plan.deal_facts if d.recurring is not None and d.won is not None
            and (d.churned or REFERENCE) - d.won > timedelta(days=1)]  # fmt: skip
    for deal in live[::RECURRING_CHANGED]:
        first, last = deal.won + timedelta(seconds=1), (deal.churned or REFERENCE)
        moments = sorted(_later(rng, first, until=last) for _ in range(rng.randint(1, 3)))
        after, changes = deal.recurring, []
        for at in reversed(moments):  # from today's value back to the value when won
            grew = rng.uniform(1.1, 1.6) if rng.random() < 0.7 else rng.uniform(0.6, 0.9)
            before = (after / Decimal(grew)).quantize(Decimal("0.01"))
            changes.append((at, before, after))
            after = before
        for at, before, after in reversed(changes):
            values = {"recurring_monthly_value": [str(before), str(after)]}
            yield _event(plan, deal.id, at, deal.owner, "update", values)


def _write_stage_changes(
    session: Session, cursor: Any, plan: Plan, counts: ScaleCounts, seed: int
) -> None:
    """COPY the deals' stage histories."""
    _copy_rows(cursor, "deal_stage_changes", _stage_moves(_rng(seed, "stage_changes"), plan))


def _stage_moves(rng: random.Random, plan: Plan) -> Iterator[dict[str, Any]]:
    """Each deal's moves: created in its pipeline's first stage, moved on one stage at a time
    at moments in between, into the stage it is in when its row says it entered it. The deal
    with the long timeline moves as its audit log says."""
    stages = dict(plan.pipelines)
    for deal in plan.deal_facts:
        if deal.id == plan.deep_deal["id"]:
            continue
        path = _stage_path(rng, stages[deal.pipeline_id], deal.stage_id)
        between = sorted(_later(rng, deal.created, until=deal.entered) for _ in path[2:])
        moments = [deal.created, *between, deal.entered][: len(path)]
        for i, (stage_id, at) in enumerate(zip(path, moments, strict=True)):
            yield _move(deal.id, path[i - 1] if i else None, stage_id, at, deal.owner)
    yield from plan.deep_moves


def _stage_path(rng: random.Random, stages: list[StageInfo], stage_id: int) -> list[int]:
    """The stages a deal went through to `stage_id`: the open stages up to it, or for a
    closed deal up to one it reached (won deals further on the whole) and then its stage."""
    open_ids = [s.id for s in stages if s.kind == "open"]
    if stage_id in open_ids:
        return open_ids[: open_ids.index(stage_id) + 1]
    won = next(s.kind for s in stages if s.id == stage_id) == "won"
    reached = int(len(open_ids) * rng.random() ** (0.5 if won else 1.5))
    return [*open_ids[: reached + 1], stage_id]


def _move(
    deal_id: int, from_stage: int | None, to_stage: int, at: datetime, by: int
) -> dict[str, Any]:
    """One row of a deal's stage history."""
    return {"deal_id": deal_id, "from_stage_id": from_stage, "to_stage_id": to_stage,
            "changed_at": at, "changed_by": by}  # fmt: skip


_WRITERS = [
    ("accounts", _write_accounts),
    ("contacts", _write_contacts),
    ("deals", _write_deals),
    ("leads", _write_leads),
    ("activities", _write_activities),
    ("audit events", _write_audit_events),
    ("stage history", _write_stage_changes),  # after the audit log: the deep deal's follows it
]


def _analyze() -> None:
    """Fresh planner statistics for the loaded tables, after the commit."""
    with get_engine().connect() as connection:
        connection.execute(text(f"ANALYZE {', '.join(TABLES)}"))
        connection.commit()


def _report(n: int, seed: int, counts: ScaleCounts, timings: dict[str, float], total: float) -> str:
    """One paragraph: what was written, how long each table took, and how to sign in."""
    took = ", ".join(f"{table} {seconds:.1f} s" for table, seconds in timings.items())
    return (
        f"Seeded the scale data set (n={n}, seed={seed}) in {total:.1f} s: {len(USERS)} users "
        f"in {len(TEAMS)} teams, {counts.accounts} companies, {counts.contacts} contacts, "
        f"{counts.leads} leads, {counts.deals} deals in 2 pipelines and {counts.activities} "
        f"activities, at least {counts.busy_tasks} of them open tasks of rep1 ({took}). "
        f"Sign in as admin@{SCALE_DOMAIN} (or manager1, rep1 ... rep6, viewer) with the "
        f"password {SCALE_PASSWORD}."
    )
