"""Factories for test data. Passwords are hashed once per run: argon2 is slow on purpose."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from itertools import count

from sqlmodel import Session, select

from crm_app.auth.passwords import hash_password
from crm_app.models import Account, Contact, Deal, Pipeline, Stage, Team, User
from crm_app.seeding.defaults import ensure_defaults

PASSWORD = "correct-horse-battery"
_seq = count(1)


@lru_cache
def password_hash() -> str:
    """The hash of PASSWORD, computed once."""
    return hash_password(PASSWORD)


def make_team(session: Session, name: str | None = None) -> Team:
    """A team."""
    team = Team(name=name or f"Team {next(_seq)}")
    session.add(team)
    session.flush()
    return team


def make_user(
    session: Session,
    *,
    name: str = "",
    email: str | None = None,
    role: str = "rep",
    team: Team | None = None,
    active: bool = True,
) -> User:
    """An active user whose password is PASSWORD."""
    n = next(_seq)
    user = User(
        name=name or f"User {n}",
        email=email or f"user{n}@example.com",
        role=role,
        team_id=team.id if team else None,
        is_active=active,
        password_hash=password_hash(),
    )
    session.add(user)
    session.flush()
    return user


@dataclass
class People:
    """The fixed cast of the tests."""

    alice: User  # admin
    bob: User  # rep, East
    carol: User  # rep, East
    mona: User  # manager, East
    dave: User  # rep, West
    vic: User  # viewer
    east: Team
    west: Team


def make_people(session: Session) -> People:
    """Create the fixed cast and the default permissions, pipeline and lookups."""
    ensure_defaults(session)
    east, west = make_team(session, "East"), make_team(session, "West")
    people = People(
        alice=make_user(session, name="Alice Admin", email="alice@example.com", role="admin"),
        bob=make_user(session, name="Bob Rep", email="bob@example.com", team=east),
        carol=make_user(session, name="Carol Rep", email="carol@example.com", team=east),
        mona=make_user(
            session, name="Mona Manager", email="mona@example.com", role="manager", team=east
        ),
        dave=make_user(session, name="Dave Rep", email="dave@example.com", team=west),
        vic=make_user(session, name="Vic Viewer", email="vic@example.com", role="viewer"),
        east=east,
        west=west,
    )
    east.manager_id = people.mona.id
    session.flush()
    return people


def make_account(session: Session, *, owner: User, name: str | None = None, **fields) -> Account:
    """A company."""
    account = Account(
        name=name or f"Company {next(_seq)}", owner_id=owner.id, created_by=owner.id, **fields
    )
    session.add(account)
    session.flush()
    return account


def make_contact(session: Session, *, owner: User, **fields) -> Contact:
    """A contact."""
    n = next(_seq)
    fields.setdefault("first_name", f"First{n}")
    fields.setdefault("last_name", f"Last{n}")
    contact = Contact(owner_id=owner.id, created_by=owner.id, **fields)
    session.add(contact)
    session.flush()
    return contact


def make_deal(
    session: Session, *, owner: User, name: str | None = None, amount: str = "1000"
) -> Deal:
    """An open deal in the default pipeline's first stage."""
    pipeline = session.exec(select(Pipeline).where(Pipeline.is_default)).one()
    stage = session.exec(
        select(Stage).where(Stage.pipeline_id == pipeline.id).order_by(Stage.position)
    ).first()
    deal = Deal(
        name=name or f"Deal {next(_seq)}",
        pipeline_id=pipeline.id,
        stage_id=stage.id,
        amount=Decimal(amount),
        owner_id=owner.id,
        created_by=owner.id,
        position=Decimal(next(_seq)),
    )
    session.add(deal)
    session.flush()
    return deal


def make_lead(session: Session, *, owner: User | None, **fields):
    """A lead (status new, score 0 unless given), written directly: no scoring, no assignment."""
    from crm_app.models import Lead

    n = next(_seq)
    fields.setdefault("first_name", f"Lead{n}")
    fields.setdefault("last_name", f"Last{n}")
    owner_id = owner.id if owner else None
    lead = Lead(owner_id=owner_id, created_by=owner_id, **fields)
    session.add(lead)
    session.flush()
    return lead


