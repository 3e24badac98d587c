"""What every workspace needs before anyone signs in: permissions, a pipeline, lookups."""

from __future__ import annotations

from sqlmodel import Session, select

from crm_app.models import LeadSource, LostReason, Pipeline, Stage
from crm_app.services.permission import seed_defaults

DEFAULT_STAGES = [
    ("Qualification", 10, "open", 14),
    ("Discovery", 25, "open", 14),
    ("Proposal", 50, "open", 21),
    ("Negotiation", 75, "open", 21),
    ("Won", 100, "won", None),
    ("Lost", 0, "lost", None),
]
LEAD_SOURCES = ["Website", "Referral", "Web form", "Event", "Cold call", "Partner", "Advertising"]
LOST_REASONS = ["Price", "Chose a competitor", "No budget", "No decision", "Timing", "Product fit"]


def create_pipeline(
    session: Session, name: str, stages, *, is_default: bool, position: int
) -> Pipeline:
    """A pipeline with its ordered stages."""
    pipeline = Pipeline(name=name, is_default=is_default, position=position)
    session.add(pipeline)
    session.flush()
    for pos, (stage_name, probability, kind, rotting) in enumerate(stages):
        session.add(
            Stage(
                pipeline_id=pipeline.id,
                name=stage_name,
                position=pos,
                probability=probability,
                kind=kind,
                rotting_days=rotting,
            )
        )
    session.flush()
    return pipeline


def ensure_defaults(session: Session) -> None:
    """Insert whatever of the defaults is missing; safe to run on every start."""
    seed_defaults(session)
    if session.exec(select(Pipeline.id).limit(1)).first() is None:
        create_pipeline(session, "Sales", DEFAULT_STAGES, is_default=True, position=0)
    if session.exec(select(LeadSource.id).limit(1)).first() is None:
        session.add_all(LeadSource(name=n, position=i) for i, n in enumerate(LEAD_SOURCES))
    if session.exec(select(LostReason.id).limit(1)).first() is None:
        session.add_all(LostReason(name=n, position=i) for i, n in enumerate(LOST_REASONS))
    session.flush()
