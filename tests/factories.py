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