def make_activity(session: Session, *, owner: User, days_ago: int = 0, **fields):
    """A logged call (unless `kind` says otherwise), created `days_ago` days ago."""
    from datetime import timedelta

    from crm_app.models import Activity, utcnow

    fields.setdefault("kind", "call")
    fields.setdefault("subject", f"Activity {next(_seq)}")
    created = utcnow() - timedelta(days=days_ago)
    activity = Activity(
        owner_id=owner.id, created_by=owner.id, created_at=created, updated_at=created, **fields
    )
    session.add(activity)
    session.flush()
    return activity


def make_scoring_rule(session: Session, *, condition: dict, points: int, active: bool = True):
    """A lead-scoring rule, written directly (no rescoring job)."""
    from crm_app.models import LeadScoringRule

    rule = LeadScoringRule(
        name=f"Rule {next(_seq)}", condition=condition, points=points, is_active=active
    )
    session.add(rule)
    session.flush()
    return rule


def stages_of_default_pipeline(session: Session) -> dict[str, Stage]:
    """The default pipeline's live stages by name (Qualification ... Won, Lost)."""
    pipeline = session.exec(select(Pipeline).where(Pipeline.is_default)).one()
    found = session.exec(
        select(Stage).where(Stage.pipeline_id == pipeline.id, Stage.deleted_at.is_(None))
    )
    return {stage.name: stage for stage in found}


SECOND_PIPELINE_STAGES = [
    ("Signed", 100, "won", None),  # a closed stage first, so "first open stage" means something
    ("Intro", 20, "open", 7),
    ("Trial", 60, "open", None),
    ("Dropped", 0, "lost", None),
]


def make_second_pipeline(session: Session, name: str = "Renewals"):
    """A second, non-default pipeline with the stages of SECOND_PIPELINE_STAGES, in order."""
    from crm_app.seeding.defaults import create_pipeline
    from crm_app.services.pipeline import PipelineStages, live_stages

    pipeline = create_pipeline(session, name, SECOND_PIPELINE_STAGES, is_default=False, position=1)
    return PipelineStages(pipeline, live_stages(session, pipeline.id))


# --- the fixed data set of the report tests (issue 6) ------------------------------------------

from datetime import UTC, date, datetime  # noqa: E402
from typing import Any  # noqa: E402

from crm_app.models import AuditEvent, DealStageChange  # noqa: E402


def at(day: str, clock: str = "10:00") -> datetime:
    """A UTC moment from "2026-03-05" (and "23:30")."""
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=UTC)


def make_deal_at(
    session: Session,
    *,
    owner: User | None,
    stage: Stage,
    created: datetime,
    closed: datetime | None = None,
    amount: str | None = "1000",
    **fields,
) -> Deal:
    """A deal in `stage` written directly with its dates: created at `created`; in a won or
    lost stage, closed at `closed` (and won then, in a won stage)."""
    won = closed if stage.kind == "won" else None
    deal = Deal(
        name=fields.pop("name", f"Deal {next(_seq)}"),
        pipeline_id=stage.pipeline_id,
        stage_id=stage.id,
        amount=Decimal(amount) if amount is not None else None,
        owner_id=owner.id if owner else None,
        created_by=owner.id if owner else None,
        created_at=created,
        updated_at=created,
        stage_entered_at=closed or created,
        closed_at=closed,
        won_at=won,
        position=Decimal(next(_seq)),
        **fields,
    )
    session.add(deal)
    session.flush()
    return deal


def make_stage_change(
    session: Session, deal: Deal, to: Stage, when: datetime, source: Stage | None = None
) -> DealStageChange:
    """A recorded move of `deal` from `source` (None: its creation) into `to`."""
    change = DealStageChange(
        deal_id=deal.id,
        from_stage_id=source.id if source else None,
        to_stage_id=to.id,
        changed_at=when,
    )
    session.add(change)
    session.flush()
    return change


def make_deal_update(session: Session, deal: Deal, when: datetime, **changes) -> AuditEvent:
    """An audited update of a deal at `when`; `changes` maps a field to (before, after)."""
    event = AuditEvent(
        entity="deal",
        entity_id=deal.id,
        action="update",
        at=when,
        changes={k: list(v) for k, v in changes.items()},
    )
    session.add(event)
    session.flush()
    return event


REPORT_NOW = datetime(2026, 4, 15, 12, 0, tzinfo=UTC)  # "now" for the report data set


@dataclass
class ReportData:
    """The deals, leads and activities of the report tests, by the names the tests use
    (see `make_report_data` for what each is)."""

    deals: dict[str, Deal]
    leads: dict[str, Any]
    stages: dict[str, Stage]


def make_report_data(session: Session, people: People) -> ReportData:
    """A small fixed data set around March 2026 (every figure of the report tests is worked
    out by hand from it). Bob, Carol and Mona are East; Dave West. Times are UTC, 10:00.

    Deals (default pipeline; USD unless said):
      d1  Bob   won 03-05, 1,000, created 01-10; MRR 100 when won, 90 from 03-20, 120 from
                04-05; moved Discovery -> Negotiation 02-20 (no creation record), Won 03-05
      d2  Bob   won 03-11, 3,000, created 02-01; MRR 180 when won, 200 from 03-25
      d3  Carol won 03-21, no amount, created 03-01, no MRR
      d4  Dave  won 03-02, 500 EUR, created 02-10; MRR 50 EUR (40 before the winning update)
      d5  Bob   lost 03-15 "Price", 2,000, created 01-05; Qualification 01-05, Lost 03-15
      d6  Carol lost 02-25 "Timing", 400, created 02-20
      d7  Bob   won 02-10, 1,500, created 01-01; MRR 150, churned 03-20
      d8  Bob   open Proposal (50%), 10,000, created 01-15, closing 04-20; Qualification
                01-15, Discovery 02-01, Proposal 03-03
      d9  Carol open Qualification at 40% (its own), 5,000, created 03-10, closing 05-05;
                Qualification 03-10
      d10 Dave  open Discovery (25%), 800 EUR, created 02-15, closing 04-30
      d11 Mona  open Negotiation (75%), no amount, created 03-05, closing 04-10
      d12 Bob   won 03-06, 9,999, in the trash
      d13 Bob   won 04-02, 600, created 03-20; Proposal 03-20, Won 04-02
      d15 Dave  lost 03-28 "Timing", 300 EUR, created 02-01
      d16 Carol lost 03-30 "Price", no amount, created 03-02
    Leads: l1 Bob, Website, created 03-02, converted 03-10 into d1; l2 Bob, Website,
    contacted, 03-05; l3 Carol, no source, 03-20; l4 Dave, created 02-10, converted 03-03;
    l5 Bob, created 02-15; l6 Bob, created 03-06, in the trash.
    Activities (done): Bob call 03-02, e-mail 03-03, meeting 03-10, task 03-12, note 03-15,
    note 03-16 (loaded without a done time), call 02-27, an open task, a trashed call 03-04;
    Carol call 03-31 23:00; Dave e-mail 03-05.
    """
    from crm_app.models import Activity

    stages = stages_of_default_pipeline(session)
    won, lost = stages["Won"], stages["Lost"]
    bob, carol, dave, mona = people.bob, people.carol, people.dave, people.mona

    def deal(owner, stage, created, closed=None, **fields):
        return make_deal_at(
            session,
            owner=owner,
            stage=stage,
            created=at(created),
            closed=at(closed) if closed else None,
            **fields,
        )

    d = {
        "d1": deal(bob, won, "2026-01-10", "2026-03-05", recurring_monthly_value=Decimal(120)),
        "d2": deal(
            bob,
            won,
            "2026-02-01",
            "2026-03-11",
            amount="3000",
            recurring_monthly_value=Decimal(200),
        ),
        "d3": deal(carol, won, "2026-03-01", "2026-03-21", amount=None),
        "d4": deal(
            dave,
            won,
            "2026-02-10",
            "2026-03-02",
            amount="500",
            currency="EUR",
            recurring_monthly_value=Decimal(50),
        ),
        "d5": deal(bob, lost, "2026-01-05", "2026-03-15", amount="2000", lost_reason="Price"),
        "d6": deal(carol, lost, "2026-02-20", "2026-02-25", amount="400", lost_reason="Timing"),
        "d7": deal(
            bob,
            won,
            "2026-01-01",
            "2026-02-10",
            amount="1500",
            recurring_monthly_value=Decimal(150),
            churned_at=at("2026-03-20"),
        ),
        "d8": deal(
            bob,
            stages["Proposal"],
            "2026-01-15",
            amount="10000",
            expected_close_date=date(2026, 4, 20),
        ),
        "d9": deal(
            carol,
            stages["Qualification"],
            "2026-03-10",
            amount="5000",
            probability=40,
            expected_close_date=date(2026, 5, 5),
        ),
        "d10": deal(
            dave,
            stages["Discovery"],
            "2026-02-15",
            amount="800",
            currency="EUR",
            expected_close_date=date(2026, 4, 30),
        ),
        "d11": deal(
            mona,
            stages["Negotiation"],
            "2026-03-05",
            amount=None,
            expected_close_date=date(2026, 4, 10),
        ),
        "d12": deal(
            bob, won, "2026-03-01", "2026-03-06", amount="9999", deleted_at=at("2026-03-07")
        ),
        "d13": deal(bob, won, "2026-03-20", "2026-04-02", amount="600"),
        "d15": deal(
            dave,
            lost,
            "2026-02-01",
            "2026-03-28",
            amount="300",
            currency="EUR",
            lost_reason="Timing",
        ),
        "d16": deal(carol, lost, "2026-03-02", "2026-03-30", amount=None, lost_reason="Price"),
    }
    moves = [
        ("d1", "Negotiation", "2026-02-20", "Discovery"),
        ("d1", "Won", "2026-03-05", "Negotiation"),
        ("d5", "Qualification", "2026-01-05", None),
        ("d5", "Lost", "2026-03-15", "Qualification"),
        ("d8", "Qualification", "2026-01-15", None),
        ("d8", "Discovery", "2026-02-01", "Qualification"),
        ("d8", "Proposal", "2026-03-03", "Discovery"),
        ("d9", "Qualification", "2026-03-10", None),
        ("d13", "Proposal", "2026-03-20", None),
        ("d13", "Won", "2026-04-02", "Proposal"),
    ]
    for name, to, when, source in moves:
        make_stage_change(session, d[name], stages[to], at(when), stages.get(source or ""))
    recurring = "recurring_monthly_value"
    make_deal_update(session, d["d1"], at("2026-03-20"), **{recurring: ("100.00", "90.00")})
    make_deal_update(session, d["d1"], at("2026-04-05"), **{recurring: ("90.00", "120.00")})
    make_deal_update(session, d["d2"], at("2026-03-25"), **{recurring: ("180.00", "200.00")})
    make_deal_update(  # the update that won d4 also set its MRR: part of the new MRR
        session,
        d["d4"],
        at("2026-03-02"),
        **{recurring: ("40.00", "50.00"), "won_at": (None, "2026-03-02T10:00:00+00:00")},
    )

    def lead(owner, created, **fields):
        return make_lead(session, owner=owner, created_at=at(created), **fields)

    leads = {
        "l1": lead(
            bob,
            "2026-03-02",
            source="Website",
            status="converted",
            converted_at=at("2026-03-10"),
            converted_deal_id=d["d1"].id,
        ),
        "l2": lead(bob, "2026-03-05", source="Website", status="contacted"),
        "l3": lead(carol, "2026-03-20"),
        "l4": lead(dave, "2026-02-10", status="converted", converted_at=at("2026-03-03")),
        "l5": lead(bob, "2026-02-15"),
        "l6": lead(bob, "2026-03-06", deleted_at=at("2026-03-07")),
    }

    def activity(owner, kind, done, created=None, **fields):
        when = at(*done) if isinstance(done, tuple) else (at(done) if done else None)
        stamp = at(created) if created else (when or at("2026-03-01"))
        session.add(
            Activity(
                owner_id=owner.id,
                created_by=owner.id,
                kind=kind,
                done_at=when,
                created_at=stamp,
                updated_at=stamp,
                **fields,
            )
        )

    activity(bob, "call", "2026-03-02")
    activity(bob, "email", "2026-03-03")
    activity(bob, "meeting", "2026-03-10", starts_at=at("2026-03-10"))
    activity(bob, "task", "2026-03-12", due_at=at("2026-03-12"))
    activity(bob, "note", "2026-03-15")
    activity(bob, "note", None, created="2026-03-16")
    activity(bob, "call", "2026-02-27")
    activity(bob, "task", None, due_at=at("2026-03-20"))
    activity(bob, "call", "2026-03-04", deleted_at=at("2026-03-05"))
    activity(carol, "call", ("2026-03-31", "23:00"))
    activity(dave, "email", "2026-03-05")
    session.flush()
    return ReportData(d, leads, stages)


def make_custom_field(
    session: Session,
    people,
    label: str,
    field_type: str,
    options: list[str] | None = None,
    *,
    entity: str = "contact",
    required: bool = False,
):
    """A custom field, defined through the service by Alice (an admin)."""
    from crm_app.services import custom_field

    return custom_field.create_field(
        session,
        actor=people.alice,
        entity=entity,
        label=label,
        field_type=field_type,
        options=options,
        required=required,
    )
